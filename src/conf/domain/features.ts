// <features> (kept element by element with quick state access), <pm> and <resource>.
import type { XmlElement } from '../../util/xml.js';
import { child, elem, textElem, textOf, unknownParts } from '../../util/xml.js';
import type { DomainDef, FeaturesDef } from './domain-def.js';
import { invalidAttr, missingAttr, xmlErr } from './parse-util.js';

/** Parses <features>: every child is kept as written; `state` is read for quick checks. */
export function parseFeatures(el: XmlElement): FeaturesDef {
  const f: FeaturesDef = { list: [] };
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    const item: FeaturesDef['list'][number] = { name: c.name, el: c };
    if (c.attrs.state !== undefined) item.state = c.attrs.state;
    f.list.push(item);
  }
  return f;
}

export function formatFeatures(f: FeaturesDef): XmlElement {
  return elem(
    'features',
    {},
    f.list.map((x) => x.el ?? elem(x.name, { state: x.state })),
  );
}

/** True when the feature element is present and not state='off' (e.g. hasFeature(def, 'acpi')). */
export function hasFeature(def: DomainDef, name: string): boolean {
  const x = def.features?.list.find((i) => i.name === name);
  return x !== undefined && x.state !== 'off';
}

export function parsePm(el: XmlElement): NonNullable<DomainDef['pm']> {
  const pm: NonNullable<DomainDef['pm']> = {};
  const read = (name: string) => {
    const c = child(el, name);
    if (!c) return undefined;
    const v = c.attrs.enabled;
    if (v === 'yes') return true;
    if (v === 'no') return false;
    return v === undefined ? missingAttr(c, 'enabled') : invalidAttr(c, 'enabled', v);
  };
  const mem = read('suspend-to-mem');
  if (mem !== undefined) pm.suspendToMem = mem;
  const disk = read('suspend-to-disk');
  if (disk !== undefined) pm.suspendToDisk = disk;
  const e = unknownParts(el, [], ['suspend-to-mem', 'suspend-to-disk']);
  if (e) pm.extra = e;
  return pm;
}

export function formatPm(pm: NonNullable<DomainDef['pm']>): XmlElement {
  const yn = (v: boolean | undefined) => (v === undefined ? undefined : { enabled: v });
  const m = yn(pm.suspendToMem);
  const d = yn(pm.suspendToDisk);
  return elem('pm', {}, [m && elem('suspend-to-mem', m), d && elem('suspend-to-disk', d)], pm.extra);
}

export function parseResource(el: XmlElement): NonNullable<DomainDef['resource']> {
  const r: NonNullable<DomainDef['resource']> = {};
  const p = child(el, 'partition');
  if (p) {
    const t = textOf(p).trim();
    if (!t.startsWith('/'))
      xmlErr(`resource partition '${t}' must start with '/' in element <resource><partition>`);
    r.partition = t;
  }
  const e = unknownParts(el, [], ['partition']);
  if (e) r.extra = e;
  return r;
}

export function formatResource(r: NonNullable<DomainDef['resource']>): XmlElement {
  return elem('resource', {}, [textElem('partition', r.partition)], r.extra);
}
