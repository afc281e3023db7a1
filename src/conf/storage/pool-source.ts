// <source> of a storage pool (hosts, devices, dir, adapter, name, initiator, format, auth, protocol): parse and format.
import { confError } from '../../util/errors.js';
import {
  attr,
  child,
  childrenNamed,
  childText,
  cloneNode,
  elem,
  textElem,
  type XmlElement,
} from '../../util/xml.js';
import { keep, pair, uint, yesNo } from '../network/keep.js';
import { normPciAddress } from '../network/raw.js';
import { sanitizePath } from './perms.js';
import {
  type PoolAdapter,
  type PoolSource,
  type PoolType,
  poolTypeInfo,
  SourceFlag as F,
} from './pool-def.js';

const fcAttrs = [
  ['parent', 'parent'],
  ['parentWwnn', 'parent_wwnn'],
  ['parentWwpn', 'parent_wwpn'],
  ['parentFabricWwn', 'parent_fabric_wwn'],
] as const;

function parseAdapter(el: XmlElement): PoolAdapter {
  const t = attr(el, 'type');
  if (t !== undefined && t !== 'scsi_host' && t !== 'fc_host') {
    throw confError('XML_ERROR', `Invalid value for attribute 'type' in element 'adapter': '${t}'.`);
  }
  const pa = child(el, 'parentaddr');
  if (t === undefined) {
    // Legacy form: only a scsi_host name.
    if (['wwnn', 'wwpn', 'parent'].some((k) => attr(el, k) !== undefined)) {
      throw confError(
        'XML_ERROR',
        "Use of 'wwnn', 'wwpn', and 'parent' attributes requires use of the adapter 'type'",
      );
    }
    if (pa) throw confError('XML_ERROR', "Use of 'parentaddr' element requires use of the adapter 'type'");
  }
  const name = attr(el, 'name');
  const a: PoolAdapter = { type: t ?? (name !== undefined ? 'scsi_host' : undefined), name };
  for (const [k, x] of fcAttrs) a[k] = attr(el, x);
  a.managed = yesNo(el, 'managed');
  a.wwnn = attr(el, 'wwnn');
  a.wwpn = attr(el, 'wwpn');
  if (pa && a.type === 'scsi_host') {
    const addr = child(pa, 'address');
    if (!addr) throw confError('XML_ERROR', 'Missing scsi_host PCI address element');
    const uid = attr(pa, 'unique_id');
    if (uid === undefined || !/^\d+$/.test(uid.trim())) {
      throw confError('XML_ERROR', "Missing or invalid scsi adapter 'unique_id' value");
    }
    a.parentaddr = { uniqueId: Number(uid), address: normPciAddress(addr) };
  }
  a.extra = keep(
    el,
    ['type', 'name', 'managed', 'wwnn', 'wwpn', ...fcAttrs.map((x) => x[1])],
    ['parentaddr'],
  );
  return a;
}

const wwnRe = /^(0x)?[0-9a-fA-F]{16}$/;

/** libvirt's virStorageAdapterValidate. */
export function validateAdapter(a: PoolAdapter | undefined): void {
  if (!a?.type) throw confError('XML_ERROR', 'missing storage pool source adapter');
  if (a.type === 'fc_host') {
    if (!a.wwnn || !a.wwpn) {
      throw confError('XML_ERROR', "'wwnn' and 'wwpn' must be specified for adapter type 'fchost'");
    }
    if (a.parentWwnn && !a.parentWwpn) {
      throw confError(
        'XML_ERROR',
        `when providing parent_wwnn='${a.parentWwnn}', the parent_wwpn must also be provided`,
      );
    }
    if (!a.parentWwnn && a.parentWwpn) {
      throw confError(
        'XML_ERROR',
        `when providing parent_wwpn='${a.parentWwpn}', the parent_wwnn must also be provided`,
      );
    }
    for (const w of [a.wwnn, a.wwpn, a.parentWwnn, a.parentWwpn, a.parentFabricWwn]) {
      if (w !== undefined && !wwnRe.test(w)) throw confError('INTERNAL_ERROR', `Malformed wwn: ${w}`);
    }
    return;
  }
  if (!a.name && !a.parentaddr) {
    throw confError('XML_ERROR', "Either 'name' or 'parent' must be specified for the 'scsi_host' adapter");
  }
  if (a.name && a.parentaddr) {
    throw confError('XML_ERROR', "Both 'name' and 'parent' cannot be specified for the 'scsi_host' adapter");
  }
}

function formatAdapter(a: PoolAdapter): XmlElement {
  const attrs: Record<string, string | boolean | undefined> = { type: a.type ?? 'default' };
  let kids: XmlElement | undefined;
  if (a.type === 'fc_host') {
    for (const [k, x] of fcAttrs) attrs[x] = a[k];
    attrs.managed = a.managed;
    attrs.wwnn = a.wwnn;
    attrs.wwpn = a.wwpn;
  } else if (a.name !== undefined) attrs.name = a.name;
  else if (a.parentaddr) {
    kids = elem('parentaddr', { unique_id: a.parentaddr.uniqueId }, cloneNode(a.parentaddr.address));
  }
  return elem('adapter', attrs, kids, a.extra);
}

/** Known <source> children of a pool type: the others are kept verbatim rather than dropped. */
function knownSourceChildren(type: PoolType): string[] {
  const { flags, formats } = poolTypeInfo[type];
  const k = ['auth', 'protocol', 'vendor', 'product'];
  if (flags & F.HOST) k.push('host');
  if (flags & F.DEVICE) k.push('device');
  if (flags & F.DIR || type === 'gluster') k.push('dir');
  if (flags & F.ADAPTER) k.push('adapter');
  if (flags & F.NAME) k.push('name');
  if (flags & F.IQN) k.push('initiator');
  if (formats) k.push('format');
  return k;
}

