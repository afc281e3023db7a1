// Benchmark: guest start to DHCP lease through tvirtd's network driver: `domainCreate` of the test
// guest on the default NAT network until its lease shows in net-dhcp-leases. tvirtd (--networks)
// runs inside a throwaway network namespace; every process started here is ended by its PID.
// Prints figures, never fails.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectRemote } from '../src/api/client.js';
import type { Connection } from '../src/drivers/connection.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../src/host/netdev-testns.js';
import { createOverlay, ensureTestGuest, GUEST_CMDLINE } from '../test/support/guest.js';
import { fmt, stats } from './harness.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MAC = '52:54:00:be:0c:01';
const fromTs = import.meta.url.endsWith('.ts');
const tvirtd = fileURLToPath(new URL(`../src/daemon/tvirtd.${fromTs ? 'ts' : 'js'}`, import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function leaseExpiry(conn: Connection): Promise<number | undefined> {
  const [l] = await conn.networkGetDHCPLeases('default', MAC);
  return l?.expiryTime;
}

async function main(): Promise<void> {
  const why = netnsUnavailable(['ip', 'dnsmasq', 'nft']);
  if (why) {
    console.log(`skipped: ${why}`);
    return;
  }
  const guest = ensureTestGuest();
  if ('skip' in guest) {
    console.log(`skipped: ${guest.skip}`);
    return;
  }
  const ns = await createNetns('bench');
  const dir = await mkdtemp(join(tmpdir(), 'tvirt-bench-net-'));
  await chmod(dir, 0o755);
  const root = join(dir, 'root');
  let daemon: ChildProcess | undefined;
  let conn: Connection | undefined;
  try {
    let err = '';
    daemon = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        ...(fromTs ? ['--import', 'tsx'] : []),
        tvirtd,
        '--root',
        root,
        '--networks',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    daemon.stderr!.setEncoding('utf8');
    daemon.stderr!.on('data', (c: string) => {
      err += c;
    });
    const t0 = Date.now();
    while (!err.includes('tvirtd started')) {
      if (daemon.exitCode !== null || Date.now() - t0 > 30_000)
        throw new Error(`tvirtd did not start: ${err}`);
      await sleep(20);
    }
    console.log(`tvirtd start with the default network up: ${Date.now() - t0} ms (incl. node start-up)`);
    conn = await connectRemote(`qemu+unix:///system?socket=${join(root, 'run', 'tvirt-sock')}`);
    const disk = createOverlay(guest, join(dir, 'g.qcow2'));
    const xml = `<domain type='qemu'>
  <name>bench-net</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>${GUEST_CMDLINE} tvirt.net=1</cmdline></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='network'><mac address='${MAC}'/><source network='default'/><model type='virtio'/></interface>
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>`;
    await writeFile(join(dir, 'g.xml'), xml);
    await conn.domainDefineXML(xml);
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const before = await leaseExpiry(conn);
      // Expiry has one-second resolution: make sure a new lease cannot carry the old value.
      await sleep(1100);
      const s = process.hrtime.bigint();
      await conn.domainCreate('bench-net');
      for (;;) {
        const e = await leaseExpiry(conn);
        if (e !== undefined && e !== before) break;
        if (Number(process.hrtime.bigint() - s) / 1e9 > 120) throw new Error('no lease within 120 s');
        await sleep(20);
      }
      samples.push(Number(process.hrtime.bigint() - s) / 1e6);
      await conn.domainDestroy('bench-net');
    }
    console.log(`guest start to DHCP lease (TCG boot + udhcpc), ${ROUNDS} rounds: ${fmt(stats(samples))}`);
    await conn.domainUndefine('bench-net');
  } finally {
    await conn?.close().catch(() => {});
    if (daemon?.pid && daemon.exitCode === null) {
      process.kill(daemon.pid, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Everything left in the namespace (dnsmasq, a guest) was started by this benchmark's daemon.
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .stdout.split(/\s+/)
      .filter(Boolean);
    for (const p of pids) process.kill(Number(p), 'SIGKILL');
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
