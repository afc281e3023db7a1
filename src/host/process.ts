// Process helpers: a detached background daemon, process liveness, and group lookup (for sockets).
import { spawn } from 'node:child_process';
import { chown } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';

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
