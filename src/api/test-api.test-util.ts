// A tvirtd API for tests, without a daemon process: ApiServer on a UNIX socket in a temp dir, in
// front of the daemon's guard (GuardedConnection: jobs, events) over a driver connection (the
// in-memory test driver unless given), and a remote client connected to it. close() undoes it all.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../daemon/events.js';
import { GuardedConnection } from '../daemon/guarded-connection.js';
import { JobManager } from '../daemon/jobs.js';
import type { Connection } from '../drivers/connection.js';
import { openIsolatedTestConnection } from '../drivers/test/driver.js';
import { tokenTable } from './auth.js';
import { connectRemote, type RemoteConnection } from './client.js';
import { ApiServer } from './server.js';

export interface TestApi {
  dir: string;
  sock: string;
  server: ApiServer;
  jobs: JobManager;
  /** The driver connection behind the guard. */
  inner: Connection;
  /** A remote client on the UNIX socket. */
  client: RemoteConnection;
  close(): Promise<void>;
}

export interface TestApiOptions {
  /** Temp dir name prefix. */
  name: string;
  /** The driver connection (default: an isolated test:///default). */
  inner?: Connection;
  /** Also listen on 127.0.0.1 (random port) with these tokens. */
  tokens?: { token: string; role: 'rw' | 'ro'; name?: string }[];
  maxBodyBytes?: number;
  /** The client's URI scheme (default qemu+unix). */
  scheme?: string;
}

export async function startTestApi(opts: TestApiOptions): Promise<TestApi> {
  const dir = await mkdtemp(join(tmpdir(), `tvirt-${opts.name}-`));
  const sock = join(dir, 'tvirt-sock');
  const bus = new EventBus();
  const jobs = new JobManager({ events: bus });
  const inner = opts.inner ?? openIsolatedTestConnection();
  const server = new ApiServer({
    conn: new GuardedConnection(inner, jobs, bus),
    jobs,
    socketPath: sock,
    ...(opts.tokens ? { tcp: { host: '127.0.0.1', port: 0, tokens: tokenTable(opts.tokens) } } : {}),
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  let client: RemoteConnection | undefined;
  try {
    await server.start();
    client = (await connectRemote(
      `${opts.scheme ?? 'qemu+unix'}:///system?socket=${sock}`,
    )) as unknown as RemoteConnection;
  } catch (e) {
    await server.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const c = client;
  return {
    dir,
    sock,
    server,
    jobs,
    inner,
    client: c,
    async close() {
      await c.close();
      await server.close();
      await inner.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
