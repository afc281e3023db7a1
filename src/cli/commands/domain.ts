// Domain Management commands: lifecycle (define, start, shutdown ...), ids, XML, memory, vcpus, desc.
import { domdisplayCmd, ttyconsoleCmd, vcpucountCmd } from './domain-display.js';
import { CliError, failWith, type CmdContext, type CommandDef, type CommandGroup } from '../command.js';
import { exclusive } from '../context.js';
import {
  finishUndefineStorage,
  prepareUndefineStorage,
  storageOpt,
  wipeStorageOpt,
} from './undefine-storage.js';
import {
  directDomainRef,
  domainMissing,
  domainOpt,
  type LookupBy,
  lookupDomain,
  modifyFlags,
  modifyOpts,
  readUserFile,
  validateIfAsked,
} from './util.js';

/**
 * A command that looks the domain up, calls one driver method and prints virsh's message, naming
 * the domain as the user wrote it (virsh prints the argument, not the looked-up name).
 */
function simple(
  name: string,
  summary: string,
  description: string,
  failure: string,
  success: string,
  call: (ctx: CmdContext, uuid: string) => Promise<void>,
  extraOpts: CommandDef['options'] = [],
  before?: (ctx: CmdContext) => void,
): CommandDef {
  return {
    name,
    summary,
    description,
    options: [domainOpt(), ...extraOpts],
    async handler(ctx) {
      const dom = await lookupDomain(ctx);
      before?.(ctx);
      const arg = ctx.req('domain');
      try {
        await call(ctx, dom.uuid);
      } catch (e) {
        failWith(failure.replace('%s', arg), e);
      }
      ctx.printExtra(success.replace('%s', arg));
    },
  };
}

function shutdownMode(ctx: CmdContext): { mode?: 'acpi' | 'agent' } {
  const mode = ctx.str('mode');
  if (mode === undefined) return {};
  const m = mode.split(',');
  for (const x of m) {
    if (!['acpi', 'agent', 'initctl', 'signal', 'paravirt'].includes(x)) {
      throw new CliError(
        `Unknown mode ${x} value, expecting 'acpi', 'agent', 'initctl', 'signal', or 'paravirt'`,
      );
    }
    if (x !== 'acpi' && x !== 'agent') {
      throw new CliError(`argument unsupported: shutdown mode '${x}' is not supported by tvirt`);
    }
  }
  return { mode: m[0] as 'acpi' | 'agent' };
}
const modeOpt = {
  name: 'mode',
  type: 'string',
  help: 'shutdown mode: acpi|agent|initctl|signal|paravirt',
} as const;

