// The one wrapper around the XML library (saxes): a small ordered element tree, a hardened parser,
// a serializer in libvirt's output style, and helpers that keep unknown parts for lossless round trips.
import { SaxesParser } from 'saxes';
import { VirError } from './errors.js';

export interface XmlElement {
  type: 'element';
  name: string;
  /** Attributes in document order (JS objects keep insertion order for non-numeric keys). */
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Written as an open/close pair even when empty (libvirt does so for <devices>). */
  open?: boolean;
}
export interface XmlText {
  type: 'text';
  text: string;
  cdata?: boolean;
}
export interface XmlComment {
  type: 'comment';
  text: string;
}
export type XmlNode = XmlElement | XmlText | XmlComment;

export interface ParseLimits {
  /** Largest accepted document, in characters (default 16 MiB). */
  maxLength?: number;
  /** Deepest accepted element nesting (default 256, as libxml2 without XML_PARSE_HUGE). */
  maxDepth?: number;
}

function xmlError(message: string): VirError {
  return new VirError('XML_ERROR', `XML error: ${message}`, { domain: 'XML' });
}

/**
 * Parses an XML document into a tree and returns its root element.
 * Never reads external entities: any DOCTYPE is refused, so neither external entities nor
 * entity-expansion bombs can be declared. Whitespace-only text between elements is dropped.
 * @throws VirError XML_ERROR for malformed, oversized or too deeply nested input.
 */
export function parseXml(text: string, limits: ParseLimits = {}): XmlElement {
  const maxLength = limits.maxLength ?? 16 * 1024 * 1024;
  const maxDepth = limits.maxDepth ?? 256;
  if (typeof text !== 'string') throw xmlError('document is not a string');
  if (text.length > maxLength) {
    throw xmlError(`document is ${text.length} characters, more than the limit of ${maxLength}`);
  }
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: VirError | undefined;
  const fail = (e: VirError) => {
    if (!failure) failure = e;
    throw e;
  };
  parser.on('error', (err) => fail(xmlError(`malformed document: ${err.message}`)));
  parser.on('doctype', () =>
    fail(xmlError(`line ${parser.line}: a DOCTYPE is not allowed (tvirt never reads DTDs or entities)`)),
  );
  parser.on('opentag', (tag) => {
    if (stack.length >= maxDepth) {
      fail(xmlError(`line ${parser.line}: elements nested deeper than ${maxDepth} levels`));
    }
    const el: XmlElement = {
      type: 'element',
      name: tag.name,
      attrs: tag.attributes as Record<string, string>,
      children: [],
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    const el = stack.pop()!;
    const kids = el.children;
    if (kids.length > 1 && kids.some((k) => k.type === 'element')) {
      el.children = kids.filter((k) => k.type !== 'text' || k.cdata || k.text.trim() !== '');
    }
  });
  parser.on('text', (t) => {
    const parent = stack[stack.length - 1];
    if (!parent) return; // whitespace outside the root element
    const last = parent.children[parent.children.length - 1];
    if (last && last.type === 'text' && !last.cdata) last.text += t;
    else parent.children.push({ type: 'text', text: t });
  });
  parser.on('cdata', (t) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push({ type: 'text', text: t, cdata: true });
  });
  parser.on('comment', (t) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push({ type: 'comment', text: t });
  });
  try {
    parser.write(text).close();
  } catch (e) {
    if (failure) throw failure;
    throw xmlError(`malformed document: ${(e as Error).message}`);
  }
  if (!root) throw xmlError('document has no root element');
  return root;
}

