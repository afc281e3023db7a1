// Daemon operations through the CLI, tvirt against Debian's libvirt side by side in one run:
// define+undefine cycles, `list --all` over 1,000 defined domains and `dumpxml`, each repeated
// inside one batch process ('cmd; cmd; ...'); per-operation time is (batch - same process with
// only `uri`) / repetitions, so client start-up is left out. Plus CLI cold start next to
// `node -e 0`. tvirtd runs on a temp --root with the qemu driver (no guest runs); libvirt is a
// private libvirtd in its own namespace (bench/libvirt-peer.ts). Prints figures, never fails.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeArgs, tvirtPath as tvirtJs } from '../test/support/cli.js';
import { tvirtdPath as tvirtdJs } from '../test/support/daemon.js';
import { fmt, has, type Stats, stats } from './harness.js';
import { type LibvirtPeer, startLibvirtPeer } from './libvirt-peer.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
// Per-operation time is a difference of two process times, so each process's start-up jitter
// (tens of ms for a Node process on a loaded machine, a few ms for virsh) is divided by the
// repetitions: enough of them that the operations, not the jitter, dominate (with 50 dumpxml,
// tvirt's figure swung between -1.7 and +4 ms around a real ~0.3 ms). Same counts on both sides.
const CYCLES = Number(process.env.API_CYCLES ?? 200);
const DOMAINS = Number(process.env.API_DOMAINS ?? 1000);
const LIST_REPS = Number(process.env.API_LIST_REPS ?? 20);
const DUMP_REPS = Number(process.env.API_DUMP_REPS ?? 500);
const COLD_ROUNDS = Number(process.env.API_COLD_ROUNDS ?? 21);

const fromTs = import.meta.url.endsWith('.ts');
const esmEntry = fileURLToPath(new URL('../src/cli/tvirt.js', import.meta.url));

