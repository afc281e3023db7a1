// Throwaway network namespaces for tests and benchmarks: create, delete, and "can we run here?".
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { processRunner } from './run.js';

/** Why namespace tests cannot run here (not root, a tool missing), or false when they can. */
export function netnsUnavailable(tools: string[] = ['ip', 'dnsmasq', 'nft']): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const t of tools) {
    const r = spawnSync('sh', ['-c', 'command -v "$1" >/dev/null', 'sh', t]);
    if (r.status !== 0) return `needs ${t}`;
  }
  const name = `tvirt-test-probe-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', name]).status !== 0) return 'cannot create a network namespace';
  spawnSync('ip', ['netns', 'del', name]);
  return false;
}

/** Creates `tvirt-test-<tag>-<random>` with loopback up; delete it with deleteNetns in finally. */
export async function createNetns(tag = 'net'): Promise<string> {
  const name = `tvirt-test-${tag}-${randomBytes(3).toString('hex')}`;
  await processRunner.run({ program: 'ip', args: ['netns', 'add', name] });
  await processRunner.run({ program: 'ip', args: ['-n', name, 'link', 'set', 'lo', 'up'] });
  return name;
}

/** Deletes a namespace made by createNetns (ignores one already gone). */
export async function deleteNetns(name: string): Promise<void> {
  if (!name.startsWith('tvirt-test-')) throw new Error(`refusing to delete namespace ${name}`);
  await processRunner.run({ program: 'ip', args: ['netns', 'del', name] }, { allowFailure: true });
}
