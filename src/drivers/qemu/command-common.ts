// Shared pieces of the QEMU command builder: the build context, the command value, errors, addresses.
import type { AddressDef, DomainDef } from '../../conf/domain/domain-def.js';
import type { Extra } from '../../util/xml.js';
import { VirError } from '../../util/errors.js';
import { hex, type JsonProps } from './qemu-opts.js';

/** Network backend prepared by the process layer for one <interface> (same index as def.devices.interfaces). */
export interface TapInfo {
  /** Name of an existing tap device (opened by QEMU with script=no,downscript=no). */
  ifname?: string;
  /** Or an already opened tap file descriptor number inherited by QEMU (one per queue). */
  fds?: number[];
  /** Use vhost-net (only meaningful with KVM). */
  vhost?: boolean;
  /** Opened /dev/vhost-net descriptors, one per queue. */
  vhostfds?: number[];
}

/** A disk source resolved by the caller (e.g. a storage-pool volume). */
export interface ResolvedDiskSource {
  path: string;
  /** 'file' for a regular file, 'block' for a block device. */
  kind: 'file' | 'block';
  /** Image format when the pool knows it and the XML did not say. */
  format?: string;
}

/** Runtime facts decided by the process layer before a start; buildQemuCommand reads nothing else. */
export interface QemuBuildContext {
  /** Emulator binary; default def.devices.emulator, else 'qemu-system-x86_64'. */
  emulator?: string;
  /** Path of the QMP monitor UNIX socket QEMU listens on. */
  monitorPath: string;
  /** Per-domain runtime directory (guest-agent and channel sockets without a path go here). */
  runtimeDir: string;
  /** True when /dev/kvm is present and usable by the QEMU process. */
  kvmAvailable: boolean;
  /** QEMU version as major*1e6+minor*1e3+micro (7.2.0 = 7002000); default 7.2. */
  qemuVersion?: number;
  /** Whether the binary was built with SPICE (default true, as Debian's). */
  spice?: boolean;
  /** Tap backends for interfaces of type network/bridge/ethernet, by interface index. */
  taps?: (TapInfo | undefined)[];
  /** VNC port chosen by the process layer when autoport (display = port - 5900). */
  vncPort?: number;
  /** SPICE ports chosen when autoport. */
  spicePort?: number;
  spiceTlsPort?: number;
  /** Resolved sources of type='volume' disks, by disk index. */
  diskSources?: (ResolvedDiskSource | undefined)[];
  /** NVRAM file when the definition gives only a template (the process layer copies it). */
  nvramPath?: string;
  /** Epoch milliseconds, only needed for <clock offset='variable'> (kept out so the build stays pure). */
  now?: number;
  /** Extra environment for QEMU (merged over LC_ALL=C). */
  env?: Record<string, string>;
}

/** A command as a value (libvirt virCommand): what the process layer spawns. */
export interface QemuCommand {
  program: string;
  args: string[];
  env: Record<string, string>;
}

/** Mutable state shared by the device-family builders during one build. */
export interface BuildState {
  def: DomainDef;
  ctx: QemuBuildContext;
  args: string[];
  q35: boolean;
  /** Device key (e.g. 'disk:0', 'net:1') -> bootindex from <os><boot dev> when no per-device order is used. */
  bootIndex: Map<string, number>;
  /** Id of the audiodev every sound card and VNC server uses. */
  audiodev: string;
  /** Slots on PCI bus 0 taken by explicit addresses or the chipset; auto placement avoids them. */
  usedSlots: Set<number>;
  /** Slot kept for the primary video adapter without an address (libvirt: 00:02 on pc, 00:01 on q35). */
  videoSlot?: number;
}

/** Slots of bus 0 that explicit addresses or the chipset occupy (for {@link addressProps} auto placement). */
export function usedRootSlots(def: DomainDef, q35: boolean): Set<number> {
  const used = new Set<number>([0, q35 ? 0x1f : 1]);
  const d = def.devices;
  const lists: { address?: AddressDef }[][] = [
    d.disks,
    d.controllers,
    d.interfaces,
    d.videos,
    d.sounds,
    d.rngs,
    d.watchdogs,
    d.inputs,
    d.panics,
    d.serials,
    d.memballoon ? [d.memballoon] : [],
  ];
  for (const l of lists)
    for (const x of l) if (x.address?.type === 'pci' && x.address.bus === 0) used.add(x.address.slot);
  return used;
}

/** Reserves the conventional slot of the primary video adapter when it has no address. */
export function reserveVideoSlot(st: BuildState): void {
  const v = st.def.devices.videos.find((x) => x.primary) ?? st.def.devices.videos[0];
  const slot = st.q35 ? 1 : 2;
  if (v && !v.address && v.type !== 'none' && !st.usedSlots.has(slot)) {
    st.usedSlots.add(slot);
    st.videoSlot = slot;
  }
}

/**
 * Reads the kept-but-unmodeled attributes of a <driver> element (libvirt knobs such as queue_size):
 * returns the values of `known` and refuses any other attribute with CONFIG_UNSUPPORTED naming it.
 */
