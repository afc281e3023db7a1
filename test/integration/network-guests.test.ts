// Real QEMU guests on tvirt networks, end to end: tvirtd (QEMU driver, --networks) runs inside a
// network namespace this test creates, next to a "remote" host in a second namespace reachable only
// through the daemon's namespace. Guests on the default NAT network, a custom NAT network and an
// isolated one get taps and DHCP leases (checked with the CLI like virsh prints them); NICs on a
// host bridge (<interface type='bridge'>, a <forward mode='bridge'/> network) get taps there.
// Guests reach their gateway and each other, NAT reaches the remote host, the isolated guest
// nothing beyond its subnet even with a route; taps, bridges, dnsmasq and nft tables are gone
// afterwards. Guests are destroyed through the API, the daemon ended by its PID, QEMUs named by
// status files killed as a safety net, and both namespaces deleted.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectRemote } from '../../src/api/client.js';
import type { Connection } from '../../src/drivers/connection.js';
import { nftTablePrefix } from '../../src/drivers/network/nft-rules.js';
import {
  addAddress,
  addRoute,
  createBridge,
  createVethPair,
  listLinks,
  nftListTables,
  setLinkUp,
} from '../../src/host/netdev.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../../src/host/netdev-testns.js';
import { runTvirt } from '../support/cli.js';
import type { Tvirtd } from '../support/daemon.js';
import {
  killNetnsLeftovers,
  netnsPids,
  procComm,
  spawnNetnsTvirtd,
  stopNetnsTvirtd,
} from '../support/netns-daemon.js';
import { ConsoleReader, guestOrSkip, guestXml, waitFor } from './qemu-env.js';

const skip =
  netnsUnavailable(['ip', 'dnsmasq', 'nft', 'busybox']) ||
  (process.getuid?.() !== 0 ? 'needs root (network namespaces, taps)' : false) ||
  guestOrSkip().skip;

/** The remote host: 198.51.100.2 in its own namespace, its only link a veth to tvirtd's namespace. */
const UPLINK = '198.51.100.1';
const REMOTE = '198.51.100.2';
/** A host bridge the test makes in tvirtd's namespace, for an <interface type='bridge'>. */
const HOST_BRIDGE_IP = '10.0.9.1';

const labXml = `<network>
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
/** A network that only names the test's host bridge: guests' taps join it; tvirt never owns it. */
const hostbrXml = `<network>
  <name>hostbr</name>
  <forward mode='bridge'/>
  <bridge name='tvbr-host'/>
</network>
`;
const isoXml = `<network>
  <name>iso</name>
  <bridge name='tvbr-iso'/>
  <ip address='10.0.5.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.0.5.10' end='10.0.5.20'/>
    </dhcp>
  </ip>
