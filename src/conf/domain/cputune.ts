// <cputune>: vcpusched/iothreadsched (expanded per id like libvirt), cachetune/memorytune; the rest kept.
import type { XmlElement } from '../../util/xml.js';
import { cloneNode, elem, unknownParts } from '../../util/xml.js';
import { formatBitmap, parseBitmap } from './bitmap.js';
import type { CputuneDef } from './domain-def.js';
import { domErr, intAttr, invalidAttr, missingAttr, xmlErr } from './parse-util.js';

const SCHEDULERS = ['other', 'batch', 'idle', 'fifo', 'rr'];
const KNOWN = ['vcpusched', 'iothreadsched', 'cachetune', 'memorytune'];

function sched(c: XmlElement): { scheduler: string; priority?: number } {
  const s = c.attrs.scheduler;
  if (s === undefined) return missingAttr(c, 'scheduler');
  if (!SCHEDULERS.includes(s)) invalidAttr(c, 'scheduler');
  const p = intAttr(c, 'priority');
  if ((s === 'fifo' || s === 'rr') && p === undefined) missingAttr(c, 'priority');
  return p === undefined || (s !== 'fifo' && s !== 'rr') ? { scheduler: s } : { scheduler: s, priority: p };
}

/** Parses <cputune>. */
export function parseCputune(el: XmlElement): CputuneDef {
  const t: CputuneDef = { vcpusched: [], iothreadsched: [], cachetunes: [], memorytunes: [] };
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'vcpusched') {
      const s = sched(c);
      if (c.attrs.vcpus === undefined) xmlErr("Missing attribute 'vcpus' in element 'vcpusched'");
      for (const v of parseBitmap(c.attrs.vcpus, 'vcpusched vcpus')) {
        if (t.vcpusched.some((x) => x.vcpu === v))
          throw domErr('XML_DETAIL', "'vcpusched' attributes 'vcpus' must not overlap");
        t.vcpusched.push({ vcpu: v, ...s });
      }
    } else if (c.name === 'iothreadsched') {
      const s = sched(c);
      if (c.attrs.iothreads === undefined) xmlErr("Missing attribute 'iothreads' in element 'iothreadsched'");
      for (const v of parseBitmap(c.attrs.iothreads, 'iothreadsched iothreads')) {
        if (t.iothreadsched.some((x) => x.iothread === v))
          throw domErr('XML_DETAIL', "'iothreadsched' attributes 'iothreads' must not overlap");
        t.iothreadsched.push({ iothread: v, ...s });
      }
    } else if (c.name === 'cachetune' || c.name === 'memorytune') {
      if (c.attrs.vcpus === undefined) xmlErr(`Missing attribute 'vcpus' in element '${c.name}'`);
      const vcpus = parseBitmap(c.attrs.vcpus, `${c.name} vcpus`);
      (c.name === 'cachetune' ? t.cachetunes : t.memorytunes).push({ vcpus, el: c });
    }
  }
  t.vcpusched.sort((a, b) => a.vcpu - b.vcpu);
  t.iothreadsched.sort((a, b) => a.iothread - b.iothread);
  const extra = unknownParts(el, [], KNOWN);
  if (extra) t.extra = extra;
  return t;
}

/** Formats <cputune>; undefined when it would be empty. */
export function formatCputune(t: CputuneDef): XmlElement | undefined {
  const tune = (x: { vcpus: number[]; el: XmlElement }) => {
    const e = cloneNode(x.el);
    e.attrs.vcpus = formatBitmap(x.vcpus);
    return e;
  };
  const kids = [
    ...t.vcpusched.map((s) =>
      elem('vcpusched', { vcpus: s.vcpu, scheduler: s.scheduler, priority: s.priority }),
    ),
    ...t.iothreadsched.map((s) =>
      elem('iothreadsched', { iothreads: s.iothread, scheduler: s.scheduler, priority: s.priority }),
    ),
    ...t.cachetunes.map(tune),
    ...t.memorytunes.map(tune),
  ];
  if (kids.length === 0 && !t.extra) return undefined;
  return elem('cputune', {}, kids, t.extra);
}

/** Drops vcpus above the maximum from cache/memory tunes (and tunes left empty), as libvirt does. */
export function clipTunes(t: CputuneDef, maxVcpus: number): void {
  for (const list of [t.cachetunes, t.memorytunes]) {
    for (const x of list) x.vcpus = x.vcpus.filter((v) => v < maxVcpus);
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.vcpus.length === 0) list.splice(i, 1);
  }
}

/** Rejects colliding tunes (libvirt's resctrl rules). */
export function validateTunes(t: CputuneDef): void {
  const overlap = (a: number[], b: number[]) => a.some((v) => b.includes(v));
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  t.cachetunes.forEach((ct, i) => {
    for (let j = 0; j < i; j++) {
      if (overlap(ct.vcpus, t.cachetunes[j]!.vcpus)) xmlErr('Overlapping vcpus in resctrls');
    }
    const caches: { id: string; level: string; type: string }[] = [];
    for (const c of ct.el.children) {
      if (c.type !== 'element') continue;
      if (c.name === 'cache') {
        const id = c.attrs.id ?? '';
        const level = c.attrs.level ?? '';
        const type = c.attrs.type ?? '';
        if (c.attrs.type === undefined) missingAttr(c, 'type');
        if (!['both', 'code', 'data'].includes(type)) invalidAttr(c, 'type');
        for (const o of caches) {
          if (o.id === id && o.level === level && (o.type === type || o.type === 'both' || type === 'both')) {
            xmlErr(`Colliding cache allocations for cache level '${level}' id '${id}', type '${o.type}'`);
          }
        }
        caches.push({ id, level, type });
      } else if (c.name === 'monitor') {
        const mv = parseBitmap(c.attrs.vcpus ?? '', 'monitor vcpus');
        if (!mv.every((v) => ct.vcpus.includes(v))) {
          throw domErr('INVALID_ARG', 'Monitor vcpus conflicts with allocation');
        }
      }
    }
  });
  t.memorytunes.forEach((mt, i) => {
    for (let j = 0; j < i; j++) {
      if (overlap(mt.vcpus, t.memorytunes[j]!.vcpus)) xmlErr('Overlapping vcpus in resctrls');
    }
    for (const ct of t.cachetunes) {
      if (overlap(mt.vcpus, ct.vcpus) && !same(mt.vcpus, ct.vcpus)) {
        xmlErr('Overlapping vcpus in resctrls');
      }
    }
    const nodes = new Set<string>();
    for (const c of mt.el.children) {
      if (c.type !== 'element' || c.name !== 'node') continue;
      const id = c.attrs.id ?? '';
      if (nodes.has(id)) xmlErr(`Memory Bandwidth already defined for node ${id}`);
      nodes.add(id);
    }
  });
}
