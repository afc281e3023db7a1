#!/usr/bin/env node
// tvirtd: the daemon. Hosts one driver behind the Connection interface and serves the REST +
// WebSocket API on a UNIX socket (and TCP with a token when asked).
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTokenFile } from '../api/auth.js';
import { ApiServer } from '../api/server.js';
import { writeFileAtomic } from '../host/atomic-file.js';
import { mkdirp, readFileIfExists, removeIfExists } from '../host/fs-util.js';
import { lookupGroupId, processAlive, processCmdline, processRunning } from '../host/process.js';
import { VirError } from '../util/errors.js';
import { createDriver, defaultDriverName } from './drivers.js';
import { EventBus } from './events.js';
import { GuardedConnection } from './guarded-connection.js';
import { JobManager } from './jobs.js';
import { Logger } from './log.js';
import { type DaemonPaths, resolvePaths } from './paths.js';

const USAGE = `Usage: tvirtd [OPTIONS]

  --root DIR                   keep everything under DIR (DIR/etc, DIR/lib, DIR/run, DIR/log)
  --session                    run as the user's session daemon (default when not root)
  --driver NAME                hypervisor driver: qemu or test (default: qemu when available)
  --networks, --no-networks    run virtual networks (bridges, dnsmasq, nftables) or not
                               (default: only the system daemon; needs root, ip, dnsmasq, nft)
  --listen-tcp HOST:PORT       also listen on TCP (needs --tcp-auth-token-file)
  --tcp-auth-token-file FILE   bearer tokens, one per line: TOKEN [rw|ro] [NAME]
  --tls-cert FILE --tls-key FILE   serve TCP over TLS (PEM)
  --tls-client-ca FILE         accept client certificates signed by this CA (read-write)
  --web                        serve the web UI (default 127.0.0.1:16580; login required)
  --web-listen HOST:PORT       where the web UI listens (implies --web; non-loopback needs TLS)
  --unix-group NAME            socket mode 0660 with this group (default 0600)
  --pid-file FILE              pid file (default RUNDIR/tvirtd.pid)
  --timeout SECONDS            exit after SECONDS without clients and running domains
  --log-format json|logfmt     log record format (default json)
  --verbose                    debug logging
  --help                       this text
`;

export interface DaemonOptions {
  root?: string;
  session?: boolean;
  driver?: string;
  /** Run the network driver (default: in system mode only). */
  networks?: boolean;
  listenTcp?: string;
  tcpAuthTokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  unixGroup?: string;
  web?: boolean;
  webListen?: string;
  pidFile?: string;
  timeout?: number;
  logFormat?: 'json' | 'logfmt';
  verbose?: boolean;
}

function fail(message: string): never {
  throw new VirError('INVALID_ARG', message, { domain: 'DAEMON' });
}

export function parseDaemonArgs(argv: string[]): DaemonOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      root: { type: 'string' },
      session: { type: 'boolean' },
      driver: { type: 'string' },
      networks: { type: 'boolean' },
      'no-networks': { type: 'boolean' },
      'listen-tcp': { type: 'string' },
      'tcp-auth-token-file': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-client-ca': { type: 'string' },
      'unix-group': { type: 'string' },
      web: { type: 'boolean' },
      'web-listen': { type: 'string' },
      'pid-file': { type: 'string' },
      timeout: { type: 'string' },
      'log-format': { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const o: DaemonOptions = {};
  if (values.root) o.root = values.root;
  if (values.session) o.session = true;
  if (values.driver) o.driver = values.driver;
  if (values.networks && values['no-networks']) fail('--networks and --no-networks exclude each other');
  if (values.networks) o.networks = true;
  if (values['no-networks']) o.networks = false;
  if (values['listen-tcp']) o.listenTcp = values['listen-tcp'];
  if (values['tcp-auth-token-file']) o.tcpAuthTokenFile = values['tcp-auth-token-file'];
  if (values['tls-cert']) o.tlsCert = values['tls-cert'];
  if (values['tls-key']) o.tlsKey = values['tls-key'];
  if (values['tls-client-ca']) o.tlsClientCa = values['tls-client-ca'];
  if (!o.tlsCert !== !o.tlsKey) fail('--tls-cert and --tls-key go together');
  if (o.tlsClientCa && !o.tlsCert) fail('--tls-client-ca needs --tls-cert and --tls-key');
  if (values['unix-group']) o.unixGroup = values['unix-group'];
  if (values.web || values['web-listen']) o.web = true;
  if (values['web-listen']) o.webListen = values['web-listen'];
  if (values['pid-file']) o.pidFile = values['pid-file'];
  if (values.timeout !== undefined) {
    const t = Number(values.timeout);
    if (!Number.isFinite(t) || t <= 0)
      fail(`--timeout must be a positive number of seconds, not '${values.timeout}'`);
    o.timeout = t;
  }
  if (values['log-format']) {
    const f = values['log-format'];
    if (f !== 'json' && f !== 'logfmt') fail(`--log-format must be json or logfmt, not '${f}'`);
    o.logFormat = f;
  }
  if (values.verbose) o.verbose = true;
  if (o.root && o.session) fail('--root and --session exclude each other');
  return o;
}

