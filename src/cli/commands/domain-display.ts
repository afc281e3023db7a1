// domdisplay, ttyconsole and vcpucount (virsh-domain.c): read from the domain's live and persistent
// XML, printed as virsh prints them.
import type { Connection } from '../../drivers/connection.js';
import { formatBytesHuman } from '../../util/units.js';
import { attr, child, childrenNamed, parseXml, textOf, type XmlElement } from '../../util/xml.js';
import { CliError, type CommandDef, failWith } from '../command.js';
import { exclusive } from '../context.js';
import { domainOpt, lookupDomain } from './util.js';

/** The <devices> of a domain XML. */
function devicesOf(xml: string): XmlElement | undefined {
  return child(parseXml(xml), 'devices');
}

/** virsh's host part of a display URI: the listen address, `localhost` for a wildcard. */
function displayHost(listen: string | undefined): string {
  if (listen === undefined || listen === '' || listen === '0.0.0.0' || listen === '::') return 'localhost';
  return listen.includes(':') ? `[${listen}]` : listen;
}

export const domdisplayCmd: CommandDef = {
  name: 'domdisplay',
  summary: 'domain display connection URI',
  description: 'Output the IP address and port number for the graphical display.',
  json: true,
  options: [
    domainOpt(),
    {
      name: 'include-password',
      type: 'bool',
      help: 'includes the password into the connection URI if available',
    },
    {
      name: 'type',
      type: 'string',
      help: 'select particular graphical display (e.g. "vnc", "spice", "rdp", "dbus")',
    },
    { name: 'all', type: 'bool', help: 'show all possible graphical displays' },
  ],
  // virsh's cmdDomDisplay returns before its empty line once the one display is printed.
  blankAfter: (ctx, ok) => !ok || ctx.flag('all'),
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    if (dom.id === null) throw new CliError('Domain is not running');
    const withPassword = ctx.flag('include-password');
    const xml = await (await ctx.conn()).domainGetXMLDesc(dom.uuid, withPassword ? { secure: true } : {});
    const want = ctx.str('type');
    const uris: string[] = [];
    for (const g of childrenNamed(devicesOf(xml) ?? parseXml('<devices/>'), 'graphics')) {
      const type = attr(g, 'type') ?? '';
      if (want !== undefined && type !== want) continue;
      if (type !== 'vnc' && type !== 'spice') continue;
      const port = Number(attr(g, 'port') ?? '-1');
      const tlsPort = Number(attr(g, 'tlsPort') ?? '-1');
      if (!(port > 0) && !(tlsPort > 0)) continue;
      const listen = attr(g, 'listen') ?? attr(child(g, 'listen') ?? g, 'address');
      const passwd = withPassword ? attr(g, 'passwd') : undefined;
      const auth = passwd ? `:${passwd}@` : '';
      const host = displayHost(listen);
      let uri: string;
      if (type === 'vnc') uri = `vnc://${auth}${host}:${port - 5900}`;
      else {
        const params = tlsPort > 0 && port > 0 ? `?tls-port=${tlsPort}` : '';
        uri =
          port > 0 ? `spice://${auth}${host}:${port}${params}` : `spice://${auth}${host}?tls-port=${tlsPort}`;
      }
      uris.push(uri);
      if (!ctx.flag('all')) break;
    }
    if (uris.length === 0)
      throw new CliError(
        want === undefined ? 'No graphical display found' : `No graphical display with type '${want}' found`,
      );
    if (ctx.json) ctx.printJson(ctx.flag('all') ? uris : uris[0]);
    else ctx.print(`${uris.join('\n')}\n`);
  },
};

export const ttyconsoleCmd: CommandDef = {
  name: 'ttyconsole',
  summary: 'tty console',
  description: 'Output the device for the TTY console.',
  json: true,
  options: [domainOpt()],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const devices = devicesOf(await (await ctx.conn()).domainGetXMLDesc(dom.uuid));
    const consoles = devices ? childrenNamed(devices, 'console') : [];
    const tty = consoles.map((c) => attr(c, 'tty') ?? attr(child(c, 'source') ?? c, 'path')).find(Boolean);
    // As virsh: a console without a host device prints nothing and fails.
    if (!tty) throw new CliError();
    if (ctx.json) ctx.printJson({ tty });
    else ctx.print(`${tty}\n`);
  },
};

/** <vcpu>: the maximum and the current count of a domain XML. */
function vcpusOf(xml: string): { maximum: number; current: number } {
  const v = child(parseXml(xml), 'vcpu');
  const maximum = Number((v ? textOf(v) : '').trim() || '1');
  return { maximum, current: Number(attr(v ?? parseXml('<vcpu/>'), 'current') ?? maximum) };
}

