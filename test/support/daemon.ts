// tvirtd as a real process on a private --root, and the safety net for the QEMUs its guests run:
// those outlive their daemon by design, so a test ends them by the PIDs in ROOT/run/qemu/*.json,
// only when their argv shows they belong to that root. Everything is ended by its PID.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processCmdline, processRunning } from '../../src/host/process.js';
import { nodeArgs, srcPath } from './cli.js';

export const tvirtdPath = srcPath('daemon/tvirtd');

/** The URI of the daemon listening under ROOT. */
export const rootUri = (root: string) => `qemu+unix:///system?socket=${join(root, 'run', 'tvirt-sock')}`;

export interface Tvirtd {
  child: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  stderr: () => string;
}

/** Spawns `tvirtd ARGS` (stderr collected, stdout ignored); `started` gets the child. No waiting. */
export function spawnTvirtd(args: string[], started?: ChildProcess[]): Tvirtd {
  const child = spawn(process.execPath, [...nodeArgs, tvirtdPath, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started?.push(child);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stderr: () => err };
}

export interface StartOpts {
  /** Assert the daemon is still running once it is up (default true). */
  check?: boolean;
  ms?: number;
}

/**
 * Starts `tvirtd --root ROOT --driver qemu`, waiting for "tvirtd started" on its stderr (not the
 * socket file: a killed daemon leaves a stale one behind) or for its exit. `started` gets the child.
 */
export async function startTvirtd(
  root: string,
  started?: ChildProcess[],
  opts: StartOpts = {},
): Promise<Tvirtd> {
  const d = spawnTvirtd(['--root', root, '--driver', 'qemu'], started);
  const { child } = d;
  const ms = opts.ms ?? 60_000;
  const deadline = Date.now() + ms;
  while (!(d.stderr().includes('tvirtd started') || child.exitCode !== null)) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for tvirtd to start (${d.stderr()})`);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (opts.check ?? true) assert.equal(child.exitCode, null, `tvirtd exited: ${d.stderr()}`);
  return d;
}

/** Sends `signal` to the daemon if it is still running and waits for its exit. */
export async function stopTvirtd(d: Tvirtd, signal: NodeJS.Signals): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill(signal);
  await d.exited;
}

/** SIGKILL to each child still running. */
export function killChildren(children: Iterable<ChildProcess | undefined>): void {
  for (const c of children) if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** QEMU pid of a running domain, from its status file ROOT/run/qemu/NAME.json. */
export async function qemuPid(root: string, name: string): Promise<number> {
  const st = JSON.parse(await readFile(join(root, 'run', 'qemu', `${name}.json`), 'utf8')) as { pid: number };
  return st.pid;
}

/**
 * SIGKILL to the QEMUs that status files under each ROOT name and whose argv mentions that root,
 * plus the `known` pids, when still running.
 */
export async function killQemus(roots: Iterable<string>, known: Iterable<number> = []): Promise<void> {
  const pids = new Set(known);
  for (const root of roots) {
    if (!root) continue;
    const stDir = join(root, 'run', 'qemu');
    for (const f of existsSync(stDir) ? await readdir(stDir) : []) {
      if (!f.endsWith('.json')) continue;
      const st = JSON.parse(await readFile(join(stDir, f), 'utf8').catch(() => '{}')) as { pid?: number };
      const argv = st.pid ? await processCmdline(st.pid) : undefined;
      if (st.pid && argv?.some((a) => a.includes(root))) pids.add(st.pid);
    }
  }
  for (const pid of pids) if (await processRunning(pid)) process.kill(pid, 'SIGKILL');
}
