// vol-upload and vol-download (virsh-volume.c): the file streamed to or from the volume, sparse with
// --sparse, as a job with a progress bar; a failed download removes the file it created.
import { open, stat, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { StorageVolSummary } from '../../drivers/connection.js';
import { errnoText } from '../../util/errors.js';
import { readFileChunks } from '../../host/storage-file.js';
import { CliError, type CmdContext, type CommandDef, failWith } from '../command.js';
import { lookupVol, runVolumeJob } from './storage-util.js';

const ref = (v: StorageVolSummary) => ({ pool: v.pool, name: v.name });

const streamOpts: CommandDef['options'] = [
  { name: 'vol', type: 'data', required: true, help: 'vol name, key or path' },
  { name: 'file', type: 'data', required: true, help: 'file', complete: 'file' },
  { name: 'pool', type: 'string', namedOnly: true, help: 'pool name or uuid', complete: 'pool' },
];

/**
 * --offset and --length (vshCommandOptULongLongWrap: a negative number wraps, which for a length
 * means "to the end"), checked before anything is looked up.
 */
function windowOpts(ctx: CmdContext): { offset?: number; length?: number } {
  const w: { offset?: number; length?: number } = {};
  for (const k of ['offset', 'length'] as const) {
    const v = ctx.str(k);
    if (v === undefined) continue;
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
      throw new CliError(`Numeric value '${v}' for <${k}> option is malformed or out of range`);
    const n = Number(v);
    if (n < 0 && k === 'offset')
      throw new CliError(`Numeric value '${v}' for <${k}> option is malformed or out of range`);
    w[k] = Math.max(n, 0);
  }
  return w;
}

export const uploadCmd: CommandDef = {
  name: 'vol-upload',
  summary: 'upload file contents to a volume',
  description: 'Upload file contents to a volume',
  options: [
    ...streamOpts,
    { name: 'offset', type: 'int', namedOnly: true, help: 'volume offset to upload to' },
    { name: 'length', type: 'int', namedOnly: true, help: 'amount of data to upload' },
    { name: 'sparse', type: 'bool', help: 'preserve sparseness of volume' },
  ],
  async handler(ctx) {
    const w = windowOpts(ctx);
    const vol = await lookupVol(ctx);
    const file = ctx.req('file');
    let size: number;
    try {
      size = (await stat(file)).size;
      await (await open(file, 'r')).close();
    } catch (e) {
      throw new CliError(`cannot read ${file}`, errnoText(e));
    }
    const conn = await ctx.conn();
    try {
      await runVolumeJob(`Uploading ${file}`, async (job) => {
        // With --sparse, runs of zero blocks of the file travel as holes (the volume keeps them).
        const sparse = ctx.flag('sparse');
        const chunks = readFileChunks(file, {
          size,
          ...(w.length ? { length: w.length } : {}),
          sparse,
          ...(job.signal ? { signal: job.signal } : {}),
          ...(job.progress ? { progress: job.progress } : {}),
        });
        await conn.storageVolUpload(
          ref(vol),
          Readable.from(chunks, { objectMode: sparse }),
          { ...w, ...(sparse ? { sparse: true } : {}) },
          job.signal ? { signal: job.signal } : {},
        );
      });
    } catch (e) {
      failWith(`cannot upload to volume ${ctx.req('vol')}`, e);
    }
  },
};

export const downloadCmd: CommandDef = {
  name: 'vol-download',
  summary: 'download volume contents to a file',
  description: 'Download volume contents to a file',
  options: [
    ...streamOpts,
    { name: 'offset', type: 'int', namedOnly: true, help: 'volume offset to download from' },
    { name: 'length', type: 'int', namedOnly: true, help: 'amount of data to download' },
    { name: 'sparse', type: 'bool', help: 'preserve sparseness of volume' },
  ],
  async handler(ctx) {
    const w = windowOpts(ctx);
    const vol = await lookupVol(ctx);
    const file = ctx.req('file');
    const sparse = ctx.flag('sparse');
    const conn = await ctx.conn();
    // As virsh: a new file is removed again when the download fails; an existing one is truncated.
    let created = false;
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(file, 'wx', 0o666);
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new CliError(`cannot create ${file}`, errnoText(e));
      try {
        fh = await open(file, 'w');
      } catch (e2) {
        throw new CliError(`cannot create ${file}`, errnoText(e2));
      }
    }
    try {
      const info = await conn.storageVolGetInfo(ref(vol));
      const total = w.length || Math.max(0, (info.physical ?? info.capacity) - (w.offset ?? 0));
      await runVolumeJob(`Downloading ${vol.name}`, async (job) => {
        const stream = await conn.storageVolDownload(
          ref(vol),
          { ...w, ...(sparse ? { sparse: true } : {}) },
          job.signal ? { signal: job.signal } : {},
        );
        let pos = 0;
        for await (const c of stream as AsyncIterable<Buffer | { hole: number }>) {
          if (job.signal?.aborted) throw job.signal.reason ?? new Error('aborted');
          if (Buffer.isBuffer(c) || c instanceof Uint8Array) {
            await fh.write(c, 0, c.length, pos);
            pos += c.length;
          } else {
            pos += c.hole; // a hole stays a hole: nothing is written there
          }
          job.progress?.(pos, total);
        }
        await fh.truncate(pos);
      });
      await fh.close();
    } catch (e) {
      await fh.close().catch(() => {});
      if (created) await unlink(file).catch(() => {});
      failWith(`cannot download from volume ${ctx.req('vol')}`, e);
    }
  },
};
