// Networking commands (virsh-network.c): net-define/create/start/destroy/undefine/autostart, net-list,
// net-info, net-dumpxml, net-edit, net-uuid, net-name, net-update, net-dhcp-leases.
import { netEventCmd } from './events.js';
import type {
  NetworkLease,
  NetworkListFilter,
  NetworkSummary,
  NetworkUpdateCommand,
  NetworkUpdateSection,
} from '../../drivers/connection.js';
import { isVirError } from '../../util/errors.js';
import {
  CliError,
  type CmdContext,
  type CommandDef,
  type CommandGroup,
  errorText,
  failWith,
} from '../command.js';
import { exclusive } from '../context.js';
import { keyValue, renderTable } from '../format.js';
import { readUserFile, validateIfAsked } from './util.js';

/** `[--network] <string>`. */
const networkOpt = (help = 'network name or uuid') =>
  ({ name: 'network', type: 'data', required: true, help, complete: 'network' }) as const;

/** How a network argument may be matched (virsh VIRSH_BYUUID | VIRSH_BYNAME). */
interface NetBy {
  uuid?: boolean;
  name?: boolean;
}

/**
 * Resolves the network option like virsh's virshCommandOptNetworkBy: a 36-character argument as a
 * UUID, then as a name; "failed to get network" followed by the driver's error when neither matches.
 */
export async function lookupNetwork(
  ctx: CmdContext,
  by: NetBy = { uuid: true, name: true },
): Promise<NetworkSummary> {
  const ref = ctx.req('network');
  const conn = await ctx.conn();
  const uuidLike = ref.length === 36;
  let found: NetworkSummary | undefined;
  let err: unknown;
  try {
    found = await conn.networkLookup(ref);
  } catch (e) {
    err = e;
  }
  if (found) {
    if (by.uuid && uuidLike && found.uuid === ref.toLowerCase()) return found;
    if (by.name && found.name === ref) return found;
  }
  let detail: string | undefined;
  if (by.name) detail = err ? errorText(err) : `Network not found: no network with matching name '${ref}'`;
  else if (uuidLike) detail = `Network not found: no network with matching uuid '${ref}'`;
  throw new CliError(`failed to get network '${ref}'`, ...(detail ? [detail] : []));
}

