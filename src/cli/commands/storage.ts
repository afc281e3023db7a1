// Storage Pool commands (virsh-pool.c): build, start, stop, delete, undefine, autostart, list, info,
// XML, edit, refresh, name/uuid, capabilities; the define/create ones are in storage-pool-create.ts.
import type { PoolType } from '../../conf/storage/index.js';
import type { StoragePoolListFilter, StoragePoolSummary } from '../../drivers/connection.js';
import { formatBytesHuman } from '../../util/units.js';
import {
  CliError,
  type CmdContext,
  type CommandDef,
  type CommandGroup,
  errorText,
  failWith,
} from '../command.js';
import { exclusive } from '../context.js';
import { editText } from '../editor.js';
import { keyValue, renderTable } from '../format.js';
import {
  buildOpts,
  createAsCmd,
  createCmd,
  createFlags,
  defineAsCmd,
  defineCmd,
} from './storage-pool-create.js';
import { poolEventCmd } from './storage-pool-event.js';
import { lookupPool, poolOpt } from './storage-util.js';

const poolTypes: PoolType[] = [
  'dir',
  'fs',
  'netfs',
  'logical',
  'disk',
  'iscsi',
  'iscsi-direct',
  'scsi',
  'mpath',
  'rbd',
  'sheepdog',
  'gluster',
  'zfs',
  'vstorage',
];

/** A command that looks the pool up, calls one method and prints virsh's message with the argument. */
function simple(
  name: string,
  summary: string,
  description: string,
  failure: string,
  success: string,
  call: (ctx: CmdContext, pool: StoragePoolSummary) => Promise<void>,
  extra: CommandDef['options'] = [],
): CommandDef {
  return {
    name,
    summary,
    description,
    options: [poolOpt(), ...extra],
    async handler(ctx) {
      const pool = await lookupPool(ctx);
      const arg = ctx.req('pool');
      try {
        await call(ctx, pool);
      } catch (e) {
        failWith(failure.replace('%s', arg), e);
      }
      ctx.printExtra(success.replace('%s', arg));
    },
  };
}

const buildCmd = simple(
  'pool-build',
  'build a pool',
  'Build a given pool.',
  'Failed to build pool %s',
  'Pool %s built\n',
  async (ctx, p) => {
    const f: { overwrite?: boolean; noOverwrite?: boolean } = {};
    if (ctx.flag('overwrite')) f.overwrite = true;
    if (ctx.flag('no-overwrite')) f.noOverwrite = true;
    await (await ctx.conn()).storagePoolBuild(p.uuid, f);
  },
  [buildOpts[1], buildOpts[2]],
);

const startCmd: CommandDef = {
  ...simple(
    'pool-start',
    'start a (previously defined) inactive pool',
    'Start a pool.',
    'Failed to start pool %s',
    'Pool %s started\n',
    async (ctx, p) => (await ctx.conn()).storagePoolCreate(p.uuid, createFlags(ctx)),
    [...buildOpts],
  ),
};

const destroyCmd = simple(
  'pool-destroy',
  'destroy (stop) a pool',
  'Forcefully stop a given pool. Raw data in the pool is untouched',
  'Failed to destroy pool %s',
  'Pool %s destroyed\n',
  async (ctx, p) => (await ctx.conn()).storagePoolDestroy(p.uuid),
);

const deleteCmd = simple(
  'pool-delete',
  'delete a pool',
  'Delete a given pool.',
  'Failed to delete pool %s',
  'Pool %s deleted\n',
  async (ctx, p) => (await ctx.conn()).storagePoolDelete(p.uuid),
);

const undefineCmd = simple(
  'pool-undefine',
  'undefine an inactive pool',
  'Undefine the configuration for an inactive pool.',
  'Failed to undefine pool %s',
  'Pool %s has been undefined\n',
  async (ctx, p) => (await ctx.conn()).storagePoolUndefine(p.uuid),
);

const refreshCmd = simple(
  'pool-refresh',
  'refresh a pool',
  'Refresh a given pool.',
  'Failed to refresh pool %s',
  'Pool %s refreshed\n',
  async (ctx, p) => (await ctx.conn()).storagePoolRefresh(p.uuid),
);

const autostartCmd: CommandDef = {
  name: 'pool-autostart',
  summary: 'autostart a pool',
  description: 'Configure a pool to be automatically started at boot.',
  options: [poolOpt(), { name: 'disable', type: 'bool', help: 'disable autostarting' }],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const arg = ctx.req('pool');
    const on = !ctx.flag('disable');
    try {
      await (await ctx.conn()).storagePoolSetAutostart(pool.uuid, on);
    } catch (e) {
      failWith(
        on ? `failed to mark pool ${arg} as autostarted` : `failed to unmark pool ${arg} as autostarted`,
        e,
      );
    }
    ctx.printExtra(on ? `Pool ${arg} marked as autostarted\n` : `Pool ${arg} unmarked as autostarted\n`);
  },
};

