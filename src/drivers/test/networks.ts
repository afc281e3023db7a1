// Networks of test:///default: libvirt's test driver behaviour (testNetwork*), in memory. The
// `default` network is active and persistent; nothing touches the host. Messages as virsh shows them.
import type { NetworkDef } from '../../conf/network/index.js';
import { VirError } from '../../util/errors.js';
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
} from '../connection.js';
import type { DomainInterfaceAddresses, GuestNic } from '../interface-addresses.js';
import { withLibvirtPrefix } from '../network/libvirt-message.js';

type NetConf = typeof import('../../conf/network/index.js');

/** libvirt's test driver default network (src/test/test_driver.c defaultNetworkXML). */
export const testDefaultNetworkXml = `<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
`;

/** The test driver's one host interface (libvirt's defaultInterfaceXML). */
const testInterface: HostInterface = {
  name: 'eth1',
  state: 'up',
  mac: 'aa:bb:cc:dd:ee:ff',
  addresses: ['192.168.0.5/24'],
};

interface NetObj {
  def: NetworkDef;
  /** Persistent definition to use after the next stop (define while active). */
  newDef?: NetworkDef;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
}

const err = (code: VirError['code'], msg: string) => new VirError(code, msg, { domain: 'TEST' });
const invalid = (msg: string) => err('OPERATION_INVALID', `Requested operation is not valid: ${msg}`);

/** One interface of a running domain, in definition order, as domifaddr hands it to the test driver. */
/**
 * libvirt's test driver answer to virDomainInterfaceAddresses, whatever the source (lease, agent,
 * arp): one made-up address per interface. An interface on a network gets the start of the
 * network's first DHCP range (the <ip> address without one) plus 20 * (domain id - 1) + index + 1,
 * with that <ip>'s prefix; any other interface 192.168.0.(index + 1)/24 (index counts every
 * interface). Checked against virsh 9 on test:///default (`domifaddr test`: 192.168.122.3/24). A
 * network that is not defined fails as in libvirt; one without an <ip> (where libvirt crashes) fails
 * with an internal error.
 */
export async function testInterfaceAddresses(
  nets: Pick<NetworkConnection, 'networkGetXMLDesc'>,
  domainId: number,
  nics: GuestNic[],
): Promise<DomainInterfaceAddresses[]> {
  const [conf, ip] = await Promise.all([import('../../conf/network/index.js'), import('../../util/ip.js')]);
  const out: DomainInterfaceAddresses[] = [];
  for (const [i, nic] of nics.entries()) {
    let addr: { type: 'ipv4' | 'ipv6'; addr: string; prefix: number };
    if (nic.type === 'network' && nic.network !== undefined) {
      const def = conf.parseNetwork(await nets.networkGetXMLDesc(nic.network), { skipValidate: true });
      const first = def.ips[0];
      const subnet = first ? conf.ipSubnet(first, def.name) : undefined;
      if (!first || !subnet)
        throw err('INTERNAL_ERROR', `internal error: network '${def.name}' has no IP address`);
      const start = first.dhcp?.ranges[0] ? ip.parseIp(first.dhcp.ranges[0].start) : undefined;
      const base = start ?? subnet.addr;
      const value = base.value + BigInt(20 * (domainId - 1) + i + 1);
      addr = { type: base.family, addr: ip.formatIp({ family: base.family, value }), prefix: subnet.prefix };
    } else {
      addr = { type: 'ipv4', addr: `192.168.0.${i + 1}`, prefix: 24 };
    }
    out.push({ name: nic.name, hwaddr: nic.mac, addrs: [addr] });
  }
  return out;
}

/** In-memory networks with libvirt's test-driver semantics. */
export class TestNetworks implements NetworkConnection {
  #nets: NetObj[] = [];
  #conf: NetConf | undefined;
  readonly #emit: (name: string, uuid: string, event: string) => void;

  constructor(emit: (name: string, uuid: string, event: string) => void = () => {}) {
    this.#emit = emit;
  }