function domainXml(name: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <description>tvirt api benchmark</description>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/tmp/${name}.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <interface type='user'><mac address='52:54:00:aa:00:01'/><model type='virtio'/></interface>
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>
`;
}

/** One side of the comparison: how to run a batch string against its daemon. */
interface Side {
  label: string;
  argv(batch: string): [string, string[]];
}

/** Wall-clock ms of one process; undefined and a message when it fails. */
function timeOnce(side: Side, batch: string): number | string {
  const [prog, args] = side.argv(batch);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(prog, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error || r.status !== 0)
    return `${side.label}: '${batch.slice(0, 60)}...' failed: ${r.error?.message ?? r.stderr.toString().trim().split('\n')[0]}`;
  return ms;
}

interface OpResult {
  perOp: Stats;
  process: Stats;
}

/**
 * Runs `batch` (`reps` operations) and the bare `uri` batch alternately, `ROUNDS` times after a
 * warm-up; per-operation time is (batch - bare) / reps for each round.
 */
function measureOp(side: Side, batch: string, reps: number): OpResult | string {
  const per: number[] = [];
  const whole: number[] = [];
  for (let i = 0; i <= ROUNDS; i++) {
    const base = timeOnce(side, 'uri');
    if (typeof base === 'string') return base;
    const t = timeOnce(side, batch);
    if (typeof t === 'string') return t;
    if (i === 0) continue; // warm-up
    per.push((t - base) / reps);
    whole.push(t);
  }
  return { perOp: stats(per), process: stats(whole) };
}

function repeat(cmd: string, n: number): string {
  return Array.from({ length: n }, () => cmd).join('; ');
}

async function startTvirtd(root: string): Promise<{ child: ChildProcess; uri: string } | string> {
  mkdirSync(root, { recursive: true });
  const errFd = openSync(join(root, 'tvirtd.stderr'), 'w');
  const child = spawn(
    process.execPath,
    [...nodeArgs, tvirtdJs, '--root', root, '--driver', 'qemu', '--no-networks'],
    {
      stdio: ['ignore', errFd, errFd],
    },
  );
  closeSync(errFd);
  const sock = join(root, 'run', 'tvirt-sock');
  const until = Date.now() + 20_000;
  while (!existsSync(sock)) {
    if (child.exitCode !== null) return `tvirtd exited with ${child.exitCode} (see ${root}/tvirtd.stderr)`;
    if (Date.now() > until) return 'tvirtd did not create its socket within 20 s';
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, uri: `qemu+unix:///system?socket=${sock}` };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

function line(what: string, r: OpResult | string | undefined, key: keyof OpResult = 'perOp'): void {
  if (r === undefined) return;
  console.log(`  ${what.padEnd(9)} ${typeof r === 'string' ? `failed: ${r}` : fmt(r[key], 'ms', 2)}`);
}

function verdict(t: OpResult | string, l: OpResult | string | undefined): string {
  if (typeof t === 'string') return 'tvirt failed';
  if (l === undefined || typeof l === 'string') return 'no libvirt figure';
  const ratio = l.perOp.median / t.perOp.median;
  return `tvirt ${ratio >= 1 ? `${ratio.toFixed(1)}x faster` : `${(1 / ratio).toFixed(1)}x SLOWER`} than libvirt (goal: faster) -> ${ratio > 1 ? 'met' : 'NOT met'}`;
}

async function main(): Promise<void> {
  if (!has('qemu-system-x86_64')) {
    console.log('api: skipped (qemu-system-x86_64 is not installed; tvirtd --driver qemu needs it)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-bench-api-'));
  let tvirtd: ChildProcess | undefined;
  let peer: LibvirtPeer | undefined;
  try {
    const t = await startTvirtd(join(dir, 'root'));
    if (typeof t === 'string') {
      console.log(`api: skipped (${t})`);
      return;
    }
    tvirtd = t.child;
    const p = await startLibvirtPeer();
    if ('skip' in p) console.log(`libvirt peer: skipped (${p.skip})`);
    else peer = p;

    const sides: Side[] = [
      { label: 'tvirt', argv: (b) => [process.execPath, [...nodeArgs, tvirtJs, '-c', t.uri, b]] },
    ];
    if (peer) {
      const uri = peer.uri;
      sides.push({ label: 'libvirt', argv: (b) => ['virsh', ['-c', uri, b]] });
    }
    console.log(
      `tvirtd --driver qemu on a temp root; libvirt: ${peer ? `private libvirtd 9.x (${peer.netns})` : 'none'}; ${ROUNDS} rounds, medians (min, max)`,
    );

    // 1. define + undefine cycles in one process.
    const one = join(dir, 'a.xml');
    writeFileSync(one, domainXml('bench-a'));
    const cycles = repeat(`define ${one}; undefine bench-a`, CYCLES);
    const cyc = sides.map((s) => measureOp(s, cycles, CYCLES));
    console.log(`\ndefine+undefine, one cycle (${CYCLES} cycles per process):`);
    for (const [i, s] of sides.entries()) line(s.label, cyc[i]);
    console.log(`  ${verdict(cyc[0]!, cyc[1])}`);

    // 2. 1,000 defined domains: define them in one process each side, then list --all.
    const xmlDir = join(dir, 'xml');
    mkdirSync(xmlDir);
    const files: string[] = [];
    for (let i = 0; i < DOMAINS; i++) {
      const f = join(xmlDir, `d${i}.xml`);
      writeFileSync(f, domainXml(`bench-${String(i).padStart(4, '0')}`));
      files.push(f);
    }
    const defineAll = files.map((f) => `define ${f}`).join('; ');
    console.log(`\ndefine ${DOMAINS} domains in one process (once):`);
    for (const s of sides) {
      const ms = timeOnce(s, defineAll);
      console.log(
        `  ${s.label.padEnd(9)} ${typeof ms === 'string' ? ms : `${ms.toFixed(0)} ms (${(ms / DOMAINS).toFixed(2)} ms each)`}`,
      );
    }
    const list = sides.map((s) => measureOp(s, repeat('list --all', LIST_REPS), LIST_REPS));
    console.log(`\nlist --all with ${DOMAINS} domains (${LIST_REPS} per process):`);
    for (const [i, s] of sides.entries()) line(s.label, list[i]);
    const l0 = list[0]!;
    if (typeof l0 !== 'string')
      console.log(
        `  goal < 50 ms: tvirt ${l0.perOp.median.toFixed(1)} ms -> ${l0.perOp.median < 50 ? 'met' : 'NOT met'}; ${verdict(l0, list[1])}`,
      );
    console.log('  one process running a single `list --all` (client start-up included):');
    const single = sides.map((s) => measureOp(s, 'list --all', 1));
    for (const [i, s] of sides.entries()) line(s.label, single[i], 'process');

    // 3. dumpxml of one domain.
    const mid = `bench-${String(DOMAINS >> 1).padStart(4, '0')}`;
    const dump = sides.map((s) => measureOp(s, repeat(`dumpxml ${mid}`, DUMP_REPS), DUMP_REPS));
    console.log(`\ndumpxml of one domain (${DUMP_REPS} per process):`);
    for (const [i, s] of sides.entries()) line(s.label, dump[i]);
    console.log(`  ${verdict(dump[0]!, dump[1])}`);

    // 4. CLI cold start, interleaved.
    const cold: Record<string, number[]> = {};
    const cmds: [string, string, string[]][] = [
      ['node -e 0', process.execPath, ['-e', '0']],
      ['tvirt --version', process.execPath, [...nodeArgs, tvirtJs, '--version']],
      ['tvirt -c URI version', process.execPath, [...nodeArgs, tvirtJs, '-c', t.uri, 'version']],
    ];
    // The same command from the ES modules tsc emits, without the bundle and code cache.
    if (!fromTs) cmds.push(['same, ES modules', process.execPath, [esmEntry, '-c', t.uri, 'version']]);
    if (peer) {
      cmds.push(['virsh --version', 'virsh', ['--version']]);
      cmds.push(['virsh -c URI version', 'virsh', ['-c', peer.uri, 'version']]);
    }
    for (let i = 0; i <= COLD_ROUNDS; i++) {
      for (const [label, prog, args] of cmds) {
        const t0 = process.hrtime.bigint();
        const r = spawnSync(prog, args, { stdio: 'ignore' });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.status !== 0) continue;
        if (i > 0) (cold[label] ??= []).push(ms);
      }
    }
    console.log(
      `\nCLI cold start (${COLD_ROUNDS} rounds, interleaved)${fromTs ? ' [run from .ts via tsx: not meaningful]' : ''}:`,
    );
    const coldStats = new Map<string, Stats>();
    for (const [label] of cmds) {
      const s = cold[label];
      if (!s?.length) {
        console.log(`  ${label.padEnd(24)} failed`);
        continue;
      }
      coldStats.set(label, stats(s));
      console.log(`  ${label.padEnd(24)} ${fmt(stats(s))}`);
    }
    const node = coldStats.get('node -e 0');
    const tv = coldStats.get('tvirt -c URI version');
    const tvv = coldStats.get('tvirt --version');
    if (node && tv) {
      const add = (x: Stats) => `${(((x.median - node.median) / node.median) * 100).toFixed(0)} %`;
      console.log(
        `  tvirt -c URI version adds ${add(tv)} to node's start-up (goal < 30 %) -> ${tv.median < node.median * 1.3 ? 'met' : 'NOT met'}${tvv ? `; tvirt --version adds ${add(tvv)}` : ''}`,
      );
    }
  } finally {
    if (tvirtd) await stopChild(tvirtd);
    if (peer) await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
