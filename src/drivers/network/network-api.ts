// Types of the network driver's public contract (for the Connection contract, API and CLI).
import type { NetworkUpdateCommand, NetworkUpdateSection } from './net-update.js';

export type { NetworkUpdateCommand, NetworkUpdateSection };

/** One row of `net-list`. */
export interface NetworkSummary {
  name: string;
  uuid: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  /** The bridge guests join (virbrN, or the host bridge of a bridge-mode network). */
  bridge?: string;
}

/** `net-info`: Name, UUID, Active, Persistent, Autostart, Bridge. */
export type NetworkInfo = NetworkSummary;

/** `net-list` filters (virConnectListAllNetworks flags); unset means either. */
export interface NetworkListFilter {
  active?: boolean;
  persistent?: boolean;
  autostart?: boolean;
}

/** One DHCP lease (virNetworkDHCPLease), as `net-dhcp-leases` prints it. */
export interface NetworkLease {
  /** Bridge the lease was given on. */
  iface: string;
  /** Expiry, seconds since the epoch (0 = infinite). */
  expiryTime: number;
  type: 'ipv4' | 'ipv6';
  mac?: string;
  iaid?: string;
  ipaddr: string;
  prefix: number;
  hostname?: string;
  clientid?: string;
}

/** Which definitions net-update changes (virNetworkUpdateFlags); neither means "current". */
export interface NetworkUpdateFlags {
  live?: boolean;
  config?: boolean;
}

/** Lifecycle events (virNetworkEventLifecycleType). */
export type NetworkEvent = 'defined' | 'undefined' | 'started' | 'stopped';

/** Persistence of definitions; the daemon's ConfigStore satisfies it. */
export interface NetworkStore {
  save(name: string, xml: string): Promise<void>;
  load(name: string): Promise<string | undefined>;
  remove(name: string): Promise<boolean>;
  loadAll(): Promise<{ name: string; xml: string }[]>;
  setAutostart(name: string, autostart: boolean): Promise<void>;
  isAutostart(name: string): Promise<boolean>;
  listAutostart(): Promise<string[]>;
}