const defineCmd: CommandDef = {
  name: 'define',
  summary: "define (but don't start) a domain from an XML file",
  description: 'Define a domain.',
  options: [
    { name: 'file', type: 'data', required: true, help: 'file containing an XML domain description' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async handler(ctx) {
    const file = ctx.req('file');
    const xml = await readUserFile(file);
    const conn = await ctx.conn();
    let dom: Awaited<ReturnType<typeof conn.domainDefineXML>>;
    try {
      await validateIfAsked(ctx, 'domain', xml);
      dom = await conn.domainDefineXML(xml);
    } catch (e) {
      failWith(`Failed to define domain from ${file}`, e);
    }
    ctx.printExtra(`Domain '${dom.name}' defined from ${file}\n`);
  },
};

const qemuMonitorCommandCmd: CommandDef = {
  name: 'qemu-monitor-command',
  summary: 'QEMU Monitor Command',
  description: 'QEMU Monitor Command',
  options: [
    domainOpt(),
    { name: 'hmp', type: 'bool', help: 'command is in human monitor protocol' },
    { name: 'pretty', type: 'bool', help: 'pretty-print any qemu monitor protocol output' },
    {
      name: 'return-value',
      type: 'bool',
      help: "extract the value of the 'return' key from the returned string",
    },
    { name: 'cmd', type: 'argv', required: true, help: 'command' },
  ],
  async handler(ctx) {
    exclusive(ctx, 'hmp', 'pretty');
    exclusive(ctx, 'hmp', 'return-value');
    const dom = await lookupDomain(ctx);
    // As virsh: a failure is the driver's message alone.
    const reply = await (await ctx.conn()).domainQemuMonitorCommand(dom.uuid, ctx.argv('cmd').join(' '), {
      hmp: ctx.flag('hmp'),
    });
    if (ctx.flag('hmp')) {
      ctx.print(reply.endsWith('\n') ? reply : `${reply}\n`);
      return;
    }
    const v = JSON.parse(reply) as { return?: unknown; error?: { class?: string; desc?: string } };
    if (ctx.flag('return-value')) {
      if (!('return' in v))
        throw new CliError(`monitor command failed: ${v.error?.class ?? ''}: ${v.error?.desc ?? reply}`);
      ctx.print(
        `${typeof v.return === 'string' ? v.return : JSON.stringify(v.return, null, ctx.flag('pretty') ? 2 : undefined)}\n`,
      );
      return;
    }
    ctx.print(`${ctx.flag('pretty') ? JSON.stringify(v, null, 2) : reply}\n`);
  },
};

const domxmlToNativeCmd: CommandDef = {
  name: 'domxml-to-native',
  summary: 'Convert domain XML to native config',
  description: 'Convert domain XML config to a native guest configuration format.',
  options: [
    { name: 'format', type: 'data', required: true, help: 'target config data type format' },
    { name: 'domain', type: 'string', namedOnly: true, help: 'domain name, id or uuid' },
    { name: 'xml', type: 'string', help: 'xml data file to export from' },
  ],
  async handler(ctx) {
    const file = ctx.str('xml');
    const ref = ctx.str('domain');
    if (file !== undefined && ref !== undefined)
      throw new CliError('Options --domain and --xml are mutually exclusive');
    if (file === undefined && ref === undefined) throw new CliError('need either domain or domain XML');
    const conn = await ctx.conn();
    const xml =
      file !== undefined
        ? await readUserFile(file)
        : await conn.domainGetXMLDesc((await lookupDomain(ctx)).uuid);
    ctx.print(`${await conn.domainXMLToNative(ctx.req('format'), xml)}\n`);
  },
};

const createCmd: CommandDef = {
  name: 'create',
  summary: 'create a domain from an XML file',
  description: 'Create a domain.',
  options: [
    { name: 'file', type: 'data', required: true, help: 'file containing an XML domain description' },
    { name: 'console', type: 'bool', help: 'attach to console after creation' },
    { name: 'paused', type: 'bool', help: 'leave the guest paused after creation' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async handler(ctx) {
    const file = ctx.req('file');
    const xml = await readUserFile(file);
    const conn = await ctx.conn();
    let dom: Awaited<ReturnType<typeof conn.domainCreateXML>>;
    try {
      await validateIfAsked(ctx, 'domain', xml);
      dom = await conn.domainCreateXML(xml, ctx.flag('paused') ? { paused: true } : {});
    } catch (e) {
      failWith(`Failed to create domain from ${file}`, e);
    }
    ctx.printExtra(`Domain '${dom.name}' created from ${file}\n`);
    if (ctx.flag('console')) await (await import('./console.js')).runConsole(ctx, dom.uuid, dom.name);
  },
};

const startCmd: CommandDef = {
  name: 'start',
  summary: 'start a (previously defined) inactive domain',
  description:
    'Start a domain, either from the last managedsave\nstate, or via a fresh boot if no managedsave state\nis present.',
  options: [
    domainOpt('name of the inactive domain'),
    { name: 'console', type: 'bool', help: 'attach to console after creation' },
    { name: 'paused', type: 'bool', help: 'leave the guest paused after creation' },
    { name: 'force-boot', type: 'bool', help: 'force fresh boot by discarding any managed save' },
  ],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    if (dom.id !== null) throw new CliError('Domain is already active');
    const conn = await ctx.conn();
    try {
      await conn.domainCreate(dom.uuid, ctx.flag('paused') ? { paused: true } : {});
    } catch (e) {
      failWith(`Failed to start domain '${dom.name}'`, e);
    }
    ctx.printExtra(`Domain '${dom.name}' started\n`);
    if (ctx.flag('console')) await (await import('./console.js')).runConsole(ctx, dom.uuid, dom.name);
  },
};

/**
 * virsh's message, then (issue #4) a plain word when the domain was running: libvirt 9 keeps it
 * running as a transient domain, which is gone once it stops.
 */
function reportUndefined(ctx: CmdContext, arg: string, r: { becameTransient: boolean } | undefined): void {
  ctx.printExtra(`Domain '${arg}' has been undefined\n`);
  if (r?.becameTransient) {
    ctx.printExtra(`Domain '${arg}' is still running: it is now transient and will be gone when it stops.\n`);
  }
}

const undefineCmd: CommandDef = {
  name: 'undefine',
  summary: 'undefine a domain',
  description: 'Undefine an inactive domain, or convert persistent to transient.',
  options: [
    domainOpt(),
    storageOpt,
    {
      name: 'remove-all-storage',
      type: 'bool',
      help: 'remove all associated storage volumes (use with caution)',
    },
    wipeStorageOpt,
    { name: 'nvram', type: 'bool', help: 'remove nvram file' },
    { name: 'keep-nvram', type: 'bool', help: 'keep nvram file' },
  ],
  async handler(ctx) {
    const ref =
      ctx.str('storage') === undefined && !ctx.flag('remove-all-storage') && !ctx.flag('wipe-storage')
        ? directDomainRef(ctx)
        : undefined;
    if (ref !== undefined) {
      // No storage to find first: one call, the daemon resolves the domain.
      const flags: { nvram?: boolean } = ctx.flag('nvram') ? { nvram: true } : {};
      let r: { becameTransient: boolean };
      try {
        r = await (await ctx.conn()).domainUndefine(ref, flags);
      } catch (e) {
        const missing = domainMissing(ref, e);
        if (missing !== e) throw missing;
        failWith(`Failed to undefine domain '${ref}'`, e);
      }
      reportUndefined(ctx, ref, r);
      return;
    }
    const dom = await lookupDomain(ctx);
    // As virsh: the volumes are found before and deleted after the undefine, by the client.
    const vols = await prepareUndefineStorage(ctx, dom.uuid);
    const flags: { removeAllStorage?: boolean; nvram?: boolean } = {};
    if (ctx.flag('nvram')) flags.nvram = true;
    const arg = ctx.req('domain');
    let r: { becameTransient: boolean };
    try {
      r = await (await ctx.conn()).domainUndefine(dom.uuid, flags);
    } catch (e) {
      failWith(`Failed to undefine domain '${arg}'`, e);
    }
    reportUndefined(ctx, arg, r);
    await finishUndefineStorage(ctx, vols);
  },
};

const idCmd = (
  name: string,
  summary: string,
  help: string,
  by: LookupBy,
  pick: (d: { id: number | null; name: string; uuid: string }) => string,
): CommandDef => ({
  name,
  summary,
  options: [domainOpt(help)],
  json: true,
  async handler(ctx) {
    const dom = await lookupDomain(ctx, 'domain', by);
    if (ctx.json) ctx.printJson({ id: dom.id, name: dom.name, uuid: dom.uuid });
    else ctx.print(`${pick(dom)}\n`);
  },
});

const dumpxmlCmd: CommandDef = {
  name: 'dumpxml',
  summary: 'domain information in XML',
  description: 'Output the domain information as an XML dump to stdout.',
  options: [
    domainOpt(),
    { name: 'inactive', type: 'bool', help: 'show inactive defined XML' },
    { name: 'security-info', type: 'bool', help: 'include security sensitive information in XML dump' },
  ],
  async handler(ctx) {
    const flags: { inactive?: boolean; secure?: boolean } = {};
    if (ctx.flag('inactive')) flags.inactive = true;
    // --security-info is checked for read-only access before the lookup: keep the lookup first.
    const ref = ctx.flag('security-info') ? undefined : directDomainRef(ctx);
    if (ref !== undefined) {
      let xml: string;
      try {
        xml = await (await ctx.conn()).domainGetXMLDesc(ref, flags);
      } catch (e) {
        throw domainMissing(ref, e);
      }
      ctx.print(xml);
      return;
    }
    if (ctx.flag('security-info')) flags.secure = true;
    const dom = await lookupDomain(ctx);
    ctx.print(await (await ctx.conn()).domainGetXMLDesc(dom.uuid, flags));
  },
};

const autostartCmd: CommandDef = {
  name: 'autostart',
  summary: 'autostart a domain',
  description: 'Configure a domain to be automatically started at boot.',
  options: [domainOpt(), { name: 'disable', type: 'bool', help: 'disable autostarting' }],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const on = !ctx.flag('disable');
    try {
      await (await ctx.conn()).domainSetAutostart(dom.uuid, on);
    } catch (e) {
      failWith(
        on
          ? `Failed to mark domain '${ctx.req('domain')}' as autostarted`
          : `Failed to unmark domain '${ctx.req('domain')}' as autostarted`,
        e,
      );
    }
    ctx.printExtra(
      on
        ? `Domain '${ctx.req('domain')}' marked as autostarted\n`
        : `Domain '${ctx.req('domain')}' unmarked as autostarted\n`,
    );
  },
};

/** virsh passes no flags at all when none of --config/--live/--current is given: the live domain. */
function liveByDefault(ctx: CmdContext) {
  const f = modifyFlags(ctx);
  if (!ctx.flag('current') && !ctx.flag('live') && !ctx.flag('config')) return { live: true };
  return f;
}

const setmemCmd: CommandDef = {
  name: 'setmem',
  summary: 'change memory allocation',
  description: 'Change the current memory allocation in the guest domain.',
  options: [
    domainOpt(),
    { name: 'size', type: 'int', required: true, help: 'new memory size, as scaled integer (default KiB)' },
    ...modifyOpts(),
  ],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const flags = liveByDefault(ctx);
    const kib = ctx.scaled('size')!;
    await (await ctx.conn()).domainSetMemory(dom.uuid, kib, flags);
  },
};

const setmaxmemCmd: CommandDef = {
  name: 'setmaxmem',
  summary: 'change maximum memory limit',
  description: 'Change the maximum memory allocation limit in the guest domain.',
  options: [
    domainOpt(),
    {
      name: 'size',
      type: 'int',
      required: true,
      help: 'new maximum memory size, as scaled integer (default KiB)',
    },
    ...modifyOpts(),
  ],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const flags = modifyFlags(ctx);
    const kib = ctx.scaled('size')!;
    try {
      await (await ctx.conn()).domainSetMaxMemory(dom.uuid, kib, flags);
    } catch (e) {
      failWith('Unable to change MaxMemorySize', e);
    }
  },
};

