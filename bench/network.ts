// Benchmark: net-start of a NAT network until its dnsmasq answers DNS, and net-destroy, inside a
// throwaway network namespace (the bench re-runs itself there with `ip netns exec`): the driver
// in process, then like for like with libvirt's `virsh net-start` process, `tvirt net-start` as a
// process against a tvirtd with networks in that namespace.
import { createSocket } from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetworkDriver } from '../src/drivers/network/network-driver.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../src/host/netdev-testns.js';
import { processRunner } from '../src/host/run.js';
import { nodeArgs, tvirtPath } from '../test/support/cli.js';
import { type NetnsDaemon, startNetnsDaemon } from '../test/support/netns-daemon.js';
import { fmt, stats } from './harness.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

/** One DNS query for `name` A; resolves when any answer arrives. */
function dnsQuery(server: string, name: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
    const q = Buffer.concat([
      Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
      ...labels,
      Buffer.from([0, 0, 1, 0, 1]),
    ]);
    const t = setTimeout(() => {
      s.close();
      resolve(false);
    }, timeoutMs);
    s.on('message', () => {
      clearTimeout(t);
      s.close();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      s.close();
      resolve(false);
    });
    s.send(q, 53, server);
  });
}

/** The network both sides start: tvirt's network driver and libvirt's (each in its own namespace). */
const NET_XML = `<network><name>bench</name><forward mode='nat'/><bridge name='virbr7'/>
    <dns><host ip='10.0.3.7'><hostname>guest</hostname></host></dns>
    <ip address='10.0.3.1' netmask='255.255.255.0'><dhcp><range start='10.0.3.2' end='10.0.3.254'/></dhcp></ip></network>`;

/** Runs virsh; milliseconds, or the error text. */
async function virshTimed(uri: string, args: string[]): Promise<number | string> {
  const t0 = process.hrtime.bigint();
  const r = await processRunner.run({ program: 'virsh', args: ['-c', uri, ...args] }, { allowFailure: true });
  return r.code === 0 ? Number(process.hrtime.bigint() - t0) / 1e6 : r.stderr.trim() || `exit ${r.code}`;
}

/** Inside the libvirt peer's namespace: `virsh net-start` until its dnsmasq answers, net-destroy. */
async function innerLibvirt(uri: string): Promise<void> {
  const start: number[] = [];
  const answer: number[] = [];
  const stop: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i <= ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    const r = await virshTimed(uri, ['net-start', 'bench']);
    if (typeof r === 'string') throw new Error(`virsh net-start failed: ${r}`);
    const t1 = process.hrtime.bigint();
    while (!(await dnsQuery('10.0.3.1', 'guest', 200))) {
      if (Number(process.hrtime.bigint() - t0) > 5e9) throw new Error('dnsmasq did not answer within 5 s');
    }
    const t2 = process.hrtime.bigint();
    const d = await virshTimed(uri, ['net-destroy', 'bench']);
    if (typeof d === 'string') throw new Error(`virsh net-destroy failed: ${d}`);
    const t3 = process.hrtime.bigint();
    const b = await virshTimed(uri, ['uri']);
    if (i === 0) continue; // warm-up
    start.push(Number(t1 - t0) / 1e6);
    answer.push(Number(t2 - t0) / 1e6);
    stop.push(Number(t3 - t2) / 1e6);
    if (typeof b === 'number') bare.push(b);
  }
  console.log(`libvirt virsh net-start (process):     ${fmt(stats(start))}`);
  console.log(`libvirt net-start to dnsmasq answering: ${fmt(stats(answer))}`);
  console.log(`libvirt virsh net-destroy (process):   ${fmt(stats(stop))}`);
  if (bare.length) console.log(`  (virsh's own start-up, \`virsh uri\`:  ${fmt(stats(bare))})`);
}

/** libvirt's net-start of NET_XML in a private libvirtd (bench/libvirt-peer.ts), when installed. */
async function libvirtComparison(): Promise<void> {
  const { startLibvirtPeer } = await import('./libvirt-peer.js');
  const peer = await startLibvirtPeer();
  if ('skip' in peer) {
    console.log(`libvirt net-start: skipped (${peer.skip})`);
    return;
  }
  try {
    const file = join(peer.dir, 'bench-net.xml');
    await (await import('node:fs/promises')).writeFile(file, NET_XML);
    const def = await peer.virsh(['net-define', file]);
    if (def.code !== 0) throw new Error(`virsh net-define failed: ${def.stderr.trim()}`);
    const self = fileURLToPath(import.meta.url);
    const r = await processRunner.run(
      {
        program: peer.nsExec[0]!,
        args: [...peer.nsExec.slice(1), process.execPath, '--import', 'tsx', self, '--inner', '--libvirt'],
        env: { BENCH_ROUNDS: String(ROUNDS), BENCH_LIBVIRT_URI: peer.uri },
      },
      { allowFailure: true },
    );
    process.stdout.write(r.stdout);
    if (r.code !== 0) console.log(`libvirt net-start failed: ${r.stderr.trim()}`);
  } catch (e) {
    console.log(`libvirt net-start failed: ${(e as Error).message}`);
  } finally {
    await peer.stop();
  }
}

