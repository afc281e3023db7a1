// virNetworkUpdate on a NetworkDef (pure): add-first / add-last / modify / delete of one section's entry.
import type { NetworkDef, NetworkDns, NetworkIp } from '../../conf/network/index.js';
import { ipSubnet, parseNetwork } from '../../conf/network/index.js';
import { VirError } from '../../util/errors.js';
import { canonicalIp, compareIp, inSubnet, parseIp } from '../../util/ip.js';
import { parseMac } from '../../util/mac.js';
import { attr, childrenNamed, parseXml, textOf, type XmlElement } from '../../util/xml.js';

/** virNetworkUpdateCommand, by virsh's names. */
export type NetworkUpdateCommand = 'modify' | 'delete' | 'add-last' | 'add-first';
/** virNetworkUpdateSection, by virsh's names. */
export type NetworkUpdateSection =
  | 'bridge'
  | 'domain'
  | 'ip'
  | 'ip-dhcp-host'
  | 'ip-dhcp-range'
  | 'forward'
  | 'forward-interface'
  | 'forward-pf'
  | 'portgroup'
  | 'dns-host'
  | 'dns-txt'
  | 'dns-srv';

/** All sections virsh net-update accepts, in libvirt's enum order (index 1..). */
export const networkUpdateSections: readonly NetworkUpdateSection[] = [
  'bridge',
  'domain',
  'ip',
  'ip-dhcp-host',
  'ip-dhcp-range',
  'forward',
  'forward-interface',
  'forward-pf',
  'portgroup',
  'dns-host',
  'dns-txt',
  'dns-srv',
];

function fail(
  code: 'OPERATION_INVALID' | 'XML_ERROR' | 'OPERATION_UNSUPPORTED' | 'INVALID_ARG',
  msg: string,
): never {
  throw new VirError(code, msg, { domain: 'NETWORK' });
}

function snippetRoot(xml: string, expect: string, net: string): XmlElement {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    throw new VirError(
      'XML_ERROR',
      `cannot parse update XML for network '${net}': ${(e as Error).message.replace(/^XML error: /, '')}`,
      {
        domain: 'NETWORK',
        cause: e,
      },
    );
  }
  if (root.name !== expect) {
    fail(
      'XML_ERROR',
      `unexpected element <${root.name}>, expecting <${expect}>, while updating network '${net}'`,
    );
  }
  return root;
}

