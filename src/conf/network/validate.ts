// Semantic checks of a parsed network (libvirt's parse-time and define-time validation), with its messages.
import { confError } from '../../util/errors.js';
import {
  compareIp,
  defaultPrefix,
  familyBits,
  type IpAddr,
  inSubnet,
  parseIp,
  prefixFromNetmask,
} from '../../util/ip.js';
import type { NetworkDef, NetworkIp } from './network-def.js';

/** Address, family and effective prefix of an <ip>, checking netmask/prefix as libvirt does. */
export function ipSubnet(ip: NetworkIp, net: string): { addr: IpAddr; prefix: number } | undefined {
  const a = ip.address === undefined ? undefined : parseIp(ip.address);
  if (ip.family === undefined && a && a.family !== 'ipv4') {
    throw confError(
      'CONFIG_UNSUPPORTED',
      `no family specified for non-IPv4 address '${ip.address}' in network '${net}'`,
    );
  }
  if (ip.family && a && a.family !== ip.family) {
    throw confError(
      'CONFIG_UNSUPPORTED',
      `family '${ip.family}' specified for non-${ip.family === 'ipv4' ? 'IPv4' : 'IPv6'} address '${ip.address}' in network '${net}'`,
    );
  }
  if (ip.netmask !== undefined) {
    if (!a) throw confError('CONFIG_UNSUPPORTED', `netmask specified without address in network '${net}'`);
    if (a.family !== 'ipv4') {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `netmask not supported for address '${ip.address}' in network '${net}' (IPv4 only)`,
      );
    }
    if (ip.prefix !== undefined) {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `Network '${net}' IP address cannot have both a prefix and a netmask`,
      );
    }
    const m = parseIp(ip.netmask)!;
    if (m.family !== 'ipv4') {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `Invalid netmask '${ip.netmask}' for address '${ip.address}' in network '${net}' (both must be IPv4)`,
      );
    }
    const p = prefixFromNetmask(m);
    if (p < 0) throw confError('CONFIG_UNSUPPORTED', `Invalid netmask '${ip.netmask}' in network '${net}'`);
    return { addr: a, prefix: p };
  }
  if (!a) return undefined;
  if (ip.prefix !== undefined && ip.prefix > familyBits(a.family)) {
    throw confError('XML_ERROR', `Invalid ${a.family} prefix '${ip.prefix}' in network '${net}'`);
  }
  return { addr: a, prefix: ip.prefix ?? defaultPrefix(a) };
}

function validateIp(ip: NetworkIp, net: string): void {
  const sn = ipSubnet(ip, net);
  const d = ip.dhcp;
  if (!d) return;
  if (!sn) throw confError('XML_ERROR', `<dhcp> requires an address in <ip> of network '${net}'`);
  for (const r of d.ranges) {
    const s = parseIp(r.start)!;
    const e = parseIp(r.end)!;
    if (s.family !== sn.addr.family || e.family !== sn.addr.family) {
      throw confError(
        'XML_ERROR',
        `Invalid dhcp range '${r.start}' to '${r.end}' in network '${net}': address family does not match the network's`,
      );
    }
    if (!inSubnet(s, sn.addr, sn.prefix) || !inSubnet(e, sn.addr, sn.prefix)) {
      throw confError(
        'XML_ERROR',
        `range ${r.start} - ${r.end} is not entirely within network ${ip.address}/${sn.prefix}`,
      );
    }
    if (compareIp(s, e) > 0) throw confError('XML_ERROR', `range ${r.start} - ${r.end} is reversed `);
  }
  for (const h of d.hosts) {
    if (sn.addr.family === 'ipv4' && !h.mac && !h.name) {
      throw confError(
        'XML_ERROR',
        `Static host definition in IPv4 network '${net}' must have mac or name attribute`,
      );
    }
    if (sn.addr.family === 'ipv6' && h.mac) {
      throw confError(
        'XML_ERROR',
        `Invalid to specify MAC address '${h.mac}' in network '${net}' IPv6 static host definition`,
      );
    }
    if (sn.addr.family === 'ipv6' && !h.id && !h.name) {
      throw confError(
        'XML_ERROR',
        `Static host definition in IPv6 network '${net}' must have id or name attribute`,
      );
    }
    if (h.ip !== undefined) {
      const hip = parseIp(h.ip)!;
      if (hip.family !== sn.addr.family) {
        throw confError('XML_ERROR', `Invalid IP address in static host definition for network '${net}'`);
      }
    }
  }
}

