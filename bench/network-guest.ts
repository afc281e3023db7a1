// Benchmark: guest boot to DHCP lease through tvirtd's network driver (the second half of the
// network benchmarks; `npm run bench network` runs bench/network.ts and this file in one run). A
// real tvirtd (QEMU driver, --networks) in a throwaway network namespace starts the test guest
// (TCG, virtio-net, udhcpc at boot) until net-dhcp-leases has its lease: a new guest on the
// default network (libvirt's: stp='on'), the same guest booted again, and a new guest on a copy with
// stp='off', rounds interleaved. Every process started
// here is ended by its PID (guests through the API first). Prints figures, never fails.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRemote } from '../src/api/client.js';
import type { Connection } from '../src/drivers/connection.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../src/host/netdev-testns.js';
import { rootUri, type Tvirtd } from '../test/support/daemon.js';
import { createOverlay, ensureTestGuest, GUEST_CMDLINE } from '../test/support/guest.js';
import { killNetnsLeftovers, spawnNetnsTvirtd, stopNetnsTvirtd } from '../test/support/netns-daemon.js';
import { fmt, has, stats } from './harness.js';
import { type LibvirtPeer, startLibvirtPeer } from './libvirt-peer.js';

/** Guest boots to time per network (after one untimed warm-up boot); a few seconds each under TCG. */
const BOOTS = Number(process.env.BENCH_BOOTS ?? 3);

