// Storage Volume commands (virsh-volume.c): create (from arguments, XML, another volume), clone,
// list, info, XML, path/key/name/pool, delete, wipe, resize, upload and download with progress.
import { open, stat, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { StorageVolInfo, StorageVolSummary, WipeAlgorithm } from '../../drivers/connection.js';
import { readFileChunks } from '../../host/storage-file.js';
import { formatBytesHuman } from '../../util/units.js';
import {
  CliError,
  type CmdContext,
  type CommandDef,
  type CommandGroup,
  errorText,
  failWith,
} from '../command.js';
import { keyValue, renderTable } from '../format.js';
import {
  lookupPool,
  lookupVol,
  parseVolSize,
  poolOpt,
  runVolumeJob,
  volOpts,
  xmlEscape,
} from './storage-util.js';
import { readUserFile } from './util.js';

const ref = (v: StorageVolSummary) => ({ pool: v.pool, name: v.name });

const createAsCmd: CommandDef = {
  name: 'vol-create-as',
  summary: 'create a volume from a set of args',
  description: 'Create a vol.',
  options: [
    poolOpt('pool name'),
    { name: 'name', type: 'data', required: true, help: 'name of the volume' },
    {
      name: 'capacity',
      type: 'data',
      required: true,
      help: 'size of the vol, as scaled integer (default bytes)',
    },
    {
      name: 'allocation',
      type: 'string',
      help: 'initial allocation size, as scaled integer (default bytes)',
    },
    { name: 'format', type: 'string', help: 'file format type raw,bochs,qcow,qcow2,qed,vmdk' },
    { name: 'backing-vol', type: 'string', help: 'the backing volume if taking a snapshot' },
    { name: 'backing-vol-format', type: 'string', help: 'format of backing volume if taking a snapshot' },
    {
      name: 'prealloc-metadata',
      type: 'bool',
      help: 'preallocate metadata (for qcow2 instead of full allocation)',
    },
    { name: 'print-xml', type: 'bool', help: "print XML document, but don't define/create" },
  ],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const name = ctx.req('name');
    const capacity = parseVolSize(ctx.req('capacity'));
    const allocStr = ctx.str('allocation');
    const allocation = allocStr === undefined ? undefined : parseVolSize(allocStr);
    const format = ctx.str('format');
    const backing = ctx.str('backing-vol');
    const backingFormat = ctx.str('backing-vol-format');
    const conn = await ctx.conn();
    let backingPath: string | undefined;
    if (backing !== undefined) {
      // As virsh: the backing volume by name in this pool, then by key, then by path.
      const found = await conn
        .storageVolLookupByName(pool.name, backing)
        .catch(() => conn.storageVolLookupByKey(backing))
        .catch(() => conn.storageVolLookupByPath(backing))
        .catch(() => undefined);
      if (!found) throw new CliError(`failed to get vol '${backing}'`);
      backingPath = found.path;
    }
    const e = xmlEscape;
    let xml = `<volume>\n  <name>${e(name)}</name>\n  <capacity>${capacity}</capacity>\n`;
    if (allocation !== undefined) xml += `  <allocation>${allocation}</allocation>\n`;
    if (format) xml += `  <target>\n    <format type='${e(format)}'/>\n  </target>\n`;
    if (backingPath !== undefined) {
      xml += `  <backingStore>\n    <path>${e(backingPath)}</path>\n`;
      if (backingFormat) xml += `    <format type='${e(backingFormat)}'/>\n`;
      xml += '  </backingStore>\n';
    }
    xml += '</volume>\n';
    if (ctx.flag('print-xml')) {
      ctx.print(xml);
      return;
    }
    try {
      await conn.storageVolCreateXML(
        pool.uuid,
        xml,
        ctx.flag('prealloc-metadata') ? { preallocMetadata: true } : {},
      );
    } catch (err) {
      failWith(`Failed to create vol ${name}`, err);
    }
    ctx.printExtra(`Vol ${name} created\n`);
  },
};

const createCmd: CommandDef = {
  name: 'vol-create',
  summary: 'create a vol from an XML file',
  description: 'Create a vol.',
  options: [
    poolOpt('pool name'),
    {
      name: 'file',
      type: 'data',
      required: true,
      help: 'file containing an XML vol description',
      complete: 'file',
    },
    {
      name: 'prealloc-metadata',
      type: 'bool',
      help: 'preallocate metadata (for qcow2 instead of full allocation)',
    },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const file = ctx.req('file');
    const xml = await readUserFile(file);
    const conn = await ctx.conn();
    let vol: StorageVolSummary;
    try {
      vol = await conn.storageVolCreateXML(
        pool.uuid,
        xml,
        ctx.flag('prealloc-metadata') ? { preallocMetadata: true } : {},
      );
    } catch (e) {
      failWith(`Failed to create vol from ${file}`, e);
    }
    ctx.printExtra(`Vol ${vol.name} created from ${file}\n`);
  },
};