export function driverExtras(
  extra: Extra | undefined,
  known: readonly string[],
  element: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of extra?.attrs ?? []) {
    if (!known.includes(k)) throw notYet(`<${element}><driver ${k}='${v}'>`);
    out[k] = v;
  }
  return out;
}

/** libvirt's virtio <driver> options and their QEMU property names. */
export const VIRTIO_OPTIONS: Record<string, string> = {
  iommu: 'iommu_platform',
  ats: 'ats',
  packed: 'packed',
  page_per_vq: 'page-per-vq',
};

/** QEMU properties for the virtio options found in driver extras. */
export function virtioOptionProps(x: Record<string, string>): JsonProps {
  const p: JsonProps = {};
  for (const [k, prop] of Object.entries(VIRTIO_OPTIONS)) if (x[k] !== undefined) p[prop] = onOffValue(x[k]);
  return p;
}

/** on/yes -> true, off/no -> false (driver attribute values). */
export function onOffValue(v: string | undefined): boolean | undefined {
  return v === undefined ? undefined : v === 'on' || v === 'yes';
}

/**
 * Refuses unmodeled child elements of a device (kept by the XML layer for round trips) unless
 * listed in `allowed`: what tvirt would otherwise silently ignore, e.g. <iotune> or <filterref>.
 */
export function refuseExtraChildren(
  extra: Extra | undefined,
  allowed: readonly string[],
  element: string,
): void {
  for (const c of extra?.children ?? []) {
    if (c.node.type === 'element' && !allowed.includes(c.node.name))
      throw notYet(`<${element}><${c.node.name}>`);
  }
}

/** CONFIG_UNSUPPORTED naming the element tvirt cannot run yet. */
export function notYet(element: string, detail = ''): VirError {
  return new VirError(
    'CONFIG_UNSUPPORTED',
    `unsupported configuration: ${element}${detail ? ` ${detail}` : ''} is not supported by tvirt yet`,
    { domain: 'QEMU' },
  );
}

/** CONFIG_UNSUPPORTED with a free message. */
export function unsupportedConfig(msg: string): VirError {
  return new VirError('CONFIG_UNSUPPORTED', `unsupported configuration: ${msg}`, { domain: 'QEMU' });
}

/** INTERNAL_ERROR for a context the caller failed to prepare. */
export function internalError(msg: string): VirError {
  return new VirError('INTERNAL_ERROR', `internal error: ${msg}`, { domain: 'QEMU' });
}

/** Name of the PCI bus with index `bus` (pci.0 or pcie.0 for the root). */
export function pciBusName(st: BuildState, bus: number): string {
  if (bus === 0) return st.q35 ? 'pcie.0' : 'pci.0';
  return `pci.${bus}`;
}

/** QEMU alias of USB controller `index` ('usb' for the first, like libvirt). */
export function usbControllerId(index: number): string {
  return index === 0 ? 'usb' : `usb${index}`;
}

/**
 * Bus placement properties for a device's address: PCI -> bus/addr(/multifunction), USB -> bus/port.
 * Without an address a PCI device (`pci`) gets a free root-bus slot; others are placed by QEMU. Other address types are refused for PCI/USB devices.
 */
export function addressProps(
  st: BuildState,
  addr: AddressDef | undefined,
  what: string,
  pci = false,
): JsonProps {
  if (!addr) {
    if (!pci) return {};
    // QEMU would take the lowest free slot in command-line order, which may be one a later device
    // asks for explicitly: place it ourselves on a slot nobody claimed.
    let slot = 1;
    while (st.usedSlots.has(slot) && slot <= 0x1f) slot++;
    if (slot > 0x1f) throw unsupportedConfig(`no free PCI slot on the root bus for ${what}`);
    st.usedSlots.add(slot);
    return { bus: pciBusName(st, 0), addr: hex(slot) };
  }
  if (addr.type === 'pci') {
    if (addr.domain !== 0) throw notYet(`PCI domain ${addr.domain} in the address of ${what}`);
    const p: JsonProps = { bus: pciBusName(st, addr.bus) };
    if (addr.multifunction) p.multifunction = true;
    p.addr = addr.function ? `${hex(addr.slot)}.${hex(addr.function)}` : hex(addr.slot);
    return p;
  }
  if (addr.type === 'usb') {
    const p: JsonProps = { bus: `${usbControllerId(addr.bus)}.0` };
    if (addr.port !== undefined) p.port = addr.port;
    return p;
  }
  if (addr.type === 'unassigned') throw notYet(`address type 'unassigned' of ${what}`);
  throw unsupportedConfig(`address type '${addr.type}' is not valid for ${what}`);
}

/** Adds `bootindex` for a device from its <boot order> or the <os><boot dev> mapping. */
export function bootProps(st: BuildState, order: number | undefined, key: string): JsonProps {
  const n = order ?? st.bootIndex.get(key);
  return n === undefined ? {} : { bootindex: n };
}
