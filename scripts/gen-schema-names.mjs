// Distils libvirt's RelaxNG schemas into the names table of src/conf/schema-names.ts: for every
// element definition reachable from a schema's start, the attribute names it may carry and, per
// child element name, the definitions that child may match. Values, order and counts are left out.
// Usage: npm run build, then node scripts/gen-schema-names.mjs [SCHEMAS_DIR] > src/conf/schema-names.ts
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseXml } from '../dist/src/util/xml.js';

const dir = resolve(
  process.argv[2] ?? join(import.meta.dirname, '..', '..', 'shared', 'libvirt-testdata', 'schemas'),
);
const TOPS = {
  domain: 'domain.rng',
  network: 'network.rng',
  storagepool: 'storagepool.rng',
  storagevol: 'storagevol.rng',
};

const kids = (el) => el.children.filter((c) => c.type === 'element');
const text = (el) =>
  el.children
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('')
    .trim();

/** Loads a grammar and its includes: defines (name -> bodies), start bodies, ns of each element node. */
function loadGrammar(file) {
  const defines = new Map();
  const starts = [];
  const nsOf = new WeakMap();
  const seen = new Set();
  const load = (f, overridden = new Set()) => {
    if (seen.has(f)) return;
    seen.add(f);
    const root = parseXml(readFileSync(join(dir, f), 'utf8'));
    const annotate = (el, ns) => {
      const n = el.attrs.ns ?? ns;
      nsOf.set(el, n);
      for (const c of kids(el)) annotate(c, n);
    };
    annotate(root, '');
    for (const c of kids(root)) {
      if (c.name === 'include') {
        const inner = new Set(
          kids(c)
            .filter((d) => d.name === 'define')
            .map((d) => d.attrs.name),
        );
        for (const d of kids(c)) if (d.name === 'define') addDefine(d);
        load(c.attrs.href, inner);
      } else if (c.name === 'define' && !overridden.has(c.attrs.name)) addDefine(c);
      else if (c.name === 'start') starts.push(c);
    }
  };
  const addDefine = (d) => {
    const list = defines.get(d.attrs.name) ?? [];
    list.push(d);
    defines.set(d.attrs.name, list);
  };
  load(file);
  return { defines, starts, nsOf };
}

function nameOf(el, nsOf) {
  if (el.attrs.name !== undefined) {
    const ns = nsOf.get(el) ?? '';
    return ns && el.name === 'element' ? `{${ns}}${el.attrs.name}` : el.attrs.name;
  }
  const n = kids(el).find(
    (c) => c.name === 'name' || c.name === 'anyName' || c.name === 'nsName' || c.name === 'choice',
  );
  if (n?.name !== 'name') return '*';
  const ns = n.attrs.ns ?? nsOf.get(n) ?? '';
  return ns && el.name === 'element' ? `{${ns}}${text(n)}` : text(n);
}

/** The table for one top schema. Definitions are numbered from 0; `start` lists the root ones. */
function table(file) {
  const { defines, starts, nsOf } = loadGrammar(file);
  const ids = new Map();
  const defs = [];
  const idOf = (el) => {
    let id = ids.get(el);
    if (id === undefined) {
      id = defs.length;
      ids.set(el, id);
      defs.push(null);
      defs[id] = describe(el);
    }
    return id;
  };
  const collect = (node, acc, refs) => {
    for (const c of kids(node)) {
      switch (c.name) {
        case 'element':
          acc.children.push(c);
          break;
        case 'attribute':
          acc.attrs.add(nameOf(c, nsOf));
          break;
        case 'ref':
        case 'parentRef':
          if (!refs.has(c.attrs.name)) {
            refs.add(c.attrs.name);
            const bodies = defines.get(c.attrs.name);
            if (!bodies) throw new Error(`${file}: no define ${c.attrs.name}`);
            for (const b of bodies) collect(b, acc, refs);
          }
          break;
        case 'name':
        case 'anyName':
        case 'nsName':
        case 'data':
        case 'value':
        case 'text':
        case 'empty':
        case 'notAllowed':
        case 'param':
        case 'except':
          break;
        default:
          collect(c, acc, refs);
      }
    }
  };
  const describe = (el) => {
    const name = nameOf(el, nsOf);
    if (name === '*') return { name, any: true };
    const acc = { attrs: new Set(), children: [] };
    collect(el, acc, new Set());
    return { name, acc };
  };
  const startEls = [];
  for (const s of starts) collect(s, { attrs: new Set(), children: startEls }, new Set());
  const start = startEls.map(idOf);
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i];
    if (d.any) continue;
    const children = {};
    for (const c of d.acc.children) {
      const id = idOf(c);
      const n = defs[id].name;
      (children[n] ??= []).includes(id) || children[n].push(id);
    }
    defs[i] = { name: d.name, attrs: [...d.acc.attrs].sort(), children };
  }
  return { start, defs };
}

/** Compact text: one definition a line, "name|attr,attr|child=id.id,child=id". */
const out = {};
for (const [kind, file] of Object.entries(TOPS)) {
  const t = table(file);
  const lines = t.defs.map((d) =>
    d.any
      ? '*'
      : `${d.name}|${d.attrs.join(',')}|${Object.entries(d.children)
          .map(([n, ids]) => `${n}=${ids.join('.')}`)
          .join(',')}`,
  );
  out[kind] = `${t.start.join('.')}\n${lines.join('\n')}`;
}
process.stdout.write(`// Generated by scripts/gen-schema-names.mjs from libvirt 10.7.0's RelaxNG schemas (LGPL-2.1-or-later,
// © the libvirt authors): element and attribute names only, per element definition. Do not edit.
// Format per kind: the start definitions ("0.1"), then one definition a line:
// "name|attr,attr|child=id.id,child=id", or "*" for an element that takes any content.
export const schemaNames: Record<'domain' | 'network' | 'storagepool' | 'storagevol', string> = {
${Object.entries(out)
  .map(
    ([kind, t]) =>
      `  ${kind}:\n    '${t.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}',\n`,
  )
  .join('')}};
`);
