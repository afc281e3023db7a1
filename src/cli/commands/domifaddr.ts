// domifaddr: a running guest's addresses, from the DHCP leases of the networks its interfaces are
// on (libvirt's VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, what qemuGetDHCPInterfaces does); on
// test:///default, the addresses libvirt's test driver makes up (testInterfaceAddresses).
import type { Connection, NetworkLease } from '../../drivers/connection.js';
import { CliError, type CmdContext, type CommandDef, errorText } from '../command.js';
import { domainOpt, lookupDomain } from './util.js';

interface IfaceAddrs {
  name: string;
  hwaddr: string;
  addrs: { type: string; addr: string; prefix: number }[];
}

const FAILED = 'Failed to query for interfaces addresses';

export const domifaddrCmd: CommandDef = {
  name: 'domifaddr',
  summary: "Get network interfaces' addresses for a running domain",
  description: "Get network interfaces' addresses for a running domain",
  json: true,
  options: [
    domainOpt(),
    { name: 'interface', type: 'string', help: 'network interface name' },
    { name: 'full', type: 'bool', help: 'always display names and MACs of interfaces' },
    { name: 'source', type: 'string', help: "address source: 'lease', 'agent', or 'arp'" },
  ],
  async handler(ctx) {
    const dom = await lookupDomain(ctx);
    const source = ctx.str('source') ?? 'lease';
    if (!['lease', 'agent', 'arp'].includes(source)) throw new CliError(`Unknown data source '${source}'`);
    const conn = await ctx.conn();
    if (conn.uri.startsWith('test:')) {
      // libvirt's test driver makes addresses up, the same for every source.
      if (dom.id === null)
        throw new CliError(FAILED, 'Requested operation is not valid: domain is not running');
      show(ctx, await testDriverAddresses(conn, dom.id, dom.uuid));
      return;
    }
    if (source !== 'lease') {
      throw new CliError(
        FAILED,
        `Operation not supported: tvirt reads guest addresses from DHCP leases only (--source lease), not '${source}'`,
      );
    }
    if (dom.id === null)
      throw new CliError(FAILED, 'Requested operation is not valid: domain is not running');
    const { parseXml, child, childrenNamed, attr } = await import('../../util/xml.js');
    const root = parseXml(await conn.domainGetXMLDesc(dom.uuid));
    const devices = child(root, 'devices');
    const result: IfaceAddrs[] = [];
    for (const i of devices ? childrenNamed(devices, 'interface') : []) {
      if (attr(i, 'type') !== 'network') continue;
      const network = attr(child(i, 'source') ?? i, 'network');
      const mac = attr(child(i, 'mac') ?? i, 'address');
      if (!network || !mac) continue;
      let leases: NetworkLease[];
      try {
        leases = await conn.networkGetDHCPLeases(network, mac);
      } catch (e) {
        throw new CliError(FAILED, errorText(e));
      }
      if (leases.length === 0) continue;
      result.push({
        name: attr(child(i, 'target') ?? i, 'dev') ?? '-',
        hwaddr: mac,
        addrs: leases.map((l) => ({ type: l.type, addr: l.ipaddr, prefix: l.prefix })),
      });
    }
    show(ctx, result);
  },
};

/** The interfaces of a test:///default domain, with the addresses libvirt's test driver gives them. */
async function testDriverAddresses(conn: Connection, id: number, uuid: string): Promise<IfaceAddrs[]> {
  const [{ parseXml, child, childrenNamed, attr }, { testInterfaceAddresses }] = await Promise.all([
    import('../../util/xml.js'),
    import('../../drivers/test/networks.js'),
  ]);
  const devices = child(parseXml(await conn.domainGetXMLDesc(uuid)), 'devices');
  const nics = (devices ? childrenNamed(devices, 'interface') : []).map((i) => {
    const network = attr(child(i, 'source') ?? i, 'network');
    return {
      type: attr(i, 'type') ?? '',
      ...(network !== undefined ? { network } : {}),
      name: attr(child(i, 'target') ?? i, 'dev') ?? '-',
      mac: attr(child(i, 'mac') ?? i, 'address') ?? '-',
    };
  });
  try {
    return await testInterfaceAddresses(conn, id, nics);
  } catch (e) {
    throw new CliError(FAILED, errorText(e));
  }
}

/** Prints the interfaces (those --interface names) as virsh's table, or as JSON. */
function show(ctx: CmdContext, result: IfaceAddrs[]): void {
  const wanted = ctx.str('interface');
  const shown = wanted === undefined ? result : result.filter((r) => r.name === wanted);
  if (ctx.json) {
    ctx.printJson(shown);
    return;
  }
  // The header is vshPrintExtra's: -q leaves it out.
  let out = ctx.quiet
    ? ''
    : ` ${'Name'.padEnd(10)} ${'MAC address'.padEnd(20)} ${'Protocol'.padEnd(8)}     Address\n${'-'.repeat(79)}\n`;
  for (const r of shown) {
    r.addrs.forEach((a, j) => {
      const addr = `${a.type.padEnd(12)} ${a.addr}/${a.prefix}`;
      const first = ctx.flag('full') || j === 0;
      out += ` ${(first ? r.name : '-').padEnd(10)} ${(first ? r.hwaddr : '-').padEnd(17)}    ${addr}\n`;
    });
  }
  ctx.print(out);
}