const createFromCmd: CommandDef = {
  name: 'vol-create-from',
  summary: 'create a vol, using another volume as input',
  description: 'Create a vol from an existing volume.',
  options: [
    poolOpt(),
    {
      name: 'file',
      type: 'data',
      required: true,
      help: 'file containing an XML vol description',
      complete: 'file',
    },
    { name: 'vol', type: 'data', required: true, help: 'vol name, key or path' },
    {
      name: 'inputpool',
      type: 'string',
      namedOnly: true,
      help: "pool name or uuid of the input volume's pool",
    },
    {
      name: 'prealloc-metadata',
      type: 'bool',
      help: 'preallocate metadata (for qcow2 instead of full allocation)',
    },
    { name: 'reflink', type: 'bool', help: 'use btrfs COW lightweight copy' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const file = ctx.req('file');
    const input = await lookupVol(ctx, 'vol', 'inputpool');
    const xml = await readUserFile(file);
    const conn = await ctx.conn();
    let vol: StorageVolSummary;
    try {
      vol = await runVolumeJob(`Creating from ${input.name}`, (job) =>
        conn.storageVolCreateXMLFrom(
          pool.uuid,
          xml,
          ref(input),
          ctx.flag('prealloc-metadata') ? { preallocMetadata: true } : {},
          job,
        ),
      );
    } catch (e) {
      failWith(`Failed to create vol from ${file}`, e);
    }
    ctx.printExtra(`Vol ${vol.name} created from input vol ${input.name}\n`);
  },
};

/** Replaces the volume XML's <name> and drops what belongs to the original (key, path). */
function cloneXml(xml: string, newName: string): string {
  return xml
    .replace(/<name>[^<]*<\/name>/, `<name>${xmlEscape(newName)}</name>`)
    .replace(/\s*<key>[^<]*<\/key>/, '')
    .replace(/(<target>[\s\S]*?)\s*<path>[^<]*<\/path>/, '$1');
}

/** Attributes in double quotes and no final newline, as virsh prints a document libxml2 wrote. */
function libxmlStyle(xml: string): string {
  return xml
    .replace(
      /(\s[\w:-]+)='([^']*)'/g,
      (_m, name: string, v: string) => `${name}="${v.replace(/&apos;/g, "'").replace(/"/g, '&quot;')}"`,
    )
    .trimEnd();
}

const cloneCmd: CommandDef = {
  name: 'vol-clone',
  summary: 'clone a volume.',
  description: 'Clone an existing volume within the parent pool.',
  options: [
    { name: 'vol', type: 'data', required: true, help: 'vol name, key or path' },
    { name: 'newname', type: 'data', required: true, help: 'clone name' },
    { name: 'pool', type: 'string', namedOnly: true, help: 'pool name or uuid', complete: 'pool' },
    {
      name: 'prealloc-metadata',
      type: 'bool',
      help: 'preallocate metadata (for qcow2 instead of full allocation)',
    },
    { name: 'reflink', type: 'bool', help: 'use btrfs COW lightweight copy' },
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than clone the volume' },
  ],
  async handler(ctx) {
    const orig = await lookupVol(ctx);
    const newName = ctx.req('newname');
    const conn = await ctx.conn();
    const origXml = await conn.storageVolGetXMLDesc(ref(orig));
    if (ctx.flag('print-xml')) {
      // As virsh (virshMakeCloneXML): the original's XML with the new name, as libxml2 writes it.
      ctx.print(libxmlStyle(origXml.replace(/<name>[^<]*<\/name>/, `<name>${xmlEscape(newName)}</name>`)));
      return;
    }
    const xml = cloneXml(origXml, newName);
    try {
      await runVolumeJob(`Cloning ${orig.name}`, (job) =>
        conn.storageVolCreateXMLFrom(
          orig.pool,
          xml,
          ref(orig),
          ctx.flag('prealloc-metadata') ? { preallocMetadata: true } : {},
          job,
        ),
      );
    } catch (e) {
      failWith(`Failed to clone vol from ${orig.name}`, e);
    }
    ctx.printExtra(`Vol ${newName} cloned from ${orig.name}\n`);
  },
};