export const vcpucountCmd: CommandDef = {
  name: 'vcpucount',
  summary: 'domain vcpu counts',
  description: 'Returns the number of virtual CPUs used by the domain.',
  json: true,
  options: [
    domainOpt(),
    { name: 'maximum', type: 'bool', help: 'get maximum count of vcpus' },
    { name: 'active', type: 'bool', help: 'get number of currently active vcpus' },
    { name: 'live', type: 'bool', help: 'get value from running domain' },
    { name: 'config', type: 'bool', help: 'get value to be used on next boot' },
    { name: 'current', type: 'bool', help: 'get value according to current domain state' },
  ],
  async handler(ctx) {
    exclusive(ctx, 'active', 'maximum');
    exclusive(ctx, 'live', 'config');
    exclusive(ctx, 'current', 'live');
    exclusive(ctx, 'current', 'config');
    const dom = await lookupDomain(ctx);
    const conn: Connection = await ctx.conn();
    const active = dom.id !== null;
    const config = vcpusOf(await conn.domainGetXMLDesc(dom.uuid, { inactive: true }));
    const live = active ? vcpusOf(await conn.domainGetXMLDesc(dom.uuid)) : undefined;
    const which = ['maximum', 'active', 'live', 'config', 'current'].filter((f) => ctx.flag(f));
    if (which.length) {
      const state = ctx.flag('live') ? 'live' : ctx.flag('config') ? 'config' : active ? 'live' : 'config';
      if (state === 'live' && !live)
        throw new CliError('Requested operation is not valid: domain is not running');
      const v = (state === 'live' ? live : config)!;
      const n = ctx.flag('maximum') ? v.maximum : v.current;
      if (ctx.json) ctx.printJson(n);
      else ctx.print(`${n}\n`);
      return;
    }
    const rows: [string, string, number][] = [['maximum', 'config', config.maximum]];
    if (live) rows.push(['maximum', 'live', live.maximum]);
    rows.push(['current', 'config', config.current]);
    if (live) rows.push(['current', 'live', live.current]);
    if (ctx.json) {
      ctx.printJson(rows.map(([what, state, count]) => ({ what, state, count })));
      return;
    }
    ctx.print(rows.map(([a, b, n]) => `${a.padEnd(12)} ${b.padEnd(12)} ${String(n).padStart(3)}\n`).join(''));
  },
};

export const domblkinfoCmd: CommandDef = {
  name: 'domblkinfo',
  summary: 'domain block device size information',
  description: 'Get block device size info for a domain.',
  json: true,
  options: [
    domainOpt(),
    { name: 'device', type: 'string', help: 'block device' },
    { name: 'human', type: 'bool', help: 'Human readable output' },
    { name: 'all', type: 'bool', help: 'display all block devices info' },
  ],
  async handler(ctx) {
    const device = ctx.str('device');
    const all = ctx.flag('all');
    if (device !== undefined && all) throw new CliError('Options --all and --device are mutually exclusive');
    if (device === undefined && !all) throw new CliError("command 'domblkinfo' requires <device> option");
    const dom = await lookupDomain(ctx);
    const conn = await ctx.conn();
    const show = (n: number) => (ctx.flag('human') ? formatBytesHuman(n, 3) : String(n));
    if (!all) {
      const b = await conn.domainGetBlockInfo(dom.uuid, device!);
      if (ctx.json) return ctx.printJson(b);
      ctx.print(
        `${'Capacity:'.padEnd(15)} ${show(b.capacity)}\n${'Allocation:'.padEnd(15)} ${show(b.allocation)}\n${'Physical:'.padEnd(15)} ${show(b.physical)}\n`,
      );
      return;
    }
    const devices = devicesOf(await conn.domainGetXMLDesc(dom.uuid));
    const rows: { target: string; capacity?: number; allocation?: number; physical?: number }[] = [];
    for (const d of devices ? childrenNamed(devices, 'disk') : []) {
      const target = attr(child(d, 'target') ?? d, 'dev') ?? '';
      // A drive without a medium (an empty cdrom) shows '-', as virsh.
      if (!child(d, 'source')) {
        rows.push({ target });
        continue;
      }
      rows.push({ target, ...(await conn.domainGetBlockInfo(dom.uuid, target)) });
    }
    if (ctx.json) return ctx.printJson(rows);
    const { renderTable } = await import('../format.js');
    const cell = (n: number | undefined) => (n === undefined ? '-' : show(n));
    ctx.print(
      renderTable(
        ['Target', 'Capacity', 'Allocation', 'Physical'],
        rows.map((r) => [r.target, cell(r.capacity), cell(r.allocation), cell(r.physical)]),
        !ctx.quiet,
      ),
    );
  },
};

export const dommemstatCmd: CommandDef = {
  name: 'dommemstat',
  summary: 'get memory statistics for a domain',
  description: 'Get memory statistics for a running domain.',
  json: true,
  options: [domainOpt()],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    let stats: [string, number][];
    try {
      stats = await (await ctx.conn()).domainMemoryStats(dom.uuid);
    } catch (e) {
      failWith(`Failed to get memory statistics for domain ${ctx.str('domain')}`, e);
    }
    if (ctx.json) return ctx.printJson(Object.fromEntries(stats));
    ctx.print(stats.map(([tag, v]) => `${tag} ${v}\n`).join(''));
  },
};
