// Storage pool creation commands (virsh-pool.c): pool-define-as / pool-create-as (virsh builds the
// XML from arguments, virshBuildPoolXML), pool-define / pool-create from a file.
import type { StoragePoolSummary } from '../../drivers/connection.js';
import { CliError, type CmdContext, type CommandDef, failWith } from '../command.js';
import { exclusive } from '../context.js';
import { xmlEscape } from './storage-util.js';
import { readUserFile, validateIfAsked } from './util.js';

export const buildOpts = [
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
    if (host) x += `    <host name='${e(host)}'/>\n`;
    if (path) x += `    <dir path='${e(path)}'/>\n`;
    if (dev) x += `    <device path='${e(dev)}'/>\n`;
    if (initiator) x += `    <initiator>\n      <iqn name='${e(initiator)}'/>\n    </initiator>\n`;
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
    if (protoVer) x += `    <protocol ver='${e(protoVer)}'/>\n`;
    x += '  </source>\n';
  }
  if (target) x += `  <target>\n    <path>${e(target)}</path>\n  </target>\n`;
  x += '</pool>\n';
  return { name, xml: x };
}

export function createFlags(ctx: CmdContext): {
  build?: boolean;
  overwrite?: boolean;
  noOverwrite?: boolean;
} {
  exclusive(ctx, 'overwrite', 'no-overwrite');
  const f: { build?: boolean; overwrite?: boolean; noOverwrite?: boolean } = {};
  if (ctx.flag('build')) f.build = true;
  if (ctx.flag('overwrite')) f.overwrite = true;
  if (ctx.flag('no-overwrite')) f.noOverwrite = true;
  return f;
}

export const defineAsCmd: CommandDef = {
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

export const createAsCmd: CommandDef = {
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

export const defineCmd: CommandDef = {
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
      await validateIfAsked(ctx, 'storagepool', xml);
      pool = await conn.storagePoolDefineXML(xml);
    } catch (e) {
      failWith(`Failed to define pool from ${file}`, e);
    }
    ctx.printExtra(`Pool ${pool.name} defined from ${file}\n`);
  },
};

export const createCmd: CommandDef = {
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
