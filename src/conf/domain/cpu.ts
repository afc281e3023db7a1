// <cpu>: mode/match/check, model with fallback, vendor, topology, features with policies (rest kept).
import type { XmlElement } from '../../util/xml.js';
import { elem, textOf, unknownParts } from '../../util/xml.js';
import type { CpuDef, CpuFeature } from './domain-def.js';
import { enumAttr, missingAttr, onOffAttr, onOff, uintAttr, xmlErr } from './parse-util.js';

const MODES = ['custom', 'host-model', 'host-passthrough', 'maximum'] as const;
const MATCHES = ['minimum', 'exact', 'strict'] as const;
const CHECKS = ['none', 'partial', 'full'] as const;
const POLICIES = ['force', 'require', 'optional', 'disable', 'forbid'] as const;
const ATTRS = ['mode', 'match', 'check', 'migratable'];
const CHILDREN = ['model', 'vendor', 'topology', 'feature'];
const MODEL_ATTRS = ['fallback', 'vendor_id'];
const TOPO_ATTRS = ['sockets', 'dies', 'clusters', 'cores', 'threads'];
const NONE: string[] = [];

/** Parses <cpu>. */
export function parseCpu(el: XmlElement): CpuDef {
  const cpu: CpuDef = { features: [] };
  const mode = enumAttr(el, 'mode', MODES, "Invalid mode attribute '%s'");
  if (mode) cpu.mode = mode;
  const match = enumAttr(el, 'match', MATCHES);
  if (match) cpu.match = match;
  const check = enumAttr(el, 'check', CHECKS);
  if (check) cpu.check = check;
  const mig = onOffAttr(el, 'migratable');
  if (mig !== undefined) cpu.migratable = mig;
  // libvirt checks for a model before it reads any feature.
  const hasModel = el.children.some((c) => c.type === 'element' && c.name === 'model' && textOf(c).trim());
  const hasFeature = el.children.some((c) => c.type === 'element' && c.name === 'feature');
  if (hasFeature && !hasModel && (cpu.mode ?? 'custom') === 'custom')
    xmlErr('Non-empty feature list specified without CPU model');
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'model') {
      const m = textOf(c).trim();
      if (m) cpu.model = m;
      const fb = enumAttr(c, 'fallback', ['allow', 'forbid'] as const, 'Invalid fallback attribute');
      if (fb) cpu.fallback = fb;
      if (c.attrs.vendor_id !== undefined) cpu.vendorId = c.attrs.vendor_id;
      const e = unknownParts(c, MODEL_ATTRS, NONE);
      if (e) cpu.modelExtra = e;
    } else if (c.name === 'vendor') {
      cpu.vendor = textOf(c).trim();
    } else if (c.name === 'topology') {
      const n = (k: string) => {
        const v = uintAttr(c, k);
        if (v === 0)
          xmlErr(`Invalid value for attribute '${k}' in element 'topology': Zero is not permitted`);
        return v;
      };
      const sockets = n('sockets');
      const cores = n('cores');
      const threads = n('threads');
      if (sockets === undefined) return missingAttr(c, 'sockets');
      if (cores === undefined) return missingAttr(c, 'cores');
      if (threads === undefined) return missingAttr(c, 'threads');
      cpu.topology = { sockets, dies: n('dies') ?? 1, clusters: n('clusters') ?? 1, cores, threads };
      const e = unknownParts(c, TOPO_ATTRS, NONE);
      if (e) cpu.topology.extra = e;
    } else if (c.name === 'feature') {
      const name = c.attrs.name;
      if (!name) xmlErr('Invalid CPU feature name');
      const f: CpuFeature = { name };
      const p = enumAttr(c, 'policy', POLICIES, 'Invalid CPU feature policy');
      if (p) f.policy = p;
      else if (cpu.mode !== 'host-model' && cpu.mode !== 'host-passthrough' && cpu.mode !== 'maximum')
        f.policy = 'require';
      const e = unknownParts(c, ['name', 'policy'], NONE);
      if (e) f.extra = e;
      if (cpu.features.some((x) => x.name === name)) xmlErr(`CPU feature '${name}' specified more than once`);
      cpu.features.push(f);
    }
  }
  const extra = unknownParts(el, ATTRS, CHILDREN);
  if (extra) cpu.extra = extra;
  return cpu;
}

/** Formats <cpu>. */
export function formatCpu(cpu: CpuDef): XmlElement {
  const t = cpu.topology;
  const kids = [
    (cpu.model !== undefined ||
      cpu.fallback !== undefined ||
      cpu.vendorId !== undefined ||
      cpu.modelExtra !== undefined) &&
      elem(
        'model',
        { fallback: cpu.fallback, vendor_id: cpu.vendorId },
        cpu.model !== undefined ? [{ type: 'text', text: cpu.model }] : undefined,
        cpu.modelExtra,
      ),
    cpu.vendor !== undefined && elem('vendor', {}, [{ type: 'text', text: cpu.vendor }]),
    t &&
      elem(
        'topology',
        { sockets: t.sockets, dies: t.dies, clusters: t.clusters, cores: t.cores, threads: t.threads },
        undefined,
        t.extra,
      ),
    ...cpu.features.map((f) => elem('feature', { policy: f.policy, name: f.name }, undefined, f.extra)),
  ];
  return elem(
    'cpu',
    { mode: cpu.mode, match: cpu.match, check: cpu.check, migratable: onOff(cpu.migratable) },
    kids,
    cpu.extra,
  );
}
