// Domain Monitoring commands: list, dominfo, domstate, domblklist, domiflist, domifaddr.
import { domblkinfoCmd, dommemstatCmd } from './domain-display.js';
import type { DomainListFilter, DomainStateName, DomainSummary } from '../../drivers/connection.js';
import type { XmlElement } from '../../util/xml.js';
import type { CommandDef, CommandGroup } from '../command.js';
import { exclusive } from '../context.js';
import { keyValue, reasonText, renderTable, stateText } from '../format.js';
import { domifaddrCmd } from './domifaddr.js';
import { domainOpt, lookupDomain } from './util.js';

/** virsh's order: active domains by id, then inactive ones by name (case-insensitive). */
export function sortDomains(list: DomainSummary[]): DomainSummary[] {
  return [...list].sort((a, b) => {
    if (a.id === null && b.id === null) return a.name.toLowerCase().localeCompare(b.name.toLowerCase());
    if (a.id !== null && b.id !== null) return a.id - b.id;
    return a.id !== null ? -1 : 1;
  });
}

const listCmd: CommandDef = {
  name: 'list',
  summary: 'list domains',
  description: 'Returns list of domains.',
  json: true,
  options: [
    { name: 'inactive', type: 'bool', help: 'list inactive domains' },
    { name: 'all', type: 'bool', help: 'list inactive & active domains' },
    { name: 'transient', type: 'bool', help: 'list transient domains' },
    { name: 'persistent', type: 'bool', help: 'list persistent domains' },
    { name: 'with-snapshot', type: 'bool', help: 'list domains with existing snapshot' },
    { name: 'without-snapshot', type: 'bool', help: 'list domains without a snapshot' },
    { name: 'with-checkpoint', type: 'bool', help: 'list domains with existing checkpoint' },
    { name: 'without-checkpoint', type: 'bool', help: 'list domains without a checkpoint' },
    { name: 'state-running', type: 'bool', help: 'list domains in running state' },
    { name: 'state-paused', type: 'bool', help: 'list domains in paused state' },
    { name: 'state-shutoff', type: 'bool', help: 'list domains in shutoff state' },
    { name: 'state-other', type: 'bool', help: 'list domains in other states' },
    { name: 'autostart', type: 'bool', help: 'list domains with autostart enabled' },
    { name: 'no-autostart', type: 'bool', help: 'list domains with autostart disabled' },
    { name: 'with-managed-save', type: 'bool', help: 'list domains with managed save state' },
    { name: 'without-managed-save', type: 'bool', help: 'list domains without managed save' },
    { name: 'uuid', type: 'bool', help: "list uuid's only" },
    { name: 'name', type: 'bool', help: 'list domain names only' },
    { name: 'id', type: 'bool', help: 'list domain IDs only' },
    { name: 'table', type: 'bool', help: 'list table (default)' },
    { name: 'managed-save', type: 'bool', help: 'mark inactive domains with managed save state' },
    { name: 'title', type: 'bool', help: 'show domain title' },
  ],
  async handler(ctx) {
    exclusive(ctx, 'table', 'name');
    exclusive(ctx, 'table', 'uuid');
    exclusive(ctx, 'table', 'id');
    const filter: DomainListFilter = {};
    const states: DomainStateName[] = [];
    if (ctx.flag('state-running')) states.push('running');
    if (ctx.flag('state-paused')) states.push('paused');
    if (ctx.flag('state-shutoff')) states.push('shutoff');
    if (ctx.flag('state-other')) states.push('nostate', 'blocked', 'shutdown', 'crashed', 'pmsuspended');
    if (states.length > 0) filter.states = states;
    // virsh: --all lists both; --inactive, and also --state-shutoff, make it inactive domains only
    // (so --state-running --state-shutoff lists shut-off ones); otherwise active domains only.
    if (!ctx.flag('all')) {
      if (ctx.flag('inactive') || ctx.flag('state-shutoff')) filter.inactive = true;
      else filter.active = true;
    }
    if (ctx.flag('persistent')) filter.persistent = true;
    if (ctx.flag('transient')) filter.transient = true;
    if (ctx.flag('autostart')) filter.autostart = true;
    if (ctx.flag('no-autostart')) filter.noAutostart = true;
    const conn = await ctx.conn();
    let doms = sortDomains(await conn.listDomains(filter));
    if (ctx.flag('id')) doms = doms.filter((d) => d.id !== null);
    // tvirt keeps no snapshots or checkpoints yet: "with" selects nothing, "without" everything.
    if (ctx.flag('with-snapshot') && !ctx.flag('without-snapshot')) doms = [];
    if (ctx.flag('with-checkpoint') && !ctx.flag('without-checkpoint')) doms = [];
    // Managed save state is asked only when an option needs it (one call per inactive domain).
    const saved = new Set<string>();
    if (ctx.flag('with-managed-save') || ctx.flag('without-managed-save') || ctx.flag('managed-save')) {
      for (const d of doms) {
        if (d.id === null && (await conn.domainGetInfo(d.uuid)).managedSave) saved.add(d.uuid);
      }
      if (ctx.flag('with-managed-save') !== ctx.flag('without-managed-save')) {
        const want = ctx.flag('with-managed-save');
        doms = doms.filter((d) => saved.has(d.uuid) === want);
      }
    }
    if (ctx.json) {
      ctx.printJson(doms);
      return;
    }
    const byName = ctx.flag('name');
    const byUuid = ctx.flag('uuid');
    const byId = ctx.flag('id');
    if (byName || byUuid || byId) {
      let out = '';
      for (const d of doms) {
        const parts: string[] = [];
        if (byUuid) parts.push(d.uuid);
        if (byId) parts.push(String(d.id));
        if (byName) parts.push(d.name);
        out += `${parts.join(' ')}\n`;
      }
      ctx.print(out);
      return;
    }
    const header = ['Id', 'Name', 'State'];
    if (ctx.flag('title')) header.push('Title');
    const rows = doms.map((d) => {
      const state = ctx.flag('managed-save') && saved.has(d.uuid) ? 'saved' : stateText(d.state);
      const r = [d.id === null ? '-' : String(d.id), d.name, state];
      if (ctx.flag('title')) r.push((d.title ?? '').split('\n')[0]!);
      return r;
    });
    ctx.print(renderTable(header, rows, !ctx.quiet));
  },
};