/** Parses `text` and checks that its root element is `<expected>`. */
export function parseRoot(text: string, expected: string, limits?: ParseLimits): XmlElement {
  const root = parseXml(text, limits);
  if (root.name !== expected) {
    throw xmlError(`unexpected root element <${root.name}>, expecting <${expected}>`);
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// Reading helpers

export function attr(el: XmlElement, name: string): string | undefined {
  return el.attrs[name];
}
export function child(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (c.type === 'element' && c.name === name) return c;
  return undefined;
}
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.type === 'element' && c.name === name) out.push(c);
  return out;
}
export function elementChildren(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.type === 'element') out.push(c);
  return out;
}
/** The concatenated text content directly inside `el`. */
export function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) if (c.type === 'text') s += c.text;
  return s;
}
/** Text of the first child named `name`, or undefined when there is none. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c ? textOf(c) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Keeping what we do not model

/** Unknown attributes and child nodes of an element, kept to be written back in place. */
export interface Extra {
  attrs?: [string, string][];
  /** Each unknown child with the name of the element sibling that preceded it in the input. */
  children?: { node: XmlNode; after?: string }[];
}

/**
 * Collects the attributes and children of `el` that are not listed as known, so that a formatter
 * can write them back where they were. Returns undefined when there is nothing unknown.
 */
export function unknownParts(
  el: XmlElement,
  knownAttrs: readonly string[],
  knownChildren: readonly string[],
): Extra | undefined {
  let extra: Extra | undefined;
  for (const k in el.attrs) {
    if (!knownAttrs.includes(k)) {
      extra ??= {};
      (extra.attrs ??= []).push([k, el.attrs[k]!]);
    }
  }
  let after: string | undefined;
  for (const c of el.children) {
    if (c.type === 'element') {
      if (!knownChildren.includes(c.name)) {
        extra ??= {};
        (extra.children ??= []).push(after === undefined ? { node: c } : { node: c, after });
      }
      after = c.name;
    } else if (
      c.type === 'comment' ||
      (c.type === 'text' && (c.cdata || c.text.trim() !== '') && knownChildren.length > 0)
    ) {
      extra ??= {};
      (extra.children ??= []).push(after === undefined ? { node: c } : { node: c, after });
    }
  }
  return extra;
}

/** Merges two Extras (either may be undefined). */
export function mergeExtras(a: Extra | undefined, b: Extra | undefined): Extra | undefined {
  if (!a) return b;
  if (!b) return a;
  return {
    attrs: [...(a.attrs ?? []), ...(b.attrs ?? [])],
    children: [...(a.children ?? []), ...(b.children ?? [])],
  };
}

// ---------------------------------------------------------------------------------------------
// Building

export type AttrValue = string | number | boolean | undefined | null;
export type ChildSpec = XmlNode | undefined | null | false | ChildSpec[];

function pushChildren(out: XmlNode[], spec: ChildSpec): void {
  if (spec === undefined || spec === null || spec === false) return;
  if (Array.isArray(spec)) for (const s of spec) pushChildren(out, s);
  else out.push(spec);
}

/**
 * Builds an element. Attributes whose value is undefined/null are left out; booleans become
 * 'yes'/'no'. `extra` (from unknownParts) is merged: unknown attributes after known ones,
 * unknown children after the sibling they followed in the input.
 */
export function elem(
  name: string,
  attrs?: Record<string, AttrValue>,
  children?: ChildSpec,
  extra?: Extra,
): XmlElement {
  const a: Record<string, string> = {};
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v === undefined || v === null) continue;
      a[k] = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
    }
  }
  const kids: XmlNode[] = [];
  if (children !== undefined) pushChildren(kids, children);
  const el: XmlElement = { type: 'element', name, attrs: a, children: kids };
  if (extra) applyExtra(el, extra);
  return el;
}

/** An element holding only text, or undefined when value is undefined. */
export function textElem(
  name: string,
  value: string | number | undefined,
  attrs?: Record<string, AttrValue>,
) {
  if (value === undefined) return undefined;
  return elem(name, attrs, [{ type: 'text', text: String(value) }]);
}

