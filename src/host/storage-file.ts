// File operations of the storage backends: sparse-aware copy (reflink first), zero wipe, streamed
// upload/download with holes, file-system sizes and mount lookup. Every loop checks its AbortSignal.
import { constants, createReadStream } from 'node:fs';
import {
  copyFile,
  type FileHandle,
  link,
  open,
  readFile,
  realpath,
  stat,
  statfs,
  unlink,
} from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { VirError } from '../util/errors.js';
import type { Runner } from './run.js';

/** Progress and cancellation of a long file operation (a daemon JobContext fits). */
export interface FileJob {
  signal?: AbortSignal;
  progress?: (processed: number, total: number) => void;
}

/** A piece of a sparse stream: data at the current position, or a hole of `hole` zero bytes. */
export type SparseChunk = Buffer | { hole: number };

const CHUNK = 4 << 20;
/** Zero-detection granularity: a hole is only worth making for whole file-system blocks. */
const BLOCK = 64 << 10;
const ZERO = Buffer.alloc(CHUNK);

function checkAbort(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted)
    throw new VirError('OPERATION_ABORTED', `operation aborted: ${what} was cancelled`, {
      domain: 'STORAGE',
    });
}

function isZero(buf: Buffer, start: number, end: number): boolean {
  return buf.compare(ZERO, 0, end - start, start, end) === 0;
}

/** Writes buf[0..len) at `pos`, skipping zero blocks so they stay holes in a fresh file. */
async function writeSparse(fh: FileHandle, buf: Buffer, len: number, pos: number): Promise<void> {
  let runStart = -1;
  for (let off = 0; off < len; off += BLOCK) {
    const end = Math.min(off + BLOCK, len);
    if (isZero(buf, off, end)) {
      if (runStart >= 0) {
        await writeAll(fh, buf, runStart, off - runStart, pos + runStart);
        runStart = -1;
      }
    } else if (runStart < 0) runStart = off;
  }
  if (runStart >= 0) await writeAll(fh, buf, runStart, len - runStart, pos + runStart);
}

async function writeAll(fh: FileHandle, buf: Buffer, off: number, len: number, pos: number): Promise<void> {
  while (len > 0) {
    const { bytesWritten } = await fh.write(buf, off, len, pos);
    off += bytesWritten;
    pos += bytesWritten;
    len -= bytesWritten;
  }
}

