// <disk>: parse and format (source by type, driver, target, readonly/shareable, serial, boot, address).
import { confError, type VirError } from '../../util/errors.js';
import type { Extra, XmlElement } from '../../util/xml.js';
import { elem, textElem, textOf, unknownParts } from '../../util/xml.js';
import { type FormatOpts, formatDeviceInfo, parseDeviceInfo } from './device-info.js';
import type {
  DiskBus,
  DiskDef,
  DiskDevice,
  DiskDriver,
  DiskHost,
  DiskSource,
  DiskType,
} from './domain-def.js';
import { enumAttr, onOffAttr, uintAttr, unsupported, xmlErr } from './parse-util.js';

const DISK_TYPES: readonly DiskType[] = [
  'file',
  'block',
  'dir',
  'network',
  'volume',
  'nvme',
  'vhostuser',
  'vhostvdpa',
];
const DISK_DEVICES: readonly DiskDevice[] = ['disk', 'cdrom', 'floppy', 'lun'];
export const DISK_BUSES: readonly DiskBus[] = [
  'ide',
  'fdc',
  'scsi',
  'virtio',
  'xen',
  'usb',
  'uml',
  'sata',
  'sd',
];
const CACHES = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
const IOS = ['native', 'threads', 'io_uring'] as const;
const DISCARDS = ['unmap', 'ignore'] as const;
const ERROR_POLICIES = ['stop', 'report', 'ignore', 'enospace'];
const SNAPSHOTS = ['no', 'internal', 'external', 'manual'];

const DISK_ATTRS = ['type', 'device'];
const DISK_CHILDREN = [
  'driver',
  'source',
  'target',
  'readonly',
  'shareable',
  'transient',
  'serial',
  'wwn',
  'boot',
  'alias',
  'address',
];
const DRIVER_ATTRS = ['name', 'type', 'cache', 'io', 'discard', 'error_policy', 'iothread', 'queues'];
const SOURCE_ATTRS = [
  'file',
  'dev',
  'dir',
  'protocol',
  'name',
  'pool',
  'volume',
  'mode',
  'startupPolicy',
  'index',
];
const SOURCE_CHILDREN = ['host'];
const HOST_ATTRS = ['name', 'port', 'transport', 'socket'];
const TARGET_ATTRS = ['dev', 'bus', 'tray', 'removable', 'rotation_rate'];
const NONE: string[] = [];

function parseDriver(el: XmlElement): DiskDriver {
  const d: DiskDriver = {};
  const a = el.attrs;
  if (a.name !== undefined) d.name = a.name;
  if (a.type !== undefined) d.type = a.type;
  const cache = enumAttr(el, 'cache', CACHES);
  if (cache) d.cache = cache;
  const io = enumAttr(el, 'io', IOS);
  if (io) d.io = io;
  const discard = enumAttr(el, 'discard', DISCARDS);
  if (discard) d.discard = discard;
  const ep = enumAttr(el, 'error_policy', ERROR_POLICIES);
  if (ep !== undefined) d.errorPolicy = ep;
  const iothread = uintAttr(el, 'iothread');
  if (iothread !== undefined) d.iothread = iothread;
  const queues = uintAttr(el, 'queues');
  if (queues !== undefined) d.queues = queues;
  const extra = unknownParts(el, DRIVER_ATTRS, NONE);
  if (extra) d.extra = extra;
  return d;
}

function parseSource(el: XmlElement): DiskSource {
  const s: DiskSource = {};
  const a = el.attrs;
  if (a.file !== undefined) s.file = a.file;
  if (a.dev !== undefined) s.dev = a.dev;
  if (a.dir !== undefined) s.dir = a.dir;
  if (a.protocol !== undefined) s.protocol = a.protocol;
  if (a.name !== undefined) s.name = a.name;
  if (a.pool !== undefined) s.pool = a.pool;
  if (a.volume !== undefined) s.volume = a.volume;
  if (a.mode !== undefined) s.mode = a.mode;
  const sp = enumAttr(el, 'startupPolicy', ['mandatory', 'requisite', 'optional'] as const);
  if (sp) s.startupPolicy = sp;
  const index = uintAttr(el, 'index');
  if (index !== undefined) s.index = index;
  for (const c of el.children) {
    if (c.type !== 'element' || c.name !== 'host') continue;
    const h: DiskHost = {};
    if (c.attrs.name !== undefined) h.name = c.attrs.name;
    const port = uintAttr(c, 'port');
    if (port !== undefined) h.port = port;
    if (c.attrs.transport !== undefined) h.transport = c.attrs.transport;
    if (c.attrs.socket !== undefined) h.socket = c.attrs.socket;
    const he = unknownParts(c, HOST_ATTRS, NONE);
    if (he) h.extra = he;
    (s.hosts ??= []).push(h);
  }
  const extra = unknownParts(el, SOURCE_ATTRS, SOURCE_CHILDREN);
  if (extra) s.extra = extra;
  return s;
}