/** HOST:PORT, [V6]:PORT or PORT. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || !(port >= 0 && port < 65536)) fail(`--listen-tcp wants HOST:PORT, not '${s}'`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** Creates the directory layout. */
async function makeLayout(paths: DaemonPaths): Promise<void> {
  const shared = paths.mode === 'session' ? 0o700 : 0o755;
  await mkdirp(paths.configDir, shared);
  await mkdirp(paths.stateDir, shared);
  await mkdirp(paths.runDir, shared);
  await mkdirp(paths.logDir, 0o700);
}

/**
 * True when `pid` is a live tvirtd: not gone, not a zombie (a daemon killed a moment ago whose
 * parent has not reaped it yet still answers kill(pid, 0)), and its argv names tvirtd (a pid file
 * left behind may name a pid the kernel has since given to another program).
 */
async function tvirtdAlive(pid: number): Promise<boolean> {
  if (!processAlive(pid) || !(await processRunning(pid))) return false;
  const argv = await processCmdline(pid);
  if (!argv) return false;
  return argv.some((a) => /^tvirtd(\.[cm]?[jt]s)?$/.test(basename(a)));
}

async function claimPidFile(file: string): Promise<void> {
  const old = await readFileIfExists(file);
  const pid = Number(old?.trim());
  if (pid > 0 && pid !== process.pid && (await tvirtdAlive(pid)))
    throw new VirError('OPERATION_FAILED', `tvirtd is already running with pid ${pid} (pid file ${file})`, {
      domain: 'DAEMON',
    });
  await mkdirp(dirname(file), 0o755).catch(() => {}); // exists already in the usual case
  await writeFileAtomic(file, `${process.pid}\n`, { mode: 0o644 });
}

/** A running daemon; stop() shuts the API down and leaves guests running. */
export interface RunningDaemon {
  paths: DaemonPaths;
  server: ApiServer;
  web?: import('../api/web.js').WebServer;
  stop(): Promise<void>;
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const paths = resolvePaths({
    ...(opts.root ? { root: opts.root } : {}),
    ...(opts.session ? { session: true } : {}),
  });
  const tcp = opts.listenTcp ? parseListen(opts.listenTcp) : undefined;
  if (tcp && !opts.tcpAuthTokenFile && !opts.tlsClientCa)
    throw new VirError(
      'AUTH_UNAVAILABLE',
      'refusing to listen on TCP without authentication: give --tcp-auth-token-file (or --tls-client-ca)',
      { domain: 'DAEMON' },
    );
  const tls = opts.tlsCert
    ? {
        cert: await readFile(opts.tlsCert),
        key: await readFile(opts.tlsKey!),
        ...(opts.tlsClientCa ? { clientCa: await readFile(opts.tlsClientCa) } : {}),
      }
    : undefined;
  const tokens = opts.tcpAuthTokenFile
    ? parseTokenFile(await readFile(opts.tcpAuthTokenFile, 'utf8'), opts.tcpAuthTokenFile)
    : [];
  const gid = opts.unixGroup === undefined ? undefined : await lookupGroupId(opts.unixGroup);
  if (opts.unixGroup !== undefined && gid === undefined) fail(`unknown group '${opts.unixGroup}'`);

