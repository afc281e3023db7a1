// tvirtd (a real process, --root TMP, QEMU driver, --networks) inside a network namespace this test
// creates: the default network comes up with the daemon, and the net-* commands of the tvirt CLI
// work over its socket. Bridges, dnsmasq and nft tables exist only in that namespace; afterwards none
// is left. The daemon is ended by its PID and the namespace deleted in `after`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectRemote, type RemoteConnection } from '../../src/api/client.js';
import type { TvirtEvent } from '../../src/drivers/connection.js';
import { nftTablePrefix } from '../../src/drivers/network/nft-rules.js';
import { addAddress, createVethPair, listLinks, nftListTables, setLinkUp } from '../../src/host/netdev.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../../src/host/netdev-testns.js';
import { nodeArgs, runTvirt, tvirtPath } from '../support/cli.js';
import type { Tvirtd } from '../support/daemon.js';
import {
  killNetnsLeftovers,
  netnsPids,
  procComm,
  spawnNetnsTvirtd,
  stopNetnsTvirtd,
} from '../support/netns-daemon.js';
import { ConsoleReader, guestOrSkip, guestXml, waitFor } from './qemu-env.js';

const skip = netnsUnavailable(['ip', 'dnsmasq', 'nft']);

const customXml = `<network>
  <name>lab</name>
  <forward mode='nat'/>
  <bridge name='tvbr-lab' stp='on' delay='0'/>
  <ip address='10.0.3.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.0.3.100' end='10.0.3.199'/>
    </dhcp>
  </ip>
</network>
`;
const isolatedXml = `<network>
  <name>iso</name>
  <bridge name='tvbr-iso'/>
  <ip address='10.0.5.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.0.5.10' end='10.0.5.20'/>
    </dhcp>
  </ip>
</network>
`;
const hostBridgeXml =
  "<network><name>hostbr</name><forward mode='bridge'/><bridge name='br-missing'/></network>";
const overlapXml = customXml
  .replace('<name>lab</name>', '<name>clash</name>')
  .replace('tvbr-lab', 'tvbr-clash');
const badMaskXml = customXml
  .replace('<name>lab</name>', '<name>badmask</name>')
  .replace('255.255.255.0', '255.0.255.0');

