// <volume> parsed within its pool (formats allowed and defaulted per pool type) and formatted like virStorageVolDefFormat.
import { confError } from '../../util/errors.js';
import { unitScale } from '../../util/units.js';
import {
  attr,
  child,
  childText,
  cloneNode,
  elem,
  elementChildren,
  formatXml,
  parseRoot,
  textElem,
  textOf,
  type Extra,
  type XmlElement,
} from '../../util/xml.js';
import { keep } from '../network/keep.js';
import { orderAttrs } from '../network/raw.js';
import { formatPerms, parsePerms, type StoragePerms } from './perms.js';
import { type PoolDef, type PoolType, poolTypeInfo } from './pool-def.js';

/** Volume types (libvirt virStorageVolType); 'file' when absent. */
export type VolumeType = 'file' | 'block' | 'dir' | 'network' | 'netdir' | 'ploop';
const volumeTypes: readonly VolumeType[] = ['file', 'block', 'dir', 'network', 'netdir', 'ploop'];
/** qcow2 features libvirt knows (virStorageFileFeature). */
export const volumeFeatures = ['lazy_refcounts', 'extended_l2'] as const;

/** A storage volume definition (libvirt virStorageVolDef). Sizes are bytes. Plain data. */
export interface VolumeDef {
  type: VolumeType;
  name: string;
  key?: string;
  capacity: number;
  /** Defaults to capacity when absent from the XML. */
  allocation: number;
  /** Physical size on disk; mostly filled by the driver on refresh (written when non-zero). */
  physical?: number;
  target: VolumeTarget;
  backingStore?: { path: string; format?: string; perms?: StoragePerms; extra?: Extra };
  extra?: Extra;
}

/** <target> of a volume (also the shape of what libvirt reads for it). */
export interface VolumeTarget {
  path?: string;
  /** Image format (raw, qcow2 ...; partition type for disk pools); defaulted per pool type. */
  format?: string;
  perms?: StoragePerms;
  /** <encryption>, verbatim. */
  encryption?: XmlElement;
  /** qcow2 compat level; '1.1' when <features> is given without it. */
  compat?: string;
  nocow?: boolean;
  clusterSize?: number;
  /** Set when <features> is present (possibly empty). */
  features?: (typeof volumeFeatures)[number][];
  /** Runtime file times ('seconds.nanoseconds'), filled by the driver; never read from XML (as libvirt). */
  timestamps?: { atime?: string; mtime?: string; ctime?: string; btime?: string };
  extra?: Extra;
}

/** libvirt's VIR_VOL_XML_PARSE_* flags. */
export interface ParseVolumeOptions {
  /** VIR_VOL_XML_PARSE_NO_CAPACITY: capacity may be absent (e.g. when cloning). */
  noCapacity?: boolean;
  /** VIR_VOL_XML_PARSE_OPT_CAPACITY: capacity may be absent when there is a backing store. */
  optCapacity?: boolean;
}

function size(el: XmlElement | undefined, what: string): number | undefined {
  if (!el) return undefined;
  const v = textOf(el);
  if (!/^\s*\d+\s*$/.test(v)) throw confError('XML_ERROR', `malformed ${what} element`);
  let scale: number;
  try {
    scale = unitScale(attr(el, 'unit'), 1);
  } catch {
    throw confError('INVALID_ARG', `unknown suffix '${attr(el, 'unit')}'`);
  }
  const n = Number(v.trim()) * scale;
  if (!Number.isSafeInteger(n))
    throw confError('INVALID_ARG', `value too large: ${v.trim()}${attr(el, 'unit') ?? ''}`);
  return n;
}

/** <encryption> kept verbatim, with attributes in libvirt's order (virStorageEncryptionFormat). */
function normEncryption(el: XmlElement): XmlElement {
  const order: Record<string, string[]> = {
    secret: ['type', 'uuid', 'usage'],
    cipher: ['name', 'size', 'mode', 'hash'],
    ivgen: ['name', 'hash'],
  };
  const e = orderAttrs(el, ['format', 'engine']);
  e.children = e.children.map((c) =>
    c.type === 'element' && order[c.name] ? orderAttrs(c, order[c.name]!) : c,
  );
  return e;
}

function format(el: XmlElement | undefined, pool: PoolType): string | undefined {
  const info = poolTypeInfo[pool];
  if (!info.volFormats) return undefined;
  const fmt = el && child(el, 'format');
  const f = fmt && attr(fmt, 'type');
  if (f === undefined) return info.volDefaultFormat;
  if (!info.volFormats.includes(f)) throw confError('CONFIG_UNSUPPORTED', `unknown volume format type ${f}`);
  return f;
}

/**
 * Parses a <volume> in the context of `pool` (a dir pool when not given), as libvirt's
 * virStorageVolDefParseXML. Runtime parts (<source> extents, timestamps, physical) are not read.
 * @throws VirError XML_ERROR / CONFIG_UNSUPPORTED with libvirt's messages.
 */
