// Small typed readers shared by the domain parsers: numbers, enums, yes/no, and error helpers.
import { confError } from '../../util/errors.js';
import type { XmlElement } from '../../util/xml.js';

/** Raises libvirt's XML_ERROR with a message naming the element and the problem. */
export function xmlErr(msg: string): never {
  throw confError('XML_ERROR', msg);
}
/** Raises CONFIG_UNSUPPORTED (a value libvirt knows as invalid for the element). */
export function unsupported(msg: string): never {
  throw confError('CONFIG_UNSUPPORTED', msg);
}

const uintRe = /^[0-9]+$/;
const intRe = /^-?[0-9]+$/;

/** Reads an unsigned integer attribute (decimal; 0x... hex accepted as libvirt's strtoul does). */
export function uintAttr(el: XmlElement, name: string): number | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  return parseUint(v, `attribute '${name}' of element '${el.name}'`);
}
export function parseUint(v: string, what: string): number {
  const t = v.trim();
  if (uintRe.test(t)) {
    const n = Number(t);
    if (Number.isSafeInteger(n)) return n;
  } else if (/^0x[0-9a-fA-F]+$/.test(t)) {
    return Number.parseInt(t.slice(2), 16);
  }
  return xmlErr(`Invalid value '${v}' for ${what}: expected a non-negative integer`);
}
export function intAttr(el: XmlElement, name: string): number | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!intRe.test(t)) xmlErr(`Invalid value '${v}' for attribute '${name}' of element '${el.name}'`);
  return Number(t);
}

/** Reads an enumerated attribute; an unknown value is an error naming the element. */
export function enumAttr<T extends string>(
  el: XmlElement,
  name: string,
  values: readonly T[],
  what?: string,
): T | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) {
    unsupported(`unknown ${what ?? `${el.name} ${name}`} '${v}'`);
  }
  return v as T;
}

/** yes/no attribute as a boolean. */
export function yesNoAttr(el: XmlElement, name: string): boolean | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return xmlErr(
    `Invalid value '${v}' for attribute '${name}' of element '${el.name}': expected 'yes' or 'no'`,
  );
}
/** on/off attribute as a boolean. */
export function onOffAttr(el: XmlElement, name: string): boolean | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (v === 'on') return true;
  if (v === 'off') return false;
  return xmlErr(
    `Invalid value '${v}' for attribute '${name}' of element '${el.name}': expected 'on' or 'off'`,
  );
}
export function onOff(v: boolean | undefined): string | undefined {
  return v === undefined ? undefined : v ? 'on' : 'off';
}
export function yesNo(v: boolean | undefined): string | undefined {
  return v === undefined ? undefined : v ? 'yes' : 'no';
}

/** Reorders an element's attributes: names in `order` first, in that order, then the others as they were. */
export function orderAttrs(el: XmlElement, order: readonly string[]): XmlElement {
  const a = el.attrs;
  const out: Record<string, string> = {};
  for (const k of order) if (k in a) out[k] = a[k]!;
  for (const k in a) if (!(k in out)) out[k] = a[k]!;
  el.attrs = out;
  return el;
}
/** libvirt writes virtio options (iommu, ats, packed, page_per_vq) in this order. */
export const VIRTIO_OPTS = ['iommu', 'ats', 'packed', 'page_per_vq'];
