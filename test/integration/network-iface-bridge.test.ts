// iface-bridge / iface-unbridge on a veth pair inside namespaces this test creates: the address stays reachable.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ifaceBridge, ifaceList, ifaceUnbridge } from '../../src/drivers/network/iface-bridge.js';
import { addAddress, addRoute, createVethPair, listRoutes, setLinkUp } from '../../src/host/netdev.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../../src/host/netdev-testns.js';
import { processRunner } from '../../src/host/run.js';

const skip = netnsUnavailable(['ip', 'busybox']);

describe('iface-bridge in a namespace', { skip }, () => {
  let host = '';
  let peer = '';

  /** Pings from the peer namespace, retrying while the bridge port comes up (STP). */
  async function reachable(addr: string, seconds = 12): Promise<boolean> {
    for (let i = 0; i < seconds; i++) {
      const r = await processRunner.run(
        { program: 'ip', args: ['netns', 'exec', peer, 'busybox', 'ping', '-c', '1', '-W', '1', addr] },
        { allowFailure: true },
      );
      if (r.code === 0) return true;
    }
    return false;
  }

  before(async () => {
    host = await createNetns('ifb');
    peer = await createNetns('ifp');
    await createVethPair('eth0', 'eth0p', { netns: host, peerNetns: peer });
    await addAddress('eth0', '10.66.0.1', 24, { netns: host });
    await setLinkUp('eth0', true, { netns: host });
    await addRoute({ dst: '10.77.0.0/24', gateway: '10.66.0.2' }, 'eth0', { netns: host });
    await addAddress('eth0p', '10.66.0.2', 24, { netns: peer });
    await setLinkUp('eth0p', true, { netns: peer });
  });

  after(async () => {
    if (host) await deleteNetns(host);
    if (peer) await deleteNetns(peer);
  });

  test('address and routes move to the bridge and back, host stays reachable', async () => {
    assert.ok(await reachable('10.66.0.1'), 'reachable before');
    await assert.rejects(
      ifaceBridge('nope0', 'br0', {}, { netns: host }),
      /interface 'nope0' does not exist/,
    );
    await ifaceBridge('eth0', 'br0', {}, { netns: host });
    const list = await ifaceList({ netns: host });
    const br = list.find((i) => i.name === 'br0')!;
    assert.deepEqual(br.ports, ['eth0']);
    assert.deepEqual(
      br.addresses.filter((a) => !a.startsWith('fe80')),
      ['10.66.0.1/24'],
    );
    assert.equal(list.find((i) => i.name === 'eth0')!.master, 'br0');
    assert.deepEqual(
      list.find((i) => i.name === 'eth0')!.addresses.filter((a) => !a.startsWith('fe80')),
      [],
    );
    assert.ok((await listRoutes(4, { netns: host }, 'br0')).some((r) => r.dst === '10.77.0.0/24'));
    assert.ok(await reachable('10.66.0.1'), 'reachable through the bridge');
    await assert.rejects(ifaceBridge('eth0', 'br1', {}, { netns: host }), /already a port of 'br0'/);

    assert.equal(await ifaceUnbridge('br0', { netns: host }), 'eth0');
    const after = await ifaceList({ netns: host });
    assert.ok(!after.some((i) => i.name === 'br0'));
    assert.ok(after.find((i) => i.name === 'eth0')!.addresses.includes('10.66.0.1/24'));
    assert.ok((await listRoutes(4, { netns: host }, 'eth0')).some((r) => r.dst === '10.77.0.0/24'));
    assert.ok(await reachable('10.66.0.1'), 'reachable after unbridge');
  });
});
