// File operations of the storage backends: sparse-aware copy (reflink first), zero wipe, streamed
// upload/download with holes, file-system sizes and mount lookup. Every loop checks its AbortSignal.
// Big copies run in a worker thread (see copyInWorker) so that they are one tight loop, like cp.
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
import { Worker } from 'node:worker_threads';
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
/**
 * Buffer of a file copy. 1 MiB measured fastest and steadiest (bench/clone.ts's 200 MiB qcow2, in
 * the worker: 256K 65 ms, 512K 59, 1M 56, 2M and 4M 57-60 ms with stalls of 350-450 ms).
 */
const COPY_CHUNK = 1 << 20;
/** Zero-detection granularity: a hole is only worth making for whole file-system blocks. */
const BLOCK = 64 << 10;
const ZERO = Buffer.alloc(CHUNK);

function abortError(what: string): VirError {
  return new VirError('OPERATION_ABORTED', `operation aborted: ${what} was cancelled`, {
    domain: 'STORAGE',
  });
}

function checkAbort(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(what);
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
 * share blocks (btrfs, xfs), otherwise reads with zero blocks left as holes. Sources of
 * WORKER_MIN_BYTES or more (or any, when a copy worker is already running) are copied in a worker
 * thread; smaller ones here, with double-buffered async reads and writes. On error or cancel `dst`
 * is removed. `mode` is the new file's mode.
 */
export async function sparseCopy(
  src: string,
  dst: string,
  job: FileJob = {},
  mode = 0o600,
  size?: number,
): Promise<CopyMethod> {
  checkAbort(job.signal, 'copy');
  const bytes = size ?? (await stat(src)).size;
  checkAbort(job.signal, 'copy');
  if (bytes >= WORKER_MIN_BYTES || idleWorkers.length > 0) {
    const w = takeWorker();
    if (w) return copyInWorker(w, src, dst, job, mode);
  }
  return sparseCopyHere(src, dst, job, mode);
}

/**
 * A reflink (copy-on-write clone) of `src` at the new file `dst`, or an error: never a byte copy
 * (`cp --reflink=always`). False when the file system cannot share blocks between the two files
 * (EOPNOTSUPP, ENOTSUP, EXDEV, EINVAL, ENOSYS, ENOTTY); other errors are thrown. Nothing is left at
 * `dst` unless it returns true.
 */
export async function reflinkCopy(src: string, dst: string, job: FileJob = {}): Promise<boolean> {
  checkAbort(job.signal, 'copy');
  try {
    await copyFile(src, dst, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw e;
    await unlink(dst).catch(() => {});
    if (['EOPNOTSUPP', 'ENOTSUP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY'].includes(code ?? '')) return false;
    throw e;
  }
  const size = (await statFile(dst)).size;
  job.progress?.(size, size);
  return true;
}

/** sparseCopy on this thread: reflink, else double-buffered async reads and sparse writes. */
async function sparseCopyHere(src: string, dst: string, job: FileJob, mode: number): Promise<CopyMethod> {
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
    const bufs = [Buffer.allocUnsafe(COPY_CHUNK), Buffer.allocUnsafe(COPY_CHUNK)];
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

/*
 * The copy worker. With async fs calls every read and every write goes through libuv's thread pool
 * and back to this thread; measured on a shared 2-core machine, bench/clone.ts's 200 MiB copy took
 * 55-480 ms that way (4 MiB buffers, double-buffered) while `cp` stayed at 64-75 ms. One worker
 * thread doing synchronous 1 MiB reads and writes is one tight loop like cp's: median 51-56 ms, max
 * 72. A worker takes ~30 ms to start, so it is kept: idle workers (at most MAX_IDLE_WORKERS) stay
 * for IDLE_WORKER_MS, unref'd so they never keep a process alive. Without an idle worker, sources
 * under WORKER_MIN_BYTES (~20 ms of copying, less than a start) are copied on this thread.
 *
 * The code is a string (evaluated with `eval: true`, CommonJS or ESM alike, hence import()) so that
 * it works unchanged in tsc's output and in the CLI bundle, where a worker file path would not.
 */
const WORKER_MIN_BYTES = 64 << 20;
const IDLE_WORKER_MS = 30_000;
const MAX_IDLE_WORKERS = 2;
/** The worker reports progress after this many bytes or milliseconds, whichever comes first. */
const PROGRESS_BYTES = 16 << 20;
const PROGRESS_MS = 100;

/** Messages from the copy worker. */
type WorkerReply =
  | { created: true }
  | { progress: number; size: number }
  | { done: CopyMethod; size: number }
  | { aborted: true }
  | { error: { message: string; code?: string; errno?: number; syscall?: string; path?: string } };

const WORKER_CODE = `
Promise.all([import('node:worker_threads'), import('node:fs')]).then(([{ parentPort }, fs]) => {
  const CHUNK = ${COPY_CHUNK}, BLOCK = ${BLOCK}, PROGRESS_BYTES = ${PROGRESS_BYTES}, PROGRESS_MS = ${PROGRESS_MS};
  const C = fs.constants;
  const zero = Buffer.alloc(BLOCK);
  const buf = Buffer.allocUnsafe(CHUNK);
  const ABORT = {};
  const writeAll = (fd, off, len, pos) => {
    while (len > 0) {
      const n = fs.writeSync(fd, buf, off, len, pos);
      off += n; pos += n; len -= n;
    }
  };
  parentPort.on('message', ({ src, dst, mode, cancel }) => {
    const flag = new Int32Array(cancel);
    let input = -1, out = -1, created = false;
    try {
      try {
        fs.copyFileSync(src, dst, C.COPYFILE_EXCL | C.COPYFILE_FICLONE_FORCE);
        created = true;
        parentPort.postMessage({ created: true });
        parentPort.postMessage({ done: 'reflink', size: fs.statSync(dst).size });
        return;
      } catch (e) {
        if (e && e.code === 'EEXIST') throw e;
        try { fs.unlinkSync(dst); } catch {}
      }
      input = fs.openSync(src, 'r');
      out = fs.openSync(dst, C.O_WRONLY | C.O_CREAT | C.O_EXCL, mode);
      created = true;
      parentPort.postMessage({ created: true });
      const size = fs.fstatSync(input).size;
      let pos = 0, told = 0, t = performance.now();
      while (pos < size) {
        if (Atomics.load(flag, 0) !== 0) throw ABORT;
        const n = fs.readSync(input, buf, 0, CHUNK, pos);
        if (n === 0) break;
        let run = -1;
        for (let off = 0; off < n; off += BLOCK) {
          const end = Math.min(off + BLOCK, n);
          if (buf.compare(zero, 0, end - off, off, end) === 0) {
            if (run >= 0) { writeAll(out, run, off - run, pos + run); run = -1; }
          } else if (run < 0) run = off;
        }
        if (run >= 0) writeAll(out, run, n - run, pos + run);
        pos += n;
        const now = performance.now();
        if (pos - told >= PROGRESS_BYTES || now - t >= PROGRESS_MS) {
          parentPort.postMessage({ progress: pos, size });
          told = pos; t = now;
        }
      }
      fs.ftruncateSync(out, size);
      fs.closeSync(out);
      out = -1;
      parentPort.postMessage({ done: 'sparse', size });
    } catch (e) {
      if (out >= 0) try { fs.closeSync(out); } catch {}
      if (created) try { fs.unlinkSync(dst); } catch {}
      parentPort.postMessage(e === ABORT ? { aborted: true } : { error: {
        message: String(e && e.message !== undefined ? e.message : e),
        code: e && e.code, errno: e && e.errno, syscall: e && e.syscall, path: e && e.path } });
    } finally {
      if (input >= 0) try { fs.closeSync(input); } catch {}
    }
  });
});
`;

const idleWorkers: { worker: Worker; timer: NodeJS.Timeout }[] = [];

/** An idle copy worker, else a new one (undefined when none can be started). */
function takeWorker(): Worker | undefined {
  const idle = idleWorkers.pop();
  if (idle) {
    clearTimeout(idle.timer);
    idle.worker.ref();
    return idle.worker;
  }
  let worker: Worker;
  try {
    worker = new Worker(WORKER_CODE, { eval: true });
  } catch {
    return undefined;
  }
  // A copy listens for failures itself; these keep an idle worker's death from going unnoticed.
  worker.on('error', () => {});
  worker.once('exit', () => {
    const i = idleWorkers.findIndex((x) => x.worker === worker);
    if (i >= 0) {
      clearTimeout(idleWorkers[i]!.timer);
      idleWorkers.splice(i, 1);
    }
  });
  return worker;
}

/** Keeps a worker that finished a copy for the next one (or ends it when enough are idle). */
function releaseWorker(worker: Worker): void {
  worker.unref();
  if (idleWorkers.length >= MAX_IDLE_WORKERS) {
    void worker.terminate();
    return;
  }
  const entry = {
    worker,
    timer: setTimeout(() => {
      const i = idleWorkers.indexOf(entry);
      if (i >= 0) idleWorkers.splice(i, 1);
      void worker.terminate();
    }, IDLE_WORKER_MS),
  };
  entry.timer.unref();
  idleWorkers.push(entry);
}

/**
 * sparseCopy in `worker`: progress comes as messages, cancel is a flag in shared memory that the
 * worker reads before every chunk. A cancel that arrives before the copy is reported done still
 * cancels it (the copy is removed), so an abort from a progress callback always wins.
 */
function copyInWorker(
  worker: Worker,
  src: string,
  dst: string,
  job: FileJob,
  mode: number,
): Promise<CopyMethod> {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  const signal = job.signal;
  return new Promise<CopyMethod>((resolve, reject) => {
    let created = false;
    /** What a throwing progress callback threw: it cancels the copy and is the copy's error. */
    let thrown: { e: unknown } | undefined;
    const onAbort = () => Atomics.store(flag, 0, 1);
    const tell = (n: number, total: number) => {
      try {
        job.progress?.(n, total);
      } catch (e) {
        thrown ??= { e };
        onAbort();
      }
    };
    const settle = (healthy: boolean) => {
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onFailure);
      worker.off('exit', onFailure);
      if (healthy) releaseWorker(worker);
      else void worker.terminate();
    };
    const fail = (e: unknown) => {
      if (!created) return reject(e);
      unlink(dst)
        .catch(() => {})
        .then(() => reject(e));
    };
    function onMessage(m: WorkerReply) {
      if ('created' in m) {
        created = true;
        return;
      }
      if ('progress' in m) {
        tell(m.progress, m.size);
        return;
      }
      settle(true);
      if ('done' in m) {
        if (!thrown && !signal?.aborted) tell(m.size, m.size);
        if (thrown) return fail(thrown.e);
        if (signal?.aborted) return fail(abortError('copy'));
        return resolve(m.done);
      }
      // The worker removed its file.
      if (thrown) return reject(thrown.e);
      if ('aborted' in m) return reject(abortError('copy'));
      reject(Object.assign(new Error(m.error.message), m.error));
    }
    function onFailure(e: unknown) {
      settle(false);
      fail(e instanceof Error ? e : new Error(`copy worker exited (${String(e)})`));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    worker.on('message', onMessage);
    worker.on('error', onFailure);
    worker.on('exit', onFailure);
    worker.postMessage({ src, dst, mode, cancel });
  });
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
  // A cancel must not wait for the sender's next chunk (a stalled or vanished client): the pending
  // read loses a race against the abort, and the source is closed.
  const it = source[Symbol.asyncIterator]();
  const signal = opts.signal;
  let onAbort: (() => void) | undefined;
  const aborted = signal
    ? new Promise<never>((_, reject) => {
        onAbort = () => reject(abortError('upload'));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      })
    : undefined;
  aborted?.catch(() => {});
  let done = false;
  try {
    for (;;) {
      const r = aborted ? await Promise.race([it.next(), aborted]) : await it.next();
      if (r.done) {
        done = true;
        break;
      }
      const c = r.value;
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
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    // Stopping early (cancel, error): close the source without waiting for it (a read may be
    // pending forever on a stalled sender); a stream is destroyed, which ends the request under it.
    if (!done) {
      const stream = source as { destroy?: () => void };
      if (typeof stream.destroy === 'function') stream.destroy();
      else void Promise.resolve(it.return?.()).catch(() => {});
    }
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
 * (reflink, else reads that keep zero blocks as holes, in a worker thread when big). Measured in
 * bench/storage and bench/clone. Neither syncs the copy to disk, like cp, and like `qemu-img convert`
 * (what libvirt runs to clone a qcow2), which syncs the new image's header but not the copied data.
 * On error or cancel `dst` is removed.
 */
export async function copyVolumeFile(
  runner: Runner,
  src: string,
  dst: string,
  job: FileJob = {},
): Promise<CopyMethod | 'cp'> {
  const facts = await statFile(src);
  if (facts.allocated * 2 >= facts.size || facts.kind !== 'file')
    return sparseCopy(src, dst, job, 0o600, facts.kind === 'file' ? facts.size : undefined);
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