/** Parses a full snippet in context by wrapping it into a minimal network (reuses conf's checks). */
function parseInContext(def: NetworkDef, inner: string): NetworkDef {
  return parseNetwork(`<network><name>${escapeText(def.name)}</name>${inner}</network>`, {
    skipValidate: true,
  });
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function ipWrapper(ip: NetworkIp, inner: string): string {
  const fam = ip.address?.includes(':') ? 'ipv6' : 'ipv4';
  const prefix = ip.prefix !== undefined ? ` prefix='${ip.prefix}'` : '';
  const mask = ip.netmask !== undefined ? ` netmask='${ip.netmask}'` : '';
  return `<ip family='${fam}' address='${ip.address ?? ''}'${prefix}${mask}>${inner}</ip>`;
}

function ipByIndex(def: NetworkDef, parentIndex: number, what: string): NetworkIp {
  if (parentIndex >= 0) {
    const ip = def.ips[parentIndex];
    if (!ip) {
      fail(
        'OPERATION_INVALID',
        `couldn't update ${what} - no <ip> element found at index ${parentIndex} in network '${def.name}'`,
      );
    }
    return ip;
  }
  // -1: the one <ip> that has DHCP, else the first IPv4, else the first IPv6.
  const ip =
    def.ips.find((i) => (i.dhcp?.ranges.length ?? 0) + (i.dhcp?.hosts.length ?? 0) > 0) ??
    def.ips.find((i) => !i.address?.includes(':')) ??
    def.ips[0];
  if (!ip)
    fail('OPERATION_INVALID', `couldn't update ${what} - no <ip> element found in network '${def.name}'`);
  return ip;
}

function sameIp(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = parseIp(a);
  const y = parseIp(b);
  return !!x && !!y && x.family === y.family && compareIp(x, y) === 0;
}

function insert<T>(list: T[], item: T, cmd: NetworkUpdateCommand): void {
  if (cmd === 'add-first') list.unshift(item);
  else list.push(item);
}

function updateDhcpHost(def: NetworkDef, cmd: NetworkUpdateCommand, xml: string, parentIndex: number): void {
  const ipdef = ipByIndex(def, parentIndex, 'dhcp host entry');
  const root = snippetRoot(xml, 'host', def.name);
  ipdef.dhcp ??= { ranges: [], hosts: [] };
  const hosts = ipdef.dhcp.hosts;
  if (cmd === 'delete') {
    const m = attr(root, 'mac');
    const mac = m === undefined ? undefined : parseMac(m);
    const name = attr(root, 'name');
    const ip = attr(root, 'ip');
    const i = hosts.findIndex(
      (h) =>
        (!mac || !h.mac || mac === h.mac) &&
        (name === undefined || name === h.name) &&
        (ip === undefined || sameIp(ip, h.ip)),
    );
    if (i < 0)
      fail('OPERATION_INVALID', `couldn't locate a matching dhcp host entry in network '${def.name}'`);
    hosts.splice(i, 1);
    return;
  }
  const host = parseInContext(def, ipWrapper(ipdef, `<dhcp>${xml}</dhcp>`)).ips[0]!.dhcp!.hosts[0]!;
  const matches = (h: (typeof hosts)[number]) =>
    (host.mac !== undefined && h.mac === host.mac) ||
    (host.name !== undefined && h.name === host.name) ||
    sameIp(host.ip, h.ip);
  const desc = `"<host mac='${host.mac ?? ''}' name='${host.name ?? ''}' ip='${host.ip ?? ''}'/>"`;
  if (cmd === 'modify') {
    const i = hosts.findIndex(matches);
    if (i < 0) {
      fail(
        'OPERATION_INVALID',
        `couldn't locate an existing dhcp host entry with "mac='${host.mac ?? ''}'" "name='${host.name ?? ''}'" "ip='${host.ip ?? ''}'" in network '${def.name}'`,
      );
    }
    hosts[i] = host;
    return;
  }
  if (hosts.some(matches)) {
    fail(
      'OPERATION_INVALID',
      `there is an existing dhcp host entry in network '${def.name}' that matches ${desc}`,
    );
  }
  insert(hosts, host, cmd);
}

function updateDhcpRange(def: NetworkDef, cmd: NetworkUpdateCommand, xml: string, parentIndex: number): void {
  let ipdef = ipByIndex(def, parentIndex, 'dhcp range entry');
  const root = snippetRoot(xml, 'range', def.name);
  if (cmd === 'modify')
    fail('OPERATION_UNSUPPORTED', 'dhcp ranges cannot be modified, only added or deleted');
  // A range of the other family than the indexed <ip> goes to the first <ip> of its own family
  // (libvirt's fixture append-dhcp-range expects this).
  const v6 = attr(root, 'start')?.includes(':') ?? false;
  if ((ipdef.address?.includes(':') ?? false) !== v6) {
    ipdef = def.ips.find((i) => (i.address?.includes(':') ?? false) === v6) ?? ipdef;
  }
  const range = parseInContext(def, ipWrapper(ipdef, `<dhcp>${xml}</dhcp>`)).ips[0]!.dhcp!.ranges[0]!;
  const sn = ipSubnet(ipdef, def.name);
  const s = parseIp(range.start)!;
  const e = parseIp(range.end)!;
  if (!sn || s.family !== sn.addr.family) {
    fail(
      'OPERATION_INVALID',
      `the address family of a dhcp range must match the address family of the dhcp element's parent`,
    );
  }
  if (!inSubnet(s, sn.addr, sn.prefix) || !inSubnet(e, sn.addr, sn.prefix)) {
    fail(
      'OPERATION_INVALID',
      `range ${range.start} - ${range.end} is not entirely within network ${ipdef.address}/${sn.prefix}`,
    );
  }
  if (compareIp(s, e) > 0) fail('OPERATION_INVALID', `range ${range.start} - ${range.end} is reversed`);
  ipdef.dhcp ??= { ranges: [], hosts: [] };
  const ranges = ipdef.dhcp.ranges;
  const i = ranges.findIndex((r) => sameIp(r.start, range.start) && sameIp(r.end, range.end));
  if (cmd === 'delete') {
    if (i < 0)
      fail('OPERATION_INVALID', `couldn't locate a matching dhcp range entry in network '${def.name}'`);
    ranges.splice(i, 1);
    return;
  }
  if (i >= 0) {
    fail(
      'OPERATION_INVALID',
      `there is an existing dhcp range entry in network '${def.name}' that matches "<range start='${range.start}' end='${range.end}'/>"`,
    );
  }
  insert(ranges, range, cmd);
}

function updateForwardInterface(def: NetworkDef, cmd: NetworkUpdateCommand, xml: string): void {
  const root = snippetRoot(xml, 'interface', def.name);
  const dev = attr(root, 'dev');
  if (!dev) fail('XML_ERROR', `missing dev attribute in <interface> element of network '${def.name}'`);
  if (cmd === 'modify')
    fail('OPERATION_UNSUPPORTED', 'forward interface entries cannot be modified, only added or deleted');
  const f = def.forward;
  if (!f || !['nat', 'route', 'open', 'bridge', 'private', 'vepa', 'passthrough'].includes(f.mode)) {
    fail(
      'OPERATION_INVALID',
      `can't update forward interface of network '${def.name}' without a forward mode`,
    );
  }
  const i = f.interfaces.findIndex((x) => x.dev === dev);
  if (cmd === 'delete') {
    if (i < 0) {
      fail(
        'OPERATION_INVALID',
        `couldn't find an interface entry in network '${def.name}' matching <interface dev='${dev}'>`,
      );
    }
    f.interfaces.splice(i, 1);
    return;
  }
  if (i >= 0) {
    fail(
      'OPERATION_INVALID',
      `there is an existing interface entry in network '${def.name}' that matches "<interface dev='${dev}'>"`,
    );
  }
  insert(f.interfaces, { dev }, cmd);
}

function updatePortgroup(def: NetworkDef, cmd: NetworkUpdateCommand, xml: string): void {
  snippetRoot(xml, 'portgroup', def.name);
  const pg = parseInContext(def, xml).portgroups[0]!;
  const i = def.portgroups.findIndex((p) => p.name === pg.name);
  if (cmd === 'delete') {
    if (i < 0) {
      fail(
        'OPERATION_INVALID',
        `couldn't find a portgroup entry in network '${def.name}' matching <portgroup name='${pg.name}'>`,
      );
    }
    def.portgroups.splice(i, 1);
    return;
  }
  if (pg.default && def.portgroups.some((p, j) => p.default && j !== i)) {
    fail(
      'OPERATION_INVALID',
      `a different portgroup entry in network '${def.name}' is already set as the default. Only one default is allowed.`,
    );
  }
  if (cmd === 'modify') {
    if (i < 0) {
      fail(
        'OPERATION_INVALID',
        `couldn't find a portgroup entry in network '${def.name}' matching <portgroup name='${pg.name}'>`,
      );
    }
    def.portgroups[i] = pg;
    return;
  }
  if (i >= 0) {
    fail(
      'OPERATION_INVALID',
      `there is an existing portgroup entry in network '${def.name}' that matches "<portgroup name='${pg.name}'>"`,
    );
  }
  insert(def.portgroups, pg, cmd);
}

function dnsOf(def: NetworkDef): NetworkDns {
  def.dns ??= { forwarders: [], txts: [], srvs: [], hosts: [] };
  return def.dns;
}

function updateDnsHost(def: NetworkDef, cmd: NetworkUpdateCommand, xml: string): void {
  const root = snippetRoot(xml, 'host', def.name);
  let host: NetworkDns['hosts'][number];
  if (cmd === 'delete') {
    const a = attr(root, 'ip');
    const ip = a === undefined ? undefined : canonicalIp(a);
    if (a !== undefined && !ip)
      fail('XML_ERROR', `Invalid IP address in network '${def.name}' DNS HOST record`);
    const hostnames = childrenNamed(root, 'hostname').map((n) => textOf(n).trim());
    if (!ip && hostnames.length === 0) {
      fail('XML_ERROR', `Missing ip and hostname in network '${def.name}' DNS HOST record`);
    }
    host = { ip: ip ?? '', hostnames };
  } else {
    host = parseInContext(def, `<dns>${xml}</dns>`).dns!.hosts[0]!;
  }
  const dns = dnsOf(def);
  const found: number[] = [];
  // A record is identified by its address; a partial one (delete without ip) by a hostname.
  dns.hosts.forEach((h, i) => {
    if (host.ip ? sameIp(host.ip, h.ip) : host.hostnames.some((n) => h.hostnames.includes(n))) found.push(i);
  });
  if (cmd === 'add-first' || cmd === 'add-last') {
    if (found.length) {
      fail(
        'OPERATION_INVALID',
        `there is already at least one DNS HOST record with a matching field in network ${def.name}`,
      );
    }
    insert(dns.hosts, host, cmd);
    return;
  }
  if (!found.length)
    fail('OPERATION_INVALID', `couldn't locate a matching DNS HOST record in network '${def.name}'`);
  if (found.length > 1) {
    fail('OPERATION_INVALID', `multiple matching DNS HOST records were found in network '${def.name}'`);
  }
  if (cmd === 'delete') dns.hosts.splice(found[0]!, 1);
  else dns.hosts[found[0]!] = host;
}

function updateDnsTxt(def: NetworkDef, cmd: NetworkUpdateCommand, xml: string): void {
  const root = snippetRoot(xml, 'txt', def.name);
  const name = attr(root, 'name');
  if (!name) fail('XML_ERROR', `missing required name attribute in DNS TXT record of network '${def.name}'`);
  const dns = dnsOf(def);
  const i = dns.txts.findIndex((t) => t.name === name);
  if (cmd === 'delete') {
    if (i < 0)
      fail('OPERATION_INVALID', `couldn't locate a matching DNS TXT record in network '${def.name}'`);
    dns.txts.splice(i, 1);
    return;
  }
  const txt = parseInContext(def, `<dns>${xml}</dns>`).dns!.txts[0]!;
  if (cmd === 'modify') {
    if (i < 0)
      fail('OPERATION_INVALID', `couldn't locate a matching DNS TXT record in network '${def.name}'`);
    dns.txts[i] = txt;
    return;
  }
  if (i >= 0) {
    fail(
      'OPERATION_INVALID',
      `there is already a DNS TXT record with name '${name}' in network '${def.name}'`,
    );
  }
  insert(dns.txts, txt, cmd);
}

function updateDnsSrv(def: NetworkDef, cmd: NetworkUpdateCommand, xml: string): void {
  const root = snippetRoot(xml, 'srv', def.name);
  if (cmd === 'modify')
    fail('OPERATION_UNSUPPORTED', 'DNS SRV records cannot be modified, only added or deleted');
  const service = attr(root, 'service');
  const protocol = attr(root, 'protocol');
  const net = def.name;
  if (!service && cmd !== 'delete') {
    fail('XML_ERROR', `missing required service attribute in DNS SRV record of network '${net}'`);
  }
  if (service && service.length > 15) {
    fail('XML_ERROR', `service attribute '${service}' in network '${net}' is too long, limit is 15 bytes`);
  }
  if (!protocol && cmd !== 'delete') {
    fail(
      'XML_ERROR',
      `missing required protocol attribute in DNS SRV record '${service}' of network '${net}'`,
    );
  }
  if (protocol && protocol !== 'tcp' && protocol !== 'udp') {
    fail('XML_ERROR', `invalid protocol attribute value '${protocol}' in DNS SRV record of network '${net}'`);
  }
  const srv =
    cmd === 'delete'
      ? { service, protocol: protocol ?? '', domain: attr(root, 'domain'), target: attr(root, 'target') }
      : parseInContext(def, `<dns>${xml}</dns>`).dns!.srvs[0]!;
  const dns = dnsOf(def);
  const found: number[] = [];
  dns.srvs.forEach((s, i) => {
    if (
      (!srv.domain || srv.domain === s.domain) &&
      (!srv.service || srv.service === s.service) &&
      (!srv.protocol || srv.protocol === s.protocol) &&
      (!srv.target || srv.target === s.target)
    ) {
      found.push(i);
    }
  });
  if (cmd === 'delete') {
    if (!found.length)
      fail('OPERATION_INVALID', `couldn't locate a matching DNS SRV record in network '${net}'`);
    if (found.length > 1) {
      fail(
        'OPERATION_INVALID',
        `multiple DNS SRV records matching all specified fields were found in network '${net}'`,
      );
    }
    dns.srvs.splice(found[0]!, 1);
    return;
  }
  if (found.length) {
    fail(
      'OPERATION_INVALID',
      `there is already at least one DNS SRV record matching all specified fields in network ${net}`,
    );
  }
  insert(dns.srvs, srv as NetworkDns['srvs'][number], cmd);
}

/**
 * Applies one net-update command to `def` in place (libvirt virNetworkDefUpdateSection). On error
 * `def` may be partly changed: callers work on a copy and keep it only on success.
 * @param parentIndex index of the <ip> for ip-dhcp-* sections, -1 for "the one with DHCP".
 * @throws VirError OPERATION_INVALID (no match / duplicate), XML_ERROR, OPERATION_UNSUPPORTED (section/command).
 */
export function networkDefUpdateSection(
  def: NetworkDef,
  cmd: NetworkUpdateCommand,
  section: NetworkUpdateSection,
  xml: string,
  parentIndex = -1,
): void {
  switch (section) {
    case 'ip-dhcp-host':
      updateDhcpHost(def, cmd, xml, parentIndex);
      return;
    case 'ip-dhcp-range':
      updateDhcpRange(def, cmd, xml, parentIndex);
      return;
    case 'forward-interface':
      updateForwardInterface(def, cmd, xml);
      return;
    case 'portgroup':
      updatePortgroup(def, cmd, xml);
      return;
    case 'dns-host':
      updateDnsHost(def, cmd, xml);
      return;
    case 'dns-txt':
      updateDnsTxt(def, cmd, xml);
      return;
    case 'dns-srv':
      updateDnsSrv(def, cmd, xml);
      return;
    default:
      fail('OPERATION_UNSUPPORTED', `can't update '${section}' section of network '${def.name}'`);
  }
}
