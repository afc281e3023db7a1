// The daemon's composition of hypervisor + networks: when networking runs, what a daemon without it
// answers, and how the composite routes calls and events.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type {
  DomainSummary,
  HypervisorConnection,
  NetworkConnection,
  TvirtEvent,
} from '../drivers/connection.js';
import { fakeHost } from '../drivers/network/fake-host.test-util.js';
import { NetworkDriver } from '../drivers/network/network-driver.js';
import { openIsolatedTestConnection } from '../drivers/test/driver.js';
import { TestNetworks } from '../drivers/test/networks.js';
import { isVirError } from '../util/errors.js';
import { ConfigStore } from './config-store.js';
import {
  composeConnection,
  guestPortSource,
  hasNetworks,
  networkDriverConnection,
  networkingUnavailable,
  unavailableNetworks,
} from './host-connection.js';
import { rootPaths, systemPaths } from './paths.js';
import { parseDaemonArgs } from './tvirtd.js';

const asRoot = process.getuid?.() === 0;

describe('host networking in tvirtd', () => {
  it('runs only in system mode unless asked (--networks / TVIRT_NETWORKS)', async () => {
    const root = { paths: rootPaths('/tmp/x') };
    assert.match(
      (await networkingUnavailable(root, {})) ?? '',
      /run only in the system daemon; this tvirtd runs in root mode/,
    );
    assert.match(
      (await networkingUnavailable({ ...root, networks: false }, { TVIRT_NETWORKS: '1' })) ?? '',
      /run only/,
    );
    assert.match(
      (await networkingUnavailable({ paths: systemPaths() }, { TVIRT_NETWORKS: '0' })) ?? '',
      /disabled in this tvirtd \(--no-networks or TVIRT_NETWORKS=0\)/,
    );
    const forced = await networkingUnavailable({ ...root, networks: true }, {});
    if (asRoot) assert.ok(forced === undefined || /not found on PATH/.test(forced), forced);
    else assert.equal(forced, 'virtual networks need tvirtd to run as root');
  });

  it('--networks and --no-networks', () => {
    assert.deepEqual(parseDaemonArgs(['--networks']), { networks: true });
    assert.deepEqual(parseDaemonArgs(['--no-networks']), { networks: false });
    assert.throws(() => parseDaemonArgs(['--networks', '--no-networks']), /exclude each other/);
  });

  it('without networking every network call says why', async () => {
    const nets = unavailableNetworks('virtual networks need tvirtd to run as root');
    await assert.rejects(nets.listNetworks(), (e: unknown) => {
      assert.ok(isVirError(e, 'OPERATION_UNSUPPORTED'));
      assert.equal(e.message, 'Operation not supported: virtual networks need tvirtd to run as root');
      return true;
    });
    await assert.rejects(nets.networkCreate('default'), /need tvirtd to run as root/);
  });

  it('composes a hypervisor with networks: calls and events go to the right half', async () => {
    const test = openIsolatedTestConnection();
    assert.ok(hasNetworks(test));
    // A hypervisor-only view of the test driver (as the QEMU driver is).
    const hyp: HypervisorConnection = {
      ...Object.fromEntries(
        Object.getOwnPropertyNames(Object.getPrototypeOf(test))
          .filter(
            (k) =>
              k !== 'constructor' &&
              !k.startsWith('network') &&
              !k.startsWith('iface') &&
              k !== 'listNetworks',
          )
          .map((k) => [k, (test as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!.bind(test)]),
      ),
      uri: test.uri,
    } as HypervisorConnection;
    assert.equal(hasNetworks(hyp), false);
    const listeners = new Set<(ev: TvirtEvent) => void>();
    const nets = new TestNetworks((name, uuid, event) => {
      for (const l of listeners) l({ kind: 'network-lifecycle', name, uuid, event, timestamp: Date.now() });
    });
    const conn = composeConnection(hyp, nets, {
      subscribe(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });
    const seen: string[] = [];
    const off = conn.onEvent((ev) => seen.push(`${ev.kind}:${ev.name}:${ev.event}`));
    assert.deepEqual(
      (await conn.listDomains({})).map((d) => d.name),
      ['test'],
    );
    await conn.networkDestroy('default');
    await conn.domainSuspend('test');
    off();
    await conn.networkCreate('default');
    assert.deepEqual(seen, ['network-lifecycle:default:stopped', 'domain-lifecycle:test:suspended']);
    assert.equal(conn.uri, 'test:///default');
    await conn.close();
  });
});

describe('domifaddr over the composed connection', () => {
  it("reads the leases of the networks a running guest's interfaces are on", async () => {
    const xml = `<domain type='kvm'><name>g</name><devices>
      <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><target dev='vnet0'/></interface>
      <interface type='network'><mac address='52:54:00:00:00:02'/><source network='lab'/><target dev='vnet1'/></interface>
      <interface type='bridge'><mac address='52:54:00:00:00:03'/><source bridge='br0'/><target dev='vnet2'/></interface>
    </devices></domain>`;
    let running = true;
    const hyp = {
      uri: 'qemu:///system',
      async domainLookup() {
        return { id: running ? 1 : null, uuid: 'u', name: 'g' };
      },
      async domainGetXMLDesc() {
        return xml;
      },
      onEvent: () => () => {},
    } as unknown as HypervisorConnection;
    const asked: string[] = [];
    const nets = {
      async networkGetDHCPLeases(net: string, mac?: string) {
        asked.push(`${net} ${mac}`);
        return net === 'default'
          ? [{ iface: 'virbr0', expiryTime: 0, type: 'ipv4', mac, ipaddr: '192.168.122.50', prefix: 24 }]
          : [];
      },
    } as unknown as NetworkConnection;
    const conn = composeConnection(hyp, nets, { subscribe: () => () => {} });
    assert.deepEqual(await conn.domainInterfaceAddresses('g'), [
      {
        name: 'vnet0',
        hwaddr: '52:54:00:00:00:01',
        addrs: [{ type: 'ipv4', addr: '192.168.122.50', prefix: 24 }],
      },
    ]);
    assert.deepEqual(asked, ['default 52:54:00:00:00:01', 'lab 52:54:00:00:00:02']);
    await assert.rejects(conn.domainInterfaceAddresses('g', 'agent'), (e) =>
      isVirError(e, 'OPERATION_UNSUPPORTED'),
    );
    running = false;
    await assert.rejects(conn.domainInterfaceAddresses('g'), (e) => isVirError(e, 'OPERATION_INVALID'));
  });
});

describe("re-attaching running guests' taps when a network starts again", () => {
  const guestXml = (name: string, nics: string) =>
    `<domain type='kvm'><name>${name}</name><memory>65536</memory><os><type>hvm</type></os><devices>${nics}</devices></domain>`;
  /** A hypervisor with two running guests and a shut-off one; g2 stops while being asked. */
  const hyp = {
    async listDomains(f?: { active?: boolean }) {
      const all = [
        { name: 'g1', active: true },
        { name: 'g2', active: true },
        { name: 'off', active: false },
      ];
      return all.filter(
        (d) => f?.active === undefined || d.active === f.active,
      ) as unknown as DomainSummary[];
    },
    async domainGetXMLDesc(name: string) {
      if (name === 'g2') throw new Error('domain is not running');
      if (name === 'g1')
        return guestXml(
          'g1',
          `<interface type='network'><mac address='52:54:00:00:00:01'/><source network='n1'/><target dev='vnet0'/></interface>
           <interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='virbr0'/><target dev='mytap'/></interface>
           <interface type='network'><mac address='52:54:00:00:00:03'/><source network='other'/><target dev='vnet9'/></interface>`,
        );
      throw new Error(`unexpected ${name}`);
    },
  } as unknown as HypervisorConnection;

  it('finds the taps in the live XML of running domains', async () => {
    assert.deepEqual(await guestPortSource(hyp)('n1', 'virbr0'), [
      { tap: 'vnet0', domain: 'g1' },
      { tap: 'mytap', domain: 'g1' },
    ]);
    assert.deepEqual(await guestPortSource(hyp)('none', 'virbr7'), []);
  });

  it('net-destroy + net-start through the composed connection puts them back on the bridge', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tvirt-hostconn-'));
    try {
      const host = fakeHost();
      const drv = new NetworkDriver({
        store: new ConfigStore({ dir: join(dir, 'nets'), autostartDir: join(dir, 'auto') }),
        stateDir: join(dir, 'state'),
        netns: 'tvirt-test-fake',
        runner: host.runner,
      });
      await drv.init();
      const conn = composeConnection(hyp, networkDriverConnection(drv), { subscribe: () => () => {} });
      await conn.networkDefineXML(
        "<network><name>n1</name><forward mode='nat'/><bridge name='virbr0'/><ip address='10.0.3.1' prefix='24'/></network>",
      );
      await conn.networkCreate('n1');
      await drv.allocateTap('n1', '52:54:00:00:00:01');
      await drv.allocateTap('virbr0', '52:54:00:00:00:02', { bridge: true, name: 'mytap' });
      drv.setGuestPorts(guestPortSource(hyp));
      await conn.networkDestroy('n1');
      assert.equal(host.masters.size, 0);
      const from = host.runner.commands.length;
      await conn.networkCreate('n1');
      assert.deepEqual(
        host.runner
          .lines()
          .slice(from)
          .filter((l) => / link set dev (vnet|mytap)/.test(l)),
        [
          'ip -n tvirt-test-fake link set dev vnet0 mtu 1500',
          'ip -n tvirt-test-fake link set dev vnet0 master virbr0',
          'ip -n tvirt-test-fake link set dev vnet0 up',
          'ip -n tvirt-test-fake link set dev mytap mtu 1500',
          'ip -n tvirt-test-fake link set dev mytap master virbr0',
          'ip -n tvirt-test-fake link set dev mytap up',
        ],
      );
      assert.deepEqual(Object.fromEntries(host.masters), { vnet0: 'virbr0', mytap: 'virbr0' });
      await conn.networkDestroy('n1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