  async #ready(): Promise<NetConf> {
    if (this.#conf) return this.#conf;
    const conf = await import('../../conf/network/index.js');
    if (!this.#conf) {
      this.#conf = conf;
      const def = conf.parseNetwork(testDefaultNetworkXml);
      this.#nets.push({ def, active: true, persistent: true, autostart: false });
    }
    return conf;
  }

  #parse(conf: NetConf, xml: string): NetworkDef {
    try {
      return conf.parseNetwork(xml);
    } catch (e) {
      throw withLibvirtPrefix(e);
    }
  }

  /** By UUID, then by name (virsh resolves a network argument this way). */
  async #find(ref: string): Promise<NetObj> {
    await this.#ready();
    const norm = ref.toLowerCase();
    const o =
      this.#nets.find((n) => n.def.uuid === norm) ??
      this.#nets.find((n) => n.def.uuid.replace(/-/g, '') === norm) ??
      this.#nets.find((n) => n.def.name === ref);
    if (!o) throw err('NO_NETWORK', `Network not found: no network with matching name '${ref}'`);
    return o;
  }

  #summary(o: NetObj): NetworkSummary {
    const s: NetworkSummary = {
      name: o.def.name,
      uuid: o.def.uuid,
      active: o.active,
      persistent: o.persistent,
      autostart: o.autostart,
    };
    if (o.def.bridge?.name) s.bridge = o.def.bridge.name;
    return s;
  }

  #event(o: NetObj, event: string): void {
    this.#emit(o.def.name, o.def.uuid, event);
  }

  /** virNetworkObjAssignDef: a name or uuid held by another network is refused. */
  #assign(def: NetworkDef, live: boolean): NetObj | undefined {
    const byUuid = this.#nets.find((n) => n.def.uuid === def.uuid);
    if (byUuid) {
      if (byUuid.def.name !== def.name) {
        throw err(
          'OPERATION_FAILED',
          `operation failed: network '${byUuid.def.name}' is already defined with uuid ${def.uuid}`,
        );
      }
      if (live && byUuid.active) throw invalid(`network is already active as '${def.name}'`);
      return byUuid;
    }
    const byName = this.#nets.find((n) => n.def.name === def.name);
    if (byName) {
      throw err(
        'OPERATION_FAILED',
        `operation failed: network '${def.name}' already exists with uuid ${byName.def.uuid}`,
      );
    }
    return undefined;
  }

  async listNetworks(filter: NetworkListFilter = {}): Promise<NetworkSummary[]> {
    await this.#ready();
    return this.#nets
      .map((o) => this.#summary(o))
      .filter(
        (s) =>
          (filter.active === undefined || s.active === filter.active) &&
          (filter.persistent === undefined || s.persistent === filter.persistent) &&
          (filter.autostart === undefined || s.autostart === filter.autostart),
      );
  }

  async networkLookup(ref: string): Promise<NetworkSummary> {
    return this.#summary(await this.#find(ref));
  }

  async networkGetInfo(ref: string): Promise<NetworkInfo> {
    return this.#summary(await this.#find(ref));
  }

  async networkGetXMLDesc(ref: string, flags: { inactive?: boolean } = {}): Promise<string> {
    const o = await this.#find(ref);
    // libvirt's test driver accepts no flags here.
    if (flags.inactive) throw err('INVALID_ARG', 'unsupported flags (0x1) in function testNetworkGetXMLDesc');
    return this.#conf!.formatNetwork(o.def);
  }

  async networkDefineXML(xml: string): Promise<NetworkSummary> {
    const conf = await this.#ready();
    const def = this.#parse(conf, xml);
    let o = this.#assign(def, false);
    if (o) {
      if (o.active) o.newDef = def;
      else o.def = def;
      o.persistent = true;
    } else {
      o = { def, active: false, persistent: true, autostart: false };
      this.#nets.push(o);
    }
    this.#event(o, 'defined');
    return this.#summary(o);
  }

  async networkCreateXML(xml: string): Promise<NetworkSummary> {
    const conf = await this.#ready();
    const def = this.#parse(conf, xml);
    let o = this.#assign(def, true);
    if (o) {
      o.newDef = o.def;
      o.def = def;
      o.active = true;
    } else {
      o = { def, active: true, persistent: false, autostart: false };
      this.#nets.push(o);
    }
    this.#event(o, 'started');
    return this.#summary(o);
  }

  async networkCreate(ref: string): Promise<NetworkSummary> {
    const o = await this.#find(ref);
    if (o.active) throw invalid(`Network '${o.def.name}' is already running`);
    o.active = true;
    this.#event(o, 'started');
    return this.#summary(o);
  }

  async networkDestroy(ref: string): Promise<void> {
    const o = await this.#find(ref);
    // libvirt's test driver does not check that the network is active, and keeps the live
    // definition: a redefinition made while the network ran does not take over (virsh shows so).
    o.active = false;
    if (!o.persistent) this.#nets = this.#nets.filter((n) => n !== o);
    this.#event(o, 'stopped');
  }

  async networkUndefine(ref: string): Promise<void> {
    const o = await this.#find(ref);
    if (o.active) throw invalid(`Network '${o.def.name}' is still running`);
    this.#nets = this.#nets.filter((n) => n !== o);
    this.#event(o, 'undefined');
  }

  async networkSetAutostart(ref: string, autostart: boolean): Promise<void> {
    const o = await this.#find(ref);
    o.autostart = autostart;
  }

  async networkUpdate(
    ref: string,
    command: NetworkUpdateCommand,
    section: NetworkUpdateSection,
    xml: string,
    parentIndex = -1,
    flags: NetworkUpdateFlags = {},
  ): Promise<void> {
    const o = await this.#find(ref);
    const conf = this.#conf!;
    const { networkDefUpdateSection } = await import('../network/net-update.js');
    let live = flags.live ?? false;
    let config = flags.config ?? false;
    if (!live && !config) {
      if (o.active) live = true;
      else config = true;
    }
    if (live && !o.active) throw invalid('network is not running');
    if (config && !o.persistent) throw invalid('cannot change persistent config of a transient network');
    const apply = (d: NetworkDef) => {
      const c = conf.parseNetwork(conf.formatNetwork(d), { skipValidate: true });
      try {
        networkDefUpdateSection(c, command, section, xml, parentIndex);
        conf.validateNetwork(c);
      } catch (e) {
        throw withLibvirtPrefix(e);
      }
      return c;
    };
    // Both are computed before either is kept: a failure changes nothing.
    const nextConfig = config ? apply(o.active ? (o.newDef ?? o.def) : o.def) : undefined;
    const nextLive = live ? apply(o.def) : undefined;
    if (nextConfig) {
      if (o.active) o.newDef = nextConfig;
      else o.def = nextConfig;
    }
    if (nextLive) {
      if (!config && o.persistent && !o.newDef) o.newDef = o.def;
      o.def = nextLive;
    }
  }

  async networkGetDHCPLeases(ref: string): Promise<NetworkLease[]> {
    await this.#find(ref);
    throw err(
      'NO_SUPPORT',
      'this function is not supported by the connection driver: virNetworkGetDHCPLeases',
    );
  }

  async ifaceList(): Promise<HostInterface[]> {
    return [{ ...testInterface, addresses: [...testInterface.addresses] }];
  }

  async ifaceBridge(iface: string): Promise<void> {
    if (iface !== testInterface.name) {
      throw err('NO_INTERFACE', `Interface not found: no interface with matching name '${iface}'`);
    }
    throw err('INVALID_ARG', 'unsupported flags (0x1) in function testInterfaceGetXMLDesc');
  }

  async ifaceUnbridge(bridge: string): Promise<string> {
    throw err('NO_INTERFACE', `Interface not found: no interface with matching name '${bridge}'`);
  }
}
