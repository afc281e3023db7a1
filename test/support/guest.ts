// The tiny real test guest (scripts/build-test-guest.sh): builds it once per process (cached on
// disk outside the repo) and hands tests its paths, or a reason to skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './testdata.js';

/** Paths of the built guest. Boot from an overlay of `rootDisk` ({@link createOverlay}). */
export interface TestGuest {
  dir: string;
  kernel: string;
  initrd: string;
  /** qcow2, ext4 inside; the cached original: do not boot it read-write, use an overlay. */
  rootDisk: string;
}

/** Printed on ttyS0, on its own line, once per boot when the console shell is ready. */
export const GUEST_MARKER = 'TVIRT-GUEST-BOOTED';
/** Printed on ttyS0, on its own line, by the guest's ACPI power-button handler before it powers off. */
export const GUEST_ACPI_MARKER = 'TVIRT-ACPI-POWERDOWN';
/**
 * Printed on ttyS0, on its own line, by the guest's tiny agent when it performs guest-shutdown,
 * followed by ' mode=powerdown' or ' mode=reboot'. The agent runs when the VM has a virtio-serial port
 * named org.qemu.guest_agent.0 ({@link GUEST_AGENT_CHANNEL}).
 */
export const GUEST_AGENT_MARKER = 'TVIRT-AGENT-SHUTDOWN';
/** Domain XML of the guest agent's channel (the socket goes to the domain's runtime directory). */
export const GUEST_AGENT_CHANNEL =
  "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";
/**
 * The console shell's prompt. busybox ash follows each prompt with a cursor-position query
 * (ESC [ 6 n) that cannot be turned off: strip /\x1b\[6n/g from console text before matching.
 */
export const GUEST_PROMPT = 'tvirt# ';
/**
 * Kernel command line that works; append ' tvirt.net=1' to DHCP eth0 (virtio-net), ' tvirt.agent=0'
 * to not run the guest agent on an org.qemu.guest_agent.0 port.
 */
export const GUEST_CMDLINE = 'console=ttyS0 quiet';

let cached: TestGuest | { skip: string } | undefined;

/**
 * Builds the guest if needed (a no-op of about a second when the cache is current) and returns its
 * paths, or `{skip}` with the reason when it cannot be built here (tools missing, no apt, ...).
 * Runs the script once per process; later calls return the same answer.
 */
export function ensureTestGuest(): TestGuest | { skip: string } {
  cached ??= build();
  return cached;
}

function build(): TestGuest | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'the test guest needs Linux' };
  const script = join(repoRoot, 'scripts', 'build-test-guest.sh');
  const r = spawnSync('sh', [script], { encoding: 'utf8', env: process.env, timeout: 10 * 60_000 });
  if (r.error) return { skip: `test guest: cannot run ${script}: ${r.error.message}` };
  if (r.status !== 0) {
    const why = (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || `exit status ${r.status}`;
    return { skip: `test guest could not be built: ${why}` };
  }
  const dir = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  const guest: TestGuest = {
    dir,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.gz'),
    rootDisk: join(dir, 'root.qcow2'),
  };
  for (const p of [guest.kernel, guest.initrd, guest.rootDisk]) {
    if (!existsSync(p)) return { skip: `test guest: ${p} missing after build` };
  }
  return guest;
}

/** Creates a qcow2 overlay at `path` backed by the guest's root disk; throws if qemu-img fails. */
export function createOverlay(guest: TestGuest, path: string): string {
  const r = spawnSync(
    'qemu-img',
    ['create', '-q', '-f', 'qcow2', '-b', guest.rootDisk, '-F', 'qcow2', path],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0)
    throw new Error(`qemu-img create overlay ${path} failed: ${r.stderr || r.error?.message}`);
  return path;
}

/**
 * QEMU arguments that boot the guest with its console on stdio and a QMP socket (TCG, 256 MiB).
 * `disk` is normally an overlay from {@link createOverlay}.
 */
export function guestQemuArgs(
  guest: TestGuest,
  opts: { disk: string; qmpSocket: string; net?: boolean; memoryMiB?: number },
): string[] {
  return [
    '-accel',
    'tcg',
    '-m',
    String(opts.memoryMiB ?? 256),
    '-nographic',
    '-no-user-config',
    '-nodefaults',
    '-serial',
    'stdio',
    '-kernel',
    guest.kernel,
    '-initrd',
    guest.initrd,
    '-append',
    opts.net ? `${GUEST_CMDLINE} tvirt.net=1` : GUEST_CMDLINE,
    '-drive',
    `file=${opts.disk},if=virtio,format=qcow2`,
    ...(opts.net ? ['-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0'] : []),
    '-qmp',
    `unix:${opts.qmpSocket},server=on,wait=off`,
  ];
}