const listCmd: CommandDef = {
  name: 'vol-list',
  summary: 'list vols',
  description: 'Returns list of vols by pool.',
  json: true,
  options: [poolOpt(), { name: 'details', type: 'bool', help: 'display extended details for volumes' }],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const conn = await ctx.conn();
    let vols: StorageVolInfo[];
    try {
      vols = await conn.listStorageVols(pool.uuid);
    } catch (e) {
      failWith('Failed to list volumes', e);
    }
    vols.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (ctx.json) {
      ctx.printJson(vols);
      return;
    }
    if (!ctx.flag('details')) {
      ctx.print(
        renderTable(
          ['Name', 'Path'],
          vols.map((v) => [v.name, v.path]),
          !ctx.quiet,
        ),
      );
      return;
    }
    ctx.print(
      renderTable(
        ['Name', 'Path', 'Type', 'Capacity', 'Allocation'],
        vols.map((v) => [
          v.name,
          v.path,
          v.type,
          formatBytesHuman(v.capacity),
          formatBytesHuman(v.allocation),
        ]),
        !ctx.quiet,
      ),
    );
  },
};

const infoCmd: CommandDef = {
  name: 'vol-info',
  summary: 'storage vol information',
  description: 'Returns basic information about the storage vol.',
  json: true,
  options: [
    ...volOpts(),
    { name: 'bytes', type: 'bool', help: 'sizes are represented in bytes rather than pretty units' },
    { name: 'physical', type: 'bool', help: 'return the physical size of the volume in allocation field' },
  ],
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    const conn = await ctx.conn();
    const i = await conn.storageVolGetInfo(ref(vol));
    if (ctx.json) {
      ctx.printJson(i);
      return;
    }
    const size = (n: number) => (ctx.flag('bytes') ? `${n} bytes` : formatBytesHuman(n));
    const physical = ctx.flag('physical');
    ctx.print(
      keyValue([
        ['Name:', i.name],
        ['Type:', i.type],
        ['Capacity:', size(i.capacity)],
        [
          physical ? 'Physical:' : 'Allocation:',
          size(physical ? (i.physical ?? i.allocation) : i.allocation),
        ],
        // Linked clones whose overlays read this volume (src/drivers/clone).
        ...(await (await import('./clone.js')).linkedVolumePairs(conn, i.path)),
      ]),
    );
  },
};

const dumpxmlCmd: CommandDef = {
  name: 'vol-dumpxml',
  summary: 'vol information in XML',
  description: 'Output the vol information as an XML dump to stdout.',
  options: volOpts(),
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    ctx.print(await (await ctx.conn()).storageVolGetXMLDesc(ref(vol)));
  },
};

const pathCmd: CommandDef = {
  name: 'vol-path',
  summary: 'returns the volume path for a given volume name or key',
  options: volOpts('volume name or key'),
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    ctx.print(`${await (await ctx.conn()).storageVolGetPath(ref(vol))}\n`);
  },
};

const keyCmd: CommandDef = {
  name: 'vol-key',
  summary: 'returns the volume key for a given volume name or path',
  options: volOpts('volume name or path'),
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    ctx.print(`${vol.key}\n`);
  },
};

const nameCmd: CommandDef = {
  name: 'vol-name',
  summary: 'returns the volume name for a given volume key or path',
  options: [{ name: 'vol', type: 'data', required: true, help: 'volume key or path' }],
  async handler(ctx) {
    const vol = await lookupVol(ctx, 'vol', null, false);
    ctx.print(`${vol.name}\n`);
  },
};

const poolCmd: CommandDef = {
  name: 'vol-pool',
  summary: 'returns the storage pool for a given volume key or path',
  options: [
    { name: 'vol', type: 'data', required: true, help: 'volume key or path' },
    { name: 'uuid', type: 'bool', help: 'return the pool uuid rather than pool name' },
  ],
  async handler(ctx) {
    const vol = await lookupVol(ctx, 'vol', null, false);
    const conn = await ctx.conn();
    let pool: Awaited<ReturnType<typeof conn.storagePoolLookup>>;
    try {
      pool = await conn.storagePoolLookup(vol.pool);
    } catch (e) {
      failWith('failed to get parent pool', e);
    }
    ctx.print(`${ctx.flag('uuid') ? pool.uuid : pool.name}\n`);
  },
};

