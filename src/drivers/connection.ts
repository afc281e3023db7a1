// The driver contract: every public operation of tvirt, as libvirt's virConnect/virDomain API.
// Implemented by the in-process test driver, the QEMU driver inside tvirtd, and the remote client
// that talks to tvirtd; the CLI, REST API and web UI only ever see this interface.
import type {
  DomainInterfaceAddresses,
  InterfaceAddressConnection,
  InterfaceAddressSource,
} from './interface-addresses.js';
import type { Duplex } from 'node:stream';
import type { CloneConnection, CloneResult, DomainCloneOptions } from './clone/clone-api.js';
import type { HostInterface } from './network/iface-bridge.js';
import type {
  NetworkInfo,
  NetworkLease,
  NetworkListFilter,
  NetworkSummary,
  NetworkUpdateCommand,
  NetworkUpdateFlags,
  NetworkUpdateSection,
} from './network/network-api.js';
import type { StorageApi } from './storage/storage-api.js';

export type {
  HostInterface,
  NetworkInfo,
  NetworkLease,
  NetworkListFilter,
  NetworkSummary,
  NetworkUpdateCommand,
  NetworkUpdateFlags,
  NetworkUpdateSection,
};

/** Domain states, with libvirt's names (virDomainState). */
export type DomainStateName =
  | 'nostate'
  | 'running'
  | 'blocked'
  | 'paused'
  | 'shutdown'
  | 'shutoff'
  | 'crashed'
  | 'pmsuspended';

/** A state with its reason, as `virsh domstate --reason` prints it (e.g. shutoff, destroyed). */
export interface DomainState {
  state: DomainStateName;
  /** libvirt's reason word: booted, unpaused, user, ioerror, shutdown, destroyed, crashed, failed, panicked... */
  reason: string;
}

/** What `list` shows for one domain. */
export interface DomainSummary extends DomainState {
  /** Runtime id while active, otherwise null (virsh prints '-'). */
  id: number | null;
  name: string;
  uuid: string;
  persistent: boolean;
  autostart: boolean;
  title?: string;
}

/** What `domblkinfo` shows for one disk (virDomainBlockInfo), in bytes. */
export interface BlockInfo {
  capacity: number;
  allocation: number;
  physical: number;
}

/** What `dominfo` shows. */
export interface DomainInfo extends DomainSummary {
  osType: string;
  maxMemoryKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
  managedSave: boolean;
  securityModel?: string;
  /** Security DOI of the model (virsh prints it, possibly empty, when a model is set). */
  securityDoi?: string;
  /** The running domain's security label, when it has one. */
  securityLabel?: { label: string; enforcing: boolean };
}

export interface DomainListFilter {
  active?: boolean;
  inactive?: boolean;
  persistent?: boolean;
  transient?: boolean;
  autostart?: boolean;
  noAutostart?: boolean;
  states?: DomainStateName[];
}

export interface NodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface VersionInfo {
  /** tvirt's version, e.g. 0.1.0 */
  library: string;
  /** Hypervisor driver name as virsh prints it: QEMU, Test */
  hypervisorType: string;
  /** Hypervisor version, e.g. 7.2.0 */
  hypervisor: string;
}

/** Lifecycle and job events, delivered to every client that subscribed. */
export interface TvirtEvent {
  kind: 'domain-lifecycle' | 'job' | 'network-lifecycle' | 'pool-lifecycle';
  /** Object name and uuid the event is about. */
  name: string;
  uuid?: string;
  /** libvirt's event words: defined, undefined, started, suspended, resumed, stopped, shutdown, pmsuspended, crashed; job: progress, completed, failed, cancelled */
  event: string;
  detail?: string;
  /** For jobs: progress so far. */
  progress?: { processed: number; total: number };
  jobId?: string;
  timestamp: number;
}

export interface DomainXMLFlags {
  /** The persistent definition rather than the live one. */
  inactive?: boolean;
  /** Include secrets such as VNC passwords (virsh --security-info). */
  secure?: boolean;
}

export interface ModifyFlags {
  /** Change the persistent definition. */
  config?: boolean;
  /** Change the running domain. */
  live?: boolean;
  /** Whichever of live/config applies to the domain's current state (the default). */
  current?: boolean;
}

/**
 * The network half of a connection (libvirt's virNetwork* and the host-interface calls). Network
 * arguments (`ref`) accept a name or a UUID. Errors: NO_NETWORK, OPERATION_INVALID (wrong state),
 * OPERATION_FAILED (name/uuid/bridge/subnet clash), XML_ERROR / CONFIG_UNSUPPORTED (bad XML),
 * NO_SUPPORT / OPERATION_UNSUPPORTED (a daemon without networking).
 */
