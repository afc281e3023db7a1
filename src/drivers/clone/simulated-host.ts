// A clone host for the in-memory test driver: disks that do not exist on this machine (such as
// test:///default's /guest/diskimage1) are simulated files whose copies report real progress; disks
// that do exist are copied for real.
import { parseDomain } from '../../conf/domain/index.js';
import { VirError } from '../../util/errors.js';
import type { HypervisorConnection, StorageConnection } from '../connection.js';
import type { CloneHost } from './clone.js';
import { localCloneHost } from './clone-host.js';

/** Size of a simulated disk nobody gave a size (bytes). */
export const SIMULATED_DISK_SIZE = 1 << 30;
/** Simulated copy speed (bytes per second), so a progress bar has something to show. */
const SIMULATED_SPEED = 8 * 2 ** 30;
const STEP_MS = 10;

const hosts = new WeakMap<object, CloneHost>();

function abortError(): VirError {
  return new VirError('OPERATION_ABORTED', 'operation aborted: copy was cancelled', { domain: 'STORAGE' });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The clone host of one in-memory hypervisor (`key`: its state object, so connections sharing the
 * state share the simulated files). `conn` lists the domains whose disk paths count as existing.
 */
export function simulatedCloneHost(key: object, conn: HypervisorConnection): CloneHost {
  let host = hosts.get(key);
  if (host) return host;
  const real = localCloneHost();
  const files = new Map<string, number>();
  const isVirtual = async (p: string) => {
    if (files.has(p)) return true;
    if (await real.exists(p)) return false;
    // A disk of a defined domain that is not on this machine: simulated.
    for (const d of await conn.listDomains()) {
      try {
        const def = parseDomain(await conn.domainGetXMLDesc(d.uuid, { inactive: true }));
        if (def.devices.disks.some((k) => (k.source?.file ?? k.source?.dev) === p)) {
          files.set(p, SIMULATED_DISK_SIZE);
          return true;
        }
      } catch {
        // gone meanwhile
      }
    }
    return false;
  };
  host = {
    async exists(p) {
      return (await isVirtual(p)) || (await real.exists(p));
    },
    async list(dir) {
      const names = new Set(await real.list(dir));
      for (const d of await conn.listDomains()) {
        try {
          const def = parseDomain(await conn.domainGetXMLDesc(d.uuid, { inactive: true }));
          for (const k of def.devices.disks) {
            const p = k.source?.file ?? k.source?.dev;
            if (p) await isVirtual(p);
          }
        } catch {
          // gone meanwhile
        }
      }
      for (const p of files.keys())
        if (p.slice(0, p.lastIndexOf('/')) === dir) names.add(p.slice(p.lastIndexOf('/') + 1));
      return [...names];
    },
    async size(p) {
      return (await isVirtual(p)) ? files.get(p)! : real.size(p);
    },
    async copy(a, to, job) {
      if (!(await isVirtual(a.source.path))) return real.copy(a, to, job);
      const size = files.get(a.source.path)!;
      const step = Math.max(1, Math.round((SIMULATED_SPEED * STEP_MS) / 1000));
      for (let done = 0; done < size; ) {
        await sleep(STEP_MS, job.signal);
        done = Math.min(size, done + step);
        job.progress?.(done);
      }
      files.set(to, size);
    },
    async overlay(a, to, job) {
      if (!(await isVirtual(a.source.path))) return real.overlay(a, to, job);
      files.set(to, 196_608);
    },
    async publish(tmp, final, overwrite) {
      if (!files.has(tmp)) return real.publish(tmp, final, overwrite);
      files.set(final, files.get(tmp)!);
      files.delete(tmp);
    },
    async remove(p) {
      if (files.delete(p)) return;
      await real.remove(p);
    },
  };
  // Pool volumes go through the connection's own storage (the test driver's in-memory pools).
  if (typeof (conn as Partial<StorageConnection>).storageVolCreateXMLFrom === 'function') {
    const vols = localCloneHost({ storage: conn as unknown as StorageConnection }).volumes;
    if (vols) host.volumes = vols;
  }
  hosts.set(key, host);
  return host;
}
