// Process helpers: detached daemons and session children (QEMU), liveness and /proc probes, group
// lookup (for sockets), and the small host probes the QEMU driver needs (KVM, free TCP ports).
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chown, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/**
 * Starts `program args` in its own session, detached from this process, stdio to /dev/null (or the
 * given fd). Arguments are passed as an argv array; no shell is involved. Returns the pid.
 */
export function spawnDetached(
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stderrFd?: number } = {},
): number {
  const child = spawn(program, args, {
    detached: true,
    stdio: ['ignore', 'ignore', options.stderrFd ?? 'ignore'],
    env: options.env ?? process.env,
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start ${program}`);
  return child.pid;
}

/** True when a process with this pid exists (signal 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Looks a group name (or numeric gid) up in /etc/group. */
export async function lookupGroupId(name: string): Promise<number | undefined> {
  if (/^\d+$/.test(name)) return Number(name);
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined) return Number(f[2]);
  }
  return undefined;
}

/** Changes the group of a path, keeping the owner. */
export async function chgrp(path: string, gid: number): Promise<void> {
  await chown(path, -1, gid);
}

/** How a spawned process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process started by {@link spawnSession}: its pid and a promise of its end. */
export interface SessionChild {
  pid: number;
  /** Resolves when the process has exited (and been reaped by us). */
  exited: Promise<ProcessExit>;
}

/**
 * Starts `program args` as our child in its own session (setsid: not in tvirtd's process group, so
 * signals to the daemon's group and the daemon's death do not reach it), stdin from /dev/null,
 * stdout and stderr to `outFd` (e.g. an O_APPEND log file; the caller may close its copy after the
 * call). We keep the child handle so its exit is seen at once (no zombie waiting for PID 1).
 * Resolves once the program has been executed. @throws when it cannot be executed (ENOENT, EACCES).
 */
export async function spawnSession(
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; outFd?: number; cwd?: string } = {},
): Promise<SessionChild> {
  const out = options.outFd ?? 'ignore';
  const child = spawn(program, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  // The daemon may exit while guests keep running: the handle must not hold the event loop.
  child.unref();
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) => reject(e));
  });
  return { pid: child.pid!, exited };
}

/** Sends a signal; false when the process does not exist (any more). */
export function signalProcess(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** The argv of a running process (from /proc), or undefined when it is gone or a zombie. */
export async function processCmdline(pid: number): Promise<string[] | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => undefined);
  if (!raw) return undefined; // zombies have an empty cmdline
  const parts = Buffer.from(raw, 'latin1').toString('utf8').split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** True when the pid exists and is not a zombie (an exited child nobody reaped yet). */
export async function processRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  // Field 3 follows the parenthesised command name, which may itself contain ') '.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X' && state !== '';
}

/**
 * True when KVM can run ordinary guests: /dev/kvm exists, this process may open it read-write (what
 * QEMU needs), and it is backed by hardware virtualization (kvm_intel or kvm_amd). Some hosts have a
 * /dev/kvm from kvm_pvm (software "pagetable virtual machines"), which only runs PVM-enabled guest
 * kernels: a normal guest started there hangs, so that /dev/kvm does not count.
 */
export async function kvmUsable(): Promise<boolean> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return false;
  }
  for (const mod of ['kvm_intel', 'kvm_amd']) {
    if (
      await access(`/sys/module/${mod}`).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

/** True when nothing listens on TCP `port` of `host` (we can bind it, and let it go at once). */
export function tcpPortFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** CPU time (user + system) a process has used, in ns, from /proc; 0 when unknown. */
export async function processCpuTimeNs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return 0;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the state; USER_HZ is 100 on Linux.
  return (Number(f[11]) + Number(f[12])) * 1e7;
}

/** Runs a program to completion and returns its stdout (e.g. `qemu-system-x86_64 --version`). */
export function runCapture(program: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
}