export interface NetworkConnection {
  /** net-list: the networks matching the filter (unset fields match either way), by name. */
  listNetworks(filter?: NetworkListFilter): Promise<NetworkSummary[]>;
  /** Finds a network by UUID or name. @throws NO_NETWORK */
  networkLookup(ref: string): Promise<NetworkSummary>;
  networkGetInfo(ref: string): Promise<NetworkInfo>;
  /** The live definition, or with `inactive` the persistent one. */
  networkGetXMLDesc(ref: string, flags?: { inactive?: boolean }): Promise<string>;
  /** Defines (or redefines) a persistent network; a running one keeps its live definition until stopped. */
  networkDefineXML(xml: string): Promise<NetworkSummary>;
  /** Creates and starts a transient network (net-create). */
  networkCreateXML(xml: string): Promise<NetworkSummary>;
  /** Starts a defined, inactive network (net-start). */
  networkCreate(ref: string): Promise<NetworkSummary>;
  /** Stops a network; a transient one disappears (net-destroy). */
  networkDestroy(ref: string): Promise<void>;
  networkUndefine(ref: string): Promise<void>;
  networkSetAutostart(ref: string, autostart: boolean): Promise<void>;
  /** net-update: one command on one section; no flags means the current state (live when running). */
  networkUpdate(
    ref: string,
    command: NetworkUpdateCommand,
    section: NetworkUpdateSection,
    xml: string,
    parentIndex?: number,
    flags?: NetworkUpdateFlags,
  ): Promise<void>;
  /** The leases of a running network, optionally of one MAC only. */
  networkGetDHCPLeases(ref: string, mac?: string): Promise<NetworkLease[]>;
  /** iface-list: host interfaces with their bridge ports. */
  ifaceList(): Promise<HostInterface[]>;
  /** iface-bridge: a new bridge takes over IFACE's addresses and routes. */
  ifaceBridge(iface: string, bridge: string, opts?: { stp?: boolean; delay?: number }): Promise<void>;
  /** iface-unbridge: moves the addresses back and deletes the bridge; returns the freed interface. */
  ifaceUnbridge(bridge: string): Promise<string>;
}

/**
 * The hypervisor half of a connection (what a hypervisor driver such as QEMU implements). Domain
 * arguments (`ref`) accept a name, a UUID or a numeric id, as virsh does. Every method throws
 * VirError with libvirt's code on failure (NO_DOMAIN, OPERATION_INVALID, DOM_EXIST, XML_ERROR ...).
 */
export interface HypervisorConnection {
  readonly uri: string;
  close(): Promise<void>;

  getVersion(): Promise<VersionInfo>;
  getHostname(): Promise<string>;
  /** The capabilities XML (virsh capabilities). */
  getCapabilities(): Promise<string>;
  /**
   * virsh domxml-to-native: a domain XML in a hypervisor's native format ('qemu-argv': the command
   * line QEMU would run). @throws INVALID_ARG for another format, NO_SUPPORT where not implemented.
   */
  domainXMLToNative(format: string, xml: string): Promise<string>;
  /**
   * virsh qemu-monitor-command: one QMP command (a JSON object with `execute`) or, with `hmp`, one
   * human monitor command line, on a running domain; answers the reply as JSON text
   * ({"return": ...} or {"error": {class, desc}}, with an id), or the human monitor's text, as
   * libvirt does.
   * @throws OPERATION_INVALID when not running, NO_SUPPORT where there is no QEMU monitor.
   */
  domainQemuMonitorCommand(ref: string, cmd: string, flags?: { hmp?: boolean }): Promise<string>;
  /**
   * virsh domblkinfo: the size of one disk, by target (vda) or source path: capacity (what the
   * guest sees), allocation (bytes in use on the host) and physical (the file's size).
   * @throws INVALID_ARG when no disk of the domain has that target or path.
   */
  domainGetBlockInfo(ref: string, disk: string): Promise<BlockInfo>;
  /**
   * virsh dommemstat: a running domain's memory statistics as [tag, value] pairs with libvirt's
   * tags (actual, swap_in, ..., rss; sizes in KiB), in the driver's order.
   * @throws OPERATION_INVALID when the domain is not running.
   */
  domainMemoryStats(ref: string): Promise<[string, number][]>;
  nodeGetInfo(): Promise<NodeInfo>;

  listDomains(filter?: DomainListFilter): Promise<DomainSummary[]>;
  /** Finds a domain by name, UUID or id. @throws NO_DOMAIN */
  domainLookup(ref: string): Promise<DomainSummary>;
  domainGetInfo(ref: string): Promise<DomainInfo>;
  domainGetState(ref: string): Promise<DomainState>;
  domainGetXMLDesc(ref: string, flags?: DomainXMLFlags): Promise<string>;

