// `--validate` without a RelaxNG engine: every element and attribute of the document must be one that
// libvirt's schema allows where it stands. The names come from libvirt's schemas (schema-names.ts,
// generated); values, order and counts are left to the parsers, which check them with libvirt's errors.
import { VirError } from '../util/errors.js';
import { parseXml, type XmlElement } from '../util/xml.js';
import { schemaNames } from './schema-names.js';

/** The object kinds, by the name of libvirt's schema for each. */
export type SchemaKind = keyof typeof schemaNames;

/** One element definition: the attributes it may carry and, per child name, the definitions a child may match. */
interface ElementDef {
  name: string;
  /** Takes any attributes and content (<metadata> children, customElement). */
  any: boolean;
  attrs: Set<string>;
  children: Map<string, number[]>;
}
interface Table {
  start: number[];
  defs: ElementDef[];
}

const tables = new Map<SchemaKind, Table>();

function table(kind: SchemaKind): Table {
  let t = tables.get(kind);
  if (t) return t;
  const [start, ...lines] = schemaNames[kind].split('\n');
  t = {
    start: start!.split('.').map(Number),
    defs: lines.map((line) => {
      if (line === '*') return { name: '*', any: true, attrs: new Set(), children: new Map() };
      const [name, attrs, children] = line.split('|') as [string, string, string];
      return {
        name,
        any: false,
        attrs: new Set(attrs ? attrs.split(',') : []),
        children: new Map(
          (children ? children.split(',') : []).map((c) => {
            const eq = c.lastIndexOf('=');
            return [
              c.slice(0, eq),
              c
                .slice(eq + 1)
                .split('.')
                .map(Number),
            ] as [string, number[]];
          }),
        ),
      };
    }),
  };
  tables.set(kind, t);
  return t;
}

/** One element or attribute the schema rejects. */
export interface SchemaProblem {
  /** Path of the element that holds it: /domain/devices/disk[2]. */
  path: string;
  kind: 'element' | 'attribute';
  /** The element's or attribute's name as written. */
  name: string;
}

/** The schema's name for an element: `{namespace}local` when it has a declared prefix. */
function schemaName(name: string, scope: Map<string, string>): string {
  const colon = name.indexOf(':');
  if (colon < 0) return scope.get('') ? `{${scope.get('')}}${name}` : name;
  const ns = scope.get(name.slice(0, colon));
  return ns === undefined ? name : `{${ns}}${name.slice(colon + 1)}`;
}

/** The namespace prefixes in scope inside `el` ('' for a default namespace). */
function scopeOf(el: XmlElement, outer: Map<string, string>): Map<string, string> {
  let scope = outer;
  for (const k in el.attrs) {
    if (k !== 'xmlns' && !k.startsWith('xmlns:')) continue;
    if (scope === outer) scope = new Map(outer);
    scope.set(k === 'xmlns' ? '' : k.slice(6), el.attrs[k]!);
  }
  return scope;
}

/**
 * The elements and attributes of `root` that libvirt's schema for `kind` does not allow where they
 * stand, in document order. Namespace declarations are not attributes. Returns undefined when the
 * root element is not one the schema starts with (the parser reports a wrong root itself).
 */
export function schemaProblems(kind: SchemaKind, root: XmlElement): SchemaProblem[] | undefined {
  const t = table(kind);
  const problems: SchemaProblem[] = [];
  const walk = (el: XmlElement, ids: number[], path: string, scope: Map<string, string>) => {
    const defs = ids.map((i) => t.defs[i]!);
    if (defs.some((d) => d.any)) return;
    for (const k in el.attrs) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
      if (!defs.some((d) => d.attrs.has(k) || d.attrs.has('*')))
        problems.push({ path, kind: 'attribute', name: k });
    }
    const count = new Map<string, number>();
    for (const c of el.children) if (c.type === 'element') count.set(c.name, (count.get(c.name) ?? 0) + 1);
    const seen = new Map<string, number>();
    for (const c of el.children) {
      if (c.type !== 'element') continue;
      const inner = scopeOf(c, scope);
      const n = schemaName(c.name, inner);
      const next = new Set<number>();
      for (const d of defs)
        for (const i of [...(d.children.get(n) ?? []), ...(d.children.get('*') ?? [])]) next.add(i);
      if (next.size === 0) {
        problems.push({ path, kind: 'element', name: c.name });
        continue;
      }
      const i = (seen.get(c.name) ?? 0) + 1;
      seen.set(c.name, i);
      walk(c, [...next], `${path}/${c.name}${count.get(c.name)! > 1 ? `[${i}]` : ''}`, inner);
    }
  };
  const scope = scopeOf(root, new Map());
  const start = t.start.filter((i) => t.defs[i]!.name === schemaName(root.name, scope));
  if (start.length === 0) return undefined;
  walk(root, start, `/${root.name}`, scope);
  return problems;
}

/** libxml2's line for a problem, with the holding element's path in place of its bare name. */
export function problemText(p: SchemaProblem): string {
  return p.kind === 'attribute'
    ? `Invalid attribute ${p.name} for element ${p.path}`
    : `Element ${p.path} has extra content: ${p.name}`;
}

/**
 * `--validate`: throws XML_INVALID_SCHEMA, with virsh's message shape, when `xml` holds an element
 * or attribute libvirt's schema for `kind` does not allow where it stands. A malformed document
 * fails with the parser's XML_ERROR; a wrong root element is left to the definition's parser.
 */
export function validateSchema(kind: SchemaKind, xml: string): void {
  const problems = schemaProblems(kind, parseXml(xml));
  if (!problems || problems.length === 0) return;
  throw new VirError(
    'XML_INVALID_SCHEMA',
    `XML document failed to validate against schema: Unable to validate doc against the ${kind} schema\n${problems.map(problemText).join('\n')}\n`,
    { domain: 'XML' },
  );
}
