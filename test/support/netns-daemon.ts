// A real tvirtd (QEMU driver, --networks) run inside a network namespace a test created, with the
// CLI bound to its socket and a cleanup that ends only what it started: guests destroyed through the
// API, the daemon by its PID, QEMUs named by its status files (and still in the namespace) killed
// as a safety net, then anything else left in that namespace.
import { spawn, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectRemote } from '../../src/api/client.js';
import type { Connection } from '../../src/drivers/connection.js';
import { nodeArgs, runTvirt } from './cli.js';
import { rootUri, type Tvirtd, tvirtdPath } from './daemon.js';

/** PIDs of the processes in a namespace (dnsmasq, the daemon, its QEMUs). */
export function netnsPids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number);
}

/** The command name of a process (/proc/PID/comm), '' when it is gone. */
export const procComm = (pid: number) =>
  spawnSync('cat', [`/proc/${pid}/comm`], { encoding: 'utf8' }).stdout.trim();

/**
 * Spawns `tvirtd --root ROOT --driver qemu --networks` in namespace `ns` (`ip netns exec` execs it,
 * so the child's PID is the daemon's) and waits until it says "tvirtd started" or exits; after
 * `ms` it is killed by its PID and this throws.
 */
export async function spawnNetnsTvirtd(ns: string, root: string, ms = 30_000): Promise<Tvirtd> {
  let err = '';
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      ...nodeArgs,
      tvirtdPath,
      '--root',
      root,
      '--driver',
      'qemu',
      '--networks',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const d: Tvirtd = {
    child,
    exited: new Promise<number | null>((r) => child.once('exit', (code) => r(code))),
    stderr: () => err,
  };
  const until = Date.now() + ms;
  while (!err.includes('tvirtd started') && child.exitCode === null) {
    if (Date.now() > until) {
      await stopNetnsTvirtd(d, 0);
      throw new Error(`timed out after ${ms} ms waiting for tvirtd to start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return d;
}

/** SIGTERM to the daemon by PID (SIGKILL after `graceMs`), then waits for its exit. Idempotent. */
export async function stopNetnsTvirtd(d: Tvirtd, graceMs = 5000): Promise<void> {
  const { child } = d;
  if (child.pid && child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, 'SIGTERM');
    const gone = await Promise.race([
      d.exited.then(() => true),
      new Promise((r) => setTimeout(() => r(false), graceMs)),
    ]);
    if (!gone) process.kill(child.pid, 'SIGKILL');
    await d.exited;
  }
}

/**
 * Safety net once the daemon is stopped: QEMUs named by ROOT's status files that still run in `ns`,
 * then whatever else is left in the namespace (dnsmasq, ...), all SIGKILLed by PID.
 */
export async function killNetnsLeftovers(ns: string, root?: string): Promise<void> {
  if (root) {
    const stDir = join(root, 'run', 'qemu');
    for (const f of await readdir(stDir).catch(() => [] as string[])) {
      if (!f.endsWith('.json')) continue;
      const st = JSON.parse(await readFile(join(stDir, f), 'utf8').catch(() => '{}')) as { pid?: number };
      if (st.pid && netnsPids(ns).includes(st.pid)) process.kill(st.pid, 'SIGKILL');
    }
  }
  for (const pid of netnsPids(ns)) process.kill(pid, 'SIGKILL');
}

export interface NetnsDaemon extends Tvirtd {
  conn: Connection;
  uri: string;
  /** Runs tvirt's CLI against the daemon, in process. */
  tvirt(...args: string[]): Promise<{ out: string; err: string; code: number }>;
  /** SIGTERM to the daemon by PID (SIGKILL after 5 s); its guests keep running. Idempotent. */
  stop(): Promise<void>;
  /** Destroys running guests via the API, stops the daemon, kills leftovers in the namespace. */
  cleanup(): Promise<void>;
}

/** Starts `tvirtd --root ROOT --driver qemu --networks` in namespace `ns` and connects to it. */
export async function startNetnsDaemon(ns: string, root: string, timeoutMs = 30_000): Promise<NetnsDaemon> {
  const d = await spawnNetnsTvirtd(ns, root, timeoutMs);
  const uri = rootUri(root);
  let conn: Connection | undefined;
  const stop = async () => {
    await conn?.close().catch(() => {});
    await stopNetnsTvirtd(d);
  };
  if (d.child.exitCode !== null) {
    await stop();
    throw new Error(`tvirtd did not start: ${d.stderr()}`);
  }
  conn = await connectRemote(uri);
  const c = conn;
  const tvirt = (...args: string[]) => runTvirt(uri, ...args);
  const cleanup = async () => {
    for (const x of await c.listDomains().catch(() => [])) {
      if (x.state !== 'shutoff') await c.domainDestroy(x.name).catch(() => {});
    }
    await stop();
    await killNetnsLeftovers(ns, root);
  };
  return { ...d, conn, uri, tvirt, stop, cleanup };
}
