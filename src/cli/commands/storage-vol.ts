// Storage Volume commands (virsh-volume.c): list, info, XML, path/key/name/pool, delete, wipe, resize;
// creation in storage-vol-create.ts, upload and download in storage-vol-stream.ts.
import type { StorageVolInfo, StorageVolSummary, WipeAlgorithm } from '../../drivers/connection.js';
import { formatBytesHuman } from '../../util/units.js';
import { CliError, type CommandDef, type CommandGroup, failWith } from '../command.js';
import { keyValue, renderTable } from '../format.js';
import { lookupPool, lookupVol, parseVolSize, poolOpt, runVolumeJob, volOpts } from './storage-util.js';
import { cloneCmd, createAsCmd, createCmd, createFromCmd } from './storage-vol-create.js';
import { downloadCmd, uploadCmd } from './storage-vol-stream.js';

const ref = (v: StorageVolSummary) => ({ pool: v.pool, name: v.name });
/** What vol-path, vol-key and vol-name print for --json: the volume's identifiers. */
const volIds = (v: StorageVolSummary) => ({ pool: v.pool, name: v.name, key: v.key, path: v.path });

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
      // The text's 'Backing of:' line: the linked clones whose overlays read this volume.
      const [{ linkedCloneDefs }, { linkedClonesOf }] = await Promise.all([
        import('../../drivers/clone/linked-guard.js'),
        import('../../drivers/clone/linked.js'),
      ]);
      ctx.printJson({ ...i, backingOf: linkedClonesOf(i.path, await linkedCloneDefs(conn)) });
      return;
    }
    const size = (n: number) => (ctx.flag('bytes') ? `${n} bytes` : formatBytesHuman(n));
    const physical = ctx.flag('physical');
    if (physical && i.physical === undefined) {
      // A driver that cannot tell the physical size (libvirt's test driver has no GetInfoFlags).
      ctx.print(keyValue([['Name:', i.name]]));
      throw new CliError(
        'this function is not supported by the connection driver: virStorageVolGetInfoFlags',
      );
    }
    ctx.print(
      keyValue([
        ['Name:', i.name],
        ['Type:', i.type],
        ['Capacity:', size(i.capacity)],
        [physical ? 'Physical:' : 'Allocation:', size(physical ? i.physical! : i.allocation)],
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
  json: true,
  options: volOpts('volume name or key'),
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    const path = await (await ctx.conn()).storageVolGetPath(ref(vol));
    if (ctx.json) ctx.printJson(volIds({ ...vol, path }));
    else ctx.print(`${path}\n`);
  },
};

const keyCmd: CommandDef = {
  name: 'vol-key',
  summary: 'returns the volume key for a given volume name or path',
  json: true,
  options: volOpts('volume name or path'),
  async handler(ctx) {
    const vol = await lookupVol(ctx);
    if (ctx.json) ctx.printJson(volIds(vol));
    else ctx.print(`${vol.key}\n`);
  },
};

const nameCmd: CommandDef = {
  name: 'vol-name',
  summary: 'returns the volume name for a given volume key or path',
  json: true,
  options: [{ name: 'vol', type: 'data', required: true, help: 'volume key or path' }],
  async handler(ctx) {
    const vol = await lookupVol(ctx, 'vol', null, false);
    if (ctx.json) ctx.printJson(volIds(vol));
    else ctx.print(`${vol.name}\n`);
  },
};

const poolCmd: CommandDef = {
  name: 'vol-pool',
  summary: 'returns the storage pool for a given volume key or path',
  json: true,
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
    if (ctx.json) ctx.printJson({ name: pool.name, uuid: pool.uuid });
    else ctx.print(`${ctx.flag('uuid') ? pool.uuid : pool.name}\n`);
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