const dominfoCmd: CommandDef = {
  name: 'dominfo',
  summary: 'domain information',
  description: 'Returns basic information about the domain.',
  json: true,
  options: [domainOpt()],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const info = await (await ctx.conn()).domainGetInfo(dom.uuid);
    if (ctx.json) {
      // The text's 'Linked clones:' and 'Linked to:' lines (src/drivers/clone).
      const { linkedCloneInfo } = await import('../../drivers/clone/linked-guard.js');
      const { clones, bases } = await linkedCloneInfo(await ctx.conn(), dom.uuid);
      ctx.printJson({ ...info, linkedClones: clones, linkedTo: bases });
      return;
    }
    const pairs: [string, string][] = [
      ['Id:', info.id === null ? '-' : String(info.id)],
      ['Name:', info.name],
      ['UUID:', info.uuid],
      ['OS Type:', info.osType],
      ['State:', stateText(info.state)],
      ['CPU(s):', String(info.vcpus)],
    ];
    if (info.cpuTimeNs !== 0) pairs.push(['CPU time:', `${(info.cpuTimeNs / 1e9).toFixed(1)}s`]);
    pairs.push(
      ['Max memory:', `${info.maxMemoryKiB} KiB`],
      ['Used memory:', `${info.memoryKiB} KiB`],
      ['Persistent:', info.persistent ? 'yes' : 'no'],
      ['Autostart:', info.autostart ? 'enable' : 'disable'],
      ['Managed save:', info.managedSave ? 'yes' : 'no'],
    );
    if (info.securityModel) {
      pairs.push(['Security model:', info.securityModel], ['Security DOI:', info.securityDoi ?? '']);
      if (info.securityLabel) {
        pairs.push([
          'Security label:',
          `${info.securityLabel.label} (${info.securityLabel.enforcing ? 'enforcing' : 'permissive'})`,
        ]);
      }
    }
    // Linked clones (src/drivers/clone): which clones this domain backs, or which base it reads.
    pairs.push(...(await (await import('./clone.js')).linkedDomainPairs(await ctx.conn(), dom.uuid)));
    ctx.print(keyValue(pairs));
  },
};

const domstateCmd: CommandDef = {
  name: 'domstate',
  summary: 'domain state',
  description: 'Returns state about a domain.',
  json: true,
  options: [domainOpt(), { name: 'reason', type: 'bool', help: 'also print reason for the state' }],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const st = await (await ctx.conn()).domainGetState(dom.uuid);
    if (ctx.json) {
      ctx.printJson(st);
      return;
    }
    if (ctx.flag('reason')) ctx.print(`${stateText(st.state)} (${reasonText(st.reason)})\n`);
    else ctx.print(`${stateText(st.state)}\n`);
  },
};

