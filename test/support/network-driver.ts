// For tests of the NetworkDriver run in a namespace: an in-memory NetworkStore (the daemon passes
// its ConfigStore) and the cleanup that ends what the driver started, dnsmasq by the pids it recorded.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkStore } from '../../src/drivers/network/network-api.js';
import type { NetworkDriver } from '../../src/drivers/network/network-driver.js';
import { readPidFile, stopPid } from '../../src/host/netdev-dnsmasq.js';

/** An in-memory NetworkStore (the daemon passes its ConfigStore). */
export class MemoryStore implements NetworkStore {
  readonly xml = new Map<string, string>();
  readonly auto = new Set<string>();
  async save(n: string, x: string) {
    this.xml.set(n, x);
  }
  async load(n: string) {
    return this.xml.get(n);
  }
  async remove(n: string) {
    return this.xml.delete(n);
  }
  async loadAll() {
    return [...this.xml].map(([name, xml]) => ({ name, xml }));
  }
  async setAutostart(n: string, a: boolean) {
    if (a) this.auto.add(n);
    else this.auto.delete(n);
  }
  async isAutostart(n: string) {
    return this.auto.has(n);
  }
  async listAutostart() {
    return [...this.auto];
  }
}

/**
 * Destroys the driver's active networks, then stops any dnsmasq still recorded in a pid file under
 * STATEDIR/dnsmasq by its pid (each is ours).
 */
export async function stopNetworks(drv: NetworkDriver | undefined, stateDir: string): Promise<void> {
  for (const n of drv?.listNetworks({ active: true }) ?? [])
    await drv!.networkDestroy(n.name).catch(() => {});
  const dir = join(stateDir, 'dnsmasq');
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (!f.endsWith('.pid')) continue;
    const pid = await readPidFile(join(dir, f));
    if (pid) await stopPid(pid, 'dnsmasq');
  }
}