async function inner(): Promise<void> {
  if (process.argv.includes('--libvirt')) return innerLibvirt(process.env.BENCH_LIBVIRT_URI!);
  const stateDir = await mkdtemp(join(tmpdir(), 'tvirt-bench-net-'));
  const mem = new Map<string, string>();
  const store = {
    save: async (n: string, x: string) => void mem.set(n, x),
    load: async (n: string) => mem.get(n),
    remove: async (n: string) => mem.delete(n),
    loadAll: async () => [...mem].map(([name, xml]) => ({ name, xml })),
    setAutostart: async () => {},
    isAutostart: async () => false,
    listAutostart: async () => [],
  };
  const drv = new NetworkDriver({ store, stateDir });
  await drv.init();
  await drv.networkDefineXML(NET_XML);
  const start: number[] = [];
  const answer: number[] = [];
  const stop: number[] = [];
  try {
    for (let i = 0; i <= ROUNDS; i++) {
      const t0 = process.hrtime.bigint();
      await drv.networkCreate('bench');
      const t1 = process.hrtime.bigint();
      while (!(await dnsQuery('10.0.3.1', 'guest', 200))) {
        if (Number(process.hrtime.bigint() - t0) > 5e9) throw new Error('dnsmasq did not answer within 5 s');
      }
      const t2 = process.hrtime.bigint();
      await drv.networkDestroy('bench');
      const t3 = process.hrtime.bigint();
      if (i === 0) continue; // warm-up
      start.push(Number(t1 - t0) / 1e6);
      answer.push(Number(t2 - t0) / 1e6);
      stop.push(Number(t3 - t2) / 1e6);
    }
  } finally {
    if (drv.listNetworks({ active: true }).length) await drv.networkDestroy('bench').catch(() => {});
    await rm(stateDir, { recursive: true, force: true });
  }
  console.log(`net-start (bridge, nft, dnsmasq up):   ${fmt(stats(start))}`);
  console.log(`net-start to dnsmasq answering DNS:    ${fmt(stats(answer))}`);
  console.log(`net-destroy:                           ${fmt(stats(stop))}`);
}

/**
 * Like for like with `virsh net-start` (a process against libvirtd): `tvirt net-start` as a process
 * against a tvirtd with networks running in the namespace `ns`.
 */
async function cliComparison(ns: string): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tvirt-bench-netd-'));
  // dnsmasq drops root: it must be able to read its files under the daemon's root.
  await chmod(root, 0o755);
  let d: NetnsDaemon | undefined;
  try {
    d = await startNetnsDaemon(ns, root);
    const file = join(root, 'bench-net.xml');
    await writeFile(file, NET_XML);
    const cli = (...args: string[]) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [...nodeArgs, tvirtPath, '-c', d!.uri, ...args], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`tvirt ${args.join(' ')}: ${r.stderr.trim()}`);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    cli('net-define', file);
    const start: number[] = [];
    const stop: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i <= ROUNDS; i++) {
      const a = cli('net-start', 'bench');
      const b = cli('net-destroy', 'bench');
      const c = cli('uri');
      if (i === 0) continue; // warm-up
      start.push(a);
      stop.push(b);
      bare.push(c);
    }
    console.log(`tvirt net-start (process: CLI -> tvirtd): ${fmt(stats(start))}`);
    console.log(`tvirt net-destroy (process):             ${fmt(stats(stop))}`);
    console.log(`  (tvirt's own start-up, \`tvirt uri\`:    ${fmt(stats(bare))})`);
    console.log(
      "  the daemon-side time of an operation is its process time minus the CLI's own start-up (as for virsh below)",
    );
  } catch (e) {
    console.log(`tvirt net-start through tvirtd failed: ${(e as Error).message}`);
  } finally {
    await d?.cleanup();
    await rm(root, { recursive: true, force: true });
  }
}

async function outer(): Promise<void> {
  const why = netnsUnavailable(['ip', 'dnsmasq', 'nft']);
  if (why) {
    console.log(`network bench skipped: ${why}`);
    return;
  }
  const ns = await createNetns('bench');
  try {
    const self = fileURLToPath(import.meta.url);
    const r = await processRunner.run(
      {
        program: 'ip',
        args: ['netns', 'exec', ns, process.execPath, '--import', 'tsx', self, '--inner'],
        env: { BENCH_ROUNDS: String(ROUNDS) },
      },
      { allowFailure: true },
    );
    process.stdout.write(r.stdout);
    if (r.code !== 0) console.log(`network bench failed: ${r.stderr.trim()}`);
    await cliComparison(ns);
  } finally {
    await deleteNetns(ns);
  }
  // The same network XML through Debian's libvirt, in its own namespace too.
  await libvirtComparison();
}

if (process.argv.includes('--inner')) await inner();
else await outer();