const setvcpusCmd: CommandDef = {
  name: 'setvcpus',
  summary: 'change number of virtual CPUs',
  description: 'Change the number of virtual CPUs in the guest domain.',
  options: [
    domainOpt(),
    { name: 'count', type: 'int', required: true, help: 'number of virtual CPUs' },
    { name: 'maximum', type: 'bool', help: 'set maximum limit on next boot' },
    ...modifyOpts(),
  ],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const count = ctx.int('count')!;
    if (ctx.flag('maximum') && !ctx.flag('config')) {
      throw new CliError('Option --config is required by option --maximum');
    }
    const flags = liveByDefault(ctx);
    if (count <= 0) throw new CliError(`Can't set ${count} processors for a VM`);
    await (await ctx.conn()).domainSetVcpus(dom.uuid, count, {
      ...flags,
      ...(ctx.flag('maximum') ? { maximum: true } : {}),
    });
  },
};

const descCmd: CommandDef = {
  name: 'desc',
  summary: "show or set domain's description or title",
  description: 'Allows setting or modifying the description or title of a domain.',
  json: true,
  options: [
    domainOpt(),
    { name: 'live', type: 'bool', help: 'modify/get running state' },
    { name: 'config', type: 'bool', help: 'modify/get persistent configuration' },
    { name: 'current', type: 'bool', help: 'modify/get current state configuration' },
    { name: 'title', type: 'bool', help: 'modify/get the title instead of description' },
    { name: 'edit', type: 'bool', help: 'open an editor to modify the description' },
    { name: 'new-desc', type: 'argv', emptyOk: true, help: 'message' },
  ],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const flags = modifyFlags(ctx);
    const type = ctx.flag('title') ? 'title' : 'description';
    const conn = await ctx.conn();
    const words = ctx.argv('new-desc');
    const what = type === 'title' ? 'title' : 'description';
    const Cap = type === 'title' ? 'Domain title' : 'Domain description';
    if (ctx.flag('edit') || words.length > 0) {
      let text = words.join(' ');
      if (ctx.flag('edit')) {
        const current = await conn.domainGetMetadata(dom.uuid, type, flags);
        const { editText } = await import('../editor.js');
        let edited = await editText(current, '.txt');
        // Editors add a final newline; a title cannot hold one (virsh strips it for titles only).
        if (type === 'title' && edited.endsWith('\n')) edited = edited.slice(0, -1);
        if (edited === current) {
          if (ctx.json) ctx.printJson({ [what]: current });
          else ctx.printExtra(`${Cap} not changed\n`);
          return;
        }
        text = edited;
      }
      try {
        await conn.domainSetMetadata(dom.uuid, type, text, flags);
      } catch (e) {
        failWith(`Failed to set new domain ${what}`, e);
      }
      // --json: the text now held, as a read would print it.
      if (ctx.json) ctx.printJson({ [what]: text });
      else ctx.printExtra(`${Cap} updated successfully`);
      return;
    }
    const text = await conn.domainGetMetadata(dom.uuid, type, flags);
    if (ctx.json) ctx.printJson({ [what]: text });
    else if (text === '') ctx.printExtra(`No ${what} for domain: ${dom.name}`);
    else ctx.print(text);
  },
};