  await makeLayout(paths);
  const logFile = createWriteStream(join(paths.logDir, 'tvirtd.log'), { flags: 'a', mode: 0o600 });
  const log = new Logger({
    level: opts.verbose ? 'debug' : 'info',
    format: opts.logFormat ?? 'json',
    outputs: [process.stderr, logFile],
    base: { component: 'tvirtd' },
  });
  const pidFile = opts.pidFile ?? paths.pidFile;
  await claimPidFile(pidFile);

  const events = new EventBus((e) => log.warn('event listener failed', { err: e }));
  const jobs = new JobManager({ events });
  const driverName = opts.driver ?? (await defaultDriverName());
  let server: ApiServer | undefined;
  let conn: GuardedConnection | undefined;
  let web: import('../api/web.js').WebServer | undefined;
  try {
    const hosted = await createDriver(driverName, {
      paths,
      log: log.child({ driver: driverName }),
      jobs,
      events,
      ...(opts.networks === undefined ? {} : { networks: opts.networks }),
    });
    conn = new GuardedConnection(hosted.connection, jobs, events);
    server = new ApiServer({
      conn,
      jobs,
      log: log.child({ component: 'api' }),
      socketPath: paths.socketPath,
      ...(gid === undefined ? {} : { socketGid: gid }),
      ...(tcp ? { tcp: { ...tcp, tokens, ...(tls ? { tls } : {}) } } : {}),
    });
    await server.start();
    if (opts.web) {
      const { WebServer, DEFAULT_WEB_PORT } = await import('../api/web.js');
      const at = opts.webListen ? parseListen(opts.webListen) : { host: '127.0.0.1', port: DEFAULT_WEB_PORT };
      web = new WebServer({
        api: server,
        conn,
        ...at,
        tokens,
        ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
        log: log.child({ component: 'web' }),
        loginUrlFile: join(paths.runDir, 'web-login-url'),
      });
      await web.start();
      process.stdout.write(`tvirtd: web UI at ${web.url} (one-time login: ${web.loginUrl})\n`);
    }

    const onHup = () => {
      log.info('SIGHUP: reloading driver definitions');
      if (!hosted.reload) {
        log.info('driver has no reload hook', { driver: driverName });
        return;
      }
      hosted.reload().then(
        () => log.info('reload done'),
        (e) => log.error('reload failed', { err: e }),
      );
    };
    process.on('SIGHUP', onHup);

    let idleTimer: NodeJS.Timeout | undefined;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        process.off('SIGHUP', onHup);
        if (idleTimer) clearInterval(idleTimer);
        log.info('shutting down (guests keep running)');
        await web?.close();
        await server!.close();
        // Driver close() detaches from guests; it must not stop them.
        await conn!.close().catch((e) => log.error('driver close failed', { err: e }));
        await removeIfExists(pidFile).catch(() => false);
        log.info('stopped');
        await new Promise<void>((r) => logFile.end(() => r()));
      })();
      return stopping;
    };

    if (opts.timeout) {
      const ms = opts.timeout * 1000;
      idleTimer = setInterval(
        () => {
          if (server!.clientCount + (web?.clientCount ?? 0) > 0 || Date.now() - server!.lastActivity < ms)
            return;
          if (jobs.list({ active: true }).length > 0) return;
          conn!.listDomains({ active: true }).then(
            (active) => {
              if (active.length === 0 && server!.clientCount + (web?.clientCount ?? 0) === 0) {
                log.info('idle timeout: exiting', { seconds: opts.timeout });
                void stop().then(() => process.exit(0));
              }
            },
            () => {},
          );
        },
        Math.min(ms, 5000),
      );
      idleTimer.unref();
    }

    log.info('tvirtd started', {
      pid: process.pid,
      driver: driverName,
      mode: paths.mode,
      socket: paths.socketPath,
    });
    return { paths, server, ...(web ? { web } : {}), stop };
  } catch (e) {
    await web?.close().catch(() => {});
    await server?.close().catch(() => {});
    await conn?.close().catch(() => {});
    await removeIfExists(pidFile).catch(() => false);
    logFile.end();
    throw e;
  }
}

async function main(): Promise<void> {
  let opts: DaemonOptions | 'help';
  try {
    opts = parseDaemonArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`tvirtd: error: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(opts);
  } catch (e) {
    process.stderr.write(`tvirtd: error: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    daemon.stop().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`tvirtd: error during shutdown (${signal}): ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

// Run when executed directly (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/tvirtd(\.[jt]s)?$/.test(invoked)) void main();
