// Storage Pool commands (virsh-pool.c): define/create (from XML or arguments), build, start, stop,
// delete, undefine, autostart, list, info, XML, edit, refresh, name/uuid, capabilities.
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
import { lookupPool, poolOpt, xmlEscape } from './storage-util.js';
import { readUserFile } from './util.js';

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

const buildOpts = [
  { name: 'build', type: 'bool', help: 'build the pool as normal' },
  { name: 'no-overwrite', type: 'bool', help: 'do not overwrite any existing data' },
  { name: 'overwrite', type: 'bool', help: 'overwrite any existing data' },
] as const;

/** The options of pool-define-as / pool-create-as (virsh's POOL_BUILD_XML_OPTS). */
const asOpts: CommandDef['options'] = [
  { name: 'name', type: 'data', required: true, help: 'name of the pool' },
  { name: 'type', type: 'data', required: true, help: 'type of the pool' },
  { name: 'print-xml', type: 'bool', help: "print XML document, but don't define/create" },
  { name: 'source-host', type: 'string', help: 'source-host for underlying storage' },
  { name: 'source-path', type: 'string', help: 'source path for underlying storage' },
  { name: 'source-dev', type: 'string', help: 'source device for underlying storage' },
  { name: 'source-name', type: 'string', help: 'source name for underlying storage' },
  { name: 'target', type: 'string', help: 'target for underlying storage' },
  { name: 'source-format', type: 'string', help: 'format for underlying storage' },
  { name: 'auth-type', type: 'string', help: 'auth type to be used for underlying storage' },
  { name: 'auth-username', type: 'string', help: 'auth username to be used for underlying storage' },
  { name: 'secret-usage', type: 'string', help: 'auth secret usage to be used for underlying storage' },
  { name: 'secret-uuid', type: 'string', help: 'auth secret UUID to be used for underlying storage' },
  { name: 'adapter-name', type: 'string', help: 'adapter name to be used for underlying storage' },
  { name: 'adapter-wwnn', type: 'string', help: 'adapter wwnn to be used for underlying storage' },
  { name: 'adapter-wwpn', type: 'string', help: 'adapter wwpn to be used for underlying storage' },
  {
    name: 'adapter-parent',
    type: 'string',
    help: 'adapter parent scsi_hostN to be used for underlying vHBA storage',
  },
  {
    name: 'adapter-parent-wwnn',
    type: 'string',
    help: 'adapter parent scsi_hostN wwnn to be used for underlying vHBA storage',
  },
  {
    name: 'adapter-parent-wwpn',
    type: 'string',
    help: 'adapter parent scsi_hostN wwpn to be used for underlying vHBA storage',
  },
  {
    name: 'adapter-parent-fabric-wwn',
    type: 'string',
    help: 'adapter parent scsi_hostN fabric_wwn to be used for underlying vHBA storage',
  },
  { name: 'source-protocol-ver', type: 'string', help: 'nfsvers value for NFS pool mount option' },
  { name: 'source-initiator', type: 'string', help: 'initiator iqn for underlying storage' },
];

/** The pool XML virsh builds from pool-define-as / pool-create-as arguments (virshBuildPoolXML). */
export function buildPoolXml(ctx: CmdContext): { name: string; xml: string } {
  const name = ctx.req('name');
  const type = ctx.req('type');
  const o = (n: string) => ctx.str(n);
  const host = o('source-host');
  const path = o('source-path');
  const dev = o('source-dev');
  const srcName = o('source-name');
  const target = o('target');
  const format = o('source-format');
  const authType = o('auth-type');
  const authUser = o('auth-username');
  const secretUsage = o('secret-usage');
  const secretUuid = o('secret-uuid');
  const adapterName = o('adapter-name');
  const wwnn = o('adapter-wwnn');
  const wwpn = o('adapter-wwpn');
  const parent = o('adapter-parent');
  const parentWwnn = o('adapter-parent-wwnn');
  const parentWwpn = o('adapter-parent-wwpn');
  const fabric = o('adapter-parent-fabric-wwn');
  const protoVer = o('source-protocol-ver');
  const initiator = o('source-initiator');
  if (secretUsage !== undefined && secretUuid !== undefined)
    throw new CliError('Options --secret-usage and --secret-uuid are mutually exclusive');
  const e = xmlEscape;
  let x = `<pool type='${e(type)}'>\n  <name>${e(name)}</name>\n`;
  if (host || path || dev || format || srcName || adapterName || (wwnn && wwpn) || initiator || protoVer) {
    x += '  <source>\n';
    if (host) {
      const i = host.indexOf(':');
      x +=
        i >= 0
          ? `    <host name='${e(host.slice(0, i))}' port='${e(host.slice(i + 1))}'/>\n`
          : `    <host name='${e(host)}'/>\n`;
    }
    if (path) x += `    <dir path='${e(path)}'/>\n`;
    if (dev) x += `    <device path='${e(dev)}'/>\n`;
    if (wwnn && wwpn) {
      x += `    <adapter type='fc_host'`;
      if (parent) x += ` parent='${e(parent)}'`;
      else if (parentWwnn && parentWwpn)
        x += ` parent_wwnn='${e(parentWwnn)}' parent_wwpn='${e(parentWwpn)}'`;
      else if (fabric) x += ` parent_fabric_wwn='${e(fabric)}'`;
      x += ` wwnn='${e(wwnn)}' wwpn='${e(wwpn)}'/>\n`;
    } else if (adapterName) {
      x += `    <adapter type='scsi_host' name='${e(adapterName)}'/>\n`;
    }
    if (authType && authUser && (secretUsage || secretUuid)) {
      x += `    <auth type='${e(authType)}' username='${e(authUser)}'>\n`;
      x += secretUsage
        ? `      <secret usage='${e(secretUsage)}'/>\n`
        : `      <secret uuid='${e(secretUuid!)}'/>\n`;
      x += '    </auth>\n';
    }
    if (format) x += `    <format type='${e(format)}'/>\n`;
    if (srcName) x += `    <name>${e(srcName)}</name>\n`;
    if (initiator) x += `    <initiator>\n      <iqn name='${e(initiator)}'/>\n    </initiator>\n`;
    if (protoVer) x += `    <protocol ver='${e(protoVer)}'/>\n`;
    x += '  </source>\n';
  }
  if (target) x += `  <target>\n    <path>${e(target)}</path>\n  </target>\n`;
  x += '</pool>\n';
  return { name, xml: x };
}