</network>
`;

interface G {
  name: string;
  mac: string;
  net: string;
  bridge: string;
  /** Address pattern of the network's DHCP range. */
  range: RegExp;
  gateway: string;
  /** MAC of a second NIC, on the host bridge tvbr-host (<interface type='bridge'>). */
  hostMac?: string;
  /** MAC of a third NIC, on network 'hostbr' (<forward mode='bridge'/> onto tvbr-host). */
  hostNetMac?: string;
  /** The definition's own <target dev> for the network NIC (else tvirt picks vnetN). */
  target?: string;
  tap?: string;
  hostTap?: string;
  hostNetTap?: string;
  ip?: string;
  con?: ConsoleReader;
}

const guests: G[] = [
  {
    name: 'ng-lab1',
    target: 'tvtap-lab1',
    mac: '52:54:00:6e:03:01',
    net: 'lab',
    bridge: 'tvbr-lab',
    // Reserved for it with net-update (a DHCP host named 'lab1'), outside the dynamic range.
    range: /^10\.0\.3\.50$/,
    gateway: '10.0.3.1',
  },
  {
    name: 'ng-lab2',
    mac: '52:54:00:6e:03:02',
    hostMac: '52:54:00:6e:09:02',
    hostNetMac: '52:54:00:6e:09:03',
    net: 'lab',
    bridge: 'tvbr-lab',
    range: /^10\.0\.3\.1\d\d$/,
    gateway: '10.0.3.1',
  },
  {
    name: 'ng-def',
    mac: '52:54:00:6e:7a:01',
    net: 'default',
    bridge: 'virbr0',
    range: /^192\.168\.122\.([2-9]|\d\d|1\d\d|2[0-4]\d|25[0-4])$/,
    gateway: '192.168.122.1',
  },
  {
    name: 'ng-iso',
    mac: '52:54:00:6e:05:01',
    net: 'iso',
    bridge: 'tvbr-iso',
    range: /^10\.0\.5\.(1\d|20)$/,
    gateway: '10.0.5.1',
  },
];
const byName = (n: string) => guests.find((g) => g.name === n)!;

describe('real guests on tvirt networks (tvirtd in a fresh namespace)', { skip }, () => {
  let ns = '';
  let remoteNs = '';
  let dir = '';
  let root = '';
  let sock = '';
  let daemon: Tvirtd | undefined;
  let conn: Connection | undefined;
  const inNs = { netns: '' };

  const tvirt = (...args: string[]) => runTvirt(`qemu+unix:///system?socket=${sock}`, ...args);
  /** Runs one shell line on a guest's console; true when it printed the success marker. */
  let seq = 0;
  async function onGuest(g: G, line: string, ms = 20_000): Promise<boolean> {
    const n = ++seq;
    // The echoed command line holds "$((n*1))", not the marker itself.
    const m = g.con!.mark();
    g.con!.send(`if ${line} >/dev/null 2>&1; then echo ok-$((${n}*1)); else echo no-$((${n}*1)); fi`);
    await g.con!.expect(new RegExp(`(ok|no)-${n}\\b`), m, ms);
    return new RegExp(`ok-${n}\\b`).test(g.con!.text.slice(m));
  }
  /** Whether `addr` answers a ping from the guest; up to three tries (a loaded machine is slow). */
  const ping = async (g: G, addr: string) => {
    for (let i = 0; i < 3; i++) if (await onGuest(g, `busybox ping -c 1 -W 3 ${addr}`)) return true;
    return false;
  };
  /** One ping that must go unanswered (a firewall, not a slow machine, decides it). */
  const pingOnce = (g: G, addr: string) => onGuest(g, `busybox ping -c 1 -W 3 ${addr}`);
  const vnets = async () =>
    (await listLinks(inNs))
      .filter((l) => /^(vnet|tvtap)/.test(l.ifname))
      .map((l) => l.ifname)
      .sort();

  before(async () => {
    ns = await createNetns('ngst');
    inNs.netns = ns;
    remoteNs = await createNetns('nrmt');
    await createVethPair('up0', 'eth0', { netns: ns, peerNetns: remoteNs });
    await addAddress('up0', UPLINK, 24, inNs);
    await setLinkUp('up0', true, inNs);
    await addAddress('eth0', REMOTE, 24, { netns: remoteNs });
    await setLinkUp('eth0', true, { netns: remoteNs });
    // The remote routes everything back through tvirtd's namespace: only the firewall can stop
    // an isolated guest's packets, not a missing return route.
    await addRoute({ dst: 'default', gateway: UPLINK }, 'eth0', { netns: remoteNs });
    dir = await mkdtemp(join(tmpdir(), 'tvirt-netg-'));
    // dnsmasq drops root and must still read its files under the daemon's run directory.
    await chmod(dir, 0o755);
    root = join(dir, 'root');
    sock = join(root, 'run', 'tvirt-sock');
    await createBridge('tvbr-host', {}, inNs);
    await addAddress('tvbr-host', HOST_BRIDGE_IP, 24, inNs);
    await setLinkUp('tvbr-host', true, inNs);
    await startDaemon();
  });

  /** Starts tvirtd in the namespace (`ip netns exec` execs it: the child's PID is the daemon's). */
  async function startDaemon(): Promise<void> {
    const d = await spawnNetnsTvirtd(ns, root, 30_000);
    daemon = d;
    assert.equal(d.child.exitCode, null, `tvirtd exited: ${d.stderr()}`);
    conn = await connectRemote(`qemu+unix:///system?socket=${sock}`);
  }

  /** SIGTERM to our daemon (SIGKILL after 5 s); its guests keep running, as libvirt's do. */
  async function stopDaemon(): Promise<void> {
    await conn?.close().catch(() => {});
    conn = undefined;
    if (daemon) await stopNetnsTvirtd(daemon);
  }

  after(async () => {
    try {
      for (const g of guests) g.con?.close();
      if (conn) {
        for (const g of guests) {
          const info = await conn.domainGetInfo(g.name).catch(() => undefined);
          if (info && info.state !== 'shutoff') await conn.domainDestroy(g.name).catch(() => {});
        }
      }
      await stopDaemon();
      // Safety net: QEMUs named by our status files, then whatever our daemon left in the namespace.
      if (ns) await killNetnsLeftovers(ns, root);
    } finally {
      if (ns) await deleteNetns(ns);
      if (remoteNs) await deleteNetns(remoteNs);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });

  it('the default NAT network runs; a custom NAT network is defined, started and autostarted; an isolated and a host-bridge one created', async () => {
    assert.deepEqual(await tvirt('net-list', '--all'), {
      out: ' Name      State    Autostart   Persistent\n--------------------------------------------\n default   active   yes         yes\n\n',
      err: '',
      code: 0,
    });
    const lab = join(dir, 'lab.xml');
    const iso = join(dir, 'iso.xml');
    const hostbr = join(dir, 'hostbr.xml');
    await writeFile(lab, labXml);
    await writeFile(iso, isoXml);
    await writeFile(hostbr, hostbrXml);
    assert.deepEqual(
      await tvirt(
        `net-define ${lab}; net-start lab; net-autostart lab; net-create ${iso}; net-create ${hostbr}`,
      ),
      {
        out:
          `Network lab defined from ${lab}\n\nNetwork lab started\n\nNetwork lab marked as autostarted\n\n` +
          `Network iso created from ${iso}\n\nNetwork hostbr created from ${hostbr}\n\n`,
        err: '',
        code: 0,
      },
    );
    assert.deepEqual(
      await tvirt(
        'net-update',
        'lab',
        'add',
        'ip-dhcp-host',
        "<host mac='52:54:00:6e:03:01' name='lab1' ip='10.0.3.50'/>",
        '--live',
        '--config',
      ),
      { out: 'Updated network lab persistent config and live state\n', err: '', code: 0 },
    );
    assert.equal(
      (await tvirt('net-list', '--autostart')).out,
      ' Name      State    Autostart   Persistent\n--------------------------------------------\n default   active   yes         yes\n lab       active   yes         yes\n\n',
    );
    const bridges = (await listLinks(inNs)).filter((l) => l.kind === 'bridge').map((l) => l.ifname);
    assert.deepEqual(bridges.sort(), ['tvbr-host', 'tvbr-iso', 'tvbr-lab', 'virbr0']);
  });

  it('a NIC on an inactive network, on a missing host bridge or with a taken tap name: start refused clearly, no tap left', async () => {
    const { guest } = guestOrSkip();
    const idle = join(dir, 'idle.xml');
    await writeFile(
      idle,
      isoXml
        .replace('<name>iso</name>', '<name>idle</name>')
        .replace('tvbr-iso', 'tvbr-idle')
        .replaceAll('10.0.5.', '10.0.6.'),
    );
    assert.equal((await tvirt('net-define', idle)).code, 0);
    const bad = [
      {
        name: 'ng-bad-net',
        nic: `<interface type='network'><source network='idle'/><model type='virtio'/></interface>`,
        err: "Requested operation is not valid: network 'idle' is not active",
      },
      {
        name: 'ng-bad-name',
        nic: `<interface type='network'><source network='lab'/><target dev='up0'/><model type='virtio'/></interface>`,
        err: "operation failed: a network device named 'up0' already exists; choose another <target dev> or leave it out",
      },
      {
        name: 'ng-bad-br',
        nic: `<interface type='network'><source network='lab'/><model type='virtio'/></interface><interface type='bridge'><source bridge='tvbr-none'/><model type='virtio'/></interface>`,
        err: "operation failed: host bridge 'tvbr-none' does not exist; create it first (e.g. iface-bridge IFACE tvbr-none)",
      },
    ];
    for (const b of bad) {
      const f = join(dir, `${b.name}.xml`);
      await writeFile(
        f,
        guestXml(guest!, { name: b.name, dir }).replace(/<interface type='user'>.*<\/interface>/, b.nic),
      );
      assert.deepEqual(await tvirt(`define ${f}`), {
        out: `Domain '${b.name}' defined from ${f}\n\n`,
        err: '',
        code: 0,
      });
      assert.deepEqual(await tvirt('start', b.name), {
        out: '\n',
        err: `error: Failed to start domain '${b.name}'\nerror: ${b.err}\n`,
        code: 1,
      });
      assert.equal((await tvirt('domstate', b.name)).out, 'shut off\n\n');
      assert.equal((await tvirt('undefine', b.name)).code, 0);
    }
    assert.deepEqual(await vnets(), []);
    assert.equal((await tvirt('net-undefine', 'idle')).code, 0);
  });

  it('guests get taps (vnetN or their own <target dev>) on their bridges (domiflist) and leases in their ranges (net-dhcp-leases, domifaddr)', async () => {
    const { guest } = guestOrSkip();
    // Define and start all four at once: they boot in parallel.
    await Promise.all(
      guests.map(async (g) => {
        const target = g.target ? `<target dev='${g.target}'/>` : '';
        const nic = `<interface type='network'><mac address='${g.mac}'/><source network='${g.net}'/>${target}<model type='virtio'/></interface>`;
        const hostNic = g.hostMac
          ? `<interface type='bridge'><mac address='${g.hostMac}'/><source bridge='tvbr-host'/><model type='virtio'/></interface>`
          : '';
        const hostNetNic = g.hostNetMac
          ? `<interface type='network'><mac address='${g.hostNetMac}'/><source network='hostbr'/><model type='virtio'/></interface>`
          : '';
        const xml = guestXml(guest!, { name: g.name, dir })
          .replace(/<interface type='user'>.*<\/interface>/, nic + hostNic + hostNetNic)
          .replace('</cmdline>', ' tvirt.net=1</cmdline>');
        const f = join(dir, `${g.name}.xml`);
        await writeFile(f, xml);
        assert.deepEqual(await tvirt(`define ${f}; start ${g.name}`), {
          out: `Domain '${g.name}' defined from ${f}\n\nDomain '${g.name}' started\n\n`,
          err: '',
          code: 0,
        });
      }),
    );
    const links = await listLinks(inNs);
    for (const g of guests) {
      const out = (await tvirt('domiflist', g.name)).out;
      const row = (tap: string, type: string, source: string, mac: string) =>
        ` (${tap}) +${type} +${source} +virtio +${mac}\\n`;
      const m = new RegExp(
        `^ Interface +Type +Source +Model +MAC\\n-+\\n${row(g.target ?? 'vnet\\d+', 'network', g.net, g.mac)}${g.hostMac ? row('vnet\\d+', 'bridge', 'tvbr-host', g.hostMac) : ''}${g.hostNetMac ? row('vnet\\d+', 'network', 'hostbr', g.hostNetMac) : ''}\\n$`,
      ).exec(out);
      assert.ok(m, `domiflist ${g.name}: ${out}`);
      g.tap = m[1]!;
      g.hostTap = m[2];
      g.hostNetTap = m[3];
      const link = links.find((l) => l.ifname === g.tap);
      assert.equal(link?.master, g.bridge, `${g.tap} of ${g.name} on ${g.bridge}`);
      // libvirt's tap MAC: the guest's with the first byte 0xfe, so the bridge never takes it over.
      assert.equal(link?.address, `fe${g.mac.slice(2)}`);
      if (g.hostMac) {
        const hl = links.find((l) => l.ifname === g.hostTap);
        assert.equal(hl?.master, 'tvbr-host');
        assert.equal(hl?.address, `fe${g.hostMac.slice(2)}`);
      }
      if (g.hostNetMac) {
        const hl = links.find((l) => l.ifname === g.hostNetTap);
        assert.equal(hl?.master, 'tvbr-host', 'a bridge-mode network puts the tap on its host bridge');
        assert.equal(hl?.address, `fe${g.hostNetMac.slice(2)}`);
      }
    }
    assert.equal(
      new Set(guests.flatMap((g) => [g.tap, g.hostTap, g.hostNetTap].filter(Boolean))).size,
      guests.length + 2,
      'one tap per NIC',
    );

    await Promise.all(
      guests.map((g) =>
        waitFor(
          `the DHCP lease of ${g.name}`,
          async () => (await tvirt('net-dhcp-leases', g.net, '--mac', g.mac)).out.includes(g.mac),
          120_000,
        ),
      ),
    );
    for (const g of guests) {
      const leases = await tvirt('net-dhcp-leases', g.net);
      const row = new RegExp(
        ` (\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)   ${g.mac}   ipv4       ([\\d.]+)/24 +(\\S+) +\\S+\\n`,
      ).exec(leases.out);
      assert.ok(row, `net-dhcp-leases ${g.net}: ${leases.out}`);
      assert.match(
        leases.out,
        /^ Expiry Time +MAC address +Protocol +IP address +Hostname +Client ID or DUID\n-+\n/,
      );
      g.ip = row[2]!;
      assert.match(g.ip, g.range, `${g.name}'s ${g.ip} in the range of ${g.net}`);
      if (g.name === 'ng-lab1') assert.equal(row[3], 'lab1', 'the reserved host name');
      // The host-bridge NIC has no lease (no dnsmasq there): only the network NIC is listed.
      assert.deepEqual(await tvirt('domifaddr', g.name), {
        out:
          ' Name       MAC address          Protocol     Address\n' +
          '-------------------------------------------------------------------------------\n' +
          ` ${g.tap!.padEnd(10)} ${g.mac}    ipv4         ${g.ip}/24\n\n`,
        err: '',
        code: 0,
      });
    }
    assert.notEqual(byName('ng-lab1').ip, byName('ng-lab2').ip);
  });

  it('guests reach their gateway and each other; NAT reaches the remote host; the isolated guest nothing beyond its subnet', async () => {
    assert.ok(conn);
    await Promise.all(
      guests.map(async (g) => {
        g.con = new ConsoleReader(await conn!.domainOpenConsole(g.name));
        g.con.send('');
        await g.con.expect(/tvirt# /, 0, 60_000);
      }),
    );
    const lab1 = byName('ng-lab1');
    const lab2 = byName('ng-lab2');
    const def = byName('ng-def');
    const iso = byName('ng-iso');
    const results = await Promise.all([
      (async () => ({
        lab1Gateway: await ping(lab1, lab1.gateway),
        lab1ToLab2: await ping(lab1, lab2.ip!),
        lab1ToRemote: await ping(lab1, REMOTE),
      }))(),
      (async () => ({
        lab2ToLab1: await ping(lab2, lab1.ip!),
        // Its second NIC is on the host bridge: a static address there reaches the host's.
        lab2HostNic: await onGuest(
          lab2,
          'busybox ip addr add 10.0.9.2/24 dev eth1 && busybox ip link set eth1 up',
        ),
        lab2ToHostBridge: await ping(lab2, HOST_BRIDGE_IP),
      }))(),
      (async () => ({
        defGateway: await ping(def, def.gateway),
        defToRemote: await ping(def, REMOTE),
      }))(),
      (async () => {
        const isoGateway = await ping(iso, iso.gateway);
        // Give the isolated guest a route anyway: it is the host's firewall that must stop it.
        const isoRoute = await onGuest(iso, `busybox ip route add default via ${iso.gateway}`);
        return {
          isoGateway,
          isoRoute,
          isoToRemote: await pingOnce(iso, REMOTE),
          isoToLab1: await pingOnce(iso, lab1.ip!),
          isoToDef: await pingOnce(iso, def.ip!),
        };
      })(),
    ]);
    assert.deepEqual(Object.assign({}, ...results), {
      lab1Gateway: true,
      lab1ToLab2: true,
      lab1ToRemote: true,
      lab2ToLab1: true,
      lab2HostNic: true,
      lab2ToHostBridge: true,
      defGateway: true,
      defToRemote: true,
      isoGateway: true,
      isoRoute: true,
      isoToRemote: false,
      isoToLab1: false,
      isoToDef: false,
    });
  });

  it('a guest that powers itself off loses its tap; the others keep theirs', async () => {
    const def = byName('ng-def');
    def.con!.send('busybox poweroff -f');
    await waitFor(
      'ng-def to shut off',
      async () => (await tvirt('domstate', def.name)).out === 'shut off\n\n',
      60_000,
    );
    def.con!.close();
    def.con = undefined;
    const left = await vnets();
    assert.ok(!left.includes(def.tap!), `${def.tap} removed`);
    assert.deepEqual(
      left,
      guests
        .filter((g) => g !== def)
        .flatMap((g) => [g.tap!, g.hostTap, g.hostNetTap].filter((t): t is string => !!t))
        .sort(),
    );
    assert.match(
      (await tvirt('domiflist', def.name)).out,
      / - +network +default +virtio +52:54:00:6e:7a:01\n/,
    );
  });

  it("a restarted tvirtd knows the running guests' taps, removes those of a guest that died meanwhile, and the others' when they stop", async () => {
    for (const g of guests) g.con?.close();
    const iso = byName('ng-iso');
    const running = guests.filter((g) => g.name !== 'ng-def' && g !== iso);
    await stopDaemon();
    // While no daemon runs, the isolated guest's QEMU dies (our QEMU: its pid from our status file).
    const st = JSON.parse(await readFile(join(root, 'run', 'qemu', `${iso.name}.json`), 'utf8')) as {
      pid: number;
    };
    assert.ok(netnsPids(ns).includes(st.pid), 'the QEMU runs in our namespace');
    process.kill(st.pid, 'SIGKILL');
    await waitFor(
      'the QEMU to exit',
      () => procComm(st.pid) !== 'qemu-system-x86' || !netnsPids(ns).includes(st.pid),
      10_000,
    );
    assert.ok((await vnets()).includes(iso.tap!), 'a tap outlives its QEMU');
    await startDaemon();
    // The networks ran on without a daemon and are taken over as they were.
    assert.equal(
      (await tvirt('net-list')).out,
      ' Name      State    Autostart   Persistent\n--------------------------------------------\n' +
        ' default   active   yes         yes\n hostbr    active   no          no\n iso       active   no          no\n lab       active   yes         yes\n\n',
    );
    assert.equal((await tvirt('domstate', iso.name, '--reason')).out, 'shut off (crashed)\n\n');
    assert.ok(!(await vnets()).includes(iso.tap!), `${iso.tap} removed by the next daemon`);
    for (const g of running) {
      assert.match(
        (await tvirt('domiflist', g.name)).out,
        new RegExp(` ${g.tap} +network +${g.net} +virtio +${g.mac}\\n`),
      );
      assert.match(
        (await tvirt('domifaddr', g.name)).out,
        new RegExp(` ${g.tap} +${g.mac} +ipv4 +${g.ip!.replaceAll('.', '\\.')}/24\\n`),
      );
    }
    assert.deepEqual(
      (await tvirt(running.map((g) => `destroy ${g.name}`).join('; '))).out,
      running.map((g) => `Domain '${g.name}' destroyed\n\n`).join(''),
    );
    assert.deepEqual(await vnets(), []);
  });

  it('after net-destroy no bridge, dnsmasq or tvirt nft table is left in the namespace', async () => {
    assert.deepEqual(
      await tvirt('net-destroy hostbr; net-destroy iso; net-destroy lab; net-destroy default'),
      {
        out: 'Network hostbr destroyed\n\nNetwork iso destroyed\n\nNetwork lab destroyed\n\nNetwork default destroyed\n\n',
        err: '',
        code: 0,
      },
    );
    // Only the test's own host bridge is left (hostbr's net-destroy leaves it alone).
    assert.deepEqual(
      (await listLinks(inNs))
        .filter((l) => l.kind === 'bridge' || l.ifname.startsWith('vnet'))
        .map((l) => l.ifname),
      ['tvbr-host'],
    );
    assert.deepEqual(
      (await nftListTables(inNs)).filter((t) => t.startsWith(nftTablePrefix)),
      [],
    );
    assert.deepEqual(
      netnsPids(ns).filter((p) => procComm(p) === 'dnsmasq'),
      [],
    );
    // lab stays defined and marked for autostart.
    assert.match((await tvirt('net-info', 'lab')).out, /Active: +no\nPersistent: +yes\nAutostart: +yes\n/);
  });
});
