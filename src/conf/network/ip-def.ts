// <ip> of a network (address, netmask/prefix, tftp, dhcp ranges/hosts/bootp) and <route>: parse and format.
import { confError } from '../../util/errors.js';
import { canonicalIp, parseIp } from '../../util/ip.js';
import { isMulticastMac, parseMac } from '../../util/mac.js';
import { attr, child, childrenNamed, elem, type XmlElement } from '../../util/xml.js';
import { keep, pair, uint, yesNo } from './keep.js';
import type { DhcpLease, NetworkDhcp, NetworkIp, NetworkRoute } from './network-def.js';

function addr(text: string | undefined, what: string, net: string): string | undefined {
  if (text === undefined) return undefined;
  const c = canonicalIp(text);
  if (!c) throw confError('XML_ERROR', `Invalid ${what} '${text}' in network '${net}'`);
  return c;
}

function family(el: XmlElement, net: string): 'ipv4' | 'ipv6' | undefined {
  const f = attr(el, 'family');
  if (f === undefined || f === 'ipv4' || f === 'ipv6') return f;
  throw confError('XML_ERROR', `Unrecognized family '${f}' in network '${net}'`);
}

function parseLease(el: XmlElement | undefined): DhcpLease | undefined {
  if (!el) return undefined;
  const expiry = uint(attr(el, 'expiry'), "attribute 'expiry' of element 'lease'");
  if (expiry === undefined) return undefined;
  const unit = attr(el, 'unit');
  if (unit !== undefined && unit !== 'seconds' && unit !== 'minutes' && unit !== 'hours') {
    throw confError('XML_ERROR', `Invalid value for attribute 'unit' in element 'lease': '${unit}'.`);
  }
  // dnsmasq's minimum lease is two minutes; 0 means infinite.
  const u = unit ?? 'minutes';
  if (expiry > 0 && ((u === 'seconds' && expiry < 120) || (u === 'minutes' && expiry < 2))) {
    throw confError('CONFIG_UNSUPPORTED', 'The minimum lease time should be greater than 2 minutes');
  }
  return { expiry, unit, extra: keep(el, ['expiry', 'unit'], []) };
}

function formatLease(l: DhcpLease | undefined) {
  // An infinite lease has no unit; otherwise libvirt states the unit (minutes by default).
  return (
    l && elem('lease', { expiry: l.expiry, unit: l.expiry ? (l.unit ?? 'minutes') : undefined }, [], l.extra)
  );
}

function parseDhcp(el: XmlElement, net: string, v6: boolean): NetworkDhcp {
  const ranges = childrenNamed(el, 'range').map((r) => {
    const s = attr(r, 'start');
    const e = attr(r, 'end');
    if (s === undefined)
      throw confError('XML_ERROR', `Missing 'start' attribute in dhcp range for network '${net}'`);
    if (e === undefined)
      throw confError('XML_ERROR', `Missing 'end' attribute in dhcp range for network '${net}'`);
    const start = addr(s, 'dhcp range start address', net)!;
    const end = addr(e, 'dhcp range end address', net)!;
    return { start, end, lease: parseLease(child(r, 'lease')), extra: keep(r, ['start', 'end'], ['lease']) };
  });
  const hosts = childrenNamed(el, 'host').map((h) => {
    const m = attr(h, 'mac');
    let mac: string | undefined;
    if (m !== undefined) {
      if (v6) {
        throw confError(
          'XML_ERROR',
          `Invalid to specify MAC address '${m}' in network '${net}' IPv6 static host definition`,
        );
      }
      try {
        mac = parseMac(m);
      } catch {
        throw confError('XML_ERROR', `Cannot parse MAC address '${m}' in network '${net}'`);
      }
      if (isMulticastMac(mac)) {
        throw confError(
          'XML_ERROR',
          `expected unicast mac address, found multicast '${m}' in network '${net}'`,
        );
      }
    }
    const id = attr(h, 'id');
    const bad = id?.match(/[^0-9a-fA-F:]/);
    if (id !== undefined && bad) {
      throw confError('XML_ERROR', `Invalid character '${bad[0]}' in id '${id}' of network '${net}'`);
    }
    const name = attr(h, 'name');
    if (name !== undefined && !/^[A-Za-z0-9]/.test(name)) {
      throw confError('XML_ERROR', `Cannot use host name '${name}' in network '${net}'`);
    }
    const i = attr(h, 'ip');
    const ip = i === undefined ? undefined : canonicalIp(i);
    if (i !== undefined && !ip) {
      throw confError('XML_ERROR', `Invalid IP address in static host definition for network '${net}'`);
    }
    if (v6 && !id && !name) {
      throw confError(
        'XML_ERROR',
        `Static host definition in IPv6 network '${net}' must have id or name attribute`,
      );
    }
    if (!v6 && !mac && !name) {
      throw confError(
        'XML_ERROR',
        `Static host definition in IPv4 network '${net}' must have mac or name attribute`,
      );
    }
    if (!ip)
      throw confError('XML_ERROR', `Missing IP address in static host definition for network '${net}'`);
    const extra = keep(h, ['mac', 'id', 'name', 'ip'], ['lease']);
    return { mac, id, name, ip, lease: parseLease(child(h, 'lease')), extra };
  });
  const b = child(el, 'bootp');
  let bootp: NetworkDhcp['bootp'];
  if (b) {
    const file = attr(b, 'file');
    if (!file) throw confError('XML_ERROR', "Missing required attribute 'file' in element 'bootp'");
    const server = attr(b, 'server');
    bootp = {
      file,
      server: server && addr(server, 'bootp server', net),
      extra: keep(b, ['file', 'server'], []),
    };
  }
  return { ranges, hosts, bootp, extra: keep(el, [], ['range', 'host', 'bootp']) };
}

