// Shared helpers of the real-QEMU integration tests (qemu-*.test.ts): skip reason, domain XML for
// the test guest, a console reader, polling. Every process a test starts is ended by its PID.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TvirtEvent } from '../../src/drivers/connection.js';
import { openQemuDriver, type QemuDriver } from '../../src/drivers/qemu/qemu-driver.js';
import { processRunning } from '../../src/host/process.js';
import {
  createOverlay,
  ensureTestGuest,
  GUEST_CMDLINE,
  GUEST_MARKER,
  type TestGuest,
} from '../support/guest.js';

function qemuMissing(): string | false {
  const r = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? false : 'qemu-system-x86_64 is not installed';
}

/** The guest, or why real-QEMU tests skip. */
export function guestOrSkip(): { guest?: TestGuest; skip: string | false } {
  const q = qemuMissing();
  if (q) return { skip: q };
  const g = ensureTestGuest();
  if ('skip' in g) return { skip: g.skip };
  return { guest: g, skip: false };
}

export interface GuestXmlOpts {
  name: string;
  uuid?: string;
  dir: string;
  onCrash?: string;
  onPoweroff?: string;
  onReboot?: string;
  /** Replaces <memballoon model='none'/>. */
  memballoon?: string;
  /** Replaces <vcpu>1</vcpu> (e.g. with <cputune> after it). */
  vcpu?: string;
  /** Extra <interface> children (e.g. <link state='down'/>). */
  nicExtra?: string;
  type?: 'qemu' | 'kvm';
  extraDevices?: string;
  /** Disk path; default DIR/NAME.qcow2, created as an overlay of the guest's root disk. */
  disk?: string;
  mac?: string;
  /** Appended to the kernel command line (GUEST_CMDLINE), e.g. ' tvirt.agent=0'. */
  cmdlineExtra?: string;
}

/** Domain XML booting the test guest: direct kernel boot, qcow2 overlay, serial pty logged to DIR/NAME.serial. */
export function guestXml(guest: TestGuest, o: GuestXmlOpts): string {
  const disk = o.disk ?? createOverlay(guest, `${o.dir}/${o.name}.qcow2`);
  return `<domain type='${o.type ?? 'qemu'}'>
  <name>${o.name}</name>${o.uuid ? `\n  <uuid>${o.uuid}</uuid>` : ''}
  <memory unit='MiB'>128</memory>
  ${o.vcpu ?? '<vcpu>1</vcpu>'}
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${guest.kernel}</kernel>
    <initrd>${guest.initrd}</initrd>
    <cmdline>${GUEST_CMDLINE}${o.cmdlineExtra ?? ''}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>${o.onPoweroff ?? 'destroy'}</on_poweroff>${o.onReboot ? `\n  <on_reboot>${o.onReboot}</on_reboot>` : ''}
  <on_crash>${o.onCrash ?? 'destroy'}</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'>${o.mac ? `<mac address='${o.mac}'/>` : ''}<model type='virtio'/>${o.nicExtra ?? ''}</interface>
    <serial type='pty'><log file='${o.dir}/${o.name}.serial' append='on'/></serial>
    <console type='pty'/>
    ${o.memballoon ?? "<memballoon model='none'/>"}${o.extraDevices ?? ''}
  </devices>
</domain>
`;
}

/** Polls `cond` every 20 ms until it is truthy; throws after `ms` naming `what`. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** How many times `marker` (default: the boot marker) is in the serial log file. */
export async function markerCount(file: string, marker = GUEST_MARKER): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split(marker).length - 1;
}

/** Collects what the guest prints on a console stream; `expect` waits for a pattern after a mark. */
export class ConsoleReader {
  text = '';
  constructor(readonly stream: Duplex) {
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => {
      this.text += c.replace(/\x1b\[6n/g, '');
    });
    stream.on('error', () => {});
  }
  /** Position to search from later. */
  mark(): number {
    return this.text.length;
  }
  async expect(re: RegExp, from = 0, ms = 60_000): Promise<void> {
    await waitFor(
      `${re} on the console (got: ${JSON.stringify(this.text.slice(-300))})`,
      () => re.test(this.text.slice(from)),
      ms,
    );
  }
  send(line: string): void {
    this.stream.write(`${line}\n`);
  }
  close(): void {
    this.stream.destroy();
  }
}

/**
 * A QEMU driver on a temp dir for one test file: its events, and the pid of every QEMU the test
 * looked up (pidOf), which close() kills if still running after the driver let go of them.
 */
export interface DriverFixture {
  dir: string;
  drv: QemuDriver;
  events: TvirtEvent[];
  /** The QEMU pid of a running domain (remembered for cleanup). */
  pidOf(name: string): number;
  /** Remembers a QEMU pid started another way (another driver on the same files). */
  track(pid: number): void;
  /** `domstate --reason` as text: "running (booted)". */
  stateOf(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openDriverFixture(prefix: string): Promise<DriverFixture> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const drv = await openQemuDriver({
    configDir: join(dir, 'etc'),
    runDir: join(dir, 'run'),
    logDir: join(dir, 'log'),
    noSync: true,
  });
  const events: TvirtEvent[] = [];
  drv.onEvent((e) => events.push(e));
  const pids = new Set<number>();
  const pidOf = (name: string) => {
    const pid = drv.qemuPid(name);
    assert.ok(pid, `${name} has a QEMU`);
    pids.add(pid);
    return pid;
  };
  return {
    dir,
    drv,
    events,
    pidOf,
    track: (pid) => void pids.add(pid),
    async stateOf(name) {
      const s = await drv.domainGetState(name);
      return `${s.state} (${s.reason})`;
    },
    async close() {
      for (const d of await drv.listDomains({ active: true })) pidOf(d.name);
      await drv.close();
      for (const pid of pids) if (await processRunning(pid)) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
