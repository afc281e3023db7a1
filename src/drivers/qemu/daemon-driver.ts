// Plugs the QEMU driver into tvirtd (src/daemon/drivers.ts loads this module for --driver qemu):
// its directories under the daemon's layout, the daemon's jobs and log, autostart at daemon start.
import type { DriverContext, HostedDriver } from '../../daemon/drivers.js';
import { driverDirs } from '../../daemon/paths.js';
import type { DiskVolumeResolver } from './process.js';
import { openQemuDriver } from './qemu-driver.js';

/** Creates the QEMU driver for a daemon (qemu:///system, or qemu:///session for a session daemon). */
export async function createDaemonDriver(ctx: DriverContext): Promise<HostedDriver> {
  const dirs = driverDirs(ctx.paths, 'qemu');
  // The host's storage pools, when the daemon opened them (DriverContext.storage): volume disks.
  const storage = (ctx as DriverContext & { storage?: { resolveDiskVolume: DiskVolumeResolver } }).storage;
  const driver = await openQemuDriver({
    uri: ctx.paths.mode === 'session' ? 'qemu:///session' : 'qemu:///system',
    configDir: dirs.domains,
    autostartDir: dirs.domainsAutostart,
    runDir: dirs.domainStatus,
    logDir: dirs.log,
    jobs: ctx.jobs,
    log: ctx.log,
    ...(storage ? { resolveDiskVolume: (pool, volume) => storage.resolveDiskVolume(pool, volume) } : {}),
    // Tap devices from the host's network driver (opened before this driver: guests autostart below).
    ...(ctx.interfaces ? { interfaces: ctx.interfaces } : {}),
  });
  // Autostart in the background: the API socket should not wait for guests to boot.
  void driver.autostart();
  // The hypervisor half: the daemon composes it with its network driver (src/daemon/host-connection.ts).
  return { connection: driver, reload: () => driver.reload() };
}