const vncdisplayCmd: CommandDef = {
  name: 'vncdisplay',
  summary: 'vnc display',
  description: 'Output the IP address and port number for the VNC display.',
  json: true,
  options: [domainOpt()],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    if (dom.id === null) throw new CliError('Domain is not running');
    const xml = await (await ctx.conn()).domainGetXMLDesc(dom.uuid);
    const { parseXml, child, childrenNamed, attr } = await import('../../util/xml.js');
    const devices = child(parseXml(xml), 'devices');
    const vnc = devices
      ? childrenNamed(devices, 'graphics').find((g) => attr(g, 'type') === 'vnc')
      : undefined;
    // As virsh: any integer port is printed, even -1 of a port not chosen yet.
    const portText = vnc ? attr(vnc, 'port') : undefined;
    if (!vnc || portText === undefined || !/^-?\d+$/.test(portText)) {
      throw new CliError('Failed to get VNC port. Is this domain using VNC?');
    }
    const port = Number(portText);
    const listen = attr(vnc, 'listen');
    let display: string;
    if (listen === undefined || listen === '0.0.0.0' || listen === '::') display = `:${port - 5900}`;
    else if (listen.includes(':')) display = `[${listen}]:${port - 5900}`;
    else display = `${listen}:${port - 5900}`;
    if (ctx.json) ctx.printJson({ display, listen: listen ?? null, port });
    else ctx.print(`${display}\n`);
  },
};

