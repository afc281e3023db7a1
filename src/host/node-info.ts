// The host's CPU and memory facts for nodeinfo, read from /proc like libvirt's virHostCPUGetInfo.
import { readFile } from 'node:fs/promises';
import { arch, cpus, totalmem } from 'node:os';

export interface HostNodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

/** Parses /proc/cpuinfo text (x86 layout) into topology and speed; pure, for tests. */
export function parseCpuinfo(
  text: string,
  ncpus: number,
): Pick<HostNodeInfo, 'mhz' | 'sockets' | 'cores' | 'threads'> {
  const sockets = new Set<string>();
  let mhz = 0;
  let cores = 0;
  let siblings = 0;
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (key === 'physical id') sockets.add(value);
    else if (key === 'cpu MHz' && mhz === 0) mhz = Math.trunc(Number(value)) || 0;
    else if (key === 'cpu cores' && cores === 0) cores = Number(value) || 0;
    else if (key === 'siblings' && siblings === 0) siblings = Number(value) || 0;
  }
  const nsockets = Math.max(1, sockets.size);
  const ncores = cores || Math.max(1, Math.floor(ncpus / nsockets));
  const threads = cores && siblings ? Math.max(1, Math.floor(siblings / cores)) : 1;
  return { mhz, sockets: nsockets, cores: ncores, threads };
}

/** CPU model (architecture), memory, CPUs, MHz and topology of this host. */
export async function readNodeInfo(): Promise<HostNodeInfo> {
  const list = cpus();
  const text = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const t = parseCpuinfo(text, list.length);
  const model = arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch();
  return {
    model,
    memoryKiB: Math.floor(totalmem() / 1024),
    cpus: list.length,
    mhz: t.mhz || (list[0]?.speed ?? 0),
    nodes: 1,
    sockets: t.sockets,
    cores: t.cores,
    threads: t.threads,
  };
}
