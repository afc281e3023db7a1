// NetworkDriver lifecycle against a fake host (RecordingRunner inside a pretend namespace): no root needed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fakeHost } from './fake-host.test-util.js';
import type { NetworkStore } from './network-api.js';
import { NetworkDriver } from './network-driver.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

class Store implements NetworkStore {
  xml = new Map<string, string>();
  auto = new Set<string>();
  save = async (n: string, x: string) => void this.xml.set(n, x);
  load = async (n: string) => this.xml.get(n);
  remove = async (n: string) => this.xml.delete(n);
  loadAll = async () => [...this.xml].map(([name, xml]) => ({ name, xml }));
  setAutostart = async (n: string, a: boolean) => void (a ? this.auto.add(n) : this.auto.delete(n));
  isAutostart = async (n: string) => this.auto.has(n);
  listAutostart = async () => [...this.auto];
}

async function setup(failDnsmasq = false) {
  const stateDir = await mkdtemp(join(tmpdir(), 'tvirt-netdrv-'));
  dirs.push(stateDir);
  const host = fakeHost(failDnsmasq);
  const store = new Store();
  const events: string[] = [];
  const drv = new NetworkDriver({
    store,
    stateDir,
    netns: 'tvirt-test-fake',
    runner: host.runner,
    onEvent: (n, e) => events.push(`${n}:${e}`),
  });
  await drv.init();
  return { drv, host, store, events, stateDir };
}

const nat = `<network><name>n1</name><forward mode='nat'/><ip address='10.0.3.1' prefix='24'>
  <dhcp><range start='10.0.3.2' end='10.0.3.9'/></dhcp></ip></network>`;