/** Case-insensitive by name, as virsh's virshStoragePoolSorter. */
function sortPools<T extends { name: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
}

const listCmd: CommandDef = {
  name: 'pool-list',
  summary: 'list pools',
  description: 'Returns list of pools.',
  json: true,
  options: [
    { name: 'inactive', type: 'bool', help: 'list inactive pools' },
    { name: 'all', type: 'bool', help: 'list inactive & active pools' },
    { name: 'transient', type: 'bool', help: 'list transient pools' },
    { name: 'persistent', type: 'bool', help: 'list persistent pools' },
    { name: 'autostart', type: 'bool', help: 'list pools with autostart enabled' },
    { name: 'no-autostart', type: 'bool', help: 'list pools with autostart disabled' },
    {
      name: 'type',
      type: 'string',
      namedOnly: true,
      help: 'only list pool of specified type(s) (if supported)',
    },
    { name: 'details', type: 'bool', help: 'display extended details for pools' },
    { name: 'uuid', type: 'bool', help: 'list UUID of active pools only' },
    { name: 'name', type: 'bool', help: 'list name of active pools only' },
  ],
  async handler(ctx) {
    exclusive(ctx, 'details', 'uuid');
    exclusive(ctx, 'details', 'name');
    const filter: StoragePoolListFilter = {};
    if (ctx.flag('inactive') && !ctx.flag('all')) filter.inactive = true;
    else if (!ctx.flag('all') && !ctx.flag('inactive')) filter.active = true;
    if (ctx.flag('persistent')) filter.persistent = true;
    if (ctx.flag('transient')) filter.transient = true;
    if (ctx.flag('autostart')) filter.autostart = true;
    if (ctx.flag('no-autostart')) filter.noAutostart = true;
    const type = ctx.str('type');
    if (type !== undefined) {
      const types = type.split(',').filter((t) => t !== '');
      for (const t of types)
        if (!poolTypes.includes(t as PoolType)) throw new CliError(`Invalid pool type '${t}'`);
      filter.types = types as PoolType[];
    }
    const conn = await ctx.conn();
    let pools: StoragePoolSummary[];
    try {
      pools = sortPools(await conn.listStoragePools(filter));
    } catch (e) {
      failWith('Failed to list pools', e);
    }
    const details = ctx.flag('details');
    if (ctx.json) {
      ctx.printJson(details ? await Promise.all(pools.map((p) => conn.storagePoolGetInfo(p.uuid))) : pools);
      return;
    }
    if (ctx.flag('name') || ctx.flag('uuid')) {
      let out = '';
      for (const p of pools) {
        if (ctx.flag('uuid')) out += `${p.uuid.padEnd(36)}${ctx.flag('name') ? ' ' : '\n'}`;
        if (ctx.flag('name')) out += `${p.name.padEnd(20)}\n`;
      }
      ctx.print(out);
      return;
    }
    const yesNo = (b: boolean) => (b ? 'yes' : 'no');
    if (!details) {
      const rows = pools.map((p) => [p.name, p.active ? 'active' : 'inactive', yesNo(p.autostart)]);
      ctx.print(renderTable(['Name', 'State', 'Autostart'], rows, !ctx.quiet));
      return;
    }
    const rows: string[][] = [];
    for (const p of pools) {
      const i = await conn.storagePoolGetInfo(p.uuid);
      const sized = i.state === 'running' || i.state === 'degraded';
      rows.push([
        p.name,
        i.state,
        yesNo(p.autostart),
        yesNo(p.persistent),
        sized ? formatBytesHuman(i.capacity) : '-',
        sized ? formatBytesHuman(i.allocation) : '-',
        sized ? formatBytesHuman(i.available) : '-',
      ]);
    }
    ctx.print(
      renderTable(
        ['Name', 'State', 'Autostart', 'Persistent', 'Capacity', 'Allocation', 'Available'],
        rows,
        !ctx.quiet,
      ),
    );
  },
};

