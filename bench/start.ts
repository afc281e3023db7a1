// Start latency of a domain: from the driver's start call to vCPUs running (after `cont`), next to
// the floor, a bare `qemu-system-x86_64 -S` with the same arguments from exec to QMP ready; and
// `virsh start` of the same XML against a private libvirtd (bench/libvirt-peer.ts) when Debian's
// libvirt is installed, or against TVIRT_BENCH_LIBVIRT_URI. Rounds are interleaved
// so machine noise hits both sides alike. Prints figures, never fails.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainAssignDefaults, parseDomain } from '../src/conf/domain/index.js';
import { buildQemuCommand } from '../src/drivers/qemu/command.js';
import { openQemuDriver } from '../src/drivers/qemu/qemu-driver.js';
import { QmpClient } from '../src/drivers/qemu/qmp.js';
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

    // libvirt's virsh start of the same XML: against TVIRT_BENCH_LIBVIRT_URI when given, else a
    // private libvirtd in its own namespace (bench/libvirt-peer.ts) when Debian's libvirt is installed.
    const given = process.env.TVIRT_BENCH_LIBVIRT_URI;
    const peer = given ? undefined : await startLibvirtPeer();
    try {
      if (peer && 'skip' in peer) {
        console.log(`virsh start: skipped (${peer.skip})`);
      } else {
        const uri = given ?? peer!.uri;
        const v = await virshRounds(
          uri,
          xml.replace('<name>bench</name>', '<name>tvirt-bench-start</name>'),
          dir,
        );
        console.log(
          typeof v === 'string'
            ? `virsh start: skipped (${v})`
            : `virsh start (libvirt ${given ? uri : 'peer'}, process incl. virsh start-up): ${fmt(v)}`,
        );
        if (typeof v !== 'string')
          console.log(
            `tvirt start vs virsh start: ${(v.median / t.median).toFixed(1)}x (goal: tvirt faster) -> ${t.median < v.median ? 'met' : 'NOT met'}`,
          );
      }
    } finally {
      if (peer && !('skip' in peer)) await peer.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const c = spawn('virsh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    c.once('close', (code) => resolve({ code, err: err.trim() }));
  });
}

async function virshRounds(uri: string, xml: string, dir: string) {
  const file = join(dir, 'virsh.xml');
  writeFileSync(file, xml);
  const ok = await run(['-c', uri, 'version']);
  if (ok.code !== 0) return `no libvirtd at ${uri}: ${ok.err.split('\n')[0]}`;
  const def = await run(['-c', uri, 'define', file]);
  if (def.code !== 0) return `define failed: ${def.err}`;
  const samples: number[] = [];
  try {
    for (let i = 0; i < Math.min(ROUNDS, 7) + 1; i++) {
      const t0 = process.hrtime.bigint();
      const r = await run(['-c', uri, 'start', 'tvirt-bench-start']);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.code !== 0) return `start failed: ${r.err}`;
      await run(['-c', uri, 'destroy', 'tvirt-bench-start']);
      if (i > 0) samples.push(ms);
    }
  } finally {
    await run(['-c', uri, 'destroy', 'tvirt-bench-start']);
    await run(['-c', uri, 'undefine', 'tvirt-bench-start']);
  }
  return stats(samples);
}

await main();
