// Small XML helpers shared by the network and storage layers: extras without comments, libvirt's empty pairs.
import { confError } from '../../util/errors.js';
import { type Extra, unknownParts, type XmlElement } from '../../util/xml.js';

/**
 * unknownParts() minus comments: libvirt drops comments when it parses a definition, and the
 * fixtures expect that; unknown elements and attributes are kept.
 */
export function keep(
  el: XmlElement,
  attrs: readonly string[],
  children: readonly string[],
): Extra | undefined {
  const x = unknownParts(el, attrs, children);
  if (!x) return undefined;
  const kids = x.children?.filter((c) => c.node.type !== 'comment');
  if (!x.attrs && (!kids || kids.length === 0)) return undefined;
  const out: Extra = {};
  if (x.attrs) out.attrs = x.attrs;
  if (kids && kids.length > 0) out.children = kids;
  return out;
}

/**
 * libvirt writes some elements as an open/close pair even when empty (`<ip ...>\n  </ip>`):
 * give an empty element a whitespace text so formatXml does the same at `depth`.
 */
export function pair(el: XmlElement, depth: number): XmlElement {
  if (el.children.length === 0) el.children.push({ type: 'text', text: `\n${'  '.repeat(depth)}` });
  return el;
}

/** Reads a yes/no attribute (libvirt's virTristateBool); undefined when absent. */
export function yesNo(el: XmlElement, name: string, what = el.name): boolean | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (v === 'yes') return true;
  if (v === 'no') return false;
  throw confError(
    'XML_ERROR',
    `Invalid value for attribute '${name}' in element '${what}': '${v}'. Expected 'yes' or 'no'`,
  );
}

/** Reads an on/off attribute (virTristateSwitch). */
export function onOff(el: XmlElement, name: string): boolean | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw confError(
    'XML_ERROR',
    `Invalid value for attribute '${name}' in element '${el.name}': '${v}'. Expected 'on' or 'off'`,
  );
}

/** Parses an unsigned decimal attribute/text, with libvirt's message on failure. */
export function uint(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw confError('XML_ERROR', `Invalid value for ${what}: '${text}'. Expected a non-negative integer`);
  }
  return Number(t);
}
