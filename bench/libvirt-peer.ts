// A private Debian libvirtd (monolithic, plus its virtlogd) for side-by-side benchmarks: started in
// a fresh network namespace and a private mount namespace, so its bridges, firewall rules and
// /etc|/run|/var/lib|/var/cache|/var/log/libvirt live in a temp dir and nothing on the host sees
// them. Its UNIX socket stays reachable from outside. Never a runtime dependency of tvirt.
import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { has } from './harness.js';

/** The libvirt directories a privileged libvirtd uses; each gets a private bind mount. */
const LIBVIRT_DIRS = [
  '/etc/libvirt',
  '/run/libvirt',
  '/var/lib/libvirt',
  '/var/cache/libvirt',
  '/var/log/libvirt',
];

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface LibvirtPeer {
  /** `qemu+unix:///system?socket=DIR/sock/libvirt-sock` */
  uri: string;
  /** The network namespace libvirtd (and its guests, bridges, dnsmasq) runs in. */
  netns: string;
  /** The temp dir holding config, state, logs and the socket. */
  dir: string;
  /** Runs `virsh -c URI ...args` (from the host namespace; the socket is reachable from there). */
  virsh(args: string[]): Promise<RunResult>;
  /** Prefix that runs a program inside the peer's network namespace: `[...nsExec, prog, ...args]`. */
  nsExec: string[];
  /** Stops libvirtd and virtlogd by PID, deletes the namespace and the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Why no peer can run here, or false when it can. */
export function libvirtPeerUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network and mount namespaces)';
  for (const p of ['libvirtd', 'virtlogd', 'virsh'])
    if (!has(p))
      return `${p} is not installed (apt-get install --no-install-recommends libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)`;
  for (const p of ['ip', 'mount', 'qemu-system-x86_64']) if (!has(p)) return `${p} is not installed`;
  return false;
}

