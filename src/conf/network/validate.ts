// Semantic checks of a parsed network (libvirt's virNetworkDefParseXML checks and the driver's define checks).
import { confError } from '../../util/errors.js';
import {
  compareIp,
  defaultPrefix,
  formatIp,
  type IpAddr,
  inSubnet,
  parseIp,
  prefixFromNetmask,
} from '../../util/ip.js';
import type { NetworkDef, NetworkIp } from './network-def.js';

/** Address and effective prefix of an <ip> (netmask, prefix, or the classful default). */
export function ipSubnet(ip: NetworkIp, net: string): { addr: IpAddr; prefix: number } | undefined {
  const a = ip.address === undefined ? undefined : parseIp(ip.address);
  if (!a) return undefined;
  if (ip.netmask !== undefined) {
    const p = prefixFromNetmask(parseIp(ip.netmask)!);
    if (p < 0) throw confError('CONFIG_UNSUPPORTED', `Invalid netmask '${ip.netmask}' in network '${net}'`);
    return { addr: a, prefix: p };
  }
  return { addr: a, prefix: ip.prefix || defaultPrefix(a) };
}

/** libvirt's virSocketAddrGetRange checks of a DHCP (or NAT) range (INTERNAL_ERROR there too). */
function checkRange(
  start: string,
  end: string,
  net: string,
  subnet?: { addr: IpAddr; prefix: number },
): void {
  const s = parseIp(start)!;
  const e = parseIp(end)!;
  if (s.family !== e.family || (subnet && s.family !== subnet.addr.family)) {
    const where = subnet ? ` for network ${net}` : '';
    throw confError('INTERNAL_ERROR', `mismatch of address family in range ${start} - ${end}${where}`);
  }
  if (subnet && (!inSubnet(s, subnet.addr, subnet.prefix) || !inSubnet(e, subnet.addr, subnet.prefix))) {
    throw confError(
      'INTERNAL_ERROR',
      `range ${start} - ${end} is not entirely within network ${formatNet(subnet)}`,
    );
  }
  if (compareIp(s, e) > 0) throw confError('INTERNAL_ERROR', `range ${start} - ${end} is reversed `);
}

function formatNet(sn: { addr: IpAddr; prefix: number }): string {
  // libvirt prints the <ip> address as given (not masked) and the prefix.
  return `${formatIp(sn.addr)}/${sn.prefix}`;
}

function validateIps(def: NetworkDef): void {
  const net = def.name;
  const seen = new Set<string>();
  let dhcp4 = 0;
  let dhcp6 = 0;
  for (const ip of def.ips) {
    const sn = ipSubnet(ip, net);
    for (const r of ip.dhcp?.ranges ?? []) checkRange(r.start, r.end, net, sn);
    if (ip.address !== undefined) {
      if (seen.has(ip.address)) {
        throw confError('XML_ERROR', `IP address '${ip.address}' is used more than once in network '${net}'`);
      }
      seen.add(ip.address);
    }
    const d = ip.dhcp;
    if (d && (d.ranges.length || d.hosts.length)) {
      if (sn?.addr.family === 'ipv6') dhcp6++;
      else dhcp4++;
    }
  }
  for (const [n, fam] of [
    [dhcp4, 'IPv4'],
    [dhcp6, 'IPv6'],
  ] as const) {
    if (n > 1) {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `Multiple ${fam} dhcp sections found -- dhcp is supported only for a single ${fam} address on each network`,
      );
    }
  }
  for (const r of def.routes) {
    const gw = parseIp(r.gateway)!;
    const ok = def.ips.some((ip) => {
      const sn = ipSubnet(ip, net);
      return sn !== undefined && sn.addr.family === gw.family && inSubnet(gw, sn.addr, sn.prefix);
    });
    if (!ok) {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `unreachable static route gateway '${r.gateway}' specified for network '${net}'`,
      );
    }
  }
}

function validateForward(def: NetworkDef): void {
  const net = def.name;
  const f = def.forward;
  const b = def.bridge;
  if (!f) return;
  const mode = f.mode;
  const nifs = f.interfaces.length + f.addresses.length;
  switch (mode) {
    case 'route':
    case 'nat':
    case 'open':
      if (def.ips.length === 0) {
        throw confError(
          'XML_ERROR',
          `${mode} forwarding requested, but no IP address provided for network '${net}'`,
        );
      }
      if (nifs > 1) {
        throw confError(
          'XML_ERROR',
          `multiple forwarding interfaces specified for network '${net}', only one is supported`,
        );
      }
      if (mode === 'open' && nifs > 0) {
        throw confError(
          'XML_ERROR',
          `forward dev not allowed for network '${net}' with forward mode='${mode}'`,
        );
      }
      break;
    default:
      if (mode !== 'bridge') {
        for (const [v, what] of [
          [b?.name, 'bridge name'],
          [b?.zone, 'bridge zone'],
          [b?.macTableManager, 'bridge macTableManager setting'],
        ] as const) {
          if (v !== undefined)
            throw confError('XML_ERROR', `${what} not allowed in ${mode} mode (network '${net}')`);
        }
      }
      if (b && (b.delay || b.stp !== undefined || b.zone !== undefined)) {
        throw confError(
          'XML_ERROR',
          `bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in ${mode} (network '${net}')`,
        );
      }
      if (b?.name && (nifs > 0 || f.pfs.length > 0)) {
        throw confError(
          'XML_ERROR',
          `A network with forward mode='${mode}' can specify a bridge name or a forward dev, but not both (network '${net}')`,
        );
      }
      if (def.mtu) {
        throw confError(
          'XML_ERROR',
          `mtu size only allowed in open, route, nat, and isolated mode, not in ${mode} (network '${net}')`,
        );
      }
      for (const [bad, what] of [
        [def.ips.length > 0, 'ip'],
        [def.dns?.enable === true, 'dns'],
        [def.domain !== undefined, 'domain'],
      ] as const) {
        if (bad) {
          throw confError(
            'CONFIG_UNSUPPORTED',
            `Unsupported <${what}> element in network ${net} with forward mode='${mode}'`,
          );
        }
      }
  }
  const nat = f.nat;
  if (nat?.address) checkRange(nat.address.start, nat.address.end, net);
}

/**
 * Checks a network definition as libvirt does when parsing/defining it.
 * @throws VirError XML_ERROR or CONFIG_UNSUPPORTED naming the network.
 */
export function validateNetwork(def: NetworkDef): void {
  validateIps(def);
  validateForward(def);
  const defaults = def.portgroups.filter((p) => p.default);
  if (defaults.length > 1) {
    throw confError(
      'XML_ERROR',
      `network '${def.name}' has multiple default <portgroup> elements (${defaults[0]!.name} and ${defaults[1]!.name}), but only one default is allowed`,
    );
  }
  const names = new Set<string>();
  for (const p of def.portgroups) {
    if (names.has(p.name)) {
      throw confError(
        'XML_ERROR',
        `multiple <portgroup> elements with the same name (${p.name}) in network '${def.name}'`,
      );
    }
    names.add(p.name);
  }
}