  /** Defines (or redefines, same name and uuid) a persistent domain. */
  domainDefineXML(xml: string): Promise<DomainSummary>;
  /**
   * Removes the persistent definition. A running domain becomes transient and disappears when it
   * stops (libvirt 9 behaviour); the result says so.
   */
  domainUndefine(
    ref: string,
    flags?: { removeAllStorage?: boolean; nvram?: boolean },
  ): Promise<{ becameTransient: boolean }>;
  /** Starts a transient domain from XML (virsh create). */
  domainCreateXML(xml: string, flags?: { paused?: boolean }): Promise<DomainSummary>;
  /** Starts a defined domain (virsh start). Only while it is inactive. */
  domainCreate(ref: string, flags?: { paused?: boolean }): Promise<DomainSummary>;
  /** Asks the guest to shut down (ACPI power button, or the guest agent). Only while active. */
  domainShutdown(ref: string, flags?: { mode?: 'acpi' | 'agent' }): Promise<void>;
  domainReboot(ref: string, flags?: { mode?: 'acpi' | 'agent' }): Promise<void>;
  domainReset(ref: string): Promise<void>;
  /** Stops the domain at once (graceful first unless `graceful` is false... as virsh destroy). */
  domainDestroy(ref: string, flags?: { graceful?: boolean }): Promise<void>;
  domainSuspend(ref: string): Promise<void>;
  domainResume(ref: string): Promise<void>;
  domainSetAutostart(ref: string, autostart: boolean): Promise<void>;
  domainSetMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void>;
  domainSetMaxMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void>;
  domainSetVcpus(ref: string, count: number, flags?: ModifyFlags & { maximum?: boolean }): Promise<void>;
  domainSetMetadata(
    ref: string,
    type: 'title' | 'description',
    text: string,
    flags?: ModifyFlags,
  ): Promise<void>;
  domainGetMetadata(ref: string, type: 'title' | 'description', flags?: ModifyFlags): Promise<string>;
  /** A byte stream to the guest's serial console (or the named chardev alias). Only while running. */
  domainOpenConsole(ref: string, dev?: string): Promise<Duplex>;

  /** Subscribes to events; returns the function that unsubscribes. */
  onEvent(listener: (ev: TvirtEvent) => void): () => void;
}

export type {
  ResolvedDiskVolume,
  StorageJobOptions,
  StoragePoolBuildFlags,
  StoragePoolCreateFlags,
  StoragePoolDeleteFlags,
  StoragePoolInfo,
  StoragePoolListFilter,
  StoragePoolStateName,
  StoragePoolSummary,
  StorageVolCreateFlags,
  StorageVolInfo,
  StorageVolRef,
  StorageVolResizeFlags,
  StorageVolStreamFlags,
  StorageVolSummary,
  StorageVolType,
  WipeAlgorithm,
} from './storage/storage-api.js';

/**
 * The storage half of a connection (libvirt's virStoragePool* and virStorageVol*), as the storage
 * driver's StorageApi minus resolveDiskVolume (a daemon-internal hook for domain start, see
 * src/daemon/host-connection.ts). Pools are named by name or UUID. Long volume operations
 * (create-from, wipe, resize, upload, download) take `job` (progress + abort signal); through
 * tvirtd they run as daemon jobs (job events carry processed/total; DELETE /v1/jobs/{id} cancels).
 * Errors: NO_STORAGE_POOL, NO_STORAGE_VOL, OPERATION_INVALID (pool not active ...),
 * STORAGE_VOL_EXIST, INVALID_ARG, XML_ERROR, OPERATION_ABORTED, NO_SUPPORT.
 */
export type StorageConnection = Omit<StorageApi, 'resolveDiskVolume'>;

/**
 * A connection as the CLI, REST API and web UI see it: a hypervisor plus networks. tvirtd composes
 * its hypervisor driver with the network driver (src/daemon/host-connection.ts); the test driver
 * and the remote client implement both halves themselves. Network events arrive through onEvent
 * with kind 'network-lifecycle' (defined, undefined, started, stopped).
 */
export interface Connection extends HypervisorConnection, NetworkConnection, StorageConnection {}

export type { CloneConnection, CloneResult, DomainCloneOptions };

/** Cloning (virt-clone, src/drivers/clone): provided once over the other halves (merged declaration). */
export interface Connection extends CloneConnection {}

export type { DomainInterfaceAddresses, InterfaceAddressConnection, InterfaceAddressSource };

/**
 * domifaddr (src/drivers/interface-addresses.ts): from the hypervisor and network halves together;
 * tvirtd's composite reads DHCP leases, the test driver makes addresses up (merged declaration).
 */
export interface Connection extends InterfaceAddressConnection {}