const fileOpt = [
  { name: 'file', type: 'data', required: true, help: 'file containing an XML network description' },
  { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
] as const;

const defineCmd: CommandDef = {
  name: 'net-define',
  summary:
    'define an inactive persistent virtual network or modify an existing persistent one from an XML file',
  description: 'Define or modify a persistent virtual network.',
  options: [...fileOpt],
  async handler(ctx) {
    const file = ctx.req('file');
    const xml = await readUserFile(file);
    let net: NetworkSummary;
    try {
      await validateIfAsked(ctx, 'network', xml);
      net = await (await ctx.conn()).networkDefineXML(xml);
    } catch (e) {
      failWith(`Failed to define network from ${file}`, e);
    }
    ctx.printExtra(`Network ${net.name} defined from ${file}\n`);
  },
};

const createCmd: CommandDef = {
  name: 'net-create',
  summary: 'create a network from an XML file',
  description: 'Create a network.',
  options: [...fileOpt],
  async handler(ctx) {
    const file = ctx.req('file');
    const xml = await readUserFile(file);
    let net: NetworkSummary;
    try {
      await validateIfAsked(ctx, 'network', xml);
      net = await (await ctx.conn()).networkCreateXML(xml);
    } catch (e) {
      failWith(`Failed to create network from ${file}`, e);
    }
    ctx.printExtra(`Network ${net.name} created from ${file}\n`);
  },
};

/** A command that looks the network up, calls one method and prints virsh's message with the argument. */
function simple(
  name: string,
  summary: string,
  description: string,
  failure: string,
  success: string,
  call: (ctx: CmdContext, uuid: string) => Promise<unknown>,
): CommandDef {
  return {
    name,
    summary,
    description,
    options: [networkOpt()],
    async handler(ctx) {
      const net = await lookupNetwork(ctx);
      const arg = ctx.req('network');
      try {
        await call(ctx, net.uuid);
      } catch (e) {
        failWith(failure.replace('%s', arg), e);
      }
      ctx.printExtra(success.replace('%s', arg));
    },
  };
}

const autostartCmd: CommandDef = {
  name: 'net-autostart',
  summary: 'autostart a network',
  description: 'Configure a network to be automatically started at boot.',
  options: [networkOpt(), { name: 'disable', type: 'bool', help: 'disable autostarting' }],
  async handler(ctx) {
    const net = await lookupNetwork(ctx);
    const arg = ctx.req('network');
    const on = !ctx.flag('disable');
    try {
      await (await ctx.conn()).networkSetAutostart(net.uuid, on);
    } catch (e) {
      failWith(
        on
          ? `failed to mark network ${arg} as autostarted`
          : `failed to unmark network ${arg} as autostarted`,
        e,
      );
    }
    ctx.printExtra(
      on ? `Network ${arg} marked as autostarted\n` : `Network ${arg} unmarked as autostarted\n`,
    );
  },
};

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

const listCmd: CommandDef = {
  name: 'net-list',
  summary: 'list networks',
  description: 'Returns list of networks.',
  json: true,
  options: [
    { name: 'inactive', type: 'bool', help: 'list inactive networks' },
    { name: 'all', type: 'bool', help: 'list inactive & active networks' },
    { name: 'persistent', type: 'bool', help: 'list persistent networks' },
    { name: 'transient', type: 'bool', help: 'list transient networks' },
    { name: 'autostart', type: 'bool', help: 'list networks with autostart enabled' },
    { name: 'no-autostart', type: 'bool', help: 'list networks with autostart disabled' },
    { name: 'uuid', type: 'bool', help: "list uuid's only" },
    { name: 'name', type: 'bool', help: 'list network names only' },
    { name: 'table', type: 'bool', help: 'list table (default)' },
  ],
  async handler(ctx) {
    const chosen = ['table', 'name', 'uuid'].filter((o) => ctx.flag(o));
    if (chosen.length > 1)
      throw new CliError('Only one argument from --table, --name and --uuid may be specified.');
    const filter: NetworkListFilter = {};
    // virsh: --inactive alone lists inactive ones, --all (or both) everything, neither active ones.
    if (!ctx.flag('all') && ctx.flag('inactive')) filter.active = false;
    else if (!ctx.flag('all')) filter.active = true;
    if (ctx.flag('persistent') !== ctx.flag('transient')) filter.persistent = ctx.flag('persistent');
    if (ctx.flag('autostart') !== ctx.flag('no-autostart')) filter.autostart = ctx.flag('autostart');
    const nets = (await (await ctx.conn()).listNetworks(filter)).sort((a, b) =>
      a.name.toLowerCase().localeCompare(b.name.toLowerCase()),
    );
    if (ctx.json) {
      ctx.printJson(nets);
      return;
    }
    if (ctx.flag('name') || ctx.flag('uuid')) {
      ctx.print(nets.map((n) => `${ctx.flag('uuid') ? n.uuid : n.name}\n`).join(''));
      return;
    }
    const rows = nets.map((n) => [
      n.name,
      n.active ? 'active' : 'inactive',
      yesNo(n.autostart),
      yesNo(n.persistent),
    ]);
    ctx.print(renderTable(['Name', 'State', 'Autostart', 'Persistent'], rows, !ctx.quiet));
  },
};

const infoCmd: CommandDef = {
  name: 'net-info',
  summary: 'network information',
  description: 'Returns basic information about the network',
  json: true,
  options: [networkOpt()],
  async handler(ctx) {
    const net = await lookupNetwork(ctx);
    const info = await (await ctx.conn()).networkGetInfo(net.uuid);
    if (ctx.json) {
      ctx.printJson(info);
      return;
    }
    const pairs: [string, string][] = [
      ['Name:', info.name],
      ['UUID:', info.uuid],
      ['Active:', yesNo(info.active)],
      ['Persistent:', yesNo(info.persistent)],
      ['Autostart:', yesNo(info.autostart)],
    ];
    if (info.bridge) pairs.push(['Bridge:', info.bridge]);
    ctx.print(keyValue(pairs));
  },
};

const dumpxmlCmd: CommandDef = {
  name: 'net-dumpxml',
  summary: 'network information in XML',
  description: 'Output the network information as an XML dump to stdout.',
  options: [networkOpt(), { name: 'inactive', type: 'bool', help: 'show inactive defined XML' }],
  async handler(ctx) {
    const net = await lookupNetwork(ctx);
    const flags = ctx.flag('inactive') ? { inactive: true } : {};
    ctx.print(await (await ctx.conn()).networkGetXMLDesc(net.uuid, flags));
  },
};

const editCmd: CommandDef = {
  name: 'net-edit',
  summary: 'edit XML configuration for a network',
  description: 'Edit the XML configuration for a network.',
  options: [networkOpt()],
  async handler(ctx) {
    const net = await lookupNetwork(ctx);
    const conn = await ctx.conn();
    const { editDefinition } = await import('../editor.js');
    await editDefinition(ctx, {
      // As virsh: a driver that refuses the inactive flag (the test driver) is asked without it.
      get: () =>
        conn.networkGetXMLDesc(net.uuid, { inactive: true }).catch((e: unknown) => {
          if (isVirError(e, 'INVALID_ARG')) return conn.networkGetXMLDesc(net.uuid);
          throw e;
        }),
      define: async (xml) => (await conn.networkDefineXML(xml)).name,
      label: (n) => `Network ${n}`,
      name: net.name,
      relax: false,
    });
  },
};

const idCmd = (
  name: string,
  summary: string,
  help: string,
  by: NetBy,
  pick: (n: NetworkSummary) => string,
): CommandDef => ({
  name,
  summary,
  json: true,
  options: [networkOpt(help)],
  async handler(ctx) {
    const net = await lookupNetwork(ctx, by);
    if (ctx.json) ctx.printJson({ name: net.name, uuid: net.uuid });
    else ctx.print(`${pick(net)}\n`);
  },
});

/** virsh's net-update command words; "add" is add-last. */
const updateCommands: Record<string, NetworkUpdateCommand> = {
  add: 'add-last',
  'add-last': 'add-last',
  'add-first': 'add-first',
  delete: 'delete',
  modify: 'modify',
};

const updateCmd: CommandDef = {
  name: 'net-update',
  summary: "update parts of an existing network's configuration",
  options: [
    networkOpt(),
    {
      name: 'command',
      type: 'string',
      required: true,
      help: 'type of update (add-first, add-last (add), delete, or modify)',
    },
    {
      name: 'section',
      type: 'string',
      required: true,
      help: 'which section of network configuration to update',
    },
    {
      name: 'xml',
      type: 'string',
      required: true,
      help: "name of file containing xml (or, if it starts with '<', the complete xml element itself) to add/modify, or to be matched for search",
    },
    { name: 'parent-index', type: 'int', help: 'which parent object to search through' },
    { name: 'config', type: 'bool', help: 'affect next network startup' },
    { name: 'live', type: 'bool', help: 'affect running network' },
    { name: 'current', type: 'bool', help: 'affect current state of network' },
  ],
  async handler(ctx) {
    exclusive(ctx, 'current', 'live');
    exclusive(ctx, 'current', 'config');
    const net = await lookupNetwork(ctx);
    const cmdWord = ctx.req('command');
    const command = updateCommands[cmdWord];
    if (!command) throw new CliError(`unrecognized command name '${cmdWord}'`);
    const sectionWord = ctx.req('section');
    const { networkUpdateSections } = await import('../../drivers/network/net-update.js');
    if (!networkUpdateSections.includes(sectionWord as NetworkUpdateSection)) {
      throw new CliError(`unrecognized section name '${sectionWord}'`);
    }
    const xmlArg = ctx.req('xml');
    // As virsh: text starting with '<' is the element itself, anything else names a file.
    const xml = xmlArg.startsWith('<') ? xmlArg : await readUserFile(xmlArg);
    const parentIndex = ctx.int('parent-index') ?? -1;
    const live = ctx.flag('live');
    const config = ctx.flag('config');
    const conn = await ctx.conn();
    try {
      await conn.networkUpdate(net.uuid, command, sectionWord as NetworkUpdateSection, xml, parentIndex, {
        ...(live ? { live: true } : {}),
        ...(config ? { config: true } : {}),
      });
    } catch (e) {
      failWith(`Failed to update network ${net.name}`, e);
    }
    let what: string;
    if (config) what = live ? 'persistent config and live state' : 'persistent config';
    else if (live) what = 'live state';
    else what = (await conn.networkLookup(net.uuid)).active ? 'live state' : 'persistent config';
    ctx.printExtra(`Updated network ${net.name} ${what}`);
  },
};

/** Local time as virsh's net-dhcp-leases prints it (%Y-%m-%d %H:%M:%S). */
function leaseTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const leasesCmd: CommandDef = {
  name: 'net-dhcp-leases',
  summary: 'print lease info for a given network',
  description: 'Print lease info for a given network',
  json: true,
  options: [networkOpt(), { name: 'mac', type: 'string', help: 'MAC address' }],
  async handler(ctx) {
    const net = await lookupNetwork(ctx);
    const arg = ctx.req('network');
    let leases: NetworkLease[];
    try {
      leases = await (await ctx.conn()).networkGetDHCPLeases(net.uuid, ctx.str('mac'));
    } catch (e) {
      failWith(`Failed to get leases info for ${arg}`, e);
    }
    leases.sort((a, b) => (a.mac ?? '').localeCompare(b.mac ?? ''));
    if (ctx.json) {
      ctx.printJson(leases);
      return;
    }
    const rows = leases.map((l) => [
      leaseTime(l.expiryTime),
      l.mac ?? '-',
      l.type,
      `${l.ipaddr}/${l.prefix}`,
      l.hostname ?? '-',
      l.clientid ?? '-',
    ]);
    ctx.print(
      renderTable(
        ['Expiry Time', 'MAC address', 'Protocol', 'IP address', 'Hostname', 'Client ID or DUID'],
        rows,
        !ctx.quiet,
      ),
    );
  },
};

export const networkGroup: CommandGroup = {
  keyword: 'network',
  title: 'Networking',
  commands: [
    netEventCmd,
    autostartCmd,
    createCmd,
    defineCmd,
    simple(
      'net-destroy',
      'destroy (stop) a network',
      'Forcefully stop a given network.',
      'Failed to destroy network %s',
      'Network %s destroyed\n',
      async (ctx, uuid) => (await ctx.conn()).networkDestroy(uuid),
    ),
    leasesCmd,
    dumpxmlCmd,
    editCmd,
    infoCmd,
    listCmd,
    idCmd(
      'net-name',
      'convert a network UUID to network name',
      'network uuid',
      { uuid: true },
      (n) => n.name,
    ),
    simple(
      'net-start',
      'start a (previously defined) inactive network',
      'Start a network.',
      'Failed to start network %s',
      'Network %s started\n',
      async (ctx, uuid) => (await ctx.conn()).networkCreate(uuid),
    ),
    simple(
      'net-undefine',
      'undefine a persistent network',
      'Undefine the configuration for a persistent network.',
      'Failed to undefine network %s',
      'Network %s has been undefined\n',
      async (ctx, uuid) => (await ctx.conn()).networkUndefine(uuid),
    ),
    updateCmd,
    idCmd(
      'net-uuid',
      'convert a network name to network UUID',
      'network name',
      { name: true },
      (n) => n.uuid,
    ),
  ],
};
