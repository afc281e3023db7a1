// Typed domain definition (libvirt's virDomainDef): plain data produced by parseDomain, read by the QEMU driver.
import type { Extra, XmlElement } from '../../util/xml.js';
import type { DevicesDef } from './device-def.js';

export type { AddressDef } from './address.js';
export type * from './device-def.js';

// ---------------------------------------------------------------------------------------------- top level

export interface OsDef {
  /** 'hvm' | 'linux' | 'xen' | 'exe' ... */
  type: string;
  arch?: string;
  machine?: string;
  /** Boot device order from <boot dev=.../>. */
  bootDevs: ('fd' | 'hd' | 'cdrom' | 'network')[];
  bootMenu?: { enable: boolean; timeout?: number; extra?: Extra };
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  dtb?: string;
  loader?: { path?: string; readonly?: boolean; type?: 'rom' | 'pflash'; secure?: boolean; extra?: Extra };
  nvram?: { path?: string; template?: string; extra?: Extra };
  firmware?: string;
  typeExtra?: Extra;
  extra?: Extra;
}

export interface CpuFeature {
  name: string;
  policy?: 'force' | 'require' | 'optional' | 'disable' | 'forbid';
  extra?: Extra;
}
export interface CpuDef {
  mode?: 'custom' | 'host-model' | 'host-passthrough' | 'maximum';
  match?: 'minimum' | 'exact' | 'strict';
  check?: 'none' | 'partial' | 'full';
  migratable?: boolean;
  model?: string;
  fallback?: 'allow' | 'forbid';
  vendorId?: string;
  modelExtra?: Extra;
  vendor?: string;
  topology?: {
    sockets: number;
    dies?: number;
    clusters?: number;
    cores: number;
    threads: number;
    extra?: Extra;
  };
  features: CpuFeature[];
  extra?: Extra;
}

export interface TimerDef {
  name: string;
  present?: boolean;
  tickpolicy?: string;
  track?: string;
  extra?: Extra;
}
export interface ClockDef {
  offset: 'utc' | 'localtime' | 'timezone' | 'variable' | 'absolute';
  timezone?: string;
  adjustment?: string;
  basis?: string;
  timers: TimerDef[];
  extra?: Extra;
}

/** Hypervisor features: a feature name -> its element (state/values kept as written). */
export interface FeaturesDef {
  /** Simple switches present in the XML: acpi, apic, pae, hap, vmport (state), ... name -> state ('on'|'off'|undefined when just present). */
  list: { name: string; state?: string; el?: XmlElement }[];
}

export interface CputuneDef {
  vcpusched: { vcpu: number; scheduler: string; priority?: number }[];
  iothreadsched: { iothread: number; scheduler: string; priority?: number }[];
  cachetunes: { vcpus: number[]; el: XmlElement }[];
  memorytunes: { vcpus: number[]; el: XmlElement }[];
  extra?: Extra;
}

export type LifecycleAction =
  | 'destroy'
  | 'restart'
  | 'rename-restart'
  | 'preserve'
  | 'coredump-destroy'
  | 'coredump-restart';

export interface DomainDef {
  /** Hypervisor type: kvm, qemu, test, ... */
  type: string;
  /** Live-only domain id. */
  id?: number;
  name: string;
  uuid: string;
  title?: string;
  description?: string;
  /** Raw <metadata> element, kept as written. */
  metadata?: XmlElement;
  /** <maxMemory> in KiB with its slot count. */
  maxMemory?: { kib: number; slots?: number };
  /** <memory> in KiB. */
  memory: { kib: number; dumpCore?: 'on' | 'off' };
  /** <currentMemory> in KiB (the balloon target); defaults to memory. */
  currentMemory: number;
  /** <vcpu>: max vCPUs (default 1), current (when fewer are online at boot), placement (default static), host cpuset. */
  vcpu: { max: number; current?: number; placement: 'static' | 'auto'; cpuset?: string };
  cputune?: CputuneDef;
  resource?: { partition?: string; extra?: Extra };
  os: OsDef;
  features?: FeaturesDef;
  cpu?: CpuDef;
  /** <clock>; offset 'utc' when not given. */
  clock: ClockDef;
  /** Lifecycle actions; defaults destroy / restart / destroy like libvirt. */
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  pm?: { suspendToMem?: boolean; suspendToDisk?: boolean; extra?: Extra };
  devices: DevicesDef;
  /** Unmodeled top-level attributes and elements (seclabel, numatune, iothreads, ...). */
  extra?: Extra;
}
