import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainAssignDefaults, parseDomain } from '../../conf/domain/index.js';
import { isVirError } from '../../util/errors.js';
import { tapInterfaceHook, tapsOnNetwork } from './interfaces.js';

const def = (ifaces: string) => {
  const d = parseDomain(`<domain type='qemu'><name>n</name><memory>65536</memory><os><type>hvm</type></os>
    <devices>${ifaces}</devices></domain>`);
  domainAssignDefaults(d, { arch: 'x86_64', machine: 'pc' });
  return d;
};

function fakeNet(failOn?: string) {
  const log: string[] = [];
  let n = 0;
  return {
    log,
    async allocateTap(target: string, mac: string, opts?: { bridge?: boolean; name?: string }) {
      if (target === failOn) throw new Error(`no ${target}`);
      const tap = opts?.name ?? `vnet${n++}`;
      log.push(`alloc ${opts?.bridge ? 'bridge ' : ''}${target} ${mac} ${tap}`);
      return tap;
    },
    async releaseTap(tap: string) {
      log.push(`release ${tap}`);
    },
  };
}

describe('tapInterfaceHook', () => {
  it('gives network and bridge interfaces taps, user ones nothing, and releases them', async () => {
    const net = fakeNet();
    const hook = tapInterfaceHook(net);
    const d =
      def(`<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>
      <interface type='user'/>
      <interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br0'/></interface>`);
    const taps = await hook.prepareInterfaces(d);
    assert.deepEqual(taps, [{ ifname: 'vnet0' }, undefined, { ifname: 'vnet1' }]);
    d.devices.interfaces[0]!.targetDev = 'vnet0';
    d.devices.interfaces[2]!.targetDev = 'vnet1';
    await hook.releaseInterfaces(d);
    assert.deepEqual(net.log, [
      'alloc default 52:54:00:00:00:01 vnet0',
      'alloc bridge br0 52:54:00:00:00:02 vnet1',
      'release vnet0',
      'release vnet1',
    ]);
  });

  it("keeps a user's <target dev> name, picks vnetN names itself", async () => {
    const net = fakeNet();
    const d =
      def(`<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><target dev='mytap0'/></interface>
      <interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/><target dev='vnet7'/></interface>`);
    assert.deepEqual(await tapInterfaceHook(net).prepareInterfaces(d), [
      { ifname: 'mytap0' },
      { ifname: 'vnet0' },
    ]);
    assert.deepEqual(net.log, [
      'alloc default 52:54:00:00:00:01 mytap0',
      'alloc default 52:54:00:00:00:02 vnet0',
    ]);
  });

  it('releases what it made when a later interface fails, refuses other types', async () => {
    const net = fakeNet('br9');
    const hook = tapInterfaceHook(net);
    const d = def(`<interface type='network'><source network='default'/></interface>
      <interface type='bridge'><source bridge='br9'/></interface>`);
    await assert.rejects(hook.prepareInterfaces(d), /no br9/);
    assert.deepEqual(
      net.log.map((l) => l.split(' ')[0]),
      ['alloc', 'release'],
    );
    const eth = def(`<interface type='ethernet'/>`);
    await assert.rejects(hook.prepareInterfaces(eth), (e) => isVirError(e, 'CONFIG_UNSUPPORTED'));
  });
});

describe('tapsOnNetwork', () => {
  it("finds a live domain's taps that belong on a network's bridge (by network, or the bridge by name)", () => {
    const d = def(`<interface type='network'><source network='lab'/><target dev='vnet0'/></interface>
      <interface type='network'><source network='default'/><target dev='vnet1'/></interface>
      <interface type='bridge'><source bridge='tvbr-lab'/><target dev='mytap'/></interface>
      <interface type='bridge'><source bridge='br0'/><target dev='vnet2'/></interface>
      <interface type='network'><source network='lab'/></interface>
      <interface type='user'/>`);
    assert.deepEqual(tapsOnNetwork(d, 'lab', 'tvbr-lab'), ['vnet0', 'mytap']);
    assert.deepEqual(tapsOnNetwork(d, 'default', 'virbr0'), ['vnet1']);
    assert.deepEqual(tapsOnNetwork(d, 'other', 'virbr9'), []);
  });
});
