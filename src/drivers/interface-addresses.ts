// domifaddr (libvirt's virDomainInterfaceAddresses): a running domain's interfaces and their
// addresses. Over a hypervisor composed with networks, addresses come from the DHCP leases of the
// networks the interfaces are on (VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, what libvirt's
// qemuGetDHCPInterfaces does); the test driver makes them up as libvirt's test driver does.
import type { NetworkLease } from './network/network-api.js';
import { VirError } from '../util/errors.js';
import { attr, child, childrenNamed, parseXml } from '../util/xml.js';

/** Where the addresses come from (virsh domifaddr --source). */
export type InterfaceAddressSource = 'lease' | 'agent' | 'arp';

/** One interface of a running domain and its addresses. */
export interface DomainInterfaceAddresses {
  /** The host-side device (<target dev>), or '-'. */
  name: string;
  hwaddr: string;
  addrs: { type: 'ipv4' | 'ipv6'; addr: string; prefix: number }[];
}

export interface InterfaceAddressConnection {
  /**
   * A running domain's interfaces with their addresses (virsh domifaddr). Interfaces without an
   * address are left out. @throws OPERATION_INVALID when the domain is not running,
   * OPERATION_UNSUPPORTED for a source the connection cannot read.
   */
  domainInterfaceAddresses(ref: string, source?: InterfaceAddressSource): Promise<DomainInterfaceAddresses[]>;
}

/** A guest NIC as its live XML describes it. */
export interface GuestNic {
  /** The <interface type>. */
  type: string;
  /** <source network> of a 'network' interface. */
  network?: string;
  /** <target dev>, or '-'. */
  name: string;
  mac: string;
}

/** The <interface> elements of a domain XML, in order. */
export function guestNics(domainXml: string): GuestNic[] {
  const devices = child(parseXml(domainXml), 'devices');
  return (devices ? childrenNamed(devices, 'interface') : []).map((i) => {
    const network = attr(child(i, 'source') ?? i, 'network');
    return {
      type: attr(i, 'type') ?? '',
      ...(network !== undefined ? { network } : {}),
      name: attr(child(i, 'target') ?? i, 'dev') ?? '-',
      mac: attr(child(i, 'mac') ?? i, 'address') ?? '-',
    };
  });
}

export function notRunning(): VirError {
  return new VirError('OPERATION_INVALID', 'Requested operation is not valid: domain is not running');
}

/**
 * domainInterfaceAddresses for a hypervisor with networks: each running domain's 'network'
 * interface gets the leases its network's DHCP server gave the interface's MAC.
 */
export async function leaseInterfaceAddresses(
  conn: {
    domainLookup(ref: string): Promise<{ id: number | null; uuid: string }>;
    domainGetXMLDesc(ref: string): Promise<string>;
    networkGetDHCPLeases(ref: string, mac?: string): Promise<NetworkLease[]>;
  },
  ref: string,
  source: InterfaceAddressSource = 'lease',
): Promise<DomainInterfaceAddresses[]> {
  if (source !== 'lease')
    throw new VirError(
      'OPERATION_UNSUPPORTED',
      `Operation not supported: tvirt reads guest addresses from DHCP leases only (--source lease), not '${source}'`,
    );
  const dom = await conn.domainLookup(ref);
  if (dom.id === null) throw notRunning();
  const out: DomainInterfaceAddresses[] = [];
  for (const nic of guestNics(await conn.domainGetXMLDesc(dom.uuid))) {
    if (nic.type !== 'network' || nic.network === undefined || nic.mac === '-') continue;
    const leases = await conn.networkGetDHCPLeases(nic.network, nic.mac);
    if (leases.length === 0) continue;
    out.push({
      name: nic.name,
      hwaddr: nic.mac,
      addrs: leases.map((l) => ({ type: l.type, addr: l.ipaddr, prefix: l.prefix })),
    });
  }
  return out;
}