/** Parses one <ip> element of network `net`. */
export function parseNetworkIp(el: XmlElement, net: string): NetworkIp {
  const ip: NetworkIp = { family: family(el, net) };
  const a = attr(el, 'address');
  if (a === undefined) throw confError('XML_ERROR', `Missing required address attribute in network '${net}'`);
  ip.address = addr(a, 'address', net);
  const m = attr(el, 'netmask');
  if (m !== undefined) {
    ip.netmask = canonicalIp(m);
    if (!ip.netmask) throw confError('XML_ERROR', `Invalid netmask '${m}' in network '${net}'`);
  }
  ip.prefix = uint(attr(el, 'prefix'), "attribute 'prefix' of element 'ip'");
  ip.localPtr = yesNo(el, 'localPtr');
  checkIpFamily(ip, net);
  const v6 = parseIp(ip.address!)!.family === 'ipv6';
  const dhcp = child(el, 'dhcp');
  if (dhcp) ip.dhcp = parseDhcp(dhcp, net, v6);
  const tftp = child(el, 'tftp');
  if (tftp) {
    if (v6)
      throw confError(
        'CONFIG_UNSUPPORTED',
        `Unsupported <tftp> element in an IPv6 element in network '${net}'`,
      );
    ip.tftpRoot = attr(tftp, 'root');
    ip.tftpExtra = keep(tftp, ['root'], []);
  }
  ip.extra = keep(el, ['family', 'address', 'netmask', 'prefix', 'localPtr'], ['tftp', 'dhcp']);
  return ip;
}

/** libvirt's family/netmask/prefix consistency checks of an <ip>. */
function checkIpFamily(ip: NetworkIp, net: string): void {
  const a = parseIp(ip.address!)!;
  if (ip.family === undefined || ip.family === 'ipv4') {
    if (a.family !== 'ipv4') {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `${ip.family ?? 'no'} family specified for non-IPv4 address '${ip.address}' in network '${net}'`,
      );
    }
    if (ip.netmask !== undefined) {
      if (parseIp(ip.netmask)!.family !== 'ipv4') {
        throw confError(
          'CONFIG_UNSUPPORTED',
          `Invalid netmask '${ip.netmask}' for address '${ip.address}' in network '${net}' (both must be IPv4)`,
        );
      }
      if (ip.prefix) {
        throw confError(
          'CONFIG_UNSUPPORTED',
          `Network '${net}' IP address cannot have both a prefix and a netmask`,
        );
      }
    } else if ((ip.prefix ?? 0) > 32) {
      throw confError('CONFIG_UNSUPPORTED', `Invalid IPv4 prefix '${ip.prefix}' in network '${net}'`);
    }
  } else {
    if (a.family !== 'ipv6') {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `Family 'ipv6' specified for non-IPv6 address '${ip.address}' in network '${net}'`,
      );
    }
    if (ip.netmask !== undefined) {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `netmask not allowed for IPv6 address '${ip.address}' in network '${net}'`,
      );
    }
    if ((ip.prefix ?? 0) > 128) {
      throw confError('CONFIG_UNSUPPORTED', `Invalid IPv6 prefix '${ip.prefix}' in network '${net}'`);
    }
  }
}

/** Formats one <ip>, always as an open/close pair like libvirt. */
export function formatNetworkIp(ip: NetworkIp): XmlElement {
  const d = ip.dhcp;
  const dhcp =
    d &&
    (d.ranges.length > 0 || d.hosts.length > 0 || d.bootp || d.extra) &&
    elem(
      'dhcp',
      {},
      [
        d.ranges.map((r) => elem('range', { start: r.start, end: r.end }, formatLease(r.lease), r.extra)),
        d.hosts.map((h) =>
          elem('host', { mac: h.mac, id: h.id, name: h.name, ip: h.ip }, formatLease(h.lease), h.extra),
        ),
        d.bootp && elem('bootp', { file: d.bootp.file, server: d.bootp.server }, [], d.bootp.extra),
      ],
      d.extra,
    );
  const tftp =
    (ip.tftpRoot !== undefined || ip.tftpExtra) && elem('tftp', { root: ip.tftpRoot }, [], ip.tftpExtra);
  const attrs = {
    family: ip.family,
    address: ip.address,
    netmask: ip.netmask,
    prefix: ip.prefix || undefined,
    localPtr: ip.localPtr,
  };
  return pair(elem('ip', attrs, [tftp, dhcp], ip.extra), 1);
}

/** Parses a static <route>. */
export function parseRoute(el: XmlElement, net: string): NetworkRoute {
  const address = addr(attr(el, 'address'), 'route address', net);
  const gateway = addr(attr(el, 'gateway'), 'route gateway', net);
  if (!address) throw confError('XML_ERROR', `Missing required address attribute in network '${net}' route`);
  if (!gateway) throw confError('XML_ERROR', `Missing required gateway attribute in network '${net}' route`);
  return {
    family: family(el, net),
    address,
    netmask: addr(attr(el, 'netmask'), 'route netmask', net),
    prefix: uint(attr(el, 'prefix'), `route prefix of network '${net}'`),
    gateway,
    metric: uint(attr(el, 'metric'), `route metric of network '${net}'`),
    extra: keep(el, ['family', 'address', 'netmask', 'prefix', 'gateway', 'metric'], []),
  };
}

/** Formats a static <route>. */
export function formatRoute(r: NetworkRoute): XmlElement {
  const { family: f, address, netmask, prefix, gateway, metric } = r;
  return elem('route', { family: f, address, netmask, prefix, gateway, metric }, [], r.extra);
}
