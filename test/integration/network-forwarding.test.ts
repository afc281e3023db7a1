// Traffic through tvirt networks, with veth "guests" in namespaces this test creates: DHCP lease,
// gateway and NAT to a "remote" namespace, guest to guest, and an isolated network that reaches nothing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NetworkDriver } from '../../src/drivers/network/network-driver.js';
import {
  addAddress,
  addRoute,
  createVethPair,
  listLinks,
  setLinkUp,
  setMaster,
} from '../../src/host/netdev.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../../src/host/netdev-testns.js';
import { processRunner } from '../../src/host/run.js';
import { MemoryStore, stopNetworks } from '../support/network-driver.js';

const skip = netnsUnavailable(['ip', 'dnsmasq', 'nft', 'busybox']);

const store = new MemoryStore();

describe('guest traffic through tvirt networks', { skip }, () => {
  const spaces: string[] = [];
  let host = '';
  let remote = '';
  let stateDir = '';
  let drv: NetworkDriver;
  let vethN = 0;

  async function ping(from: string, addr: string, tries: number): Promise<boolean> {
    for (let i = 0; i < tries; i++) {
      const r = await processRunner.run(
        { program: 'ip', args: ['netns', 'exec', from, 'busybox', 'ping', '-c', '1', '-W', '1', addr] },
        { allowFailure: true },
      );
      if (r.code === 0) return true;
    }
    return false;
  }

  /** A "guest": a namespace whose NIC is a veth with its peer on `bridge`; it takes a DHCP lease. */
  async function guest(network: string, bridge: string): Promise<{ ns: string; ip: string }> {
    const ns = await createNetns('gst');
    spaces.push(ns);
    const n = vethN++;
    await createVethPair(`vg${n}`, 'eth0', { netns: host, peerNetns: ns });
    await setMaster(`vg${n}`, bridge, { netns: host });
    await setLinkUp(`vg${n}`, true, { netns: host });
    await setLinkUp('eth0', true, { netns: ns });
    const mac = (await listLinks({ netns: ns })).find((l) => l.ifname === 'eth0')!.address!;
    const r = await processRunner.run(
      {
        program: 'ip',
        args: [
          'netns',
          'exec',
          ns,
          'busybox',
          'udhcpc',
          '-i',
          'eth0',
          '-n',
          '-q',
          '-f',
          '-t',
          '20',
          '-T',
          '1',
          '-s',
          '/bin/true',
        ],
      },
      { allowFailure: true },
    );
    assert.equal(r.code, 0, `udhcpc: ${r.stderr}`);
    const lease = (await drv.networkGetDHCPLeases(network, mac))[0];
    assert.ok(lease, `no lease for ${mac}`);
    // The client ran without a script: configure what the lease says, as a guest's DHCP client would.
    await addAddress('eth0', lease.ipaddr, lease.prefix, { netns: ns });
    const gw = drv.networkGetDef(network).ips[0]!.address!;
    await addRoute({ dst: 'default', gateway: gw }, 'eth0', { netns: ns });
    return { ns, ip: lease.ipaddr };
  }

  before(async () => {
    host = await createNetns('fwd');
    remote = await createNetns('rmt');
    spaces.push(host, remote);
    // The "outside world": 10.0.99.2 in another namespace, reached through the host namespace.
    await createVethPair('up0', 'up0p', { netns: host, peerNetns: remote });
    await addAddress('up0', '10.0.99.1', 24, { netns: host });
    await setLinkUp('up0', true, { netns: host });
    await addAddress('up0p', '10.0.99.2', 24, { netns: remote });
    await setLinkUp('up0p', true, { netns: remote });
    // Routes back for the routed and the isolated subnet (not the NAT one), so only firewall rules decide.
    await addRoute({ dst: '10.0.4.0/24', gateway: '10.0.99.1' }, 'up0p', { netns: remote });
    await addRoute({ dst: '10.0.5.0/24', gateway: '10.0.99.1' }, 'up0p', { netns: remote });
    stateDir = await mkdtemp(join(tmpdir(), 'tvirt-fwd-'));
    drv = new NetworkDriver({ store, stateDir, netns: host });
    await drv.init();
  });

  after(async () => {
    try {
      await stopNetworks(drv, stateDir);
    } finally {
      for (const ns of spaces) await deleteNetns(ns);
      if (stateDir) await rm(stateDir, { recursive: true, force: true });
    }
  });

  test('NAT: two guests get leases, ping the gateway, each other and (masqueraded) the outside', async () => {
    await drv.networkCreateXML(`<network><name>natf</name><forward mode='nat'/><bridge name='virbr3' stp='off'/>
      <ip address='10.0.3.1' netmask='255.255.255.0'><dhcp><range start='10.0.3.2' end='10.0.3.99'/></dhcp></ip></network>`);
    const a = await guest('natf', 'virbr3');
    const b = await guest('natf', 'virbr3');
    assert.notEqual(a.ip, b.ip);
    assert.ok(await ping(a.ns, '10.0.3.1', 10), 'guest -> gateway');
    assert.ok(await ping(a.ns, b.ip, 10), 'guest -> guest');
    // The remote has no route back to 10.0.3.0/24: only masquerading makes this work.
    assert.ok(await ping(a.ns, '10.0.99.2', 10), 'guest -> outside through NAT');
  });

  test('route: a guest reaches the outside without NAT', async () => {
    await drv.networkCreateXML(`<network><name>rtf</name><forward mode='route'/><bridge name='virbr5' stp='off'/>
      <ip address='10.0.5.1' netmask='255.255.255.0'><dhcp><range start='10.0.5.2' end='10.0.5.99'/></dhcp></ip></network>`);
    const d = await guest('rtf', 'virbr5');
    assert.ok(await ping(d.ns, '10.0.99.2', 10), 'routed guest -> outside');
  });

  test('isolated: a guest reaches its gateway but nothing beyond the subnet', async () => {
    await drv.networkCreateXML(`<network><name>isof</name><bridge name='virbr4' stp='off'/>
      <ip address='10.0.4.1' netmask='255.255.255.0'><dhcp><range start='10.0.4.2' end='10.0.4.99'/></dhcp></ip></network>`);
    const c = await guest('isof', 'virbr4');
    assert.ok(await ping(c.ns, '10.0.4.1', 10), 'guest -> its gateway');
    assert.equal(await ping(c.ns, '10.0.99.2', 2), false, 'isolated guest must not reach the outside');
    assert.equal(await ping(c.ns, '10.0.3.2', 2), false, 'isolated guest must not reach the NAT network');
  });
});
