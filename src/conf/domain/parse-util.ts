// Small typed readers shared by the domain parsers: numbers, enums, yes/no, and error helpers.
import { confError, type ErrorCode, type VirError } from '../../util/errors.js';
import type { XmlElement } from '../../util/xml.js';

/**
 * libvirt's message prefix for each error code (virErrorMsg): the domain layer's messages are the
 * text virsh prints after "error: ", so a CLI, API or driver never has to add one.
 */
const PREFIX: Partial<Record<ErrorCode, string>> = {
  XML_ERROR: 'XML error: ',
  CONFIG_UNSUPPORTED: 'unsupported configuration: ',
  INTERNAL_ERROR: 'internal error: ',
  INVALID_ARG: 'invalid argument: ',
};
/** A CONF-domain VirError with libvirt's prefix for `code` added to `msg` (once). */
export function domErr(code: ErrorCode, msg: string): VirError {
  const p = PREFIX[code];
  return confError(code, p && !msg.startsWith(p) ? p + msg : msg);
}
/** Raises libvirt's XML_ERROR: "XML error: <msg>". */
export function xmlErr(msg: string): never {
  throw domErr('XML_ERROR', msg);
}
/** Raises CONFIG_UNSUPPORTED: "unsupported configuration: <msg>". */
export function unsupported(msg: string): never {
  throw domErr('CONFIG_UNSUPPORTED', msg);
}
/** Raises INTERNAL_ERROR: "internal error: <msg>" (libvirt uses it for some missing values). */
export function internalErr(msg: string): never {
  throw domErr('INTERNAL_ERROR', msg);
}
/** virXMLPropEnum's error for a value outside the enum. */
export function invalidAttr(el: XmlElement, name: string, v = el.attrs[name] ?? ''): never {
  return xmlErr(`Invalid value for attribute '${name}' in element '${el.name}': '${v}'.`);
}
/** virXMLProp*'s error for a required attribute that is absent. */
export function missingAttr(el: XmlElement, name: string): never {
  return xmlErr(`Missing required attribute '${name}' in element '${el.name}'`);
}

const uintRe = /^[0-9]+$/;
const intRe = /^-?[0-9]+$/;

/** Reads an unsigned integer attribute (decimal; 0x... hex accepted as libvirt's strtoul does). */
export function uintAttr(el: XmlElement, name: string): number | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  const n = parseUintValue(v);
  if (n === undefined) {
    xmlErr(
      `Invalid value for attribute '${name}' in element '${el.name}': '${v}'. Expected non-negative integer value`,
    );
  }
  return n;
}
/** A non-negative integer (decimal or 0x hex), or undefined when `v` is not one. */
export function parseUintValue(v: string): number | undefined {
  const t = v.trim();
  if (uintRe.test(t)) {
    const n = Number(t);
    if (Number.isSafeInteger(n)) return n;
  } else if (/^0x[0-9a-fA-F]+$/.test(t)) {
    return Number.parseInt(t.slice(2), 16);
  }
  return undefined;
}
export function intAttr(el: XmlElement, name: string): number | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!intRe.test(t))
    xmlErr(`Invalid value for attribute '${name}' in element '${el.name}': '${v}'. Expected integer value`);
  return Number(t);
}

/** virXMLPropInt with VIR_XML_PROP_NONNEGATIVE: an integer attribute that must not be negative. */
export function nonNegIntAttr(el: XmlElement, name: string): number | undefined {
  const v = intAttr(el, name);
  if (v !== undefined && v < 0)
    xmlErr(
      `Invalid value for attribute '${name}' in element '${el.name}': '${el.attrs[name]}'. Expected non-negative value`,
    );
  return v;
}

/**
 * Reads an enumerated attribute. An unknown value is libvirt's error for that attribute: by default
 * virXMLPropEnum's XML_ERROR ("Invalid value for attribute 'x' in element 'y': 'v'."); with
 * `unknown`, CONFIG_UNSUPPORTED with that text, '%s' standing for the value (the parsers that still
 * use virDomain*TypeFromString, e.g. "unknown watchdog model '%s'").
 */
export function enumAttr<T extends string>(
  el: XmlElement,
  name: string,
  values: readonly T[],
  unknown?: string,
): T | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) {
    if (unknown === undefined) invalidAttr(el, name, v);
    unsupported(unknown.replace('%s', v));
  }
  return v as T;
}

/** yes/no attribute as a boolean. */
export function yesNoAttr(el: XmlElement, name: string): boolean | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return invalidAttr(el, name, v);
}
/** on/off attribute as a boolean. */
export function onOffAttr(el: XmlElement, name: string): boolean | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (v === 'on') return true;
  if (v === 'off') return false;
  return invalidAttr(el, name, v);
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
