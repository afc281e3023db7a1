// A real tvirtd (QEMU driver, --networks) run inside a network namespace a test created, with the
// CLI bound to its socket and a cleanup that ends only what it started: guests destroyed through the
// API, the daemon by its PID, QEMUs named by its status files (and still in the namespace) killed
// as a safety net, then anything else left in that namespace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectRemote } from '../../src/api/client.js';
import { runCli } from '../../src/cli/shell.js';
import type { Connection } from '../../src/drivers/connection.js';

const fromTs = import.meta.url.endsWith('.ts');
const tvirtdPath = fileURLToPath(new URL(`../../src/daemon/tvirtd.${fromTs ? 'ts' : 'js'}`, import.meta.url));
const nodeArgs = fromTs ? ['--import', 'tsx'] : [];

/** PIDs of the processes in a namespace (dnsmasq, the daemon, its QEMUs). */
export function netnsPids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number);
}

export interface NetnsDaemon {
  child: ChildProcess;
  conn: Connection;
  uri: string;
  /** Runs tvirt's CLI against the daemon, in process. */
  tvirt(...args: string[]): Promise<{ out: string; err: string; code: number }>;
  /** SIGTERM to the daemon by PID (SIGKILL after 5 s); its guests keep running. Idempotent. */
  stop(): Promise<void>;
  /** Destroys running guests via the API, stops the daemon, kills leftovers in the namespace. */
  cleanup(): Promise<void>;
}

/** Starts `tvirtd --root ROOT --driver qemu --networks` in namespace `ns` (`ip netns exec` execs it). */
export async function startNetnsDaemon(ns: string, root: string, timeoutMs = 30_000): Promise<NetnsDaemon> {
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
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const until = Date.now() + timeoutMs;
  while (!err.includes('tvirtd started') && child.exitCode === null && Date.now() < until)
    await new Promise((r) => setTimeout(r, 20));
  const uri = `qemu+unix:///system?socket=${join(root, 'run', 'tvirt-sock')}`;
  let conn: Connection | undefined;
  const stop = async () => {
    await conn?.close().catch(() => {});
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const gone = await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 5000)),
      ]);
      if (!gone) process.kill(child.pid, 'SIGKILL');
      await exited;
    }
  };
  if (child.exitCode !== null || !err.includes('tvirtd started')) {
    await stop();
    throw new Error(`tvirtd did not start: ${err}`);
  }
  conn = await connectRemote(uri);
  const c = conn;
  const tvirt = async (...args: string[]) => {
    let out = '';
    let e = '';
    const code = await runCli(['-c', uri, ...args], {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        e += t;
      },
    });
    return { out, err: e, code };
  };
  const cleanup = async () => {
    for (const d of await c.listDomains().catch(() => [])) {
      if (d.state !== 'shutoff') await c.domainDestroy(d.name).catch(() => {});
    }
    await stop();
    const stDir = join(root, 'run', 'qemu');
    for (const f of await readdir(stDir).catch(() => [] as string[])) {
      if (!f.endsWith('.json')) continue;
      const st = JSON.parse(await readFile(join(stDir, f), 'utf8').catch(() => '{}')) as { pid?: number };
      if (st.pid && netnsPids(ns).includes(st.pid)) process.kill(st.pid, 'SIGKILL');
    }
    for (const pid of netnsPids(ns)) process.kill(pid, 'SIGKILL');
  };
  return { child, conn, uri, tvirt, stop, cleanup };
}
