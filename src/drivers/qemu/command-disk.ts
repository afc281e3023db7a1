// <disk> -> `-blockdev` storage (+ format) nodes and the frontend `-device` (virtio-blk, ide, sata, scsi, usb).
import type { ControllerDef, DiskDef } from '../../conf/domain/domain-def.js';
import {
  type BuildState,
  addressProps,
  bootProps,
  refuseExtraChildren,
  driverExtras,
  onOffValue,
  VIRTIO_OPTIONS,
  virtioOptionProps,
  internalError,
  notYet,
  unsupportedConfig,
} from './command-common.js';
import { checkHostAddress, checkPort, type JsonProps, jsonArg } from './qemu-opts.js';

const FORMATS = [
  'raw',
  'qcow2',
  'qcow',
  'qed',
  'vmdk',
  'vdi',
  'vpc',
  'vhdx',
  'cloop',
  'dmg',
  'parallels',
  'bochs',
];

/** Index of a disk target name (vda -> 0, sdb -> 1, hdaa -> 26), or -1. */
export function diskTargetIndex(dev: string): number {
  const m = /^(?:hd|sd|vd|xvd|fd|ubd)([a-z]+)$/.exec(dev);
  if (!m) return -1;
  let n = 0;
  for (const ch of m[1]!) n = n * 26 + (ch.charCodeAt(0) - 96);
  return n - 1;
}

interface Cache {
  direct: boolean;
  noFlush: boolean;
  writeCache: boolean;
}
function cacheOf(mode: string | undefined): Cache | undefined {
  switch (mode) {
    case undefined:
    case 'default':
      return undefined;
    case 'none':
      return { direct: true, noFlush: false, writeCache: true };
    case 'writeback':
      return { direct: false, noFlush: false, writeCache: true };
    case 'writethrough':
      return { direct: false, noFlush: false, writeCache: false };
    case 'directsync':
      return { direct: true, noFlush: false, writeCache: false };
    case 'unsafe':
      return { direct: false, noFlush: true, writeCache: true };
    default:
      throw unsupportedConfig(`disk cache mode '${mode}'`);
  }
}

/**
 * Block driver of a host block device: host_cdrom only for a real optical drive (libvirt asks the
 * kernel; a pure builder goes by the conventional names /dev/cdrom, /dev/sr*), host_device otherwise.
 */
function blockDriver(cd: boolean, path: string): string {
  return cd && /^\/dev\/(cdrom\d*|sr\d+|dvd\d*)$/.test(path) ? 'host_cdrom' : 'host_device';
}

const NET_PORTS: Record<string, number> = { http: 80, https: 443, ftp: 21, ftps: 990 };

/**
 * Protocol node of a <disk type='network'>: nbd (TCP or UNIX socket) and http(s)/ftp(s) with one
 * host and no authentication; anything else is refused by name.
 */