/** libvirt's default network (libvirt-daemon-config-network), for the peer. */
const LIBVIRT_DEFAULT_NET = `<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Guest boot to DHCP lease: `domainCreate` of the test guest (TCG, virtio-net, udhcpc at boot) on
 * the default NAT network of a tvirtd in a fresh namespace, until net-dhcp-leases has its MAC. Each
 * boot is a new domain with a new MAC, so no earlier lease can count.
 */
async function guestBootToLease(): Promise<void> {
  const why = netnsUnavailable(['ip', 'dnsmasq', 'nft']) || (has('qemu-system-x86_64') ? false : 'no QEMU');
  if (why) {
    console.log(`guest boot to DHCP lease skipped: ${why}`);
    return;
  }
  const guest = ensureTestGuest();
  if ('skip' in guest) {
    console.log(`guest boot to DHCP lease skipped: ${guest.skip}`);
    return;
  }
  const ns = await createNetns('bench');
  const dir = await mkdtemp(join(tmpdir(), 'tvirt-bench-netg-'));
  // dnsmasq drops root and must still read its files under the daemon's run directory.
  await chmod(dir, 0o755);
  const root = join(dir, 'root');
  let daemon: Tvirtd | undefined;
  let conn: Connection | undefined;
  let peer: LibvirtPeer | undefined;
  try {
    daemon = await spawnNetnsTvirtd(ns, root, 30_000);
    if (daemon.child.exitCode !== null) throw new Error(`tvirtd did not start: ${daemon.stderr()}`);
    conn = await connectRemote(rootUri(root));
    // The default network is libvirt's (stp='on' delay='0'); the kernel clamps a bridge's forward
    // delay to at least 2 s while STP is on, so a new port listens and learns ~4 s before it
    // forwards. A copy with stp='off' shows that cost next to it (rounds interleaved).
    await conn.networkCreateXML(`<network><name>nostp</name><forward mode='nat'/><bridge name='virbr7' stp='off'/>
  <ip address='10.0.7.1' netmask='255.255.255.0'><dhcp><range start='10.0.7.2' end='10.0.7.254'/></dhcp></ip></network>`);
    type Variant = 'new' | 'again' | 'nostp';
    const runs: Record<Variant, { started: number[]; leased: number[] }> = {
      new: { started: [], leased: [] },
      again: { started: [], leased: [] },
      nostp: { started: [], leased: [] },
    };
    const xmlFor = (name: string, mac: string, net: string) => {
      const disk = createOverlay(guest, join(dir, `${name}.qcow2`));
      return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>${GUEST_CMDLINE} tvirt.net=1</cmdline></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='network'><mac address='${mac}'/><source network='${net}'/><model type='virtio'/></interface>
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>`;
    };
    const define = (name: string, mac: string, net: string) => conn!.domainDefineXML(xmlFor(name, mac, net));
    // 'again' is one guest booted over and over: dnsmasq knows its lease, so no ping check of a new
    // address (~3 s for a new client); its new lease shows as a new expiry (1 s resolution, and
    // every boot takes longer than that).
    const againMac = '52:54:00:be:0f:01';
    await define('bench-lease-again', againMac, 'default');
    // libvirt: the same guest XML through `virsh start` on the same default network in a private
    // libvirtd (bench/libvirt-peer.ts, its own namespace), timed from virsh's exec to the lease.
    const libvirtStarts: number[] = [];
    const libvirtLeases: number[] = [];
    let libvirtNote = '';
    if (process.env.TVIRT_BENCH_NO_LIBVIRT) libvirtNote = 'skipped (TVIRT_BENCH_NO_LIBVIRT)';
    else {
      const p = await startLibvirtPeer();
      if ('skip' in p) libvirtNote = `skipped (${p.skip})`;
      else {
        peer = p;
        const f = join(p.dir, 'default-net.xml');
        await writeFile(f, LIBVIRT_DEFAULT_NET);
        const r = await p.virsh(['net-define', f]);
        const r2 = r.code === 0 ? await p.virsh(['net-start', 'default']) : r;
        if (r2.code !== 0) libvirtNote = `failed: ${r2.stderr.trim()}`;
      }
    }
    for (let i = 0; i <= BOOTS; i++) {
      for (const v of ['new', 'again', 'nostp'] as const) {
        const net = v === 'nostp' ? 'nostp' : 'default';
        const name = v === 'again' ? 'bench-lease-again' : `bench-lease-${v}-${i}`;
        const mac =
          v === 'again'
            ? againMac
            : `52:54:00:be:${v === 'new' ? '0d' : '0e'}:${i.toString(16).padStart(2, '0')}`;
        if (v !== 'again') await define(name, mac, net);
        const before = (await conn.networkGetDHCPLeases(net, mac))[0]?.expiryTime;
        const s = process.hrtime.bigint();
        await conn.domainCreate(name);
        const up = process.hrtime.bigint();
        for (;;) {
          const l = (await conn.networkGetDHCPLeases(net, mac))[0];
          if (l && l.expiryTime !== before) break;
          if (Number(process.hrtime.bigint() - s) > 120e9) throw new Error(`${name}: no lease within 120 s`);
          await sleep(20);
        }
        const lease = process.hrtime.bigint();
        await conn.domainDestroy(name);
        if (v !== 'again') await conn.domainUndefine(name);
        if (i === 0) continue; // warm-up: page cache, first tap, dnsmasq's first client
        runs[v].started.push(Number(up - s) / 1e6);
        runs[v].leased.push(Number(lease - s) / 1e6);
      }
      if (peer && !libvirtNote) {
        const name = `bench-lease-libvirt-${i}`;
        const mac = `52:54:00:be:10:${i.toString(16).padStart(2, '0')}`;
        const f = join(dir, `${name}.xml`);
        await writeFile(f, xmlFor(name, mac, 'default'));
        const d = await peer.virsh(['define', f]);
        if (d.code !== 0) {
          libvirtNote = `failed: ${d.stderr.trim()}`;
          continue;
        }
        const s = process.hrtime.bigint();
        const st = await peer.virsh(['start', name]);
        const up = process.hrtime.bigint();
        if (st.code !== 0) {
          libvirtNote = `failed: ${st.stderr.trim()}`;
          continue;
        }
        while (!(await peer.virsh(['net-dhcp-leases', 'default', '--mac', mac])).stdout.includes(mac)) {
          if (Number(process.hrtime.bigint() - s) > 120e9)
            throw new Error(`${name} (libvirt): no lease within 120 s`);
          await sleep(20);
        }
        const lease = process.hrtime.bigint();
        await peer.virsh(['destroy', name]);
        await peer.virsh(['undefine', name]);
        if (i === 0) continue;
        libvirtStarts.push(Number(up - s) / 1e6);
        libvirtLeases.push(Number(lease - s) / 1e6);
      }
    }
    await conn.domainUndefine('bench-lease-again');
    await conn.networkDestroy('nostp');
    console.log(`guest start (tap on virbr0, QEMU running):       ${fmt(stats(runs.new.started))}`);
    console.log(`guest start to DHCP lease, default network:      ${fmt(stats(runs.new.leased))}`);
    console.log(`  same guest again (lease known, no ping check): ${fmt(stats(runs.again.leased))}`);
    console.log(`  new guest on a copy with stp='off':            ${fmt(stats(runs.nostp.leased))}`);
    if (libvirtLeases.length && !libvirtNote) {
      const t = stats(runs.new.leased).median;
      const l = stats(libvirtLeases).median;
      console.log(`libvirt virsh start (process), same XML:        ${fmt(stats(libvirtStarts))}`);
      console.log(`libvirt virsh start to DHCP lease:              ${fmt(stats(libvirtLeases))}`);
      console.log(
        `tvirt vs libvirt, new guest to lease: ${(l / t).toFixed(2)}x (goal: tvirt faster) -> ${t < l ? 'met' : 'NOT met'}`,
      );
    } else console.log(`libvirt guest boot to DHCP lease: ${libvirtNote || 'no samples'}`);
  } catch (e) {
    console.log(`guest boot to DHCP lease failed: ${(e as Error).message}`);
  } finally {
    await peer?.stop();
    if (conn) {
      for (const d of await conn.listDomains().catch(() => [])) {
        if (d.state !== 'shutoff') await conn.domainDestroy(d.name).catch(() => {});
      }
      await conn.close().catch(() => {});
    }
    if (daemon) await stopNetnsTvirtd(daemon);
    // Safety net: QEMUs our status files name, then what our daemon left in the namespace (dnsmasq).
    await killNetnsLeftovers(ns, root);
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  }
}

await guestBootToLease();