async function readFull(fh: FileHandle, buf: Buffer, pos: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** How a copy was made (the benchmark prints it). */
export type CopyMethod = 'reflink' | 'sparse';

/**
 * Copies `src` to the new file `dst` (which must not exist): a reflink when the file system can
 * share blocks (btrfs, xfs), otherwise chunked reads with zero blocks left as holes. Reads and writes
 * overlap (double buffering). On error or cancel `dst` is removed. `mode` is the new file's mode.
 */
export async function sparseCopy(
  src: string,
  dst: string,
  job: FileJob = {},
  mode = 0o600,
): Promise<CopyMethod> {
  checkAbort(job.signal, 'copy');
  try {
    await copyFile(src, dst, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
    const size = (await statFile(dst)).size;
    job.progress?.(size, size);
    return 'reflink';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw e;
    await unlink(dst).catch(() => {});
  }
  const input = await open(src, 'r');
  let out: FileHandle | undefined;
  try {
    out = await open(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    const size = (await input.stat()).size;
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let pos = 0;
    let i = 0;
    let pendingWrite: Promise<void> = Promise.resolve();
    let n = await readFull(input, bufs[0]!, 0);
    while (n > 0) {
      checkAbort(job.signal, 'copy');
      const cur = bufs[i % 2]!;
      const curPos = pos;
      const curLen = n;
      await pendingWrite;
      const o = out;
      pendingWrite = writeSparse(o, cur, curLen, curPos);
      pos += n;
      i++;
      n = pos < size ? await readFull(input, bufs[i % 2]!, pos) : 0;
      await pendingWrite;
      job.progress?.(pos, size);
    }
    await out.truncate(size);
    await out.close();
    out = undefined;
    return 'sparse';
  } catch (e) {
    await out?.close().catch(() => {});
    await unlink(dst).catch(() => {});
    throw e;
  } finally {
    await input.close();
  }
}

/**
 * Overwrites every non-zero block of `path` with zeros (holes and zero blocks are left alone, so a
 * sparse image stays sparse), then syncs. Reports progress over the file's length.
 */
export async function zeroWipe(path: string, job: FileJob & { size?: number } = {}): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const size = job.size ?? (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; pos < size; ) {
      checkAbort(job.signal, 'wipe');
      const n = await readFull(fh, buf, pos);
      if (n === 0) break;
      for (let off = 0; off < n; off += BLOCK) {
        const end = Math.min(off + BLOCK, n);
        if (!isZero(buf, off, end)) await writeAll(fh, ZERO, 0, end - off, pos + off);
      }
      pos += n;
      job.progress?.(pos, size);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes a stream (Buffers, or SparseChunks from a sparse download) into `path` starting at
 * `offset`. With `create`, the file is made new (O_EXCL) and zero blocks become holes; its final
 * length is at least `offset` + the bytes streamed. `total` is only used for progress.
 */
export async function writeStreamToFile(
  source: AsyncIterable<SparseChunk | Uint8Array | string>,
  path: string,
  opts: FileJob & {
    offset?: number;
    create?: boolean;
    mode?: number;
    total?: number;
    maxLength?: number;
    device?: boolean;
  } = {},
): Promise<number> {
  const flags = opts.create ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL : constants.O_WRONLY;
  const fh = await open(path, flags, opts.mode ?? 0o600);
  let pos = opts.offset ?? 0;
  let written = 0;
  try {
    for await (const c of source) {
      checkAbort(opts.signal, 'upload');
      let n: number;
      if (typeof c === 'object' && !(c instanceof Uint8Array) && 'hole' in c) {
        n = c.hole;
      } else {
        const b =
          typeof c === 'string'
            ? Buffer.from(c)
            : Buffer.isBuffer(c)
              ? c
              : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        n = b.length;
        if (opts.maxLength !== undefined && written + n > opts.maxLength)
          throw new VirError('INVALID_ARG', `stream is longer than the ${opts.maxLength} bytes requested`, {
            domain: 'STORAGE',
          });
        if (opts.create) await writeSparse(fh, b, n, pos);
        else await writeAll(fh, b, 0, n, pos);
      }
      pos += n;
      written += n;
      opts.progress?.(written, opts.total ?? written);
    }
    if (!opts.device && (await fh.stat()).size < pos) await fh.truncate(pos);
    await fh.sync();
    return written;
  } finally {
    await fh.close();
  }
}

/**
 * Reads `path` from `offset` for `length` bytes (default: to the end). With `sparse`, runs of zero
 * blocks come out as { hole: n } instead of bytes, so a client can recreate them as holes.
 */
export async function* readFileChunks(
  path: string,
  opts: FileJob & { offset?: number; length?: number; sparse?: boolean; size?: number } = {},
): AsyncGenerator<SparseChunk> {
  const fh = await open(path, 'r');
  try {
    const size = opts.size ?? (await fh.stat()).size;
    const start = Math.min(opts.offset ?? 0, size);
    const end = opts.length ? Math.min(size, start + opts.length) : size;
    let pos = start;
    while (pos < end) {
      checkAbort(opts.signal, 'download');
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - pos));
      const n = await readFull(fh, buf, pos);
      if (n === 0) break;
      if (!opts.sparse) yield buf.subarray(0, n);
      else {
        let off = 0;
        while (off < n) {
          const e = Math.min(off + BLOCK, n);
          const zero = isZero(buf, off, e);
          let r = e;
          while (r < n && isZero(buf, r, Math.min(r + BLOCK, n)) === zero) r = Math.min(r + BLOCK, n);
          yield zero ? { hole: r - off } : Buffer.from(buf.subarray(off, r));
          off = r;
        }
      }
      pos += n;
      opts.progress?.(pos - start, end - start);
    }
  } finally {
    await fh.close();
  }
}

/** A plain byte stream of a file (for callers that do not want sparse chunks). */
export function fileReadStream(path: string, offset = 0, length?: number): Readable {
  return createReadStream(path, { start: offset, end: length ? offset + length - 1 : undefined });
}

/** Size facts of a path. */
export interface FileFacts {
  kind: 'file' | 'dir' | 'block' | 'other';
  size: number;
  /** Bytes allocated on disk (st_blocks * 512). */
  allocated: number;
  mode: number;
  uid: number;
  gid: number;
  atime: string;
  mtime: string;
  ctime: string;
}

function ts(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  return `${s}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** stat (following symlinks) with nanosecond times as libvirt prints them. */
export async function statFile(path: string): Promise<FileFacts> {
  const st = await stat(path, { bigint: true });
  return {
    kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isBlockDevice() ? 'block' : 'other',
    size: Number(st.size),
    allocated: Number(st.blocks) * 512,
    mode: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    atime: ts(st.atimeNs),
    mtime: ts(st.mtimeNs),
    ctime: ts(st.ctimeNs),
  };
}

/**
 * Capacity, used and available bytes of the file system holding `path` (statvfs). Like libvirt,
 * available counts the free blocks (f_bfree, what the root daemon can use) and allocation is the rest.
 */
export async function fsSizes(
  path: string,
): Promise<{ capacity: number; allocation: number; available: number }> {
  const s = await statfs(path);
  return {
    capacity: s.blocks * s.bsize,
    allocation: (s.blocks - s.bfree) * s.bsize,
    available: s.bfree * s.bsize,
  };
}

/** Size in bytes of a block device (from /sys/class/block), or of a file. */
export async function deviceSize(path: string): Promise<number> {
  const real = await realpath(path);
  const facts = await statFile(real);
  if (facts.kind !== 'block') return facts.size;
  const name = real.split('/').pop()!;
  const sectors = await readFile(`/sys/class/block/${name}/size`, 'utf8');
  return Number(sectors.trim()) * 512;
}

/** The mount entry whose mount point is `target`, from /proc/self/mounts (octal escapes decoded). */
export async function findMount(
  target: string,
): Promise<{ source: string; target: string; fstype: string } | undefined> {
  const text = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const dec = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  let found: { source: string; target: string; fstype: string } | undefined;
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 3) continue;
    if (dec(f[1]!) === target) found = { source: dec(f[0]!), target, fstype: f[2]! };
  }
  return found;
}

/** True for Node errno errors with one of the codes. */
export function errnoIs(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');
}

/** The first `n` bytes of a file (fewer when it is shorter): enough to recognise an image format. */
export async function readHeader(path: string, n: number, at = 0): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = await readFull(fh, buf, at);
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

/** Creates `path` (O_EXCL) as a sparse file of `size` bytes. */
export async function createSparseFile(path: string, size: number, mode = 0o600): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

/**
 * Publishes a finished temporary file under its final name without ever replacing an existing one
 * (link + unlink; EEXIST when the name was taken meanwhile).
 */
export async function publishFile(tmp: string, final: string): Promise<void> {
  await link(tmp, final);
  await unlink(tmp);
}

// Plain fs calls the backends need, re-exported so that drivers reach the OS only through host/.
export {
  access,
  chmod,
  chown,
  link,
  mkdir,
  readdir,
  realpath,
  rename,
  rmdir,
  truncate,
  unlink,
} from 'node:fs/promises';

/**
 * Copies a volume file to the new file `dst`, choosing the fastest faithful way: a mostly-hole
 * file goes through `cp --sparse=always --reflink=auto` (GNU cp skips holes with SEEK_DATA, which
 * Node cannot call; progress is polled from the growing copy); a dense one through sparseCopy
 * (reflink, else double-buffered reads that keep zero blocks as holes). Measured in bench/storage.
 * On error or cancel `dst` is removed.
 */
export async function copyVolumeFile(
  runner: Runner,
  src: string,
  dst: string,
  job: FileJob = {},
): Promise<CopyMethod | 'cp'> {
  const facts = await statFile(src);
  if (facts.allocated * 2 >= facts.size || facts.kind !== 'file') return sparseCopy(src, dst, job);
  checkAbort(job.signal, 'copy');
  const timer = setInterval(() => {
    stat(dst).then(
      (s) => job.progress?.(Math.min(s.size, facts.size), facts.size),
      () => {},
    );
  }, 200);
  try {
    await runner.run(
      { program: 'cp', args: ['--sparse=always', '--reflink=auto', '-T', src, dst] },
      { signal: job.signal },
    );
    job.progress?.(facts.size, facts.size);
    return 'cp';
  } catch (e) {
    await unlink(dst).catch(() => {});
    throw e;
  } finally {
    clearInterval(timer);
  }
}