/**
 * Checks a network definition as libvirt does when parsing/defining it.
 * @throws VirError XML_ERROR or CONFIG_UNSUPPORTED naming the network.
 */
export function validateNetwork(def: NetworkDef): void {
  const net = def.name;
  const seen = new Set<string>();
  let dhcp4 = 0;
  let dhcp6 = 0;
  for (const ip of def.ips) {
    validateIp(ip, net);
    if (ip.address !== undefined) {
      if (seen.has(ip.address)) {
        throw confError('XML_ERROR', `IP address '${ip.address}' is used more than once in network '${net}'`);
      }
      seen.add(ip.address);
    }
    const d = ip.dhcp;
    if (d && (d.ranges.length || d.hosts.length)) {
      if (parseIp(ip.address ?? '')?.family === 'ipv6') dhcp6++;
      else dhcp4++;
    }
  }
  if (dhcp4 > 1) {
    throw confError(
      'CONFIG_UNSUPPORTED',
      `Multiple IPv4 dhcp sections found -- dhcp is supported only for a single IPv4 address on each network`,
    );
  }
  if (dhcp6 > 1) {
    throw confError(
      'CONFIG_UNSUPPORTED',
      `Multiple IPv6 dhcp sections found -- dhcp is supported only for a single IPv6 address on each network`,
    );
  }
  const f = def.forward;
  const mode = f?.mode;
  if (f && (mode === 'nat' || mode === 'route') && f.interfaces.length > 1) {
    throw confError(
      'XML_ERROR',
      `multiple forwarding interfaces specified for network '${net}', only one is supported`,
    );
  }
  if (f && mode === 'open' && (f.interfaces.length > 0 || f.pfs.length > 0 || f.addresses.length > 0)) {
    throw confError(
      'XML_ERROR',
      `forward dev not supported for network '${net}' with forward mode '${mode}'`,
    );
  }
  if (mode === 'private' || mode === 'vepa' || mode === 'passthrough' || mode === 'hostdev') {
    if (def.bridge?.name) {
      throw confError('XML_ERROR', `bridge name not allowed in ${mode} mode (network '${net}')`);
    }
  }
  if (mode !== undefined && mode !== 'nat' && mode !== 'route' && mode !== 'open') {
    if (def.bridge && (def.bridge.delay !== undefined || def.bridge.stp !== undefined)) {
      throw confError(
        'XML_ERROR',
        `bridge delay/stp options only allowed in route, nat, and isolated mode, not in ${mode} (network '${net}')`,
      );
    }
    if (def.dns?.enable === true || def.domain || def.ips.length > 0) {
      throw confError(
        'XML_ERROR',
        `Unsupported <ip>, <dns> or <domain> element in network ${net} with forward mode='${mode}'`,
      );
    }
  }
  const nat = f?.nat;
  if (nat?.address) {
    const s = parseIp(nat.address.start)!;
    const e = parseIp(nat.address.end)!;
    if (s.family !== 'ipv4' || e.family !== 'ipv4' || compareIp(s, e) > 0) {
      throw confError('XML_ERROR', `Bad ipv4 start or end address in <nat> in <forward> in network '${net}'`);
    }
  }
  if (nat?.port && (nat.port.start > 65535 || nat.port.end > 65535 || nat.port.start > nat.port.end)) {
    throw confError(
      'XML_ERROR',
      `Missing or invalid 'start' or 'end' attribute in <port> in <nat> in <forward> in network '${net}'`,
    );
  }
  const defaults = def.portgroups.filter((p) => p.default);
  if (defaults.length > 1) {
    throw confError(
      'XML_ERROR',
      `network '${net}' has multiple default <portgroup> elements (${defaults[0]!.name} and ${defaults[1]!.name}), but only one default is allowed`,
    );
  }
  const names = new Set<string>();
  for (const p of def.portgroups) {
    if (names.has(p.name)) {
      throw confError(
        'XML_ERROR',
        `multiple <portgroup> elements with the same name (${p.name}) in network '${net}'`,
      );
    }
    names.add(p.name);
  }
}
