// Start latency of a domain. 1) The driver's start call to vCPUs running (after `cont`), next to
// the floor, a bare `qemu-system-x86_64 -S` with the same arguments from exec to QMP ready. 2) Like
// for like with libvirt: `tvirt start` as a process against tvirtd next to `virsh start` as a
// process against a private libvirtd (bench/libvirt-peer.ts) when Debian's libvirt is installed, or
// TVIRT_BENCH_LIBVIRT_URI. Rounds are interleaved so machine noise hits both sides alike. Prints
// figures, never fails.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainAssignDefaults, parseDomain } from '../src/conf/domain/index.js';
import { buildQemuCommand } from '../src/drivers/qemu/command.js';
import { openQemuDriver } from '../src/drivers/qemu/qemu-driver.js';
import { QmpClient } from '../src/drivers/qemu/qmp.js';
import { nodeArgs, tvirtPath } from '../test/support/cli.js';
import { rootUri, startTvirtd, stopTvirtd } from '../test/support/daemon.js';
import { createOverlay, ensureTestGuest, GUEST_CMDLINE } from '../test/support/guest.js';
import { fmt, has, stats } from './harness.js';
import { startLibvirtPeer } from './libvirt-peer.js';

const ROUNDS = Number(process.env.ROUNDS ?? 15);

