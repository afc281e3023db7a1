// NetworkDriver against the real kernel, dnsmasq and nft — only inside namespaces this test creates.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NetworkDriver } from '../../src/drivers/network/network-driver.js';
import { nftTablePrefix } from '../../src/drivers/network/nft-rules.js';
import {
  createVethPair,
  listAddresses,
  listLinks,
  nftListTable,
  nftListTables,
  setLinkUp,
  setMaster,
} from '../../src/host/netdev.js';
import { pidRunning, readPidFile } from '../../src/host/netdev-dnsmasq.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../../src/host/netdev-testns.js';
import { processRunner } from '../../src/host/run.js';
import { inSubnet, parseIp } from '../../src/util/ip.js';
import { MemoryStore, stopNetworks } from '../support/network-driver.js';

const skip = netnsUnavailable(['ip', 'dnsmasq', 'nft', 'busybox']);

describe('network driver in a namespace', { skip }, () => {
  let ns = '';
  let client = '';
  let stateDir = '';
  let drv: NetworkDriver;
  const store = new MemoryStore();

  /** What the namespace looks like: links, addresses, tvirt tables. */
  async function snapshot() {
    const links = (await listLinks({ netns: ns })).map((l) => l.ifname).sort();
    const addrs = (await listAddresses({ netns: ns }))
      .map((a) => `${a.ifname} ${a.local}/${a.prefixlen}`)
      .sort();
    const tables = (await nftListTables({ netns: ns })).sort();
    return { links, addrs, tables };
  }

  before(async () => {
    ns = await createNetns('net');
    client = await createNetns('cli');
    stateDir = await mkdtemp(join(tmpdir(), 'tvirt-net-'));
    drv = new NetworkDriver({ store, stateDir, netns: ns });
    await drv.init();
  });

  after(async () => {
    try {
      // Any dnsmasq still recorded in a pid file is ours: stop it by pid.
      await stopNetworks(drv, stateDir);
    } finally {
      if (ns) await deleteNetns(ns);
      if (client) await deleteNetns(client);
      if (stateDir) await rm(stateDir, { recursive: true, force: true });
    }
  });

  test('default NAT network: virbr0 192.168.122.1/24, dnsmasq gives a DHCP lease, nft table', async () => {
    assert.equal(await drv.ensureDefaultNetwork(), true);
    assert.equal(await drv.ensureDefaultNetwork(), false);
    assert.deepEqual(await drv.autostartAll(), []);
    const info = drv.networkGetInfo('default');
    assert.deepEqual(
      { active: info.active, persistent: info.persistent, autostart: info.autostart, bridge: info.bridge },
      { active: true, persistent: true, autostart: true, bridge: 'virbr0' },
    );
    const s = await snapshot();
    assert.ok(s.addrs.includes('virbr0 192.168.122.1/24'), s.addrs.join(', '));
    assert.ok(s.tables.includes(`${nftTablePrefix}default`));
    assert.match(await nftListTable(`${nftTablePrefix}default`, { netns: ns }), /masquerade/);
    const fwd = await processRunner.run({
      program: 'ip',
      args: ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward'],
    });
    assert.equal(fwd.stdout.trim(), '1');
    const pid = await readPidFile(join(stateDir, 'dnsmasq', 'default.pid'));
    assert.ok(pid && (await pidRunning(pid, 'dnsmasq')));

    // A DHCP client on a veth end in a second namespace, the other end on virbr0.
    await createVethPair('vcl0', 'vcl0p', { netns: ns, peerNetns: client });
    await setMaster('vcl0', 'virbr0', { netns: ns });
    await setLinkUp('vcl0', true, { netns: ns });
    await setLinkUp('vcl0p', true, { netns: client });
    const mac = (await listLinks({ netns: client })).find((l) => l.ifname === 'vcl0p')!.address!;
    const r = await processRunner.run(
      {
        program: 'ip',
        args: [
          'netns',
          'exec',
          client,
          'busybox',
          'udhcpc',
          '-i',
          'vcl0p',
          '-n',
          '-q',
          '-f',
          '-t',
          '20',
          '-T',
          '1',
        ],
      },
      { allowFailure: true },
    );
    assert.equal(r.code, 0, `udhcpc: ${r.stderr}${r.stdout}`);
    const leases = await drv.networkGetDHCPLeases('default');
    const mine = leases.find((l) => l.mac === mac);
    assert.ok(mine, JSON.stringify(leases));
    const a = parseIp(mine.ipaddr)!;
    assert.ok(inSubnet(a, parseIp('192.168.122.0')!, 24));
    assert.ok(a.value >= parseIp('192.168.122.2')!.value && a.value <= parseIp('192.168.122.254')!.value);
    assert.equal(mine.prefix, 24);
    assert.equal(mine.iface, 'virbr0');
  });

  test('custom NAT 10.0.3.1/24 starts and autostarts; guest tap joins the bridge', async () => {
    await drv.networkDefineXML(`<network><name>nat3</name><forward mode='nat'><nat><port start='2000' end='3000'/></nat></forward>
      <bridge name='virbr3'/><ip address='10.0.3.1' netmask='255.255.255.0'><dhcp><range start='10.0.3.2' end='10.0.3.99'/></dhcp></ip></network>`);
    await drv.networkSetAutostart('nat3', true);
    await drv.networkCreate('nat3');
    const s = await snapshot();
    assert.ok(s.addrs.includes('virbr3 10.0.3.1/24'));
    assert.match(await nftListTable(`${nftTablePrefix}nat3`, { netns: ns }), /masquerade to :2000-3000/);
    assert.deepEqual(
      drv.listNetworks({ autostart: true }).map((n) => n.name),
      ['default', 'nat3'],
    );
    const tap = await drv.allocateTap('nat3', '52:54:00:aa:bb:cc');
    const l = (await listLinks({ netns: ns })).find((x) => x.ifname === tap)!;
    assert.match(tap, /^vnet\d+$/);
    assert.equal(l.master, 'virbr3');
    assert.equal(l.address, 'fe:54:00:aa:bb:cc');
    await drv.releaseTap(tap);
    assert.ok(!(await listLinks({ netns: ns })).some((x) => x.ifname === tap));
    // live net-update: a static host lands in dnsmasq's hosts file
    await drv.networkUpdate(
      'nat3',
      'add-last',
      'ip-dhcp-host',
      `<host mac='52:54:00:aa:bb:cd' ip='10.0.3.50'/>`,
    );
    assert.match(
      await readFile(join(stateDir, 'dnsmasq', 'nat3.hostsfile'), 'utf8'),
      /52:54:00:aa:bb:cd,10.0.3.50/,
    );
    // "current" on a running network is the live definition only, as in virsh
    assert.match(drv.networkGetXMLDesc('nat3'), /10\.0\.3\.50/);
    assert.doesNotMatch(drv.networkGetXMLDesc('nat3', { inactive: true }), /10\.0\.3\.50/);
  });

  test('isolated network rejects traffic leaving its bridge', async () => {
    await drv.networkCreateXML(
      `<network><name>iso</name><bridge name='virbr4'/><ip address='10.0.4.1' prefix='24'/></network>`,
    );
    const t = await nftListTable(`${nftTablePrefix}iso`, { netns: ns });
    assert.match(t, /iifname "virbr4" reject/);
    assert.match(t, /oifname "virbr4" reject/);
    assert.doesNotMatch(t, /masquerade/);
    assert.equal(drv.networkGetInfo('iso').persistent, false);
  });

  test('route network with IPv6 and an open network; a restarted driver finds them running', async () => {
    await drv.networkCreateXML(`<network><name>rt6</name><forward mode='route'/><bridge name='virbr6'/>
      <ip address='10.0.6.1' prefix='24'><dhcp><range start='10.0.6.10' end='10.0.6.20'/></dhcp></ip>
      <ip family='ipv6' address='fd00:6::1' prefix='64'><dhcp><range start='fd00:6::10' end='fd00:6::20'/></dhcp></ip></network>`);
    await drv.networkCreateXML(
      `<network><name>open8</name><forward mode='open'/><bridge name='virbr8'/><ip address='10.0.8.1' prefix='24'/></network>`,
    );
    const s = await snapshot();
    assert.ok(
      s.addrs.includes('virbr6 10.0.6.1/24') && s.addrs.includes('virbr6 fd00:6::1/64'),
      s.addrs.join(),
    );
    const t = await nftListTable(`${nftTablePrefix}rt6`, { netns: ns });
    assert.doesNotMatch(t, /masquerade/);
    assert.match(t, /ip6 saddr fd00:6::\/64 accept/);
    assert.ok(!s.tables.includes(`${nftTablePrefix}open8`));
    assert.match(await readFile(join(stateDir, 'dnsmasq', 'rt6.conf'), 'utf8'), /^enable-ra$/m);
    const again = new NetworkDriver({ store, stateDir, netns: ns });
    await again.init();
    assert.deepEqual(
      again.listNetworks({ active: true }).map((n) => n.name),
      drv.listNetworks({ active: true }).map((n) => n.name),
    );
    await drv.networkDestroy('open8');
    await drv.networkDestroy('rt6');
  });

  test('bad input gets clear errors and changes nothing', async () => {
    const before = await snapshot();
    const names = drv.listNetworks().map((n) => n.name);
    await drv.networkDefineXML(
      `<network><name>overlap</name><forward mode='nat'/><bridge name='virbr5'/><ip address='10.0.3.129' prefix='25'/></network>`,
    );
    await assert.rejects(
      drv.networkCreate('overlap'),
      /10\.0\.3\.128\/25 is already in use by interface virbr3/,
    );
    await drv.networkUndefine('overlap');
    await assert.rejects(
      drv.networkDefineXML(
        `<network><name>badmask</name><ip address='10.0.6.1' netmask='255.0.255.0'/></network>`,
      ),
      /Invalid netmask/,
    );
    await assert.rejects(
      drv.networkDefineXML(`<network><name>badrange</name><ip address='10.0.7.1' prefix='24'>
        <dhcp><range start='10.0.8.2' end='10.0.8.9'/></dhcp></ip></network>`),
      /not entirely within network/,
    );
    await assert.rejects(
      drv.networkCreateXML(
        `<network><name>hostbr</name><forward mode='bridge'/><bridge name='br-missing'/></network>`,
      ),
      /host bridge 'br-missing' .* does not exist/,
    );
    await createVethPair('busy0', 'busy0p', { netns: ns });
    const busyBefore = await snapshot();
    await assert.rejects(
      drv.networkCreateXML(
        `<network><name>busy</name><bridge name='busy0'/><ip address='10.0.9.1' prefix='24'/></network>`,
      ),
      /bridge name 'busy0' is already in use/,
    );
    assert.deepEqual(await snapshot(), busyBefore);
    await processRunner.run({ program: 'ip', args: ['-n', ns, 'link', 'del', 'busy0'] });
    assert.deepEqual(await snapshot(), before);
    assert.deepEqual(
      drv.listNetworks().map((n) => n.name),
      names,
    );
  });

  test('destroy leaves no bridge, dnsmasq or tvirt table behind', async () => {
    const pids: number[] = [];
    for (const n of drv.listNetworks({ active: true })) {
      const p = await readPidFile(join(stateDir, 'dnsmasq', `${n.name}.pid`));
      if (p) pids.push(p);
    }
    assert.ok(pids.length >= 2);
    for (const n of drv.listNetworks({ active: true })) await drv.networkDestroy(n.name);
    const s = await snapshot();
    assert.deepEqual(
      s.links.filter((l) => l.startsWith('virbr') || l.startsWith('vnet')),
      [],
    );
    assert.deepEqual(
      s.tables.filter((t) => t.startsWith(nftTablePrefix)),
      [],
    );
    for (const p of pids) assert.equal(await pidRunning(p, 'dnsmasq'), false);
    // transient 'iso' is gone; persistent ones stay defined
    assert.deepEqual(
      drv.listNetworks().map((n) => `${n.name}:${n.active}`),
      ['default:false', 'nat3:false'],
    );
    const fwd = await processRunner.run({
      program: 'ip',
      args: ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward'],
    });
    assert.equal(fwd.stdout.trim(), '0');
  });
});
