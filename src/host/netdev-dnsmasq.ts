// dnsmasq processes of networks: start (it daemonizes once ready), find by pid file, signal, stop.
import { readFile } from 'node:fs/promises';
import { VirError } from '../util/errors.js';
import { inNetns, type NetOpts } from './netdev.js';
import { processRunner } from './run.js';

/**
 * Starts `dnsmasq --conf-file=CONF`. dnsmasq forks into the background only after it has read its
 * configuration and opened its sockets, so a bad config or a busy port fails here, with its message.
 * Returns the daemon's pid from the pid file the config names.
 */
export async function startDnsmasq(
  confFile: string,
  pidFile: string,
  o: NetOpts & { program?: string } = {},
): Promise<number> {
  const cmd = inNetns(o.netns, o.program ?? 'dnsmasq', [`--conf-file=${confFile}`]);
  const r = await (o.runner ?? processRunner).run(cmd, { allowFailure: true });
  if (r.code !== 0) {
    throw new VirError(
      'OPERATION_FAILED',
      `dnsmasq failed to start (config ${confFile}): ${r.stderr.trim()}`,
      {
        domain: 'NETWORK',
      },
    );
  }
  const pid = await readPidFile(pidFile);
  if (pid === undefined) {
    throw new VirError('OPERATION_FAILED', `dnsmasq started but wrote no pid to ${pidFile}`, {
      domain: 'NETWORK',
    });
  }
  return pid;
}

/** The pid in a pid file, or undefined. */
export async function readPidFile(path: string): Promise<number | undefined> {
  const t = await readFile(path, 'utf8').catch(() => '');
  const n = Number.parseInt(t.trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** True when `pid` runs (not a zombie) and, if given, its command line contains `name`. */
export async function pidRunning(pid: number, name?: string): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  if (name === undefined) return true;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').some((a) => a.includes(name));
}

/** Sends a signal to `pid` when it is the expected program (guards against pid reuse). */
export async function signalPid(pid: number, signal: NodeJS.Signals, name?: string): Promise<boolean> {
  if (!(await pidRunning(pid, name))) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to `timeoutMs`, then SIGKILL. Resolves once the process no longer runs. */
export async function stopPid(pid: number, name?: string, timeoutMs = 3000): Promise<void> {
  if (!(await signalPid(pid, 'SIGTERM', name))) return;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!(await pidRunning(pid))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  await signalPid(pid, 'SIGKILL');
  while (await pidRunning(pid)) await new Promise((r) => setTimeout(r, 10));
}
