// NetworkForwarder: a base class whose network methods call another NetworkConnection, so a wrapper
// of a whole Connection (the daemon's guard, the test driver's connections) gets them in one line.
import type {
  HostInterface,
  NetworkConnection,
  NetworkInfo,
  NetworkLease,
  NetworkListFilter,
  NetworkSummary,
  NetworkUpdateCommand,
  NetworkUpdateFlags,
  NetworkUpdateSection,
} from './connection.js';

export class NetworkForwarder implements NetworkConnection {
  /** `networks` is called on every use, so the target may be replaced or looked up lazily. */
  constructor(private readonly networks: () => NetworkConnection) {}

  listNetworks(filter?: NetworkListFilter): Promise<NetworkSummary[]> {
    return this.networks().listNetworks(filter);
  }
  networkLookup(ref: string): Promise<NetworkSummary> {
    return this.networks().networkLookup(ref);
  }
  networkGetInfo(ref: string): Promise<NetworkInfo> {
    return this.networks().networkGetInfo(ref);
  }
  networkGetXMLDesc(ref: string, flags?: { inactive?: boolean }): Promise<string> {
    return this.networks().networkGetXMLDesc(ref, flags);
  }
  networkDefineXML(xml: string): Promise<NetworkSummary> {
    return this.networks().networkDefineXML(xml);
  }
  networkCreateXML(xml: string): Promise<NetworkSummary> {
    return this.networks().networkCreateXML(xml);
  }
  networkCreate(ref: string): Promise<NetworkSummary> {
    return this.networks().networkCreate(ref);
  }
  networkDestroy(ref: string): Promise<void> {
    return this.networks().networkDestroy(ref);
  }
  networkUndefine(ref: string): Promise<void> {
    return this.networks().networkUndefine(ref);
  }
  networkSetAutostart(ref: string, autostart: boolean): Promise<void> {
    return this.networks().networkSetAutostart(ref, autostart);
  }
  networkUpdate(
    ref: string,
    command: NetworkUpdateCommand,
    section: NetworkUpdateSection,
    xml: string,
    parentIndex?: number,
    flags?: NetworkUpdateFlags,
  ): Promise<void> {
    return this.networks().networkUpdate(ref, command, section, xml, parentIndex, flags);
  }
  networkGetDHCPLeases(ref: string, mac?: string): Promise<NetworkLease[]> {
    return this.networks().networkGetDHCPLeases(ref, mac);
  }
  ifaceList(): Promise<HostInterface[]> {
    return this.networks().ifaceList();
  }
  ifaceBridge(iface: string, bridge: string, opts?: { stp?: boolean; delay?: number }): Promise<void> {
    return this.networks().ifaceBridge(iface, bridge, opts);
  }
  ifaceUnbridge(bridge: string): Promise<string> {
    return this.networks().ifaceUnbridge(bridge);
  }
}