describe('tvirtd with virtual networks, in a fresh network namespace', { skip }, () => {
  let ns = '';
  let root = '';
  let sock = '';
  let daemon: Tvirtd | undefined;
  let dir = '';

  const tvirt = (...args: string[]) => runTvirt(`qemu+unix:///system?socket=${sock}`, ...args);
  const inNs = { netns: '' };
  const bridges = async () =>
    (await listLinks(inNs))
      .filter((l) => l.kind === 'bridge')
      .map((l) => l.ifname)
      .sort();
  const tvirtTables = async () =>
    (await nftListTables(inNs)).filter((t) => t.startsWith(nftTablePrefix)).sort();
  const dnsmasqs = () => netnsPids(ns).filter((p) => procComm(p) === 'dnsmasq');

  before(async () => {
    ns = await createNetns('daemon');
    inNs.netns = ns;
    dir = await mkdtemp(join(tmpdir(), 'tvirt-netd-'));
    // dnsmasq drops root and must still read its hosts files under the state dir (as in /run/tvirt).
    await chmod(dir, 0o755);
    root = join(dir, 'root');
    sock = join(root, 'run', 'tvirt-sock');
    await startDaemon();
  });

  /** Starts tvirtd in the namespace; `ip netns exec` execs it, so its PID is the child's. */
  async function startDaemon(): Promise<void> {
    const d = await spawnNetnsTvirtd(ns, root, 20_000);
    daemon = d;
    assert.equal(d.child.exitCode, null, `tvirtd exited: ${d.stderr()}`);
  }

  after(async () => {
    try {
      if (daemon) await stopNetnsTvirtd(daemon);
      // Anything still running in the namespace was started by this test's daemon (dnsmasq).
      if (ns) await killNetnsLeftovers(ns);
    } finally {
      if (ns) await deleteNetns(ns);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });

  it('the default network is defined, autostarted and running (tvirt net-list --all over the socket)', async () => {
    const r = spawnSync(
      process.execPath,
      [...nodeArgs, tvirtPath, '-c', `qemu+unix:///system?socket=${sock}`, 'net-list', '--all'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.stderr, '');
    assert.equal(
      r.stdout,
      ' Name      State    Autostart   Persistent\n--------------------------------------------\n default   active   yes         yes\n\n',
    );
    assert.equal(r.status, 0);
    const info = await tvirt('net-info', 'default');
    assert.match(
      info.out,
      /^Name: +default\nUUID: +[0-9a-f-]{36}\nActive: +yes\nPersistent: +yes\nAutostart: +yes\nBridge: +virbr0\n/,
    );
    assert.deepEqual(await bridges(), ['virbr0']);
    assert.equal(dnsmasqs().length, 1);
    assert.deepEqual(await tvirtTables(), [`${nftTablePrefix}default`]);
  });

  it('a custom NAT network: define, start, autostart, leases, update, destroy (with events)', async () => {
    const events = await connectRemote(`qemu+unix:///system?socket=${sock}`);
    const seen: TvirtEvent[] = [];
    events.onEvent((ev) => {
      if (ev.kind === 'network-lifecycle') seen.push(ev);
    });
    await (events as RemoteConnection).eventsReady();
    const f = join(dir, 'lab.xml');
    await writeFile(f, customXml);
    assert.deepEqual(await tvirt('net-define', f), {
      out: `Network lab defined from ${f}\n\n`,
      err: '',
      code: 0,
    });
    assert.deepEqual(await tvirt('net-start lab; net-autostart lab'), {
      out: 'Network lab started\n\nNetwork lab marked as autostarted\n\n',
      err: '',
      code: 0,
    });
    assert.deepEqual(await bridges(), ['tvbr-lab', 'virbr0']);
    assert.equal(dnsmasqs().length, 2);
    const addrs = spawnSync('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'tvbr-lab'], {
      encoding: 'utf8',
    }).stdout;
    assert.match(addrs, /inet 10\.0\.3\.1\/24/);
    assert.equal(
      (await tvirt('net-list')).out,
      ' Name      State    Autostart   Persistent\n--------------------------------------------\n default   active   yes         yes\n lab       active   yes         yes\n\n',
    );
    assert.deepEqual(await tvirt('net-dhcp-leases', 'lab'), {
      out: ' Expiry Time   MAC address   Protocol   IP address   Hostname   Client ID or DUID\n-----------------------------------------------------------------------------------\n\n',
      err: '',
      code: 0,
    });
    const upd = await tvirt(
      'net-update',
      'lab',
      'add',
      'ip-dhcp-host',
      "<host mac='52:54:00:aa:00:01' name='g1' ip='10.0.3.50'/>",
      '--live',
      '--config',
    );
    assert.deepEqual(upd, {
      out: 'Updated network lab persistent config and live state\n',
      err: '',
      code: 0,
    });
    assert.match(
      (await tvirt('net-dumpxml', 'lab', '--inactive')).out,
      /<host mac='52:54:00:aa:00:01' name='g1' ip='10.0.3.50'\/>/,
    );
    assert.deepEqual(await tvirt('net-destroy', 'lab'), {
      out: 'Network lab destroyed\n\n',
      err: '',
      code: 0,
    });
    assert.deepEqual(await bridges(), ['virbr0']);
    assert.equal(dnsmasqs().length, 1);
    assert.deepEqual(await tvirtTables(), [`${nftTablePrefix}default`]);
    assert.match((await tvirt('net-info', 'lab')).out, /Active: +no\nPersistent: +yes\nAutostart: +yes\n/);
    const uuid = (await events.networkLookup('lab')).uuid;
    await waitFor('three network events', () => seen.length >= 3, 5000);
    await events.close();
    assert.deepEqual(
      seen.map((e) => [e.name, e.event, e.uuid]),
      [
        ['lab', 'defined', uuid],
        ['lab', 'started', uuid],
        ['lab', 'stopped', uuid],
      ],
    );
  });

  it('guests on the custom, default and an isolated network get leases through taps; they reach their gateway and each other, the isolated one nothing else', async (t) => {
    const { guest, skip: noGuest } = guestOrSkip();
    if (!guest) {
      t.skip(String(noGuest));
      return;
    }
    assert.equal((await tvirt('net-start', 'lab')).code, 0);
    const isoFile = join(dir, 'iso.xml');
    await writeFile(isoFile, isolatedXml);
    assert.deepEqual(await tvirt('net-create', isoFile), {
      out: `Network iso created from ${isoFile}\n\n`,
      err: '',
      code: 0,
    });
    // g1 has a reserved address on lab, g3 a dynamic one on lab, g2 one on the default network,
    // g4 one on the isolated network.
    const guests = [
      { name: 'g1', mac: '52:54:00:aa:00:01', net: 'lab' },
      { name: 'g2', mac: '52:54:00:aa:00:02', net: 'default' },
      { name: 'g3', mac: '52:54:00:aa:00:03', net: 'lab' },
      { name: 'g4', mac: '52:54:00:aa:00:04', net: 'iso' },
    ];
    const bridgeOf: Record<string, string> = { lab: 'tvbr-lab', default: 'virbr0', iso: 'tvbr-iso' };
    for (const g of guests) {
      const xml = guestXml(guest, { name: g.name, dir })
        .replace(
          /<interface type='user'>.*<\/interface>/,
          `<interface type='network'><mac address='${g.mac}'/><source network='${g.net}'/><model type='virtio'/></interface>`,
        )
        .replace('</cmdline>', ' tvirt.net=1</cmdline>');
      const f = join(dir, `${g.name}.xml`);
      await writeFile(f, xml);
      assert.deepEqual(await tvirt(`define ${f}; start ${g.name}`), {
        out: `Domain '${g.name}' defined from ${f}\n\nDomain '${g.name}' started\n\n`,
        err: '',
        code: 0,
      });
    }
    const tapOf = async (name: string) => {
      const m = / (vnet\d+) +network +(\S+) +virtio +(\S+)\n/.exec((await tvirt('domiflist', name)).out);
      assert.ok(m, `domiflist ${name}`);
      return m[1]!;
    };
    const taps = await Promise.all(guests.map((g) => tapOf(g.name)));
    const links = await listLinks(inNs);
    guests.forEach((g, i) => {
      const br = bridgeOf[g.net]!;
      assert.equal(links.find((l) => l.ifname === taps[i])?.master, br, `${g.name} tap on ${br}`);
    });
    for (const g of guests) {
      await waitFor(
        `the DHCP lease of ${g.name}`,
        async () => (await tvirt('net-dhcp-leases', g.net)).out.includes(g.mac),
        120_000,
      );
    }
    const leases = await tvirt('net-dhcp-leases', 'lab', '--mac', guests[0]!.mac);
    assert.match(
      leases.out,
      /^ Expiry Time +MAC address +Protocol +IP address +Hostname +Client ID or DUID\n-+\n \d{4}-\d\d-\d\d \d\d:\d\d:\d\d {3}52:54:00:aa:00:01 {3}ipv4 {7}10\.0\.3\.50\/24 {3}g1 +\S+\n\n$/,
    );
    assert.equal(
      (await tvirt('domifaddr', 'g1')).out,
      ' Name       MAC address          Protocol     Address\n-------------------------------------------------------------------------------\n' +
        ` ${taps[0]!.padEnd(10)} 52:54:00:aa:00:01    ipv4         10.0.3.50/24\n\n`,
    );
    const addrOf = async (name: string) => {
      const m = /ipv4 +(\d+\.\d+\.\d+\.(\d+))\/24/.exec((await tvirt('domifaddr', name)).out);
      assert.ok(m, `domifaddr ${name}`);
      return { ip: m[1]!, host: Number(m[2]) };
    };
    const g2 = await addrOf('g2');
    assert.match(g2.ip, /^192\.168\.122\./);
    assert.ok(g2.host >= 2 && g2.host <= 254, `${g2.ip} in the default range`);
    const g3 = await addrOf('g3');
    assert.match(g3.ip, /^10\.0\.3\./);
    assert.ok(g3.host >= 100 && g3.host <= 199, `${g3.ip} in lab's range`);

    const g4 = await addrOf('g4');
    assert.match(g4.ip, /^10\.0\.5\.(1\d|20)$/);

    const conn = await connectRemote(`qemu+unix:///system?socket=${sock}`);
    try {
      const con4 = new ConsoleReader(await conn.domainOpenConsole('g4'));
      try {
        con4.send('');
        await con4.expect(/tvirt# /, 0, 60_000);
        let m = con4.mark();
        con4.send('busybox ping -c 1 -W 5 10.0.5.1 && echo iso-gw-$((40+5))');
        await con4.expect(/iso-gw-45/, m, 30_000);
        // Isolated: no route beyond its subnet (no router from DHCP), so nothing else answers.
        m = con4.mark();
        con4.send(`busybox ping -c 1 -W 2 ${g3.ip} || echo iso-blocked-$((40+6))`);
        await con4.expect(/iso-blocked-46/, m, 30_000);
        m = con4.mark();
        con4.send('busybox ping -c 1 -W 2 192.168.122.1 || echo iso-blocked-$((40+7))');
        await con4.expect(/iso-blocked-47/, m, 30_000);
      } finally {
        con4.close();
      }
      const con = new ConsoleReader(await conn.domainOpenConsole('g1'));
      try {
        con.send('');
        await con.expect(/tvirt# /, 0, 60_000);
        let m = con.mark();
        con.send('busybox ping -c 1 -W 5 10.0.3.1 && echo gw-$((40+2))');
        await con.expect(/gw-42/, m, 30_000);
        m = con.mark();
        con.send(`busybox ping -c 1 -W 5 ${g3.ip} && echo peer-$((40+3))`);
        await con.expect(/peer-43/, m, 30_000);
        // net-destroy + net-start of lab while g1 and g3 run on it: the bridge is deleted and made
        // again, and tvirtd puts their taps (the same devices QEMU holds) back on it.
        assert.deepEqual(await tvirt('net-destroy lab'), {
          out: 'Network lab destroyed\n\n',
          err: '',
          code: 0,
        });
        const detached = await listLinks(inNs);
        assert.equal(
          detached.find((l) => l.ifname === taps[0])?.master,
          undefined,
          'g1 tap without a bridge',
        );
        assert.deepEqual(await tvirt('net-start lab'), { out: 'Network lab started\n\n', err: '', code: 0 });
        const relinked = await listLinks(inNs);
        for (const i of [0, 2]) {
          const l = relinked.find((x) => x.ifname === taps[i]);
          assert.equal(l?.master, 'tvbr-lab', `${guests[i]!.name} tap back on tvbr-lab`);
          assert.ok(l?.flags.includes('UP'), `${guests[i]!.name} tap up`);
        }
        assert.equal(relinked.find((l) => l.ifname === taps[1])?.master, 'virbr0', 'g2 tap untouched');
        // The new bridge runs STP: its ports forward after twice the (kernel-clamped) 2 s delay.
        const retry = (cmd: string, marker: string) =>
          `for i in 1 2 3 4 5 6 7 8 9 10; do ${cmd} && echo ${marker} && break; done`;
        m = con.mark();
        con.send(retry('busybox ping -c 1 -W 2 10.0.3.1', 'regw-$((40+8))'));
        await con.expect(/regw-48/, m, 40_000);
        m = con.mark();
        con.send(retry(`busybox ping -c 1 -W 2 ${g3.ip}`, 'repeer-$((40+9))'));
        await con.expect(/repeer-49/, m, 40_000);
      } finally {
        con.close();
      }
      const con2 = new ConsoleReader(await conn.domainOpenConsole('g2'));
      try {
        con2.send('');
        await con2.expect(/tvirt# /, 0, 60_000);
        const m = con2.mark();
        con2.send('busybox ping -c 1 -W 5 192.168.122.1 && echo gw-$((40+4))');
        await con2.expect(/gw-44/, m, 30_000);
      } finally {
        con2.close();
      }
    } finally {
      await conn.close();
    }
    assert.deepEqual(
      await tvirt(
        'destroy g1; destroy g2; destroy g3; destroy g4; undefine g1; undefine g2; undefine g3; undefine g4; net-destroy lab; net-destroy iso',
      ),
      {
        out:
          "Domain 'g1' destroyed\n\nDomain 'g2' destroyed\n\nDomain 'g3' destroyed\n\nDomain 'g4' destroyed\n\n" +
          "Domain 'g1' has been undefined\n\nDomain 'g2' has been undefined\n\nDomain 'g3' has been undefined\n\nDomain 'g4' has been undefined\n\n" +
          'Network lab destroyed\n\nNetwork iso destroyed\n\n',
        err: '',
        code: 0,
      },
    );
    assert.deepEqual(
      (await listLinks(inNs)).filter((l) => l.ifname.startsWith('vnet')),
      [],
    );
  });

  it('iface-bridge puts a NIC under a new bridge and the host stays reachable; iface-unbridge undoes it', async () => {
    const peer = await createNetns('peer');
    try {
      await createVethPair('eth0', 'eth0p', { netns: ns, peerNetns: peer });
      await addAddress('eth0', '10.66.0.1', 24, inNs);
      await setLinkUp('eth0', true, inNs);
      await addAddress('eth0p', '10.66.0.2', 24, { netns: peer });
      await setLinkUp('eth0p', true, { netns: peer });
      const reachable = () =>
        spawnSync('ip', ['netns', 'exec', peer, 'busybox', 'ping', '-c', '1', '-W', '1', '10.66.0.1'])
          .status === 0;
      await waitFor('10.66.0.1 before', reachable, 15_000);
      assert.deepEqual(await tvirt('iface-bridge', 'eth0', 'br0', '--no-stp', '--delay', '0'), {
        out: 'Created bridge br0 with attached device eth0\nBridge interface br0 started\n\n',
        err: '',
        code: 0,
      });
      assert.match((await tvirt('iface-list', '--bridges')).out, / br0 +[0-9a-f:]{17} +eth0\n/);
      const list = JSON.parse((await tvirt('--json', 'iface-list', '--all')).out) as {
        name: string;
        master?: string;
        addresses: string[];
      }[];
      assert.equal(list.find((i) => i.name === 'eth0')?.master, 'br0');
      assert.ok(list.find((i) => i.name === 'br0')?.addresses.includes('10.66.0.1/24'));
      await waitFor('10.66.0.1 through the bridge', reachable, 15_000);
      const again = await tvirt('iface-bridge', 'eth0', 'br1');
      assert.equal(again.code, 1);
      assert.match(
        again.err,
        /^error: Failed to create bridge br1 with attached device eth0\nerror: .*already a port of 'br0'/,
      );
      assert.deepEqual(await tvirt('iface-unbridge', 'br0'), {
        out: 'Device eth0 un-attached from bridge br0\nInterface eth0 started\n\n',
        err: '',
        code: 0,
      });
      assert.equal(
        (await listLinks(inNs)).some((l) => l.ifname === 'br0'),
        false,
      );
      await waitFor('10.66.0.1 after', reachable, 15_000);
    } finally {
      spawnSync('ip', ['-n', ns, 'link', 'del', 'eth0']);
      await deleteNetns(peer);
    }
  });

  it('bad input: an overlapping subnet and a bad netmask get clear errors and change nothing', async () => {
    await tvirt('net-start', 'lab');
    const before = { bridges: await bridges(), tables: await tvirtTables(), dnsmasq: dnsmasqs().length };
    const f = join(dir, 'clash.xml');
    await writeFile(f, overlapXml);
    const clash = await tvirt('net-create', f);
    assert.equal(clash.code, 1);
    assert.match(
      clash.err,
      /^error: Failed to create network from .*clash\.xml\nerror: .*10\.0\.3\.0\/24.*in use/,
    );
    const bad = join(dir, 'bad.xml');
    await writeFile(bad, badMaskXml);
    assert.deepEqual(await tvirt('net-define', bad), {
      out: '\n',
      err: `error: Failed to define network from ${bad}\nerror: unsupported configuration: Invalid netmask '255.0.255.0' in network 'badmask'\n`,
      code: 1,
    });
    assert.deepEqual(
      { bridges: await bridges(), tables: await tvirtTables(), dnsmasq: dnsmasqs().length },
      before,
    );
    const rangeOut = join(dir, 'range.xml');
    await writeFile(
      rangeOut,
      customXml.replace('<name>lab</name>', '<name>far</name>').replace('10.0.3.199', '10.0.4.199'),
    );
    assert.deepEqual(await tvirt('net-define', rangeOut), {
      out: '\n',
      err: `error: Failed to define network from ${rangeOut}\nerror: internal error: range 10.0.3.100 - 10.0.4.199 is not entirely within network 10.0.3.1/24\n`,
      code: 1,
    });
    const hb = join(dir, 'hostbr.xml');
    await writeFile(hb, hostBridgeXml);
    assert.equal((await tvirt('net-define', hb)).code, 0);
    const missing = await tvirt('net-start', 'hostbr');
    assert.equal(missing.code, 1);
    assert.equal(
      missing.err,
      "error: Failed to start network hostbr\nerror: operation failed: host bridge 'br-missing' of network 'hostbr' does not exist; create it first (e.g. iface-bridge IFACE br-missing)\n",
    );
    assert.equal((await tvirt('net-undefine', 'hostbr')).code, 0);
    assert.equal((await tvirt('net-list', '--all', '--name')).out, 'default\nlab\n\n');
    await tvirt('net-destroy', 'lab');
  });

  it('a killed daemon leaves networks running; the next one takes them over and autostarts the rest, then guests', async () => {
    const before = dnsmasqs();
    assert.equal(before.length, 1);
    // An autostart guest on lab (an autostart network that is down now): it needs lab up first.
    const { guest } = guestOrSkip();
    if (guest) {
      const xml = guestXml(guest, { name: 'auto', dir })
        .replace(
          /<interface type='user'>.*<\/interface>/,
          "<interface type='network'><mac address='52:54:00:aa:00:09'/><source network='lab'/><model type='virtio'/></interface>",
        )
        .replace('</cmdline>', ' tvirt.net=1</cmdline>');
      const f = join(dir, 'auto.xml');
      await writeFile(f, xml);
      assert.equal((await tvirt(`define ${f}; autostart auto`)).code, 0);
    }
    process.kill(daemon!.child.pid!, 'SIGKILL');
    await daemon!.exited;
    assert.deepEqual(dnsmasqs(), before);
    assert.deepEqual(await bridges(), ['virbr0']);
    await startDaemon();
    assert.equal(
      (await tvirt('net-list', '--all')).out,
      ' Name      State    Autostart   Persistent\n--------------------------------------------\n default   active   yes         yes\n lab       active   yes         yes\n\n',
    );
    // default kept its dnsmasq; lab was autostarted with its own.
    assert.ok(dnsmasqs().includes(before[0]!));
    assert.equal(dnsmasqs().length, 2);
    assert.deepEqual(await bridges(), ['tvbr-lab', 'virbr0']);
    if (guest) {
      await waitFor(
        'the autostart guest to run',
        async () => (await tvirt('domstate', 'auto')).out === 'running\n\n',
        30_000,
      );
      const ports = (await listLinks(inNs)).filter((l) => l.master === 'tvbr-lab').map((l) => l.ifname);
      assert.deepEqual(ports, ['vnet0']);
      await waitFor(
        'the autostart guest lease',
        async () => (await tvirt('net-dhcp-leases', 'lab')).out.includes('52:54:00:aa:00:09'),
        120_000,
      );
      // lab's bridge vanishes while tvirtd is away: the next daemon clears lab, autostarts it again
      // and, once it has found the running guest, puts the guest's tap back on the new bridge.
      process.kill(daemon!.child.pid!, 'SIGKILL');
      await daemon!.exited;
      assert.equal(spawnSync('ip', ['-n', ns, 'link', 'del', 'dev', 'tvbr-lab']).status, 0);
      await startDaemon();
      await waitFor(
        'the guest tap back on the new tvbr-lab',
        async () => (await listLinks(inNs)).find((l) => l.ifname === 'vnet0')?.master === 'tvbr-lab',
        20_000,
      );
      const conn = await connectRemote(`qemu+unix:///system?socket=${sock}`);
      try {
        const con = new ConsoleReader(await conn.domainOpenConsole('auto'));
        try {
          con.send('');
          await con.expect(/tvirt# /, 0, 60_000);
          const m = con.mark();
          con.send(
            'for i in 1 2 3 4 5 6 7 8 9 10; do busybox ping -c 1 -W 2 10.0.3.1 && echo regw-$((50+1)) && break; done',
          );
          await con.expect(/regw-51/, m, 40_000);
        } finally {
          con.close();
        }
      } finally {
        await conn.close();
      }
      assert.equal((await tvirt('destroy auto; undefine auto')).code, 0);
    }
    assert.equal((await tvirt('net-destroy', 'lab')).code, 0);
  });

  it('after net-destroy of every network nothing of tvirt is left in the namespace', async () => {
    assert.deepEqual(await tvirt('net-destroy default; net-undefine lab; net-list --all'), {
      out:
        'Network default destroyed\n\nNetwork lab has been undefined\n\n' +
        ' Name      State      Autostart   Persistent\n----------------------------------------------\n default   inactive   yes         yes\n\n',
      err: '',
      code: 0,
    });
    assert.deepEqual(await bridges(), []);
    assert.deepEqual(await tvirtTables(), []);
    assert.deepEqual(dnsmasqs(), []);
  });
});