function xmlFor(name: string, kernel: string, initrd: string, disk: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${kernel}</kernel><initrd>${initrd}</initrd><cmdline>${GUEST_CMDLINE}</cmdline></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='user'><model type='virtio'/></interface>
    <serial type='pty'/>
    <console type='pty'/>
    <graphics type='vnc' autoport='yes'/>
    <memballoon model='none'/>
  </devices>
</domain>`;
}

/** Bare QEMU: exec of the same argv (with -S) until QMP has greeted and negotiated; then SIGKILL. */
async function floorOnce(program: string, args: string[], sock: string): Promise<number> {
  rmSync(sock, { force: true });
  const t0 = process.hrtime.bigint();
  const child = spawn(program, args, { stdio: 'ignore', detached: true });
  const gone = new Promise((r) => child.once('exit', r));
  let c: QmpClient | undefined;
  for (;;) {
    try {
      c = await QmpClient.connect(sock, { timeoutMs: 30_000 });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await c.close();
  child.kill('SIGKILL');
  await gone;
  return ms;
}

async function main(): Promise<void> {
  if (!has('qemu-system-x86_64')) {
    console.log('start: skipped (qemu-system-x86_64 is not installed)');
    return;
  }
  const guest = ensureTestGuest();
  if ('skip' in guest) {
    console.log(`start: skipped (${guest.skip})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-bench-start-'));
  try {
    const disk = createOverlay(guest, join(dir, 'disk.qcow2'));
    const xml = xmlFor('bench', guest.kernel, guest.initrd, disk);
    const drv = await openQemuDriver({
      configDir: join(dir, 'etc'),
      runDir: join(dir, 'run'),
      logDir: join(dir, 'log'),
      noSync: true,
    });
    await drv.domainDefineXML(xml);

    // The floor's argv: what the driver would run, with the same devices and a VNC port picked.
    const def = parseDomain(xml);
    domainAssignDefaults(def, { arch: 'x86_64', machine: 'pc' });
    const sock = join(dir, 'floor.sock');
    const cmd = buildQemuCommand(def, {
      monitorPath: sock,
      runtimeDir: dir,
      kvmAvailable: false,
      vncPort: 5999,
    });

    const tvirt: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < ROUNDS + 1; i++) {
      const t0 = process.hrtime.bigint();
      await drv.domainCreate('bench');
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      await drv.domainDestroy('bench', {});
      const f = await floorOnce(cmd.program, cmd.args, sock);
      if (i === 0) continue; // warm-up
      tvirt.push(ms);
      floor.push(f);
    }
    await drv.close();
    const t = stats(tvirt);
    const f = stats(floor);
    console.log(`tvirt start -> vCPUs running (driver, after cont): ${fmt(t)}`);
    console.log(`floor: bare qemu -S exec -> QMP ready (same argv):  ${fmt(f)}`);
    console.log(`tvirt adds ${(t.median - f.median).toFixed(1)} ms to the floor (goal < 50 ms)`);

    // Like for like with libvirt: `tvirt start` as a process (CLI -> tvirtd -> QEMU) next to
    // `virsh start` as a process (virsh -> libvirtd -> QEMU), same XML, rounds interleaved. libvirt
    // is TVIRT_BENCH_LIBVIRT_URI when given, else a private libvirtd in its own namespace
    // (bench/libvirt-peer.ts) when Debian's libvirt is installed.
    const root = join(dir, 'root');
    const daemon = await startTvirtd(root, undefined, { ms: 30_000 });
    const given = process.env.TVIRT_BENCH_LIBVIRT_URI;
    const peer = given ? undefined : await startLibvirtPeer();
    try {
      const tv = sideOf(process.execPath, [...nodeArgs, tvirtPath], rootUri(root), 'bench');
      const tvDisk = createOverlay(guest, join(dir, 'cli-disk.qcow2'));
      const prepared = await tv.prepare(xmlFor('bench', guest.kernel, guest.initrd, tvDisk), dir);
      if (prepared) throw new Error(`tvirt: ${prepared}`);
      let lv: Side | undefined;
      if (peer && 'skip' in peer) console.log(`virsh start: skipped (${peer.skip})`);
      else {
        lv = sideOf('virsh', [], given ?? peer!.uri, 'tvirt-bench-start');
        const why = await lv.prepare(
          xml.replace('<name>bench</name>', '<name>tvirt-bench-start</name>'),
          dir,
        );
        if (why) {
          console.log(`virsh start: skipped (${why})`);
          await lv.cleanup();
          lv = undefined;
        }
      }
      const tvCli: number[] = [];
      const lvCli: number[] = [];
      try {
        for (let i = 0; i < Math.min(ROUNDS, 9) + 1; i++) {
          const a = await tv.startOnce();
          const b = lv ? await lv.startOnce() : undefined;
          if (i === 0) continue; // warm-up
          if (typeof a === 'string') throw new Error(`tvirt start failed: ${a}`);
          tvCli.push(a);
          if (typeof b === 'string') throw new Error(`virsh start failed: ${b}`);
          if (b !== undefined) lvCli.push(b);
        }
      } finally {
        await tv.cleanup();
        await lv?.cleanup();
      }
      const tc = stats(tvCli);
      console.log(`tvirt start (process: CLI -> tvirtd -> QEMU running): ${fmt(tc)}`);
      if (lvCli.length) {
        const vc = stats(lvCli);
        console.log(`virsh start (process: virsh -> libvirtd ${given ? uri0(given) : 'peer'}):  ${fmt(vc)}`);
        console.log(
          `tvirt start vs virsh start, like for like: ${(vc.median / tc.median).toFixed(1)}x (goal: tvirt faster) -> ${tc.median < vc.median ? 'met' : 'NOT met'}`,
        );
      }
    } finally {
      if (peer && !('skip' in peer)) await peer.stop();
      await stopTvirtd(daemon, 'SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const uri0 = (u: string) => u.split('?')[0];

function run(prog: string, args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(prog, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    c.once('close', (code) => resolve({ code, err: err.trim() }));
  });
}

interface Side {
  /** Defines the domain; a reason when this side cannot run. */
  prepare(xml: string, dir: string): Promise<string | undefined>;
  /** One timed `start` process (ms), then an untimed destroy; the error text on failure. */
  startOnce(): Promise<number | string>;
  cleanup(): Promise<void>;
}

/** A virsh-compatible command line (`virsh` or `node launch.cjs`) against `uri`, on domain `name`. */
function sideOf(prog: string, pre: string[], uri: string, name: string): Side {
  const cmd = (...a: string[]) => run(prog, [...pre, '-c', uri, ...a]);
  return {
    async prepare(xml, dir) {
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, xml);
      const ok = await cmd('version');
      if (ok.code !== 0) return `no daemon at ${uri0(uri)}: ${ok.err.split('\n')[0]}`;
      const def = await cmd('define', file);
      return def.code === 0 ? undefined : `define failed: ${def.err}`;
    },
    async startOnce() {
      const t0 = process.hrtime.bigint();
      const r = await cmd('start', name);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const d = await cmd('destroy', name);
      if (r.code !== 0) return r.err;
      return d.code === 0 ? ms : `destroy failed: ${d.err}`;
    },
    async cleanup() {
      await cmd('destroy', name);
      await cmd('undefine', name);
    },
  };
}

await main();
