// <forward> of a network (mode, dev, interface pool, pf, nat ranges, driver): parse and format.
import { confError } from '../../util/errors.js';
import { canonicalIp } from '../../util/ip.js';
import { attr, child, childrenNamed, cloneNode, elem, type XmlElement } from '../../util/xml.js';
import { keep, uint, yesNo } from './keep.js';
import { type ForwardMode, forwardModes, type NetworkForward, type NetworkNat } from './network-def.js';

function parseNat(el: XmlElement, net: string): NetworkNat {
  const nat: NetworkNat = { ipv6: yesNo(el, 'ipv6'), extra: keep(el, ['ipv6'], ['address', 'port']) };
  const a = child(el, 'address');
  if (a) {
    const s = attr(a, 'start');
    const e = attr(a, 'end');
    const start = s === undefined ? undefined : canonicalIp(s);
    const end = e === undefined ? undefined : canonicalIp(e);
    if (!start || !end) {
      throw confError('XML_ERROR', `Bad ipv4 start or end address in <nat> in <forward> in network '${net}'`);
    }
    nat.address = { start, end, extra: keep(a, ['start', 'end'], []) };
  }
  const p = child(el, 'port');
  if (p) {
    const start = uint(attr(p, 'start'), `nat port start of network '${net}'`) ?? 0;
    const end = uint(attr(p, 'end'), `nat port end of network '${net}'`) ?? 0;
    nat.port = { start, end, extra: keep(p, ['start', 'end'], []) };
  }
  return nat;
}

/** Parses <forward> of network `net` (structure and the checks libvirt makes while parsing it). */
export function parseForward(el: XmlElement, net: string): NetworkForward {
  const m = attr(el, 'mode') ?? 'nat';
  if (!forwardModes.includes(m as ForwardMode)) {
    throw confError('XML_ERROR', `unknown forwarding type '${m}'`);
  }
  const mode = m as ForwardMode;
  const dev = attr(el, 'dev');
  const pfEls = childrenNamed(el, 'pf');
  if (pfEls.length > 1) {
    throw confError('XML_ERROR', 'Only one <pf> element is allowed in <forward> of network ' + `'${net}'`);
  }
  const pfs = pfEls.map((p) => {
    const d = attr(p, 'dev');
    if (!d)
      throw confError('XML_ERROR', `Missing required dev attribute in <pf> element of network '${net}'`);
    return { dev: d, extra: keep(p, ['dev'], []) };
  });
  if (pfs.length > 0 && dev !== undefined) {
    throw confError(
      'XML_ERROR',
      `A forward Dev should not be used when using a SRIOV PF in network '${net}'`,
    );
  }
  const interfaces: NetworkForward['interfaces'] = [];
  for (const [i, e] of childrenNamed(el, 'interface').entries()) {
    const d = attr(e, 'dev');
    if (!d) {
      throw confError(
        'XML_ERROR',
        `Missing required dev attribute in <forward> <interface> element of network '${net}'`,
      );
    }
    if (i === 0 && dev !== undefined && d !== dev) {
      throw confError(
        'XML_ERROR',
        `forward dev '${dev}' must match first interface element dev '${d}' in network '${net}'`,
      );
    }
    if (interfaces.some((x) => x.dev === d)) {
      throw confError('XML_ERROR', `Duplicate forward interface '${d}' in network '${net}'`);
    }
    interfaces.push({ dev: d, extra: keep(e, ['dev'], []) });
  }
  if (interfaces.length === 0 && dev !== undefined) interfaces.push({ dev });
  const addresses = childrenNamed(el, 'address').map((a) => cloneNode(a));
  if (interfaces.length > 0 && addresses.length > 0) {
    throw confError(
      'XML_ERROR',
      `<address>, <interface>, and <pf> elements of <forward> in network '${net}' are mutually exclusive`,
    );
  }
  const drv = child(el, 'driver');
  const nat = child(el, 'nat');
  if (nat && mode !== 'nat') {
    throw confError(
      'XML_ERROR',
      `The <nat> element can only be used when <forward> 'mode' is 'nat' in network '${net}'`,
    );
  }
  return {
    mode,
    managed: yesNo(el, 'managed'),
    interfaces,
    pfs,
    addresses,
    driver: drv && cloneNode(drv),
    nat: nat && parseNat(nat, net),
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
    { dev, mode: f.mode, managed: f.managed },
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