const editCmd: CommandDef = {
  name: 'edit',
  summary: 'edit XML configuration for a domain',
  description: 'Edit the XML configuration for a domain.',
  options: [
    domainOpt(),
    { name: 'skip-validate', type: 'bool', help: 'skip validation of the XML against the schema' },
  ],
  async handler(ctx) {
    const { editDomain } = await import('../editor.js');
    await editDomain(ctx);
  },
};

const consoleCmd: CommandDef = {
  name: 'console',
  summary: 'connect to the guest console',
  description: 'Connect the virtual serial console for the guest',
  options: [
    domainOpt(),
    { name: 'devname', type: 'string', help: 'character device name' },
    { name: 'force', type: 'bool', help: 'force console connection (disconnect already connected sessions)' },
    { name: 'safe', type: 'bool', help: 'only connect if safe console handling is supported' },
  ],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const { runConsole } = await import('./console.js');
    await runConsole(ctx, dom.uuid, dom.name, ctx.str('devname'));
  },
};

export const domainGroup: CommandGroup = {
  keyword: 'domain',
  title: 'Domain Management',
  commands: [
    autostartCmd,
    consoleCmd,
    createCmd,
    defineCmd,
    descCmd,
    domdisplayCmd,
    domxmlToNativeCmd,
    qemuMonitorCommandCmd,
    simple(
      'destroy',
      'destroy (stop) a domain',
      'Forcefully stop a given domain, but leave its resources intact.',
      "Failed to destroy domain '%s'",
      "Domain '%s' destroyed\n",
      async (ctx, uuid) =>
        (await ctx.conn()).domainDestroy(uuid, ctx.flag('graceful') ? { graceful: true } : {}),
      [{ name: 'graceful', type: 'bool', help: 'terminate gracefully' }],
    ),
    idCmd(
      'domid',
      'convert a domain name or UUID to domain id',
      'domain name or uuid',
      { name: true, uuid: true },
      (d) => (d.id === null ? '-' : String(d.id)),
    ),
    idCmd(
      'domname',
      'convert a domain id or UUID to domain name',
      'domain id or uuid',
      { id: true, uuid: true },
      (d) => d.name,
    ),
    idCmd(
      'domuuid',
      'convert a domain name or id to domain UUID',
      'domain id or name',
      { id: true, name: true },
      (d) => d.uuid,
    ),
    dumpxmlCmd,
    editCmd,
    simple(
      'reboot',
      'reboot a domain',
      'Run a reboot command in the target domain.',
      "Failed to reboot domain '%s'",
      "Domain '%s' is being rebooted\n",
      async (ctx, uuid) => (await ctx.conn()).domainReboot(uuid, shutdownMode(ctx)),
      [modeOpt],
      shutdownMode,
    ),
    simple(
      'reset',
      'reset a domain',
      'Reset the target domain as if by power button',
      "Failed to reset domain '%s'",
      "Domain '%s' was reset\n",
      async (ctx, uuid) => (await ctx.conn()).domainReset(uuid),
    ),
    simple(
      'resume',
      'resume a domain',
      'Resume a previously suspended domain.',
      "Failed to resume domain '%s'",
      "Domain '%s' resumed\n",
      async (ctx, uuid) => (await ctx.conn()).domainResume(uuid),
    ),
    setmaxmemCmd,
    setmemCmd,
    setvcpusCmd,
    simple(
      'shutdown',
      'gracefully shutdown a domain',
      'Run shutdown in the target domain.',
      "Failed to shutdown domain '%s'",
      "Domain '%s' is being shutdown\n",
      async (ctx, uuid) => (await ctx.conn()).domainShutdown(uuid, shutdownMode(ctx)),
      [modeOpt],
      shutdownMode,
    ),
    startCmd,
    simple(
      'suspend',
      'suspend a domain',
      'Suspend a running domain.',
      "Failed to suspend domain '%s'",
      "Domain '%s' suspended\n",
      async (ctx, uuid) => (await ctx.conn()).domainSuspend(uuid),
    ),
    undefineCmd,
    ttyconsoleCmd,
    vcpucountCmd,
    vncdisplayCmd,
  ],
};
