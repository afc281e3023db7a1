// Verbatim sub-elements libvirt re-formats in a fixed shape: virtualport, bandwidth, PCI addresses.
import { confError } from '../../util/errors.js';
import { cloneNode, type XmlElement } from '../../util/xml.js';

/** A copy of `el` with the listed attributes first, in that order (others keep theirs, after). */
export function orderAttrs(el: XmlElement, order: readonly string[]): XmlElement {
  const c = cloneNode(el);
  const attrs: Record<string, string> = {};
  for (const k of order) if (k in c.attrs) attrs[k] = c.attrs[k]!;
  for (const k in c.attrs) if (!(k in attrs)) attrs[k] = c.attrs[k]!;
  c.attrs = attrs;
  return c;
}

function mapChildren(el: XmlElement, f: (c: XmlElement) => XmlElement): XmlElement {
  return { ...el, children: el.children.map((c) => (c.type === 'element' ? f(c) : c)) };
}

/** <virtualport> with <parameters> attributes in libvirt's order (virNetDevVPortProfileFormat). */
export function normVirtualport(el: XmlElement): XmlElement {
  const order = ['managerid', 'typeid', 'typeidversion', 'instanceid', 'profileid', 'interfaceid'];
  return mapChildren(orderAttrs(el, ['type']), (c) => (c.name === 'parameters' ? orderAttrs(c, order) : c));
}

/** <bandwidth> with rate attributes in libvirt's order (virNetDevBandwidthRateFormat). */
export function normBandwidth(el: XmlElement): XmlElement {
  const order = ['average', 'peak', 'floor', 'burst'];
  return mapChildren(cloneNode(el), (c) =>
    c.name === 'inbound' || c.name === 'outbound' ? orderAttrs(c, order) : c,
  );
}

/** A PCI address: domain, bus, slot, function as numbers. */
export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

function num(v: string | undefined, max: number, what: string): number {
  if (v === undefined) return 0;
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (Number.isNaN(n) || n > max)
    throw confError('XML_ERROR', `Invalid PCI address ${what}='${v}', must be <= ${max}`);
  return n;
}

/** Reads a <address type='pci'> element (virPCIDeviceAddressParseXML). */
export function parsePciAddress(el: XmlElement): PciAddress {
  return {
    domain: num(el.attrs.domain, 0xffffffff, 'domain'),
    bus: num(el.attrs.bus, 0xff, 'bus'),
    slot: num(el.attrs.slot, 0x1f, 'slot'),
    function: num(el.attrs.function, 7, 'function'),
  };
}

const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}`;

/** The PCI address as libvirt prints it: 0000:03:00.1. */
export function pciString(a: PciAddress): string {
  return `${hex(a.domain, 4).slice(2)}:${hex(a.bus, 2).slice(2)}:${hex(a.slot, 2).slice(2)}.${a.function.toString(16)}`;
}

/** A PCI <address> element with libvirt's widths, keeping unknown attributes after. */
export function normPciAddress(el: XmlElement): XmlElement {
  const a = parsePciAddress(el);
  const c = orderAttrs(el, ['type', 'domain', 'bus', 'slot', 'function']);
  c.attrs.domain = hex(a.domain, 4);
  c.attrs.bus = hex(a.bus, 2);
  c.attrs.slot = hex(a.slot, 2);
  c.attrs.function = `0x${a.function.toString(16)}`;
  return c;
}
