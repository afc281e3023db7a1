// <forward> of a network (mode, dev, interface pool, pf, nat ranges, driver): parse and format.
import { confError } from '../../util/errors.js';
import { canonicalIp } from '../../util/ip.js';
import { attr, child, childrenNamed, cloneNode, elem, type XmlElement } from '../../util/xml.js';
import { keep, yesNo } from './keep.js';
import { normPciAddress, parsePciAddress, pciString } from './raw.js';
import { type ForwardMode, forwardModes, type NetworkForward, type NetworkNat } from './network-def.js';

function parseNat(el: XmlElement, net: string): NetworkNat {
  const nat: NetworkNat = { ipv6: yesNo(el, 'ipv6'), extra: keep(el, ['ipv6'], ['address', 'port']) };
  const addrs = childrenNamed(el, 'address');
  if (addrs.length > 1) {
    throw confError(
      'XML_ERROR',
      `Only one <address> element is allowed in <nat> in <forward> in network ${net}`,
    );
  }
  const a = addrs[0];
  if (a) {
    const ends: string[] = [];
    for (const k of ['start', 'end'] as const) {
      const v = attr(a, k);
      if (v === undefined) {
        throw confError(
          'XML_ERROR',
          `missing '${k}' attribute in <address> element in <nat> in <forward> in network ${net}`,
        );
      }
      const c = canonicalIp(v);
      if (!c?.includes('.')) {
        throw confError(
          'XML_ERROR',
          `Bad ipv4 ${k} address '${v}' in <nat> in <forward> in network '${net}'`,
        );
      }
      ends.push(c);
    }
    nat.address = { start: ends[0]!, end: ends[1]!, extra: keep(a, ['start', 'end'], []) };
  }
  const ports = childrenNamed(el, 'port');
  if (ports.length > 1) {
    throw confError(
      'XML_ERROR',
      `Only one <port> element is allowed in <nat> in <forward> in network ${net}`,
    );
  }
  const p = ports[0];
  if (p) {
    const num = (k: 'start' | 'end') => {
      const v = attr(p, k);
      const n = v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
      return n <= 65535 ? n : Number.NaN;
    };
    const start = num('start');
    const end = num('end');
    const bad = Number.isNaN(start) ? 'start' : Number.isNaN(end) || end < start ? 'end' : undefined;
    if (bad) {
      throw confError(
        'XML_DETAIL',
        `Missing or invalid '${bad}' attribute in <port> in <nat> in <forward> in network ${net}`,
      );
    }
    nat.port = { start, end, extra: keep(p, ['start', 'end'], []) };
  }
  return nat;
}

/** Parses <forward> of network `net` (structure and the checks libvirt makes while parsing it). */
export function parseForward(el: XmlElement, net: string): NetworkForward {
  const m = attr(el, 'mode') ?? 'nat';
  if (!forwardModes.includes(m as ForwardMode)) {
    throw confError('CONFIG_UNSUPPORTED', `unknown forwarding type '${m}'`);
  }
  const mode = m as ForwardMode;
  const natEls = childrenNamed(el, 'nat');
  if (natEls.length > 1)
    throw confError('XML_ERROR', `Only one <nat> element is allowed in <forward> of network ${net}`);
  if (natEls.length && mode !== 'nat') {
    throw confError(
      'XML_ERROR',
      `The <nat> element can only be used when <forward> 'mode' is 'nat' in network ${net}`,
    );
  }
  const nat = natEls[0] && parseNat(natEls[0], net);
  const dev = attr(el, 'dev');
  const pfEls = childrenNamed(el, 'pf');
  const addrEls = childrenNamed(el, 'address');
  if (dev !== undefined && (pfEls.length > 0 || addrEls.length > 0)) {
    throw confError(
      'XML_ERROR',
      `the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in network ${net}`,
    );
  }
  const interfaces: NetworkForward['interfaces'] = dev !== undefined ? [{ dev }] : [];
  for (const [i, e] of childrenNamed(el, 'interface').entries()) {
    const d = attr(e, 'dev');
    if (!d) {
      throw confError(
        'XML_ERROR',
        `Missing required dev attribute in <forward> <interface> element of network ${net}`,
      );
    }
    const extra = keep(e, ['dev'], []);
    if (i === 0 && dev !== undefined) {
      if (d !== dev) {
        throw confError(
          'XML_ERROR',
          `<forward dev='${dev}'> must match first <interface dev='${d}'/> in network ${net}`,
        );
      }
      interfaces[0]!.extra = extra;
      continue;
    }
    if (interfaces.some((x) => x.dev === d)) {
      throw confError('XML_ERROR', `interface '${d}' can only be listed once in network ${net}`);
    }
    interfaces.push({ dev: d, extra });
  }
  const seen = new Set<string>();
  const addresses = addrEls.map((a) => {
    const t = attr(a, 'type');
    if (!t) throw confError('XML_ERROR', `missing address type in network ${net}`);
    if (t !== 'pci') throw confError('CONFIG_UNSUPPORTED', `unknown address type '${t}' in network ${net}`);
    const id = pciString(parsePciAddress(a));
    if (seen.has(id))
      throw confError('XML_ERROR', `PCI device '${id}' can only be listed once in network ${net}`);
    seen.add(id);
    return normPciAddress(a);
  });
  if (pfEls.length > 1) {
    throw confError('XML_ERROR', `Only one <pf> element is allowed in <forward> of network ${net}`);
  }
  const pfs = pfEls.map((p) => {
    const d = attr(p, 'dev');
    if (!d)
      throw confError('XML_ERROR', `Missing required dev attribute in <pf> element of network '${net}'`);
    return { dev: d, extra: keep(p, ['dev'], []) };
  });
  const drv = child(el, 'driver');
  return {
    mode,
    managed: yesNo(el, 'managed'),
    interfaces,
    pfs,
    addresses,
    driver: drv && cloneNode(drv),
    nat,
    extra: keep(el, ['mode', 'dev', 'managed'], ['pf', 'interface', 'address', 'driver', 'nat']),
  };
}

/** Formats <forward>; the pool of interfaces of a hostdev/PF network is runtime data, left out when inactive. */
export function formatForward(f: NetworkForward, inactive: boolean): XmlElement {
  const dev = f.pfs.length === 0 && f.interfaces.length > 0 ? f.interfaces[0]!.dev : undefined;
  const n = f.nat;
  const nat =
    n &&
    (n.address || n.port || n.ipv6 !== undefined || n.extra) &&
    elem(
      'nat',
      { ipv6: n.ipv6 },
      [
        n.address && elem('address', { start: n.address.start, end: n.address.end }, [], n.address.extra),
        n.port && elem('port', { start: n.port.start, end: n.port.end }, [], n.port.extra),
      ],
      n.extra,
    );
  const showPool = f.pfs.length === 0 || !inactive;
  return elem(
    'forward',
    // libvirt always states managed for hostdev networks (default no).
    { dev, mode: f.mode, managed: f.mode === 'hostdev' ? (f.managed ?? false) : f.managed },
    [
      f.driver && cloneNode(f.driver),
      nat,
      f.pfs.map((p) => elem('pf', { dev: p.dev }, [], p.extra)),
      showPool && f.interfaces.map((i) => elem('interface', { dev: i.dev }, [], i.extra)),
      showPool && f.addresses.map((a) => cloneNode(a)),
    ],
    f.extra,
  );
}