const deleteCmd: CommandDef = {
  name: 'vol-delete',
  summary: 'delete a vol',
  description: 'Delete a given vol.',
  options: [
    ...volOpts(),
    {
      name: 'delete-snapshots',
      type: 'bool',
      help: 'delete snapshots associated with volume (must be supported by storage driver)',
    },
  ],
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    const arg = ctx.req('vol');
    try {
      await (await ctx.conn()).storageVolDelete(ref(vol));
    } catch (e) {
      failWith(`Failed to delete vol ${arg}`, e);
    }
    ctx.printExtra(`Vol ${arg} deleted\n`);
  },
};

const algorithms: WipeAlgorithm[] = [
  'zero',
  'nnsa',
  'dod',
  'bsi',
  'gutmann',
  'schneier',
  'pfitzner7',
  'pfitzner33',
  'random',
  'trim',
];

const wipeCmd: CommandDef = {
  name: 'vol-wipe',
  summary: 'wipe a vol',
  description: 'Ensure data previously on a volume is not accessible to future reads',
  options: [...volOpts(), { name: 'algorithm', type: 'string', help: 'perform selected wiping algorithm' }],
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    const arg = ctx.req('vol');
    const alg = ctx.str('algorithm');
    if (alg !== undefined && !algorithms.includes(alg as WipeAlgorithm))
      throw new CliError(`Unsupported algorithm '${alg}'`);
    const conn = await ctx.conn();
    try {
      await runVolumeJob(`Wiping ${vol.name}`, (job) =>
        conn.storageVolWipe(ref(vol), (alg ?? 'zero') as WipeAlgorithm, job),
      );
    } catch (e) {
      failWith(`Failed to wipe vol ${arg}`, e);
    }
    ctx.printExtra(`Vol ${arg} wiped\n`);
  },
};

const resizeCmd: CommandDef = {
  name: 'vol-resize',
  summary: 'resize a vol',
  description:
    'Resizes a storage volume. This is safe only for storage volumes not in use by an active guest.\nSee blockresize for live resizing.',
  options: [
    { name: 'vol', type: 'data', required: true, help: 'vol name, key or path' },
    {
      name: 'capacity',
      type: 'data',
      required: true,
      help: 'new capacity for the vol, as scaled integer (default bytes)',
    },
    { name: 'pool', type: 'string', namedOnly: true, help: 'pool name or uuid', complete: 'pool' },
    { name: 'allocate', type: 'bool', help: 'allocate the new capacity, rather than leaving it sparse' },
    {
      name: 'delta',
      type: 'bool',
      help: 'use capacity as a delta to current size, rather than the new size',
    },
    { name: 'shrink', type: 'bool', help: 'allow the resize to shrink the volume' },
  ],
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    let text = ctx.req('capacity').trimStart();
    let delta = ctx.flag('delta');
    if (text.startsWith('-')) {
      // The API takes a positive value; virsh allows a negative one with --shrink for convenience.
      if (!ctx.flag('shrink')) throw new CliError('negative size requires --shrink');
      text = text.slice(1);
      delta = true;
    }
    const capacity = parseVolSize(text);
    const flags: { allocate?: boolean; delta?: boolean; shrink?: boolean } = {};
    if (ctx.flag('allocate')) flags.allocate = true;
    if (delta) flags.delta = true;
    if (ctx.flag('shrink')) flags.shrink = true;
    const conn = await ctx.conn();
    try {
      await runVolumeJob(`Resizing ${vol.name}`, (job) =>
        conn.storageVolResize(ref(vol), capacity, flags, job),
      );
    } catch (e) {
      failWith(
        delta
          ? `Failed to change size of volume '${vol.name}' by ${text}`
          : `Failed to change size of volume '${vol.name}' to ${text}`,
        e,
      );
    }
    ctx.printExtra(
      delta
        ? `Size of volume '${vol.name}' successfully changed by ${text}\n`
        : `Size of volume '${vol.name}' successfully changed to ${text}\n`,
    );
  },
};

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

const uploadCmd: CommandDef = {
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
      throw new CliError(`cannot read ${file}`, errorText(e));
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

const downloadCmd: CommandDef = {
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
        throw new CliError(`cannot create ${file}`, errorText(e));
      try {
        fh = await open(file, 'w');
      } catch (e2) {
        throw new CliError(`cannot create ${file}`, errorText(e2));
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

export const volumeGroup: CommandGroup = {
  keyword: 'volume',
  title: 'Storage Volume',
  commands: [
    cloneCmd,
    createAsCmd,
    createCmd,
    createFromCmd,
    deleteCmd,
    downloadCmd,
    dumpxmlCmd,
    infoCmd,
    keyCmd,
    listCmd,
    nameCmd,
    pathCmd,
    poolCmd,
    resizeCmd,
    uploadCmd,
    wipeCmd,
  ],
};
