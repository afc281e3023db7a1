// <ip> of a network (address, netmask/prefix, tftp, dhcp ranges/hosts/bootp) and <route>: parse and format.
import { confError } from '../../util/errors.js';
import { canonicalIp } from '../../util/ip.js';
import { parseMac } from '../../util/mac.js';
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
  const expiry = uint(attr(el, 'expiry'), "lease attribute 'expiry'");
  if (expiry === undefined) throw confError('XML_ERROR', "Missing 'expiry' attribute in <lease>");
  const unit = attr(el, 'unit');
  if (unit !== undefined && unit !== 'seconds' && unit !== 'minutes' && unit !== 'hours') {
    throw confError('XML_ERROR', `Invalid value for attribute 'unit' in element 'lease': '${unit}'`);
  }
  return { expiry, unit, extra: keep(el, ['expiry', 'unit'], []) };
}

function formatLease(l: DhcpLease | undefined) {
  return l && elem('lease', { expiry: l.expiry, unit: l.unit }, [], l.extra);
}

function parseDhcp(el: XmlElement, net: string): NetworkDhcp {
  const ranges = childrenNamed(el, 'range').map((r) => {
    const start = addr(attr(r, 'start'), 'dhcp range start address', net);
    const end = addr(attr(r, 'end'), 'dhcp range end address', net);
    if (!start || !end)
      throw confError('XML_ERROR', `Missing 'start' or 'end' attribute in dhcp range for network '${net}'`);
    return { start, end, lease: parseLease(child(r, 'lease')), extra: keep(r, ['start', 'end'], ['lease']) };
  });
  const hosts = childrenNamed(el, 'host').map((h) => {
    const m = attr(h, 'mac');
    let mac: string | undefined;
    if (m !== undefined) {
      try {
        mac = parseMac(m);
      } catch {
        throw confError('XML_ERROR', `Cannot parse MAC address '${m}' in network '${net}'`);
      }
    }
    return {
      mac,
      id: attr(h, 'id'),
      name: attr(h, 'name'),
      ip: addr(attr(h, 'ip'), 'IP address in static host definition', net),
      lease: parseLease(child(h, 'lease')),
      extra: keep(h, ['mac', 'id', 'name', 'ip'], ['lease']),
    };
  });
  const b = child(el, 'bootp');
  let bootp: NetworkDhcp['bootp'];
  if (b) {
    const file = attr(b, 'file');
    if (!file) throw confError('XML_ERROR', `Missing 'file' attribute in dhcp bootp of network '${net}'`);
    bootp = { file, server: attr(b, 'server'), extra: keep(b, ['file', 'server'], []) };
  }
  return { ranges, hosts, bootp, extra: keep(el, [], ['range', 'host', 'bootp']) };
}

/** Parses one <ip> element of network `net`. */
export function parseNetworkIp(el: XmlElement, net: string): NetworkIp {
  const ip: NetworkIp = { family: family(el, net) };
  ip.address = addr(attr(el, 'address'), 'address', net);
  ip.netmask = addr(attr(el, 'netmask'), 'netmask', net);
  ip.prefix = uint(attr(el, 'prefix'), `prefix of network '${net}'`);
  ip.localPtr = yesNo(el, 'localPtr');
  const tftp = child(el, 'tftp');
  if (tftp) {
    ip.tftpRoot = attr(tftp, 'root');
    ip.tftpExtra = keep(tftp, ['root'], []);
  }
  const dhcp = child(el, 'dhcp');
  if (dhcp) ip.dhcp = parseDhcp(dhcp, net);
  ip.extra = keep(el, ['family', 'address', 'netmask', 'prefix', 'localPtr'], ['tftp', 'dhcp']);
  return ip;
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
    prefix: ip.prefix,
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

export function formatRoute(r: NetworkRoute): XmlElement {
  const { family: f, address, netmask, prefix, gateway, metric } = r;
  return elem('route', { family: f, address, netmask, prefix, gateway, metric }, [], r.extra);
}
