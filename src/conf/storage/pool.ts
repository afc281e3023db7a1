// <pool> as a whole: parse -> post-parse defaults -> validate, and format in libvirt's order (virStoragePoolDefFormat).
import { confError } from '../../util/errors.js';
import { parseUuid, randomUuid, type UuidSource } from '../../util/uuid.js';
import {
  attr,
  child,
  childText,
  elem,
  formatXml,
  parseRoot,
  textElem,
  type XmlElement,
} from '../../util/xml.js';
import { keep } from '../network/keep.js';
import { formatPerms, parsePerms, sanitizePath } from './perms.js';
import { type PoolDef, type PoolType, poolTypeInfo, SourceFlag as F } from './pool-def.js';
import { formatPoolSource, parsePoolSource, validateAdapter } from './pool-source.js';

/** Options of parsePool. */
export interface ParsePoolOptions {
  /** Source of the uuid given to a pool without one (injected randomness). */
  uuidSource?: UuidSource;
}

/** Network pools have no local target (libvirt writes no <target> for them). */
export function poolHasTarget(type: PoolType): boolean {
  return type !== 'rbd' && type !== 'sheepdog' && type !== 'gluster' && type !== 'iscsi-direct';
}

const knownChildren = [
  'name',
  'uuid',
  'capacity',
  'allocation',
  'available',
  'features',
  'source',
  'target',
  'refresh',
];

function parseCow(root: XmlElement, type: PoolType): boolean | undefined {
  const f = child(root, 'features');
  const cow = f && child(f, 'cow');
  const state = cow && attr(cow, 'state');
  if (state === undefined) return undefined;
  if (state !== 'yes' && state !== 'no') {
    throw confError(
      'XML_ERROR',
      `Invalid value for attribute 'state' in element 'cow': '${state}'. Expected 'yes' or 'no'`,
    );
  }
  if (type !== 'fs' && type !== 'dir') {
    throw confError('NO_SUPPORT', "cow feature may only be used for 'fs' and 'dir' pools");
  }
  return state === 'yes';
}

/**
 * Parses a <pool> document, fills defaults (uuid, source format, source name, derived target paths)
 * and validates it as libvirt's virStoragePoolDefParseXML does.
 * Capacity/allocation/available are runtime figures: not read from the XML.
 * @throws VirError XML_ERROR / CONFIG_UNSUPPORTED / NO_SUPPORT with libvirt's messages.
 */
export function parsePool(xml: string, opts: ParsePoolOptions = {}): PoolDef {
  const root = parseRoot(xml, 'pool');
  const t = attr(root, 'type');
  if (t === undefined) throw confError('XML_ERROR', "Missing required attribute 'type' in element 'pool'");
  if (!(t in poolTypeInfo)) {
    throw confError('XML_ERROR', `Invalid value for attribute 'type' in element 'pool': '${t}'.`);
  }
  const type = t as PoolType;
  const info = poolTypeInfo[type];
  const source = parsePoolSource(child(root, 'source'), type);
  let name = childText(root, 'name');
  if (name === undefined && info.flags & F.NAME) name = source.name;
  if (name === undefined) throw confError('XML_ERROR', 'missing pool source name element');
  if (name.includes('/')) throw confError('XML_ERROR', `name ${name} cannot contain '/'`);
  const u = childText(root, 'uuid');
  let uuid: string;
  try {
    uuid = parseUuid(u ?? (opts.uuidSource ?? randomUuid)());
  } catch {
    throw confError('XML_ERROR', 'malformed uuid element');
  }
  const def: PoolDef = { type, name, uuid, capacity: 0, allocation: 0, available: 0, source };
  def.cow = parseCow(root, type);
  if (info.flags & F.HOST && source.hosts.length === 0) {
    throw confError('XML_ERROR', 'missing storage pool source host name');
  }
  if (info.flags & F.DIR && source.dir === undefined)
    throw confError('XML_ERROR', 'missing storage pool source path');
  if (info.flags & F.NAME && source.name === undefined) source.name = name;
  if (info.flags & F.ADAPTER) validateAdapter(source.adapter);
  if (info.flags === F.DEVICE && source.devices.length === 0) {
    throw confError('XML_ERROR', 'missing storage pool source device name');
  }
  const tEl = child(root, 'target');
  if (!(info.flags & F.NETWORK)) {
    let path: string | undefined;
    if (type === 'logical') path = `/dev/${source.name}`;
    else if (type === 'zfs') path = `/dev/zvol/${source.name}`;
    else path = tEl ? childText(tEl, 'path') : undefined;
    if (path === undefined) throw confError('XML_ERROR', 'missing storage pool target path');
    def.target = {
      path: sanitizePath(path),
      perms: parsePerms(tEl && child(tEl, 'permissions')),
      extra: tEl && keep(tEl, [], ['path', 'permissions']),
    };
  }
  if (type === 'iscsi-direct' && !source.initiatorIqn)
    throw confError('CONFIG_UNSUPPORTED', 'missing initiator IQN');
  const refresh = child(root, 'refresh');
  const vol = refresh && child(refresh, 'volume');
  const alloc = vol && attr(vol, 'allocation');
  if (alloc !== undefined) {
    if (alloc !== 'default' && alloc !== 'capacity') {
      throw confError('CONFIG_UNSUPPORTED', `unknown storage pool volume refresh allocation type ${alloc}`);
    }
    def.refreshAllocation = alloc;
  }
  def.extra = keep(root, ['type'], knownChildren);
  return def;
}

/** Formats a pool definition as libvirt does. */
export function formatPool(def: PoolDef): string {
  const bytes = (n: string, v: number) => textElem(n, v, { unit: 'bytes' });
  const t = def.target;
  const root = elem(
    'pool',
    { type: def.type },
    [
      textElem('name', def.name),
      textElem('uuid', def.uuid),
      bytes('capacity', def.capacity),
      bytes('allocation', def.allocation),
      bytes('available', def.available),
      def.cow !== undefined && elem('features', {}, elem('cow', { state: def.cow })),
      formatPoolSource(def.source, def.type),
      poolHasTarget(def.type) &&
        t &&
        elem('target', {}, [textElem('path', t.path), formatPerms(t.perms)], t.extra),
      def.refreshAllocation && elem('refresh', {}, elem('volume', { allocation: def.refreshAllocation })),
    ],
    def.extra,
  );
  return formatXml(root);
}
