// Interface commands (virsh-interface.c): iface-list (with the bridge view `brctl show` gave),
// iface-bridge and iface-unbridge.
import type { HostInterface } from '../../drivers/connection.js';
import { type CommandDef, type CommandGroup, failWith } from '../command.js';
import { isVirError } from '../../util/errors.js';
import { renderTable } from '../format.js';

const isActive = (i: HostInterface) => i.state === 'up';

const listCmd: CommandDef = {
  name: 'iface-list',
  summary: 'list physical host interfaces',
  description: 'Returns list of physical host interfaces.',
  json: true,
  options: [
    { name: 'inactive', type: 'bool', help: 'list inactive interfaces' },
    { name: 'all', type: 'bool', help: 'list inactive & active interfaces' },
    { name: 'bridges', type: 'bool', help: 'list bridges with their attached interfaces (like brctl show)' },
  ],
  async handler(ctx) {
    let ifaces = await (await ctx.conn()).ifaceList();
    if (!ctx.flag('all')) ifaces = ifaces.filter((i) => isActive(i) !== ctx.flag('inactive'));
    ifaces.sort((a, b) => a.name.localeCompare(b.name));
    if (ctx.flag('bridges')) {
      const bridges = ifaces.filter((i) => i.kind === 'bridge');
      if (ctx.json) {
        ctx.printJson(bridges.map((b) => ({ name: b.name, mac: b.mac, interfaces: b.ports ?? [] })));
        return;
      }
      const rows: string[][] = [];
      for (const b of bridges) {
        const ports = [...(b.ports ?? [])].sort();
        rows.push([b.name, b.mac ?? '', ports[0] ?? '']);
        for (const p of ports.slice(1)) rows.push(['', '', p]);
      }
      ctx.print(renderTable(['Bridge', 'MAC Address', 'Interfaces'], rows, !ctx.quiet));
      return;
    }
    if (ctx.json) {
      ctx.printJson(ifaces);
      return;
    }
    const rows = ifaces.map((i) => [i.name, isActive(i) ? 'active' : 'inactive', i.mac ?? '']);
    ctx.print(renderTable(['Name', 'State', 'MAC Address'], rows, !ctx.quiet));
  },
};

const bridgeCmd: CommandDef = {
  name: 'iface-bridge',
  summary: 'create a bridge device and attach an existing network device to it',
  description: 'bridge an existing network device',
  options: [
    { name: 'interface', type: 'data', required: true, help: 'existing interface name' },
    { name: 'bridge', type: 'data', required: true, help: 'new bridge device name' },
    { name: 'no-stp', type: 'bool', help: 'do not enable STP for this bridge' },
    {
      name: 'delay',
      type: 'int',
      help: 'number of seconds to squelch traffic on newly connected ports',
    },
  ],
  async handler(ctx) {
    const iface = ctx.req('interface');
    const bridge = ctx.req('bridge');
    const delay = ctx.int('delay');
    try {
      await (await ctx.conn()).ifaceBridge(iface, bridge, {
        stp: !ctx.flag('no-stp'),
        ...(delay !== undefined ? { delay } : {}),
      });
    } catch (e) {
      // virsh looks the interface up first: a missing one is its one-line lookup failure.
      if (isVirError(e, 'NO_INTERFACE')) failWith(`failed to get interface '${iface}'`, e);
      failWith(`Failed to create bridge ${bridge} with attached device ${iface}`, e);
    }
    ctx.printExtra(`Created bridge ${bridge} with attached device ${iface}\n`);
    ctx.printExtra(`Bridge interface ${bridge} started\n`);
  },
};

const unbridgeCmd: CommandDef = {
  name: 'iface-unbridge',
  summary: 'undefine a bridge device after detaching its device(s)',
  description: 'unbridge a network device',
  options: [{ name: 'bridge', type: 'data', required: true, help: 'current bridge device name' }],
  async handler(ctx) {
    const bridge = ctx.req('bridge');
    let iface: string;
    try {
      iface = await (await ctx.conn()).ifaceUnbridge(bridge);
    } catch (e) {
      if (isVirError(e, 'NO_INTERFACE')) failWith(`failed to get interface '${bridge}'`, e);
      failWith(`Failed to unbridge ${bridge}`, e);
    }
    ctx.printExtra(`Device ${iface} un-attached from bridge ${bridge}\n`);
    ctx.printExtra(`Interface ${iface} started\n`);
  },
};

export const interfaceGroup: CommandGroup = {
  keyword: 'interface',
  title: 'Interface',
  commands: [bridgeCmd, listCmd, unbridgeCmd],
};