const infoCmd: CommandDef = {
  name: 'pool-info',
  summary: 'storage pool information',
  description: 'Returns basic information about the storage pool.',
  json: true,
  options: [poolOpt(), { name: 'bytes', type: 'bool', help: 'Return pool info in bytes' }],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const conn = await ctx.conn();
    const i = await conn.storagePoolGetInfo(pool.uuid);
    if (ctx.json) {
      ctx.printJson(i);
      return;
    }
    const yesNo = (b: boolean) => (b ? 'yes' : 'no');
    const pairs: [string, string][] = [
      ['Name:', i.name],
      ['UUID:', i.uuid],
      ['State:', i.state],
      ['Persistent:', yesNo(i.persistent)],
      ['Autostart:', yesNo(i.autostart)],
    ];
    if (i.state === 'running' || i.state === 'degraded') {
      const size = (n: number) => (ctx.flag('bytes') ? String(n) : formatBytesHuman(n));
      pairs.push(
        ['Capacity:', size(i.capacity)],
        ['Allocation:', size(i.allocation)],
        ['Available:', size(i.available)],
      );
    }
    ctx.print(keyValue(pairs));
  },
};

const dumpxmlCmd: CommandDef = {
  name: 'pool-dumpxml',
  summary: 'pool information in XML',
  description: 'Output the pool information as an XML dump to stdout.',
  options: [poolOpt(), { name: 'inactive', type: 'bool', help: 'show inactive defined XML' }],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const conn = await ctx.conn();
    let xml: string;
    try {
      xml = await conn.storagePoolGetXMLDesc(pool.uuid, ctx.flag('inactive') ? { inactive: true } : {});
    } catch (e) {
      throw new CliError(errorText(e));
    }
    ctx.print(xml);
  },
};

const editCmd: CommandDef = {
  name: 'pool-edit',
  summary: 'edit XML configuration for a storage pool',
  description: 'Edit the XML configuration for a storage pool.',
  options: [poolOpt()],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const conn = await ctx.conn();
    // The persistent definition when there is one (libvirt asks for the inactive XML if persistent).
    const getXml = () => conn.storagePoolGetXMLDesc(pool.uuid, pool.persistent ? { inactive: true } : {});
    const orig = await getXml().catch(() => conn.storagePoolGetXMLDesc(pool.uuid));
    let text = orig;
    for (;;) {
      const edited = await editText(text, '.xml');
      if (edited === orig) {
        ctx.printExtra(`Pool ${pool.name} XML configuration not changed.\n`);
        return;
      }
      text = edited;
      try {
        const p = await conn.storagePoolDefineXML(edited);
        ctx.printExtra(`Pool ${p.name} XML configuration edited.\n`);
        return;
      } catch (e) {
        if (!process.stdin.isTTY && !ctx.interactive) throw new CliError('Failed.', errorText(e));
        ctx.error(errorText(e));
        const c = (await ctx.ask('Failed. Try again? [y,n,f,?]: ')).trim().toLowerCase().slice(0, 1);
        if (c !== 'y') throw new CliError('Failed.');
      }
    }
  },
};

const nameCmd: CommandDef = {
  name: 'pool-name',
  summary: 'convert a pool UUID to pool name',
  json: true,
  options: [poolOpt()],
  async handler(ctx) {
    const pool = await lookupPool(ctx, 'pool', { uuid: true });
    if (ctx.json) ctx.printJson({ name: pool.name, uuid: pool.uuid });
    else ctx.print(`${pool.name}\n`);
  },
};

const uuidCmd: CommandDef = {
  name: 'pool-uuid',
  summary: 'convert a pool name to pool UUID',
  json: true,
  options: [poolOpt()],
  async handler(ctx) {
    const pool = await lookupPool(ctx, 'pool', { name: true });
    if (ctx.json) ctx.printJson({ name: pool.name, uuid: pool.uuid });
    else ctx.print(`${pool.uuid}\n`);
  },
};

const capabilitiesCmd: CommandDef = {
  name: 'pool-capabilities',
  summary: 'storage pool capabilities',
  description: 'Returns capabilities of storage pool support.',
  options: [],
  async handler(ctx) {
    const conn = await ctx.conn();
    let xml: string;
    try {
      xml = await conn.storagePoolGetCapabilities();
    } catch (e) {
      failWith('failed to get storage pool capabilities', e);
    }
    ctx.print(xml);
  },
};

export const poolGroup: CommandGroup = {
  keyword: 'pool',
  title: 'Storage Pool',
  commands: [
    autostartCmd,
    buildCmd,
    createAsCmd,
    createCmd,
    defineAsCmd,
    defineCmd,
    deleteCmd,
    destroyCmd,
    dumpxmlCmd,
    editCmd,
    infoCmd,
    listCmd,
    nameCmd,
    refreshCmd,
    startCmd,
    undefineCmd,
    uuidCmd,
    poolEventCmd,
    capabilitiesCmd,
  ],
};
