// Typed model of libvirt's <network> definition (formatnetwork.html), shared by parse, validate and format.
import type { Extra, XmlElement } from '../../util/xml.js';

/** Forward modes; no <forward> element means an isolated network. */
export type ForwardMode =
  | 'nat'
  | 'route'
  | 'open'
  | 'bridge'
  | 'private'
  | 'vepa'
  | 'passthrough'
  | 'hostdev';
/** All forward modes, in libvirt's enum order. */
export const forwardModes: readonly ForwardMode[] = [
  'nat',
  'route',
  'open',
  'bridge',
  'private',
  'vepa',
  'passthrough',
  'hostdev',
];

/** A parsed and post-parsed network definition (libvirt virNetworkDef). Plain data. */
export interface NetworkDef {
  name: string;
  /** Lower-case 8-4-4-4-12; generated at post-parse when absent. */
  uuid: string;
  /** `ipv6='yes'` on the root: guest-to-guest IPv6 without an IPv6 address. */
  ipv6?: boolean;
  trustGuestRxFilters?: boolean;
  title?: string;
  description?: string;
  /** <metadata>, verbatim. */
  metadata?: XmlElement;
  forward?: NetworkForward;
  bridge?: NetworkBridge;
  /** MTU of the bridge, bytes. */
  mtu?: number;
  /** Bridge MAC (lower case); libvirt generates one at define time, not at parse. */
  mac?: string;
  domain?: { name?: string; localOnly?: boolean; register?: boolean; extra?: Extra };
  dns?: NetworkDns;
  ips: NetworkIp[];
  routes: NetworkRoute[];
  portgroups: NetworkPortgroup[];
  /** <virtualport>, <bandwidth>, <vlan>, <port isolated>: kept verbatim. */
  virtualport?: XmlElement;
  bandwidth?: XmlElement;
  vlan?: XmlElement;
  port?: XmlElement;
  /** Everything else on <network> (title, metadata, namespaces...), written back in place. */
  extra?: Extra;
}

/** <forward>: mode and the pool of devices it may use. */
export interface NetworkForward {
  mode: ForwardMode;
  managed?: boolean;
  /** Interface pool (`dev` attribute and <interface dev>), first one is the forward dev. */
  interfaces: { dev: string; extra?: Extra }[];
  /** SR-IOV physical function(s) (<pf dev>); at most one. */
  pfs: { dev: string; extra?: Extra }[];
  /** PCI addresses of hostdev/passthrough pools, verbatim. */
  addresses: XmlElement[];
  /** <driver name|model>, verbatim. */
  driver?: XmlElement;
  nat?: NetworkNat;
  extra?: Extra;
}

/** <nat> of a nat network: SNAT address range and port range. */
export interface NetworkNat {
  ipv6?: boolean;
  address?: { start: string; end: string; extra?: Extra };
  port?: { start: number; end: number; extra?: Extra };
  extra?: Extra;
}

/** <bridge> of the network. */
export interface NetworkBridge {
  name?: string;
  zone?: string;
  /** Spanning tree, on unless stp='off' (only for nat/route/open/isolated networks). */
  stp?: boolean;
  /** Forward delay in seconds. */
  delay?: number;
  macTableManager?: string;
  extra?: Extra;
}

/** <dns>: dnsmasq's DNS settings and records. */
export interface NetworkDns {
  enable?: boolean;
  forwardPlainNames?: boolean;
  forwarders: { domain?: string; addr?: string; extra?: Extra }[];
  txts: { name: string; value: string; extra?: Extra }[];
  srvs: {
    service?: string;
    protocol: string;
    domain?: string;
    target?: string;
    port?: number;
    priority?: number;
    weight?: number;
    extra?: Extra;
  }[];
  hosts: { ip: string; hostnames: string[]; extra?: Extra }[];
  extra?: Extra;
}

/** A DHCP lease time: expiry in `unit` (minutes when absent); 0 means infinite. */
export interface DhcpLease {
  expiry: number;
  unit?: 'seconds' | 'minutes' | 'hours';
  extra?: Extra;
}

/** One <ip>: an address of the bridge with its subnet, TFTP and DHCP settings. */
export interface NetworkIp {
  family?: 'ipv4' | 'ipv6';
  address?: string;
  netmask?: string;
  prefix?: number;
  localPtr?: boolean;
  tftpRoot?: string;
  tftpExtra?: Extra;
  dhcp?: NetworkDhcp;
  extra?: Extra;
}

/** <dhcp> of an <ip>: ranges, static hosts, boot server. */
export interface NetworkDhcp {
  ranges: { start: string; end: string; lease?: DhcpLease; extra?: Extra }[];
  hosts: { mac?: string; id?: string; name?: string; ip?: string; lease?: DhcpLease; extra?: Extra }[];
  bootp?: { file: string; server?: string; extra?: Extra };
  extra?: Extra;
}

/** A static <route> through a gateway reachable on one of the network's subnets. */
export interface NetworkRoute {
  family?: 'ipv4' | 'ipv6';
  address: string;
  netmask?: string;
  prefix?: number;
  gateway: string;
  metric?: number;
  extra?: Extra;
}

/** A <portgroup>: named settings that a domain interface can pick. */
export interface NetworkPortgroup {
  name: string;
  default?: boolean;
  trustGuestRxFilters?: boolean;
  /** <vlan>, <virtualport>, <bandwidth> and anything else, verbatim and in order. */
  children: XmlElement[];
  extra?: Extra;
}