test('define, start, destroy, undefine; bridge name and MAC assigned at define', async () => {
  const { drv, host, store, events } = await setup();
  const s = await drv.networkDefineXML(nat);
  assert.equal(s.bridge, 'virbr0');
  assert.match(drv.networkGetXMLDesc('n1'), /<mac address='52:54:00:/);
  assert.ok(store.xml.has('n1'));
  await drv.networkCreate('n1');
  assert.ok(host.links.has('virbr0'));
  assert.equal(host.forward(), '1');
  const lines = host.runner.lines();
  assert.ok(lines.some((l) => l.startsWith('ip -n tvirt-test-fake link add name virbr0 address 52:54:00:')));
  assert.ok(lines.includes('ip netns exec tvirt-test-fake nft -f -'));
  assert.ok(lines.includes('ip -n tvirt-test-fake -4 addr add 10.0.3.1/24 broadcast + dev virbr0'));
  assert.ok(lines.some((l) => /^ip netns exec tvirt-test-fake dnsmasq --conf-file=.*n1\.conf$/.test(l)));
  await assert.rejects(drv.networkCreate('n1'), /network is already active/);
  await drv.networkDestroy('n1');
  assert.ok(!host.links.has('virbr0'));
  assert.equal(host.forward(), '0');
  assert.ok(host.runner.lines().includes('ip netns exec tvirt-test-fake nft delete table inet tvirt_net_n1'));
  await drv.networkUndefine('n1');
  assert.deepEqual(drv.listNetworks(), []);
  assert.deepEqual(events, ['n1:defined', 'n1:started', 'n1:stopped', 'n1:undefined']);
  assert.throws(() => drv.networkLookup('n1'), /no network with matching name 'n1'/);
});

test('transient networks vanish on destroy; redefine while running applies after stop', async () => {
  const { drv } = await setup();
  await drv.networkCreateXML(nat);
  await assert.rejects(drv.networkSetAutostart('n1', true), /transient/);
  assert.deepEqual(
    drv.listNetworks({ persistent: false }).map((n) => n.name),
    ['n1'],
  );
  await drv.networkDefineXML(nat.replace('10.0.3.9', '10.0.3.50'));
  assert.match(drv.networkGetXMLDesc('n1'), /10\.0\.3\.9'/);
  assert.match(drv.networkGetXMLDesc('n1', { inactive: true }), /10\.0\.3\.50'/);
  await drv.networkDestroy('n1');
  assert.match(drv.networkGetXMLDesc('n1'), /10\.0\.3\.50'/);
  await drv.networkCreateXML(nat.replace(/n1/g, 'n2').replace(/10\.0\.3/g, '10.0.4'));
  await drv.networkDestroy('n2');
  assert.deepEqual(
    drv.listNetworks().map((n) => n.name),
    ['n1'],
  );
});

test('names, uuids and bridges are unique; update flags; restart picks up running networks', async () => {
  const { drv, store, stateDir, host } = await setup();
  await drv.networkDefineXML(nat);
  const uuid = drv.networkLookup('n1').uuid;
  assert.equal(drv.networkLookup(uuid).name, 'n1');
  await assert.rejects(
    drv.networkDefineXML(
      nat.replace(
        '<name>n1</name>',
        `<name>n1</name><uuid>${'1'.repeat(8)}-1111-1111-1111-111111111111</uuid>`,
      ),
    ),
    /network 'n1' already exists with uuid /,
  );
  await assert.rejects(
    drv.networkDefineXML(`<network><name>n9</name><bridge name='virbr0'/></network>`),
    /bridge name 'virbr0' already in use/,
  );
  await drv.networkUpdate('n1', 'add-last', 'dns-host', `<host ip='10.0.3.7'><hostname>g</hostname></host>`);
  assert.match(store.xml.get('n1')!, /10\.0\.3\.7/);
  await assert.rejects(
    drv.networkUpdate('n1', 'add-last', 'dns-host', `<host ip='10.0.3.8'><hostname>h</hostname></host>`, -1, {
      live: true,
    }),
    /not running/,
  );
  await drv.networkSetAutostart('n1', true);
  await drv.autostartAll();
  assert.equal(drv.networkGetInfo('n1').active, true);
  // A second driver on the same state finds n1 running.
  const again = new NetworkDriver({ store, stateDir, netns: 'tvirt-test-fake', runner: host.runner });
  // The fake dnsmasq pid is no real process: the new driver restarts dnsmasq and keeps the bridge.
  const before = host.runner.commands.length;
  await again.init();
  assert.equal(again.networkGetInfo('n1').active, true);
  const redone = host.runner.lines().slice(before);
  assert.ok(redone.some((l) => l.includes('dnsmasq --conf-file=')));
  assert.ok(!redone.some((l) => l.includes('link del')));
  host.links.delete('virbr0');
  const third = new NetworkDriver({ store, stateDir, netns: 'tvirt-test-fake', runner: host.runner });
  await third.init();
  assert.equal(third.networkGetInfo('n1').active, false);
});

test('a failure half-way through start rolls everything back', async () => {
  const { drv, host } = await setup(true);
  await drv.networkDefineXML(nat);
  await assert.rejects(drv.networkCreate('n1'), /dnsmasq failed to start .*failed to bind/);
  assert.ok(!host.links.has('virbr0'));
  assert.equal(host.forward(), '0');
  const lines = host.runner.lines();
  assert.ok(lines.includes('ip netns exec tvirt-test-fake nft delete table inet tvirt_net_n1'));
  assert.ok(lines.includes('ip -n tvirt-test-fake link del dev virbr0'));
  assert.equal(drv.networkGetInfo('n1').active, false);
});

test('a live-only update leaves the persistent definition alone', async () => {
  const { drv, store } = await setup();
  await drv.networkDefineXML(nat);
  await drv.networkCreate('n1');
  await drv.networkUpdate('n1', 'add-last', 'dns-txt', `<txt name='t' value='v'/>`, -1, { live: true });
  assert.match(drv.networkGetXMLDesc('n1'), /<txt name='t'/);
  assert.doesNotMatch(drv.networkGetXMLDesc('n1', { inactive: true }), /<txt/);
  assert.doesNotMatch(store.xml.get('n1')!, /<txt/);
  await drv.networkDestroy('n1');
  assert.doesNotMatch(drv.networkGetXMLDesc('n1'), /<txt/);
  await drv.networkCreate('n1');
  await drv.networkUpdate('n1', 'add-last', 'dns-txt', `<txt name='u' value='w'/>`, -1, {
    live: true,
    config: true,
  });
  assert.match(drv.networkGetXMLDesc('n1'), /<txt name='u'/);
  assert.match(drv.networkGetXMLDesc('n1', { inactive: true }), /<txt name='u'/);
  assert.match(store.xml.get('n1')!, /<txt name='u'/);
});

test('ensureDefaultNetwork defines default once, on the first free 192.168.N.0/24', async () => {
  const { drv } = await setup();
  await drv.networkDefineXML(
    `<network><name>other</name><bridge name='virbr9'/><ip address='192.168.122.1' prefix='24'/></network>`,
  );
  assert.equal(await drv.ensureDefaultNetwork(), true);
  const xml = drv.networkGetXMLDesc('default');
  assert.match(xml, /<ip address='192\.168\.123\.1' netmask='255\.255\.255\.0'>/);
  assert.match(xml, /<range start='192\.168\.123\.2' end='192\.168\.123\.254'\/>/);
  assert.match(xml, /<forward mode='nat'/);
  assert.equal(drv.networkGetInfo('default').autostart, true);
  await drv.networkUndefine('default');
  assert.equal(await drv.ensureDefaultNetwork(), false);
});

test("net-destroy + net-start puts running guests' taps back on the new bridge, with allocateTap's options", async () => {
  const { drv, host } = await setup();
  await drv.networkDefineXML(nat);
  await drv.networkCreate('n1');
  const t0 = await drv.allocateTap('n1', '52:54:00:00:00:01');
  const t1 = await drv.allocateTap('virbr0', '52:54:00:00:00:02', { bridge: true });
  assert.deepEqual([t0, t1], ['vnet0', 'vnet1']);
  const asked: string[] = [];
  const reports: string[] = [];
  drv.setGuestPorts(
    async (network, bridge) => {
      asked.push(`${network} ${bridge}`);
      return [
        { tap: 'vnet0', domain: 'g1' },
        { tap: 'vnet1', domain: 'g2' },
        { tap: 'vnet7', domain: 'g3' },
      ];
    },
    (network, port, err) =>
      reports.push(`${network} ${port?.tap} ${err ? (err as Error).message : 'attached'}`),
  );
  await drv.networkDestroy('n1');
  assert.deepEqual([...host.masters], []);
  const from = host.runner.commands.length;
  await drv.networkCreate('n1');
  const lines = host.runner.lines().slice(from);
  // The bridge comes first, then exactly allocateTap's join: MTU of the bridge, master, up.
  const at = lines.findIndex((l) => l.includes('link set dev vnet0'));
  assert.ok(at > lines.findIndex((l) => l.includes('link add name virbr0')));
  assert.deepEqual(lines.slice(at - 1), [
    'ip -n tvirt-test-fake -j -d link show',
    'ip -n tvirt-test-fake link set dev vnet0 mtu 1500',
    'ip -n tvirt-test-fake link set dev vnet0 master virbr0',
    'ip -n tvirt-test-fake link set dev vnet0 up',
    'ip -n tvirt-test-fake link set dev vnet1 mtu 1500',
    'ip -n tvirt-test-fake link set dev vnet1 master virbr0',
    'ip -n tvirt-test-fake link set dev vnet1 up',
  ]);
  assert.deepEqual(Object.fromEntries(host.masters), { vnet0: 'virbr0', vnet1: 'virbr0' });
  assert.deepEqual(asked, ['n1 virbr0']);
  assert.deepEqual(reports, [
    'n1 vnet0 attached',
    'n1 vnet1 attached',
    "n1 vnet7 operation failed: tap device 'vnet7' of domain 'g3' does not exist",
  ]);
  // Already on the bridge: nothing to do (the daemon calls this once its hypervisor is up).
  const again = host.runner.commands.length;
  assert.deepEqual(await drv.reattachAllGuests(), []);
  assert.ok(
    !host.runner
      .lines()
      .slice(again)
      .some((l) => l.includes('link set')),
  );
  // A tap someone put under another bridge stays there.
  await drv.networkDestroy('n1');
  host.masters.set('vnet1', 'br9');
  reports.length = 0;
  await drv.networkCreate('n1');
  assert.equal(host.masters.get('vnet1'), 'br9');
  assert.equal(host.masters.get('vnet0'), 'virbr0');
  assert.equal(
    reports[1],
    "n1 vnet1 operation failed: tap device 'vnet1' of domain 'g2' is a port of 'br9', not of 'virbr0'",
  );
});

test('autostart, net-create and a failing guest lookup: taps re-attached or the start still succeeds', async () => {
  const { drv, host } = await setup();
  await drv.networkDefineXML(nat);
  await drv.networkSetAutostart('n1', true);
  await drv.autostartAll();
  assert.equal(await drv.allocateTap('n1', '52:54:00:00:00:01'), 'vnet0');
  await drv.networkDestroy('n1');
  // No source plugged in yet (daemon start): autostart cannot know the guests...
  await drv.autostartAll();
  assert.equal(host.masters.get('vnet0'), undefined);
  // ...so the daemon re-attaches once its hypervisor is up.
  let fail = false;
  const errors: string[] = [];
  drv.setGuestPorts(
    async (network) => {
      if (fail) throw new Error('hypervisor gone');
      return network === 'n1' ? [{ tap: 'vnet0', domain: 'g1' }] : [];
    },
    (_n, _p, err) => err && errors.push((err as Error).message),
  );
  assert.deepEqual(await drv.reattachAllGuests(), ['vnet0']);
  assert.equal(host.masters.get('vnet0'), 'virbr0');
  await drv.networkDestroy('n1');
  fail = true;
  await drv.networkCreate('n1');
  assert.equal(drv.networkGetInfo('n1').active, true);
  assert.deepEqual(errors, ['hypervisor gone']);
  await drv.networkDestroy('n1');
  // A transient network made with net-create takes its guests too.
  await drv.networkUndefine('n1');
  fail = false;
  await drv.networkCreateXML(nat);
  assert.equal(host.masters.get('vnet0'), 'virbr0');
});