/** Parses <source> of a pool of `type` (el may be undefined: defaults only). */
export function parsePoolSource(el: XmlElement | undefined, type: PoolType): PoolSource {
  const info = poolTypeInfo[type];
  const src: PoolSource = { hosts: [], devices: [] };
  if (info.formats) src.format = info.defaultFormat;
  if (!el) return src;
  const known = knownSourceChildren(type);
  const has = (n: string) => known.includes(n);
  if (has('name')) src.name = childText(el, 'name');
  if (type === 'rbd' && src.name === undefined)
    throw confError('XML_ERROR', "element 'name' is mandatory for RBD pool");
  const fmt = child(el, 'format');
  if (info.formats && fmt) {
    const f = attr(fmt, 'type');
    if (f !== undefined) {
      if (!info.formats.includes(f)) throw confError('CONFIG_UNSUPPORTED', `unknown pool format type ${f}`);
      src.format = f;
    }
  }
  if (has('host')) {
    src.hosts = childrenNamed(el, 'host').map((h) => {
      const name = attr(h, 'name');
      if (!name) throw confError('XML_ERROR', 'missing storage pool host name');
      return {
        name,
        port: uint(attr(h, 'port'), "storage pool host attribute 'port'"),
        extra: keep(h, ['name', 'port'], []),
      };
    });
  }
  const ini = has('initiator') ? child(el, 'initiator') : undefined;
  const iqn = ini && child(ini, 'iqn');
  if (iqn) src.initiatorIqn = attr(iqn, 'name');
  if (has('device')) {
    src.devices = childrenNamed(el, 'device').map((d) => {
      const path = attr(d, 'path');
      if (path === undefined) throw confError('XML_ERROR', 'missing storage pool source device path');
      // freeExtent children are runtime data (disk pools), recomputed on refresh.
      return {
        path,
        partSeparator: yesNo(d, 'part_separator'),
        extra: keep(d, ['path', 'part_separator'], ['freeExtent']),
      };
    });
  }
  if (has('dir')) {
    const dirEl = child(el, 'dir');
    const d = dirEl && attr(dirEl, 'path');
    src.dir = d !== undefined ? sanitizePath(d) : undefined;
    if (src.dir === undefined && type === 'gluster') src.dir = '/';
  }
  const ad = child(el, 'adapter');
  if (has('adapter') && ad) src.adapter = parseAdapter(ad);
  const au = child(el, 'auth');
  if (au) {
    const t = attr(au, 'type');
    if (t === undefined) throw confError('CONFIG_UNSUPPORTED', 'storage pool missing auth type');
    if (t !== 'chap' && t !== 'ceph') throw confError('CONFIG_UNSUPPORTED', `unknown auth type '${t}'`);
    const secret = child(au, 'secret');
    if (!secret) throw confError('XML_ERROR', 'Missing <secret> element in storage pool <auth>');
    src.auth = {
      type: t,
      username: attr(au, 'username'),
      secret: cloneNode(secret),
      extra: keep(au, ['type', 'username'], ['secret']),
    };
  }
  const proto = child(el, 'protocol');
  const ver = proto && attr(proto, 'ver');
  if (ver !== undefined) {
    if (src.format !== 'nfs' && src.format !== 'auto') {
      throw confError(
        'CONFIG_UNSUPPORTED',
        `storage pool protocol ver unsupported for pool type '${src.format}'`,
      );
    }
    if (!/^\d+(\.\d+)?$/.test(ver))
      throw confError('XML_ERROR', `storage pool protocol ver '${ver}' is malformed`);
    src.protocolVer = ver;
  }
  const vendor = child(el, 'vendor');
  const product = child(el, 'product');
  src.vendor = vendor && attr(vendor, 'name');
  src.product = product && attr(product, 'name');
  src.extra = keep(el, [], known);
  return src;
}

/** Formats <source> of a pool of `type` in libvirt's order; always present, as an open/close pair. */
export function formatPoolSource(src: PoolSource, type: PoolType): XmlElement {
  const { flags, formats } = poolTypeInfo[type];
  const on = (f: number) => (flags & f) !== 0;
  const a = src.auth;
  const el = elem(
    'source',
    {},
    [
      on(F.HOST) &&
        src.hosts.map((h) => elem('host', { name: h.name, port: h.port || undefined }, [], h.extra)),
      on(F.DEVICE) &&
        src.devices.map((d) =>
          elem('device', { path: d.path, part_separator: d.partSeparator }, [], d.extra),
        ),
      on(F.DIR) && src.dir !== undefined && elem('dir', { path: src.dir }),
      on(F.ADAPTER) && src.adapter && formatAdapter(src.adapter),
      on(F.NAME) && textElem('name', src.name),
      on(F.IQN) &&
        src.initiatorIqn !== undefined &&
        elem('initiator', {}, elem('iqn', { name: src.initiatorIqn })),
      formats && src.format !== undefined && elem('format', { type: src.format }),
      a && elem('auth', { type: a.type, username: a.username }, a.secret && cloneNode(a.secret), a.extra),
      src.protocolVer !== undefined && elem('protocol', { ver: src.protocolVer }),
      src.vendor !== undefined && elem('vendor', { name: src.vendor }),
      src.product !== undefined && elem('product', { name: src.product }),
    ],
    src.extra,
  );
  return pair(el, 1);
}
