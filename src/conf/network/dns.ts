// <dns> of a network (enable, forwardPlainNames, forwarders, txt, srv, hosts): parse and format.
import { confError } from '../../util/errors.js';
import { canonicalIp } from '../../util/ip.js';
import { attr, childrenNamed, elem, textElem, textOf, type XmlElement } from '../../util/xml.js';
import { keep, uint, yesNo } from './keep.js';
import type { NetworkDns } from './network-def.js';

/** Parses <dns> of network `net`; libvirt's checks on records are done here as it does. */
export function parseDns(el: XmlElement, net: string): NetworkDns {
  const dns: NetworkDns = {
    enable: yesNo(el, 'enable'),
    forwardPlainNames: yesNo(el, 'forwardPlainNames'),
    forwarders: childrenNamed(el, 'forwarder').map((f) => {
      const a = attr(f, 'addr');
      const addr = a === undefined ? undefined : canonicalIp(a);
      if (a !== undefined && !addr)
        throw confError('XML_ERROR', `Invalid forwarder IP address '${a}' in network '${net}'`);
      const domain = attr(f, 'domain');
      if (!addr && !domain) {
        throw confError(
          'XML_ERROR',
          `Invalid forwarder element, must contain at least one of addr or domain`,
        );
      }
      return { domain, addr, extra: keep(f, ['domain', 'addr'], []) };
    }),
    txts: childrenNamed(el, 'txt').map((t) => {
      const name = attr(t, 'name');
      const value = attr(t, 'value');
      if (!name)
        throw confError(
          'XML_DETAIL',
          `missing required name attribute in DNS TXT record of network '${net}'`,
        );
      if (name.includes(' ')) {
        throw confError(
          'XML_DETAIL',
          `prohibited space character in DNS TXT record name '${name}' of network '${net}'`,
        );
      }
      if (value === undefined) {
        throw confError(
          'XML_DETAIL',
          `missing required value attribute in DNS TXT record named '${name}' of network '${net}'`,
        );
      }
      return { name, value, extra: keep(t, ['name', 'value'], []) };
    }),
    srvs: childrenNamed(el, 'srv').map((s) => {
      const protocol = attr(s, 'protocol');
      if (!protocol)
        throw confError(
          'XML_DETAIL',
          `missing required protocol attribute in DNS SRV record of network '${net}'`,
        );
      return {
        service: attr(s, 'service'),
        protocol,
        domain: attr(s, 'domain'),
        target: attr(s, 'target'),
        port: uint(attr(s, 'port'), `DNS SRV port of network '${net}'`),
        priority: uint(attr(s, 'priority'), `DNS SRV priority of network '${net}'`),
        weight: uint(attr(s, 'weight'), `DNS SRV weight of network '${net}'`),
        extra: keep(s, ['service', 'protocol', 'domain', 'target', 'port', 'priority', 'weight'], []),
      };
    }),
    hosts: childrenNamed(el, 'host').map((h) => {
      const a = attr(h, 'ip');
      const ip = a === undefined ? undefined : canonicalIp(a);
      if (!ip)
        throw confError('XML_DETAIL', `Missing or invalid IP address in network '${net}' DNS HOST record`);
      const hostnames = childrenNamed(h, 'hostname').map((n) => textOf(n).trim());
      if (hostnames.length === 0) {
        throw confError('XML_DETAIL', `Missing hostname in network '${net}' DNS HOST record`);
      }
      return { ip, hostnames, extra: keep(h, ['ip'], ['hostname']) };
    }),
    extra: keep(el, ['enable', 'forwardPlainNames'], ['forwarder', 'txt', 'srv', 'host']),
  };
  if (
    dns.enable === false &&
    (dns.forwarders.length || dns.txts.length || dns.srvs.length || dns.hosts.length)
  ) {
    throw confError('XML_ERROR', `Extra data in disabled network '${net}'`);
  }
  return dns;
}

/** Formats <dns>, or nothing when it carries no information. */
export function formatDns(d: NetworkDns | undefined): XmlElement | undefined {
  if (!d) return undefined;
  const empty =
    d.enable === undefined &&
    d.forwardPlainNames === undefined &&
    !d.forwarders.length &&
    !d.txts.length &&
    !d.srvs.length &&
    !d.hosts.length &&
    !d.extra;
  if (empty) return undefined;
  return elem(
    'dns',
    { enable: d.enable, forwardPlainNames: d.forwardPlainNames },
    [
      d.forwarders.map((f) => elem('forwarder', { domain: f.domain, addr: f.addr }, [], f.extra)),
      d.txts.map((t) => elem('txt', { name: t.name, value: t.value }, [], t.extra)),
      d.srvs.map((s) => {
        const { service, protocol, domain, target, port, priority, weight } = s;
        // libvirt leaves zero port/priority/weight out.
        const nz = (n: number | undefined) => n || undefined;
        const a = {
          service,
          protocol,
          domain,
          target,
          port: nz(port),
          priority: nz(priority),
          weight: nz(weight),
        };
        return elem('srv', a, [], s.extra);
      }),
      d.hosts.map((h) =>
        elem(
          'host',
          { ip: h.ip },
          h.hostnames.map((n) => textElem('hostname', n)),
          h.extra,
        ),
      ),
    ],
    d.extra,
  );
}
