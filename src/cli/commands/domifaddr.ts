// domifaddr: a running guest's addresses, as the connection finds them (domainInterfaceAddresses:
// tvirtd reads the DHCP leases of the networks the interfaces are on; test:///default makes them
// up as libvirt's test driver does).
import type { DomainInterfaceAddresses } from '../../drivers/connection.js';
import { CliError, type CmdContext, type CommandDef, errorText } from '../command.js';
import { domainOpt, lookupDomain } from './util.js';

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
    if (source !== 'lease' && source !== 'agent' && source !== 'arp')
      throw new CliError(`Unknown data source '${source}'`);
    let result: DomainInterfaceAddresses[];
    try {
      result = await (await ctx.conn()).domainInterfaceAddresses(dom.uuid, source);
    } catch (e) {
      throw new CliError(FAILED, errorText(e));
    }
    show(ctx, result);
  },
};

/** Prints the interfaces (those --interface names) as virsh's table, or as JSON. */
function show(ctx: CmdContext, result: DomainInterfaceAddresses[]): void {
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
