// The driver factory: tvirtd hosts one hypervisor driver behind the Connection interface.
import type { Connection, HypervisorConnection } from '../drivers/connection.js';
import { VirError } from '../util/errors.js';
import type { EventBus } from './events.js';
import type { JobManager } from './jobs.js';
import type { Logger } from './log.js';
import type { DaemonPaths } from './paths.js';

/** What a driver gets from the daemon. */
export interface DriverContext {
  paths: DaemonPaths;
  log: Logger;
  jobs: JobManager;
  events: EventBus;
  /** Run virtual networks (default: in system mode only; see host-connection.ts). */
  networks?: boolean;
  /**
   * The host's storage pools, opened by createDriver before the driver (src/daemon/host-storage.ts).
   * A hypervisor resolves `<disk type='volume'>` with `storage.resolveDiskVolume(pool, volume)`.
   */
  storage?: import('./host-storage.js').HostStorage;
  /**
   * Tap devices for guests' network/bridge NICs from the host's network driver, set by createDriver
   * before the driver when networks run (src/daemon/host-connection.ts); the QEMU driver takes it.
   */
  interfaces?: import('../drivers/qemu/process.js').InterfaceHook;
}

/** A driver as the daemon hosts it. */
export interface HostedDriver {
  /** The hypervisor; tvirtd adds the network driver unless it implements networks itself (test). */
  connection: HypervisorConnection;
  /** SIGHUP: re-read definitions changed on disk by hand. */
  reload?(): Promise<void>;
}

export type DriverFactory = (ctx: DriverContext) => Promise<HostedDriver>;

const factories = new Map<string, DriverFactory>();

/** Registers a driver under a name (`--driver NAME`). Later registrations replace earlier ones. */
export function registerDriver(name: string, factory: DriverFactory): void {
  factories.set(name, factory);
}

/** Modules that register built-in drivers, tried lazily so a missing one does not break the daemon. */
const builtins: Record<string, string> = {
  // The QEMU driver plugs in by exporting `createDaemonDriver: DriverFactory` from this module.
  qemu: '../drivers/qemu/daemon-driver.js',
};

/** A connection's optional reload hook. */
function reloadOf(conn: HypervisorConnection): (() => Promise<void>) | undefined {
  const r = (conn as unknown as { reload?: unknown }).reload;
  return typeof r === 'function' ? () => Promise.resolve(r.call(conn)) : undefined;
}

async function loadBuiltin(name: string): Promise<DriverFactory | undefined> {
  if (name === 'test') return testDriverFactory();
  const spec = builtins[name];
  if (!spec) return undefined;
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const url = new URL(spec.replace(/\.js$/, `.${ext}`), import.meta.url);
  try {
    const mod = (await import(url.href)) as { createDaemonDriver?: DriverFactory };
    return mod.createDaemonDriver;
  } catch (e) {
    // Not built into this tree: the driver is unavailable. Any other failure is a real error.
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(url.pathname)) return undefined;
    throw e;
  }
}

/** The test driver (src/drivers/test): an in-memory hypervisor with test:///default's objects. */
async function testDriverFactory(): Promise<DriverFactory> {
  const { openTestConnection } = await import('../drivers/test/driver.js');
  return async () => {
    // tvirtd guards its composed connection itself (createDriver), with the host's storage.
    const connection = openTestConnection({ unguarded: true });
    const reload = reloadOf(connection);
    return reload ? { connection, reload } : { connection };
  };
}

/** Names usable with --driver, in order of preference for the default. */
export const DRIVER_NAMES = ['qemu', 'test'];

/** Creates the named driver. @throws NO_SUPPORT when it is not available in this build. */
export async function createDriver(
  name: string,
  ctx: DriverContext,
): Promise<HostedDriver & { connection: Connection }> {
  const factory = factories.get(name) ?? (await loadBuiltin(name));
  if (!factory)
    throw new VirError(
      'NO_SUPPORT',
      `driver '${name}' is not available in this build of tvirtd (try --driver test)`,
      {
        domain: 'DAEMON',
      },
    );
  const hostStorage = ctx.storage
    ? undefined
    : await (await import('./host-storage.js')).openHostStorage(ctx);
  if (hostStorage) ctx.storage = hostStorage;
  // Networks come up before the hypervisor autostarts guests (as libvirt's network driver does).
  const hostNetworks = await (await import('./host-connection.js')).prepareHostNetworks(name, ctx);
  if (hostNetworks.interfaces && !ctx.interfaces) ctx.interfaces = hostNetworks.interfaces;
  const hosted = await factory(ctx);
  if (!hosted.reload) {
    const r = reloadOf(hosted.connection);
    if (r) hosted.reload = r;
  }
  // SIGHUP: domains, then storage pools, then networks; one failing does not stop the others.
  const storage = ctx.storage;
  const steps: [string, (() => Promise<void>) | undefined][] = [
    ['domain', hosted.reload?.bind(hosted)],
    [
      'storage pool',
      storage &&
        (() =>
          storage.driver.reloadDefinitions((pool, err) =>
            ctx.log.error('cannot reload storage pool definition', { pool, err }),
          )),
    ],
    ['network', hostNetworks.reload],
  ];
  hosted.reload = async () => {
    for (const [what, step] of steps) {
      try {
        await step?.();
      } catch (err) {
        ctx.log.error(`reloading ${what} definitions failed`, { err });
      }
    }
  };
  const { composeStorage, domainsUsingPath } = await import('./host-storage.js');
  // Linked clones' base images are protected at start and vol-delete (src/drivers/clone).
  const { protectLinkedBases } = await import('../drivers/clone/linked-guard.js');
  const connection = protectLinkedBases(
    composeStorage(hostNetworks.compose(hosted.connection), ctx.storage!),
  );
  hostStorage?.setInUse(domainsUsingPath(connection, (p, v) => hostStorage.resolveDiskVolume(p, v)));
  return { ...hosted, connection };
}

/** The first driver of DRIVER_NAMES that loads (qemu when it exists, else test). */
export async function defaultDriverName(): Promise<string> {
  for (const n of DRIVER_NAMES) if (factories.has(n) || (await loadBuiltin(n))) return n;
  return 'test';
}