function networkStorage(d: DiskDef): JsonProps {
  const s = d.source!;
  const proto = s.protocol ?? '';
  const what = `<disk type='network'><source protocol='${proto}'>`;
  refuseExtraChildren(s.extra, [], 'disk><source');
  // e.g. tls='yes': refusing beats connecting in clear text.
  for (const [k, v] of s.extra?.attrs ?? []) throw notYet(`<disk><source ${k}='${v}'>`);
  const hosts = s.hosts ?? [];
  if (hosts.length !== 1) throw notYet(`${what} with ${hosts.length} hosts`);
  const h = hosts[0]!;
  if (proto === 'nbd') {
    let server: JsonProps;
    if (h.transport === 'unix') {
      if (!h.socket) throw unsupportedConfig(`${what}: a unix transport needs a socket path`);
      server = { type: 'unix', path: h.socket };
    } else if ((h.transport ?? 'tcp') === 'tcp') {
      server = {
        type: 'inet',
        host: checkHostAddress(h.name ?? '', 'NBD host'),
        port: checkPort(h.port ?? 10809, 'NBD port'),
      };
    } else throw notYet(`${what} transport '${h.transport}'`);
    return s.name ? { driver: 'nbd', server, export: s.name } : { driver: 'nbd', server };
  }
  const dflt = NET_PORTS[proto];
  if (dflt === undefined) throw notYet(what);
  if ((h.transport ?? 'tcp') !== 'tcp') throw notYet(`${what} transport '${h.transport}'`);
  const host = checkHostAddress(h.name ?? '', `${proto} host`, true);
  const port = checkPort(h.port ?? dflt, `${proto} port`);
  const path = (s.name ?? '').replace(/^\/*/, '/');
  return { driver: proto, url: `${proto}://${host}:${port}${path}` };
}

/**
 * Children and attributes of a local <source> (file, block, volume) that tvirt does not model:
 * <encryption> (LUKS needs the secret driver), <slices> (an offset into the image), <reservations>
 * (persistent reservations need qemu-pr-helper) ... Refused by name: never opened as a plain image.
 * A <seclabel relabel='no'> is fine: with no security driver nothing is ever relabelled.
 */
function checkLocalSource(d: DiskDef): void {
  const x = d.source?.extra;
  const where = `disk ${d.target.dev}`;
  for (const c of x?.children ?? []) {
    const n = c.node;
    if (n.type !== 'element') continue;
    if (n.name === 'seclabel' && n.attrs.relabel === 'no') continue;
    const fmt = n.name === 'encryption' && n.attrs.format ? ` format='${n.attrs.format}'` : '';
    const why =
      n.name === 'encryption'
        ? 'encrypted images need the secret driver'
        : n.name === 'reservations'
          ? 'persistent reservations need qemu-pr-helper'
          : '';
    throw notYet(`<disk><source><${n.name}${fmt}>`, `(${where}${why ? `: ${why}` : ''})`);
  }
  for (const [k, v] of x?.attrs ?? []) throw notYet(`<disk><source ${k}='${v}'>`, `(${where})`);
}

/** Where a disk's bytes are: the protocol node's driver and location, and a format a pool may know. */
function storageOf(st: BuildState, d: DiskDef, i: number): { props: JsonProps; format?: string } {
  const what = `<disk type='${d.type}'> (target ${d.target.dev})`;
  const cd = d.device === 'cdrom';
  switch (d.type) {
    case 'file':
      return { props: { driver: 'file', filename: d.source!.file! } };
    case 'block':
      return { props: { driver: blockDriver(cd, d.source!.dev!), filename: d.source!.dev! } };
    case 'network':
      return { props: networkStorage(d) };
    case 'volume': {
      const r = st.ctx.diskSources?.[i];
      if (!r) {
        throw internalError(
          `disk ${d.target.dev} uses pool '${d.source?.pool}' volume '${d.source?.volume}', which was not resolved to a path before building the QEMU command`,
        );
      }
      const drv = r.kind === 'block' ? blockDriver(cd, r.path) : 'file';
      const props = { driver: drv, filename: r.path };
      return r.format ? { props, format: r.format } : { props };
    }
    default:
      throw notYet(what);
  }
}

function hasSource(d: DiskDef): boolean {
  const s = d.source;
  if (!s) return false;
  return d.type === 'file' ? !!s.file : d.type === 'block' ? !!s.dev : true;
}

function controllerOf(st: BuildState, type: string, index: number): ControllerDef | undefined {
  return st.def.devices.controllers.find((c) => c.type === type && c.index === index);
}

/** Frontend placement and id for a disk on its bus. */
function frontend(st: BuildState, d: DiskDef, idx: number): JsonProps {
  const cd = d.device === 'cdrom';
  const bus =
    d.target.bus ??
    (d.target.dev.startsWith('vd') ? 'virtio' : d.target.dev.startsWith('sd') ? 'scsi' : 'ide');
  const drv = d.address?.type === 'drive' ? d.address : undefined;
  const what = `disk ${d.target.dev}`;
  switch (bus) {
    case 'virtio':
      if (cd) throw unsupportedConfig(`disk ${d.target.dev}: a cdrom cannot use bus 'virtio'`);
      return {
        driver: 'virtio-blk-pci',
        ...addressProps(st, d.address, what, true),
        id: `virtio-disk${idx}`,
      };
    case 'ide': {
      if (st.q35)
        throw unsupportedConfig(
          `disk ${d.target.dev}: IDE controllers are unsupported for machine type q35; use bus 'sata'`,
        );
      const b = drv ? drv.bus : Math.floor((idx % 4) / 2);
      const u = drv ? drv.unit : idx % 2;
      const c = drv ? drv.controller : Math.floor(idx / 4);
      if (c !== 0) throw notYet(`a second IDE controller (disk ${d.target.dev})`);
      return { driver: cd ? 'ide-cd' : 'ide-hd', bus: `ide.${b}`, unit: u, id: `ide${c}-${b}-${u}` };
    }
    case 'sata': {
      const c = drv ? drv.controller : Math.floor(idx / 6);
      const u = drv ? drv.unit : idx % 6;
      const busName = st.q35 && c === 0 ? 'ide' : `sata${c}`;
      return { driver: cd ? 'ide-cd' : 'ide-hd', bus: `${busName}.${u}`, id: `sata${c}-0-${u}` };
    }
    case 'scsi': {
      const c = drv ? drv.controller : Math.floor(idx / 7);
      const b = drv ? drv.bus : 0;
      const t = drv ? drv.target : 0;
      const u = drv ? drv.unit : idx % 7;
      const model = controllerOf(st, 'scsi', c)?.model ?? 'lsilogic';
      const driver = cd ? 'scsi-cd' : 'scsi-hd';
      if (model === 'lsilogic') {
        return {
          driver,
          bus: `scsi${c}.${b}`,
          'scsi-id': u,
          device_id: `drive-scsi${c}-${b}-${u}`,
          id: `scsi${c}-${b}-${u}`,
        };
      }
      return {
        driver,
        bus: `scsi${c}.0`,
        channel: b,
        'scsi-id': t,
        lun: u,
        device_id: `drive-scsi${c}-${b}-${t}-${u}`,
        id: `scsi${c}-${b}-${t}-${u}`,
      };
    }
    case 'usb':
      return { driver: 'usb-storage', ...addressProps(st, d.address, what), id: `usb-disk${idx}` };
    default:
      throw notYet(`<disk> bus '${bus}'`, `(disk ${d.target.dev})`);
  }
}

/** Emits -blockdev/-device for every <disk>, in definition order (block node names libvirt-N-*). */
export function buildDisks(st: BuildState): void {
  const disks = st.def.devices.disks;
  disks.forEach((d, i) => {
    buildDisk(st, d, i, disks.length - i);
  });
}

function buildDisk(st: BuildState, d: DiskDef, i: number, nodeIdx: number): void {
  const dev = d.target.dev;
  if (d.device === 'lun') throw notYet(`<disk device='lun'>`, `(disk ${dev})`);
  // QEMU reads a qcow2 backing chain from the image header itself (the top format is never probed).
  refuseExtraChildren(d.extra, ['backingStore'], 'disk');
  if (d.type !== 'network') checkLocalSource(d);
  if (d.device === 'floppy') throw notYet(`<disk device='floppy'>`, `(disk ${dev})`);
  if (d.transient) throw notYet('<transient/>', `on disk ${dev}`);
  if (d.wwn) throw notYet('<wwn>', `on disk ${dev}`);
  if (d.driver?.iothread !== undefined) throw notYet(`<driver iothread=...>`, `on disk ${dev}`);
  if (d.driver?.name && d.driver.name !== 'qemu')
    throw unsupportedConfig(`disk ${dev}: driver name '${d.driver.name}' is not 'qemu'`);
  const idx = diskTargetIndex(dev);
  if (idx < 0) throw unsupportedConfig(`disk target '${dev}' is not a valid disk name (vda, sdb, hdc ...)`);
  const cd = d.device === 'cdrom';
  const ro = d.readonly || cd;
  // A disk shared between guests must not be cached on the host (libvirt's default for shareable).
  const cache = cacheOf(d.driver?.cache ?? (d.shareable && !ro ? 'none' : undefined));
  const cacheObj = cache ? { cache: { direct: cache.direct, 'no-flush': cache.noFlush } } : {};
  const fe = frontend(st, d, idx);
  let drive: string | undefined;
  if (hasSource(d)) {
    const s = storageOf(st, d, i);
    // A pool knows a volume's real format; otherwise the XML's (the defaults pass writes raw).
    let fmt = s.format ?? d.driver?.type ?? 'raw';
    if (fmt === 'iso' || fmt === 'aio') fmt = 'raw';
    if (!FORMATS.includes(fmt)) throw unsupportedConfig(`disk ${dev}: image format '${fmt}'`);
    const storageName = `libvirt-${nodeIdx}-storage`;
    const storage: JsonProps = { ...s.props, 'node-name': storageName };
    if (d.driver?.io) {
      if (d.type === 'network')
        throw unsupportedConfig(`disk ${dev}: io='${d.driver.io}' needs a local file or block device`);
      storage.aio = d.driver.io;
    }
    const layered = fmt !== 'raw';
    if (layered) {
      storage['auto-read-only'] = true;
      storage.discard = 'unmap';
    } else {
      storage['read-only'] = ro;
      if (d.driver?.discard === 'unmap') storage.discard = 'unmap';
    }
    Object.assign(storage, cacheObj);
    st.args.push('-blockdev', jsonArg(storage));
    drive = storageName;
    if (layered) {
      const formatName = `libvirt-${nodeIdx}-format`;
      const format: JsonProps = { 'node-name': formatName, 'read-only': ro };
      if (d.driver?.discard === 'unmap') format.discard = 'unmap';
      Object.assign(format, cacheObj, { driver: fmt, file: storageName });
      st.args.push('-blockdev', jsonArg(format));
      drive = formatName;
    }
  } else if (!cd) {
    throw unsupportedConfig(`disk ${dev} has no source; only a cdrom may be empty`);
  }
  const props: JsonProps = { ...fe };
  const id = props.id;
  delete props.id;
  if (d.driver?.queues !== undefined && props.driver === 'virtio-blk-pci')
    props['num-queues'] = d.driver.queues;
  const x = driverExtras(
    d.driver?.extra,
    ['queue_size', 'event_idx', 'ioeventfd', ...Object.keys(VIRTIO_OPTIONS)],
    'disk',
  );
  if (Object.keys(x).length && props.driver !== 'virtio-blk-pci') {
    throw unsupportedConfig(
      `disk ${dev}: queue_size, event_idx, ioeventfd and virtio options are only valid for virtio disks`,
    );
  }
  if (x.queue_size !== undefined) props['queue-size'] = Number(x.queue_size);
  if (x.event_idx !== undefined) props.event_idx = onOffValue(x.event_idx);
  if (x.ioeventfd !== undefined) props.ioeventfd = onOffValue(x.ioeventfd);
  Object.assign(props, virtioOptionProps(x));
  if (drive) props.drive = drive;
  props.id = id;
  Object.assign(props, bootProps(st, d.boot?.order, `disk:${i}`));
  if (cache && !cd) props['write-cache'] = cache.writeCache ? 'on' : 'off';
  if (d.shareable) props['share-rw'] = true;
  if (d.serial !== undefined) props.serial = d.serial;
  if (d.target.rotationRate !== undefined && props.driver !== 'usb-storage')
    props.rotation_rate = d.target.rotationRate;
  if (props.driver === 'usb-storage') props.removable = d.target.removable ?? false;
  const ep = d.driver?.errorPolicy;
  if (ep && ep !== 'default') {
    const v = ep === 'enospace' ? 'enospc' : ep;
    if (!['stop', 'report', 'ignore', 'enospc'].includes(v))
      throw unsupportedConfig(`disk ${dev}: error_policy '${ep}'`);
    props.werror = v;
    if (v !== 'enospc') props.rerror = v;
  }
  st.args.push('-device', jsonArg(props));
}