/** Writes unknown attributes and children back into a built element. */
export function applyExtra(el: XmlElement, extra: Extra): void {
  if (extra.attrs) for (const [k, v] of extra.attrs) if (!(k in el.attrs)) el.attrs[k] = v;
  if (!extra.children) return;
  for (const { node, after } of extra.children) {
    if (after === undefined) {
      // It came first in the input: put it before the first element we emit, after earlier extras.
      let i = 0;
      while (i < el.children.length && isExtraPlaced(el.children[i]!)) i++;
      el.children.splice(i, 0, mark(node));
      continue;
    }
    let idx = -1;
    for (let i = el.children.length - 1; i >= 0; i--) {
      const c = el.children[i]!;
      if (c.type === 'element' && c.name === after) {
        idx = i;
        break;
      }
    }
    if (idx < 0) el.children.push(mark(node));
    else {
      let j = idx + 1;
      while (j < el.children.length && isExtraPlaced(el.children[j]!)) j++;
      el.children.splice(j, 0, mark(node));
    }
  }
  for (const c of el.children) placed.delete(c);
}

const placed = new WeakSet<XmlNode>();
function mark(n: XmlNode): XmlNode {
  placed.add(n);
  return n;
}
function isExtraPlaced(n: XmlNode): boolean {
  return placed.has(n);
}

// ---------------------------------------------------------------------------------------------
// Serializing, in libvirt's style: two-space indent, single-quoted attributes.

const escRe = /[&<>'"]/g;
const escMap: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  "'": '&apos;',
  '"': '&quot;',
};
export function escapeXml(s: string): string {
  return s.replace(escRe, (c) => escMap[c]!);
}
// libvirt escapes quotes in text too (virBufferEscapeString), e.g. <cookie>&quot;x&quot;</cookie>.
const textEscRe = /[&<>'"]/g;
function escapeText(s: string): string {
  return s.replace(textEscRe, (c) => escMap[c]!);
}

function openTag(el: XmlElement): string {
  let s = '<' + el.name;
  for (const k in el.attrs) s += ' ' + k + "='" + escapeXml(el.attrs[k]!) + "'";
  return s;
}

function nodeInline(n: XmlNode): string {
  if (n.type === 'text') return n.cdata ? `<![CDATA[${n.text}]]>` : escapeText(n.text);
  if (n.type === 'comment') return `<!--${n.text}-->`;
  if (n.children.length === 0) return openTag(n) + '/>';
  let s = openTag(n) + '>';
  for (const c of n.children) s += nodeInline(c);
  return s + '</' + n.name + '>';
}

function serializeInto(n: XmlNode, indent: string, out: string[]): void {
  if (n.type !== 'element') {
    out.push(indent + nodeInline(n));
    return;
  }
  const kids = n.children;
  if (kids.length === 0) {
    if (n.open) out.push(indent + openTag(n) + '>', indent + '</' + n.name + '>');
    else out.push(indent + openTag(n) + '/>');
    return;
  }
  let hasElement = false;
  let hasText = false;
  for (const c of kids) {
    if (c.type === 'element') hasElement = true;
    else if (c.type === 'text') hasText = true;
  }
  if (!hasElement || hasText) {
    // Text-only or mixed content: written inline so that the text stays exactly as it is.
    out.push(indent + nodeInline(n));
    return;
  }
  out.push(indent + openTag(n) + '>');
  const inner = indent + '  ';
  for (const c of kids) serializeInto(c, inner, out);
  out.push(indent + '</' + n.name + '>');
}

/** Serializes an element (and its subtree) as libvirt formats XML, ending with a newline. */
export function formatXml(root: XmlElement, indent = ''): string {
  const out: string[] = [];
  serializeInto(root, indent, out);
  return out.join('\n') + '\n';
}

/** Deep copy of a node. */
export function cloneNode<T extends XmlNode>(n: T): T {
  if (n.type !== 'element') return { ...n };
  return { type: 'element', name: n.name, attrs: { ...n.attrs }, children: n.children.map(cloneNode) } as T;
}