function createFlags(ctx: CmdContext): { build?: boolean; overwrite?: boolean; noOverwrite?: boolean } {
  exclusive(ctx, 'overwrite', 'no-overwrite');
  const f: { build?: boolean; overwrite?: boolean; noOverwrite?: boolean } = {};
  if (ctx.flag('build')) f.build = true;
  if (ctx.flag('overwrite')) f.overwrite = true;
  if (ctx.flag('no-overwrite')) f.noOverwrite = true;
  return f;
}

const defineAsCmd: CommandDef = {
  name: 'pool-define-as',
  summary: 'define a pool from a set of args',
  description: 'Define a pool.',
  options: asOpts,
  async handler(ctx) {
    const { name, xml } = buildPoolXml(ctx);
    if (ctx.flag('print-xml')) {
      ctx.print(xml);
      return;
    }
    const conn = await ctx.conn();
    try {
      await conn.storagePoolDefineXML(xml);
    } catch (e) {
      failWith(`Failed to define pool ${name}`, e);
    }
    ctx.printExtra(`Pool ${name} defined\n`);
  },
};

const createAsCmd: CommandDef = {
  name: 'pool-create-as',
  summary: 'create a pool from a set of args',
  description: 'Create a pool.',
  options: [...asOpts, ...buildOpts],
  async handler(ctx) {
    const flags = createFlags(ctx);
    const { name, xml } = buildPoolXml(ctx);
    if (ctx.flag('print-xml')) {
      ctx.print(xml);
      return;
    }
    const conn = await ctx.conn();
    try {
      await conn.storagePoolCreateXML(xml, flags);
    } catch (e) {
      failWith(`Failed to create pool ${name}`, e);
    }
    ctx.printExtra(`Pool ${name} created\n`);
  },
};

const defineCmd: CommandDef = {
  name: 'pool-define',
  summary: 'define an inactive persistent storage pool or modify an existing persistent one from an XML file',
  description: 'Define or modify a persistent storage pool.',
  options: [
    {
      name: 'file',
      type: 'data',
      required: true,
      help: 'file containing an XML pool description',
      complete: 'file',
    },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async handler(ctx) {
    const file = ctx.req('file');
    const xml = await readUserFile(file);
    const conn = await ctx.conn();
    let pool: StoragePoolSummary;
    try {
      pool = await conn.storagePoolDefineXML(xml);
    } catch (e) {
      failWith(`Failed to define pool from ${file}`, e);
    }
    ctx.printExtra(`Pool ${pool.name} defined from ${file}\n`);
  },
};

const createCmd: CommandDef = {
  name: 'pool-create',
  summary: 'create a pool from an XML file',
  description: 'Create a pool.',
  options: [
    {
      name: 'file',
      type: 'data',
      required: true,
      help: 'file containing an XML pool description',
      complete: 'file',
    },
    ...buildOpts,
  ],
  async handler(ctx) {
    const flags = createFlags(ctx);
    const file = ctx.req('file');
    const xml = await readUserFile(file);
    const conn = await ctx.conn();
    let pool: StoragePoolSummary;
    try {
      pool = await conn.storagePoolCreateXML(xml, flags);
    } catch (e) {
      failWith(`Failed to create pool from ${file}`, e);
    }
    ctx.printExtra(`Pool ${pool.name} created from ${file}\n`);
  },
};

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
  options: [poolOpt()],
  async handler(ctx) {
    const pool = await lookupPool(ctx, 'pool', { uuid: true });
    ctx.print(`${pool.name}\n`);
  },
};

const uuidCmd: CommandDef = {
  name: 'pool-uuid',
  summary: 'convert a pool name to pool UUID',
  options: [poolOpt()],
  async handler(ctx) {
    const pool = await lookupPool(ctx, 'pool', { name: true });
    ctx.print(`${pool.uuid}\n`);
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
    capabilitiesCmd,
  ],
};