export function parseVolume(xml: string, pool?: PoolDef, opts: ParseVolumeOptions = {}): VolumeDef {
  const poolType = pool?.type ?? 'dir';
  const hasFormats = poolTypeInfo[poolType].volFormats !== undefined;
  const root = parseRoot(xml, 'volume');
  const name = childText(root, 'name');
  if (name === undefined) throw confError('XML_ERROR', 'missing volume name element');
  const t = attr(root, 'type') ?? 'file';
  if (!volumeTypes.includes(t as VolumeType))
    throw confError('CONFIG_UNSUPPORTED', `unknown volume type '${t}'`);
  const bsEl = child(root, 'backingStore');
  const bsPath = bsEl && childText(bsEl, 'path');
  let backingStore: VolumeDef['backingStore'];
  if (bsEl && bsPath !== undefined) {
    backingStore = {
      path: bsPath,
      format: format(bsEl, poolType),
      perms: parsePerms(child(bsEl, 'permissions')),
      extra: keep(bsEl, [], hasFormats ? ['path', 'format', 'permissions'] : ['path', 'permissions']),
    };
  }
  let capacity = size(child(root, 'capacity'), 'capacity');
  if (capacity === undefined) {
    if (!opts.noCapacity && !(opts.optCapacity && backingStore)) {
      throw confError('XML_ERROR', 'missing capacity element');
    }
    capacity = 0;
  }
  const allocation = size(child(root, 'allocation'), 'allocation') ?? capacity;
  const physical = size(child(root, 'physical'), 'physical');
  const tEl = child(root, 'target');
  const target: VolumeTarget = { format: format(tEl, poolType) };
  if (tEl) {
    target.path = childText(tEl, 'path');
    target.perms = parsePerms(child(tEl, 'permissions'));
    const enc = child(tEl, 'encryption');
    if (enc) target.encryption = normEncryption(enc);
    const compat = childText(tEl, 'compat');
    if (compat !== undefined) {
      if (!/^\d+\.\d+$/.test(compat))
        throw confError('XML_ERROR', "forbidden characters in 'compat' attribute");
      target.compat = compat;
    }
    if (child(tEl, 'nocow')) target.nocow = true;
    const cs = size(child(tEl, 'clusterSize'), 'clusterSize');
    if (cs !== undefined) target.clusterSize = cs;
    const feats = child(tEl, 'features');
    if (feats) {
      target.compat ??= '1.1';
      target.features = [];
      for (const f of elementChildren(feats)) {
        const n = f.name as (typeof volumeFeatures)[number];
        if (!volumeFeatures.includes(n))
          throw confError('CONFIG_UNSUPPORTED', `unsupported feature ${f.name}`);
        if (!target.features.includes(n)) target.features.push(n);
      }
    }
    const known = [
      'path',
      'permissions',
      'timestamps',
      'encryption',
      'compat',
      'nocow',
      'clusterSize',
      'features',
    ];
    target.extra = keep(tEl, [], hasFormats ? [...known, 'format'] : known);
  }
  return {
    type: t as VolumeType,
    name,
    key: childText(root, 'key'),
    capacity,
    allocation,
    physical,
    target,
    backingStore,
    extra: keep(
      root,
      ['type'],
      ['name', 'key', 'source', 'capacity', 'allocation', 'physical', 'target', 'backingStore'],
    ),
  };
}

/** Formats a volume as libvirt does (the pool decides whether <format> is written). */
export function formatVolume(def: VolumeDef, pool?: PoolDef): string {
  const hasFormats = poolTypeInfo[pool?.type ?? 'dir'].volFormats !== undefined;
  const fmt = (f: string | undefined) =>
    hasFormats && f !== undefined ? elem('format', { type: f }) : undefined;
  const t = def.target;
  const bs = def.backingStore;
  const bytes = (n: string, v: number | undefined) => textElem(n, v, { unit: 'bytes' });
  const target = elem(
    'target',
    {},
    [
      textElem('path', t.path),
      fmt(t.format),
      formatPerms(t.perms),
      t.timestamps &&
        elem(
          'timestamps',
          {},
          (['atime', 'mtime', 'ctime', 'btime'] as const).map((k) => textElem(k, t.timestamps?.[k])),
        ),
      t.encryption && cloneNode(t.encryption),
      textElem('compat', t.compat),
      t.nocow && elem('nocow'),
      t.clusterSize ? textElem('clusterSize', t.clusterSize, { unit: 'B' }) : undefined,
      t.features &&
        elem(
          'features',
          {},
          t.features.map((f) => elem(f)),
        ),
    ],
    t.extra,
  );
  const root = elem(
    'volume',
    { type: def.type },
    [
      textElem('name', def.name),
      textElem('key', def.key),
      bytes('capacity', def.capacity),
      bytes('allocation', def.allocation),
      def.physical ? bytes('physical', def.physical) : undefined,
      target,
      bs &&
        elem(
          'backingStore',
          {},
          [textElem('path', bs.path), fmt(bs.format), formatPerms(bs.perms)],
          bs.extra,
        ),
    ],
    def.extra,
  );
  return formatXml(root);
}