export function run(program: string, args: string[], opts: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const c = spawn(program, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    c.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    c.once('error', (e) => resolve({ code: -1, stdout, stderr: e.message }));
    c.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Creates the users and groups Debian's libvirt expects, when missing (as FIELD-NOTES says). */
function ensureAccounts(): void {
  const exists = (db: string, name: string) => spawnSync('getent', [db, name]).status === 0;
  if (!exists('group', 'kvm')) spawnSync('groupadd', ['-r', 'kvm']);
  if (!exists('group', 'libvirt-qemu')) spawnSync('groupadd', ['-r', 'libvirt-qemu']);
  if (!exists('passwd', 'libvirt-qemu'))
    spawnSync('useradd', [
      '-r',
      '-g',
      'libvirt-qemu',
      '-G',
      'kvm',
      '-d',
      '/var/lib/libvirt',
      '-s',
      '/usr/sbin/nologin',
      'libvirt-qemu',
    ]);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killAndWait(pid: number, ms = 5000): Promise<void> {
  if (!(pid > 0) || !pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + ms;
  while (pidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  if (pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

function readPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return 0;
  }
}

/** PIDs of the processes in namespace `ns` (guests, dnsmasq started by libvirtd). */
function pidsInNetns(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split(/\s+/)
    .map(Number)
    .filter((p) => p > 0);
}

/**
 * Starts a private libvirtd in a new network namespace `tvirt-bench-XXXX`. Resolves with the peer,
 * or with `{ skip }` saying why it cannot run (not root, libvirt not installed, libvirtd failed).
 */
export async function startLibvirtPeer(
  opts: { readyTimeoutMs?: number } = {},
): Promise<LibvirtPeer | { skip: string }> {
  const why = libvirtPeerUnavailable();
  if (why) return { skip: why };
  ensureAccounts();
  // Short path: UNIX socket paths are limited to 107 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-lv-'));
  const sub = (n: string) => {
    const p = join(dir, n);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const sockDir = sub('sock');
  for (const d of LIBVIRT_DIRS) sub(`root${d}`);
  sub('root/var/log/libvirt/qemu');
  const conf = join(dir, 'libvirtd.conf');
  writeFileSync(
    conf,
    [
      `unix_sock_dir = "${sockDir}"`,
      'unix_sock_rw_perms = "0700"',
      'auth_unix_ro = "none"',
      'auth_unix_rw = "none"',
      `log_outputs = "3:file:${dir}/libvirtd.log"`,
      '',
    ].join('\n'),
  );
  const vlConf = join(dir, 'virtlogd.conf');
  writeFileSync(vlConf, `log_outputs = "3:file:${dir}/virtlogd.log"\n`);
  // Guests as root, no cgroups, namespaces or security driver: this is a container without systemd.
  writeFileSync(
    join(dir, 'root/etc/libvirt/qemu.conf'),
    [
      'user = "root"',
      'group = "root"',
      'dynamic_ownership = 0',
      'remember_owner = 0',
      'security_driver = "none"',
      'cgroup_controllers = [ ]',
      'namespaces = [ ]',
      '',
    ].join('\n'),
  );

  const netns = `tvirt-bench-${randomBytes(3).toString('hex')}`;
  const uri = `qemu+unix:///system?socket=${sockDir}/libvirt-sock`;
  const libvirtdPid = join(dir, 'libvirtd.pid');
  const virtlogdPid = join(dir, 'virtlogd.pid');
  let daemon: ReturnType<typeof spawn> | undefined;
  let stopped: Promise<void> | undefined;

  const stop = () => {
    stopped ??= (async () => {
      const lpid = daemon?.pid ?? readPid(libvirtdPid);
      const exited = daemon && daemon.exitCode === null ? new Promise((r) => daemon!.once('exit', r)) : null;
      await killAndWait(lpid);
      if (exited) await exited;
      await killAndWait(readPid(virtlogdPid));
      // Anything libvirtd left in its namespace (a guest or dnsmasq after a failed stop).
      for (const pid of pidsInNetns(netns)) await killAndWait(pid, 2000);
      spawnSync('ip', ['netns', 'del', netns]);
      // The empty mount points (/run/libvirt ...) stay: removing one would detach the bind mount of
      // another peer running at the same time in its own mount namespace.
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const made = spawnSync('ip', ['netns', 'add', netns]);
  if (made.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot create network namespace: ${made.stderr.toString().trim()}` };
  }
  spawnSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);

  // `ip netns exec` gives the shell a private mount namespace; the bind mounts stay in it.
  const script = [
    'set -e',
    ...LIBVIRT_DIRS.map((d) => `mkdir -p ${d} && mount --bind "$D/root${d}" ${d}`),
    'virtlogd -d -f "$D/virtlogd.conf" -p "$D/virtlogd.pid"',
    'exec libvirtd -f "$D/libvirtd.conf" -p "$D/libvirtd.pid"',
  ].join('\n');
  // Its output goes to a file: a pipe could fill up while a benchmark blocks in spawnSync.
  const errFile = join(dir, 'libvirtd.stderr');
  const errFd = openSync(errFile, 'w');
  daemon = spawn('ip', ['netns', 'exec', netns, 'sh', '-c', script], {
    env: { ...process.env, D: dir },
    stdio: ['ignore', errFd, errFd],
  });
  closeSync(errFd);

  const virsh = (args: string[]) => run('virsh', ['-c', uri, ...args]);
  const until = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let last = '';
  for (;;) {
    if (daemon.exitCode !== null) {
      const tail = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim() : '');
      const msg = tail(errFile) || tail(join(dir, 'libvirtd.log'));
      await stop();
      return { skip: `libvirtd exited: ${msg.split('\n').slice(-3).join(' | ')}` };
    }
    if (existsSync(join(sockDir, 'libvirt-sock'))) {
      const r = await virsh(['version']);
      if (r.code === 0) break;
      last = r.stderr.trim();
    }
    if (Date.now() > until) {
      await stop();
      return { skip: `libvirtd did not answer within ${opts.readyTimeoutMs ?? 60_000} ms: ${last}` };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { uri, netns, dir, virsh, nsExec: ['ip', 'netns', 'exec', netns], stop };
}
