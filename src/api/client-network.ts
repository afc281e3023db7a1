// The remote client's network calls (the NetworkConnection half of RemoteConnection), over the
// routes of routes-network.ts.
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
} from '../drivers/connection.js';

const enc = encodeURIComponent;

function qs(params: Record<string, string | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Network methods of a client that has `call(method, path, body)`. */
export abstract class RemoteNetworkCalls implements NetworkConnection {
  abstract call<T>(method: string, path: string, body?: unknown): Promise<T>;

  async listNetworks(filter: NetworkListFilter = {}): Promise<NetworkSummary[]> {
    const path = `/networks${qs({ active: filter.active, persistent: filter.persistent, autostart: filter.autostart })}`;
    return (await this.call<{ networks: NetworkSummary[] }>('GET', path)).networks;
  }
  networkLookup(ref: string): Promise<NetworkSummary> {
    return this.call('GET', `/networks/${enc(ref)}`);
  }
  networkGetInfo(ref: string): Promise<NetworkInfo> {
    return this.call('GET', `/networks/${enc(ref)}/info`);
  }
  async networkGetXMLDesc(ref: string, flags: { inactive?: boolean } = {}): Promise<string> {
    const path = `/networks/${enc(ref)}/xml${qs({ inactive: flags.inactive || undefined })}`;
    return (await this.call<{ xml: string }>('GET', path)).xml;
  }
  networkDefineXML(xml: string): Promise<NetworkSummary> {
    return this.call('POST', '/networks', { xml });
  }
  networkCreateXML(xml: string): Promise<NetworkSummary> {
    return this.call('POST', '/networks', { xml, transient: true });
  }
  networkCreate(ref: string): Promise<NetworkSummary> {
    return this.call('POST', `/networks/${enc(ref)}/actions/start`, {});
  }
  async networkDestroy(ref: string): Promise<void> {
    await this.call('POST', `/networks/${enc(ref)}/actions/destroy`, {});
  }
  async networkUndefine(ref: string): Promise<void> {
    await this.call('DELETE', `/networks/${enc(ref)}`);
  }
  async networkSetAutostart(ref: string, autostart: boolean): Promise<void> {
    await this.call('PUT', `/networks/${enc(ref)}/autostart`, { autostart });
  }
  async networkUpdate(
    ref: string,
    command: NetworkUpdateCommand,
    section: NetworkUpdateSection,
    xml: string,
    parentIndex = -1,
    flags: NetworkUpdateFlags = {},
  ): Promise<void> {
    await this.call('POST', `/networks/${enc(ref)}/update`, { command, section, xml, parentIndex, ...flags });
  }
  async networkGetDHCPLeases(ref: string, mac?: string): Promise<NetworkLease[]> {
    const path = `/networks/${enc(ref)}/leases${qs({ mac })}`;
    return (await this.call<{ leases: NetworkLease[] }>('GET', path)).leases;
  }
  async ifaceList(): Promise<HostInterface[]> {
    return (await this.call<{ interfaces: HostInterface[] }>('GET', '/interfaces')).interfaces;
  }
  async ifaceBridge(
    iface: string,
    bridge: string,
    opts: { stp?: boolean; delay?: number } = {},
  ): Promise<void> {
    await this.call('POST', '/interfaces/bridges', { iface, bridge, ...opts });
  }
  async ifaceUnbridge(bridge: string): Promise<string> {
    return (await this.call<{ iface: string }>('DELETE', `/interfaces/bridges/${enc(bridge)}`)).iface;
  }
}
