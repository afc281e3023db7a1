// The storage half of the Connection tvirtd serves: the host's StorageDriver (src/drivers/storage)
// with pool definitions in CONFIG/storage (autostart links in CONFIG/storage/autostart), running
// pools recorded in RUN/storage, and the `default` dir pool under STATE/images (like
// /var/lib/libvirt/images), made and autostarted at the first start. It replaces whatever storage
// the hypervisor driver has (the test driver's in-memory pools): a daemon's pools are the host's.
import type { DomainDef } from '../conf/domain/index.js';
import { parseDomainXml } from '../conf/domain/domain.js';
import type { Connection, ResolvedDiskVolume, TvirtEvent } from '../drivers/connection.js';
import type { StorageDriver } from '../drivers/storage/storage-driver.js';
import { prefixed } from '../drivers/network/libvirt-message.js';
import { storageMethods } from '../drivers/storage-forwarder.js';
import { ConfigStore } from './config-store.js';
import type { DriverContext } from './drivers.js';
import { driverDirs } from './paths.js';
import { join } from 'node:path';

/** What the QEMU driver needs from the host's storage at domain start. */
export interface HostStorage {
  readonly driver: StorageDriver;
  /** `<disk type='volume'><source pool='P' volume='V'/>` -> path, disk type and format. */
  resolveDiskVolume(pool: string, volume: string): Promise<ResolvedDiskVolume>;
  /** Pool lifecycle events (kind 'pool-lifecycle'). */
  subscribe(listener: (ev: TvirtEvent) => void): () => void;
}

/** Where the default pool lives: STATE/images. */
export function defaultPoolDir(ctx: Pick<DriverContext, 'paths'>): string {
  return join(ctx.paths.stateDir, 'images');
}

/**
 * Opens the host's storage: loads pool definitions, restores running pools, starts autostart ones,
 * and on the first start defines, builds, starts and autostarts `default`. Failures of single pools
 * are logged, never thrown. `isVolumeInUse` (set later, once the hypervisor exists) refuses
 * deleting, wiping, resizing or uploading a volume a running domain uses.
 */
export async function openHostStorage(
  ctx: Pick<DriverContext, 'paths' | 'log'>,
  isVolumeInUse?: (path: string) => Promise<string | undefined>,
): Promise<HostStorage & { setInUse(f: (path: string) => Promise<string | undefined>): void }> {
  const { StorageDriver } = await import('../drivers/storage/storage-driver.js');
  const dirs = driverDirs(ctx.paths, 'qemu');
  const listeners = new Set<(ev: TvirtEvent) => void>();
  let inUse = isVolumeInUse;
  const driver = new StorageDriver({
    store: new ConfigStore({ dir: dirs.pools, autostartDir: dirs.poolsAutostart, mode: 0o644 }),
    statusStore: new ConfigStore({ dir: dirs.poolStatus }),
    isVolumeInUse: (path) => inUse?.(path),
    onEvent: (e) => {
      for (const l of [...listeners]) {
        try {
          l({ ...e });
        } catch (err) {
          ctx.log.warn('pool event listener failed', { err });
        }
      }
    },
  });
  await driver.init((pool, err) => ctx.log.error('storage pool could not be restored', { pool, err }));
  try {
    const existed = (await driver.listStoragePools()).some((p) => p.name === 'default');
    await driver.ensureDefaultPool(defaultPoolDir(ctx));
    if (!existed) ctx.log.info('defined the default storage pool', { path: defaultPoolDir(ctx) });
  } catch (err) {
    ctx.log.error('default storage pool could not be made', { err });
  }
  return {
    driver,
    resolveDiskVolume: (pool, volume) => driver.resolveDiskVolume(pool, volume),
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    setInUse(f) {
      inUse = f;
    },
  };
}

const storageMethodSet = new Set<string>(storageMethods);

/**
 * One Connection from `conn` with its storage methods served by the host's storage; onEvent adds
 * the pool events; `resolveDiskVolume` is exposed for the hypervisor driver.
 */
export function composeStorage(
  conn: Connection,
  storage: HostStorage,
): Connection & {
  resolveDiskVolume(pool: string, volume: string): Promise<ResolvedDiskVolume>;
} {
  return new Proxy(conn, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && storageMethodSet.has(prop)) {
        const f = (storage.driver as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!;
        // Errors read as libvirt's: "Requested operation is not valid: storage pool 'x' is not active".
        return (...args: unknown[]) => prefixed(() => f.apply(storage.driver, args));
      }
      if (prop === 'resolveDiskVolume') return storage.resolveDiskVolume;
      if (prop === 'onEvent') {
        return (l: (ev: TvirtEvent) => void) => {
          const a = target.onEvent(l);
          const b = storage.subscribe(l);
          return () => {
            a();
            b();
          };
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Connection & { resolveDiskVolume(pool: string, volume: string): Promise<ResolvedDiskVolume> };
}

/**
 * Disk sources of the running domains: a path used by one of them names the domain. `<disk
 * type='volume'>` sources are resolved through `resolve` (the host's storage). The live XML is read
 * with the conf layer, so escaping and unusual attribute order are handled as everywhere else.
 */
export function domainsUsingPath(
  conn: Pick<Connection, 'listDomains' | 'domainGetXMLDesc'>,
  resolve?: (pool: string, volume: string) => Promise<{ path: string }>,
) {
  return async (path: string): Promise<string | undefined> => {
    for (const d of await conn.listDomains({ active: true })) {
      const xml = await conn.domainGetXMLDesc(d.uuid).catch(() => undefined);
      if (xml === undefined) continue;
      let def: DomainDef;
      try {
        def = parseDomainXml(xml);
      } catch {
        continue;
      }
      for (const disk of def.devices.disks) {
        const src = disk.source;
        if (!src) continue;
        let p = src.file ?? src.dev;
        if (p === undefined && src.pool !== undefined && src.volume !== undefined && resolve)
          p = await resolve(src.pool, src.volume).then(
            (r) => r.path,
            () => undefined,
          );
        if (p === path) return d.name;
      }
    }
    return undefined;
  };
}