/** Parses a <disk> element. */
export function parseDisk(el: XmlElement): DiskDef {
  const type = enumAttr(el, 'type', DISK_TYPES) ?? 'file';
  const device = enumAttr(el, 'device', DISK_DEVICES) ?? 'disk';
  enumAttr(el, 'snapshot', SNAPSHOTS);
  let targetEl: XmlElement | undefined;
  const disk: DiskDef = { type, device, target: { dev: '' }, readonly: false, shareable: false };
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    switch (c.name) {
      case 'driver':
        disk.driver = parseDriver(c);
        break;
      case 'source':
        disk.source = parseSource(c);
        break;
      case 'target':
        targetEl = c;
        break;
      case 'readonly':
        disk.readonly = true;
        break;
      case 'shareable':
        disk.shareable = true;
        break;
      case 'transient':
        disk.transient =
          c.attrs.shareBacking === undefined ? {} : { shareBacking: c.attrs.shareBacking === 'yes' };
        break;
      case 'serial':
        disk.serial = textOf(c);
        break;
      case 'wwn':
        disk.wwn = textOf(c);
        break;
    }
  }
  const dev = targetEl?.attrs.dev;
  if (!targetEl || !dev) throw noTarget(disk.source);
  // libvirt's QEMU driver refuses these at define (qemuValidateDomainDeviceDefDisk).
  if (/^(hd|sd|vd|xvd|ubd)[a-z]+[0-9]+$/.test(dev)) {
    unsupported(`invalid disk target '${dev}', partitions can't appear in disk targets`);
  }
  if (device === 'lun' && type !== 'block' && type !== 'network') {
    unsupported("disk device='lun' is only valid for block type disk source");
  }
  disk.target.dev = dev;
  const bus = enumAttr(targetEl, 'bus', DISK_BUSES);
  if (bus !== undefined) disk.target.bus = bus;
  const tray = enumAttr(targetEl, 'tray', ['open', 'closed'] as const);
  if (tray) disk.target.tray = tray;
  const rem = onOffAttr(targetEl, 'removable');
  if (rem !== undefined) disk.target.removable = rem;
  const rr = uintAttr(targetEl, 'rotation_rate');
  if (rr !== undefined) disk.target.rotationRate = rr;
  const te = unknownParts(targetEl, TARGET_ATTRS, NONE);
  if (te) disk.target.extra = te;
  const src = disk.source;
  if (type === 'network' && src && !src.protocol)
    xmlErr("Missing required attribute 'protocol' in element 'source'");
  if (type === 'volume' && src && (!src.pool || !src.volume)) {
    xmlErr("'pool' and 'volume' must be specified together for 'pool' type source");
  }
  parseDeviceInfo(el, disk);
  const extra = unknownParts(el, DISK_ATTRS, DISK_CHILDREN);
  if (extra) disk.extra = extra;
  return disk;
}

/** libvirt's NO_TARGET error for a disk without <target dev>, naming its source as libvirt does. */
function noTarget(src: DiskSource | undefined): VirError {
  let what: string | undefined;
  if (src?.pool !== undefined || src?.volume !== undefined)
    what = `pool = '${src.pool ?? ''}', volume = '${src.volume ?? ''}'`;
  else what = src?.file ?? src?.dev ?? src?.dir ?? src?.name;
  return confError('NO_TARGET', `missing target information for device${what ? ` ${what}` : ''}`);
}

function formatSource(s: DiskSource, opts: FormatOpts): XmlElement {
  const hosts = s.hosts?.map((h) =>
    elem(
      'host',
      { name: h.name, port: h.port, transport: h.transport, socket: h.socket },
      undefined,
      h.extra,
    ),
  );
  return elem(
    'source',
    {
      file: s.file,
      dev: s.dev,
      dir: s.dir,
      protocol: s.protocol,
      name: s.name,
      pool: s.pool,
      volume: s.volume,
      mode: s.mode,
      startupPolicy: s.startupPolicy,
      index: opts.inactive ? undefined : s.index,
    },
    hosts,
    s.extra,
  );
}

/** Formats a <disk> element. */
export function formatDisk(d: DiskDef, opts: FormatOpts): XmlElement {
  const drv = d.driver;
  const t = d.target;
  const kids = [
    drv &&
      elem(
        'driver',
        {
          name: drv.name,
          type: drv.type,
          cache: drv.cache,
          error_policy: drv.errorPolicy,
          io: drv.io,
          discard: drv.discard,
          iothread: drv.iothread,
          queues: drv.queues,
        },
        undefined,
        drv.extra,
      ),
    d.source && formatSource(d.source, opts),
    elem(
      'target',
      {
        dev: t.dev,
        bus: t.bus,
        tray: t.tray,
        removable: t.removable === undefined ? undefined : t.removable ? 'on' : 'off',
        rotation_rate: t.rotationRate,
      },
      undefined,
      t.extra,
    ),
    d.readonly && elem('readonly'),
    d.shareable && elem('shareable'),
    d.transient && elem('transient', { shareBacking: d.transient.shareBacking }),
    textElem('serial', d.serial),
    textElem('wwn', d.wwn),
    ...formatDeviceInfo(d, opts),
  ];
  return elem('disk', { type: d.type, device: d.device }, kids, d.extra as Extra | undefined);
}
