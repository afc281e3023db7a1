// The directory layout of tvirtd: --root DIR, system mode (root) or session mode (per user, like qemu:///session).
import { homedir } from 'node:os';
import { join } from 'node:path';

export type DaemonMode = 'system' | 'session' | 'root';

export interface DaemonPaths {
  mode: DaemonMode;
  /** Persistent configuration: domain/network/pool XML, autostart links (like /etc/libvirt). */
  configDir: string;
  /** Persistent state: images, nvram, managed save (like /var/lib/libvirt). */
  stateDir: string;
  /** Runtime state: status XML, pid files, monitor sockets; gone after reboot (like /run/libvirt). */
  runDir: string;
  logDir: string;
  /** The API socket. */
  socketPath: string;
  /** Default pid file of the daemon. */
  pidFile: string;
}

export const SOCKET_NAME = 'tvirt-sock';

/** Everything under one directory: DIR/etc, DIR/lib, DIR/run, DIR/log; socket DIR/run/tvirt-sock. */
export function rootPaths(root: string): DaemonPaths {
  const runDir = join(root, 'run');
  return {
    mode: 'root',
    configDir: join(root, 'etc'),
    stateDir: join(root, 'lib'),
    runDir,
    logDir: join(root, 'log'),
    socketPath: join(runDir, SOCKET_NAME),
    pidFile: join(runDir, 'tvirtd.pid'),
  };
}

/** The system daemon's layout (run as root). */
export function systemPaths(): DaemonPaths {
  return {
    mode: 'system',
    configDir: '/etc/tvirt',
    stateDir: '/var/lib/tvirt',
    runDir: '/run/tvirt',
    logDir: '/var/log/tvirt',
    socketPath: `/run/tvirt/${SOCKET_NAME}`,
    pidFile: '/run/tvirt/tvirtd.pid',
  };
}

/** A user's session daemon layout, from the XDG base directories (libvirt's qemu:///session). */
export function sessionPaths(env: NodeJS.ProcessEnv = process.env): DaemonPaths {
  const home = env.HOME || homedir();
  const config = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'tvirt');
  const data = join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'tvirt');
  const cache = join(env.XDG_CACHE_HOME || join(home, '.cache'), 'tvirt');
  // libvirt falls back to ~/.cache/libvirt when XDG_RUNTIME_DIR is unset.
  const runDir = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'tvirt') : join(cache, 'run');
  return {
    mode: 'session',
    configDir: config,
    stateDir: data,
    runDir,
    logDir: join(cache, 'log'),
    socketPath: join(runDir, SOCKET_NAME),
    pidFile: join(runDir, 'tvirtd.pid'),
  };
}

/** The layout for a daemon: --root wins, else system when running as root, else session. */
export function resolvePaths(opts: { root?: string; session?: boolean } = {}): DaemonPaths {
  if (opts.root) return rootPaths(opts.root);
  if (!opts.session && process.getuid?.() === 0) return systemPaths();
  return sessionPaths();
}

/** Where a driver keeps its objects: e.g. configDir/qemu/NAME.xml, configDir/qemu/networks/NAME.xml. */
export function driverDirs(paths: DaemonPaths, driver: string) {
  return {
    domains: join(paths.configDir, driver),
    domainsAutostart: join(paths.configDir, driver, 'autostart'),
    networks: join(paths.configDir, driver, 'networks'),
    networksAutostart: join(paths.configDir, driver, 'networks', 'autostart'),
    pools: join(paths.configDir, 'storage'),
    poolsAutostart: join(paths.configDir, 'storage', 'autostart'),
    domainStatus: join(paths.runDir, driver),
    networkStatus: join(paths.runDir, 'network'),
    poolStatus: join(paths.runDir, 'storage'),
    state: join(paths.stateDir, driver),
    log: join(paths.logDir, driver),
  };
}