// Small tree readers, so that util/xml (and saxes, costly to load) is imported only when XML is read.
const attr = (el: XmlElement, name: string): string | undefined => el.attrs[name];
const childrenNamed = (el: XmlElement, name: string): XmlElement[] =>
  el.children.filter((c): c is XmlElement => c.type === 'element' && c.name === name);
const child = (el: XmlElement, name: string): XmlElement | undefined => childrenNamed(el, name)[0];

async function domainXmlTree(ctx: Parameters<CommandDef['handler']>[0]): Promise<XmlElement> {
  const dom = await lookupDomain(ctx);
  const xml = await (await ctx.conn()).domainGetXMLDesc(dom.uuid, { inactive: ctx.flag('inactive') });
  const { parseXml } = await import('../../util/xml.js');
  return parseXml(xml);
}

const domblklistCmd: CommandDef = {
  name: 'domblklist',
  summary: 'list all domain blocks',
  description: 'Get the summary of block devices for a domain.',
  json: true,
  options: [
    domainOpt(),
    { name: 'inactive', type: 'bool', help: 'get inactive rather than running configuration' },
    { name: 'details', type: 'bool', help: 'additionally display the type and device value' },
  ],
  async handler(ctx) {
    const root = await domainXmlTree(ctx);
    const devices = child(root, 'devices');
    const disks = devices ? childrenNamed(devices, 'disk') : [];
    const rows = disks.map((d) => {
      const src = child(d, 'source');
      const source = src
        ? (attr(src, 'file') ??
          attr(src, 'dev') ??
          attr(src, 'dir') ??
          attr(src, 'name') ??
          (attr(src, 'pool') && attr(src, 'volume')
            ? `${attr(src, 'pool')}/${attr(src, 'volume')}`
            : undefined) ??
          '-')
        : '-';
      return {
        type: attr(d, 'type') ?? '',
        device: attr(d, 'device') ?? 'disk',
        target: (child(d, 'target') && attr(child(d, 'target')!, 'dev')) ?? '',
        source,
      };
    });
    if (ctx.json) {
      ctx.printJson(rows);
      return;
    }
    if (ctx.flag('details')) {
      ctx.print(
        renderTable(
          ['Type', 'Device', 'Target', 'Source'],
          rows.map((r) => [r.type, r.device, r.target, r.source]),
          !ctx.quiet,
        ),
      );
    } else {
      ctx.print(
        renderTable(
          ['Target', 'Source'],
          rows.map((r) => [r.target, r.source]),
          !ctx.quiet,
        ),
      );
    }
  },
};

const domiflistCmd: CommandDef = {
  name: 'domiflist',
  summary: 'list all domain virtual interfaces',
  description: 'Get the summary of virtual interfaces for a domain.',
  json: true,
  options: [
    domainOpt(),
    { name: 'inactive', type: 'bool', help: 'get inactive rather than running configuration' },
  ],
  async handler(ctx) {
    const root = await domainXmlTree(ctx);
    const devices = child(root, 'devices');
    const ifaces = devices ? childrenNamed(devices, 'interface') : [];
    const rows = ifaces.map((i) => {
      const src = child(i, 'source');
      const type = attr(i, 'type') ?? '';
      const source = src ? (attr(src, 'bridge') ?? attr(src, 'dev') ?? attr(src, 'network') ?? '-') : '-';
      const sub = (el: string, a: string) => {
        const c = child(i, el);
        return (c && attr(c, a)) ?? '-';
      };
      return {
        interface: sub('target', 'dev'),
        type,
        source,
        model: sub('model', 'type'),
        mac: sub('mac', 'address'),
      };
    });
    if (ctx.json) {
      ctx.printJson(rows);
      return;
    }
    ctx.print(
      renderTable(
        ['Interface', 'Type', 'Source', 'Model', 'MAC'],
        rows.map((r) => [r.interface, r.type, r.source, r.model, r.mac]),
        !ctx.quiet,
      ),
    );
  },
};

export const monitorGroup: CommandGroup = {
  keyword: 'monitor',
  title: 'Domain Monitoring',
  commands: [
    domblkinfoCmd,
    domblklistCmd,
    domifaddrCmd,
    domiflistCmd,
    dominfoCmd,
    dommemstatCmd,
    domstateCmd,
    listCmd,
  ],
};
