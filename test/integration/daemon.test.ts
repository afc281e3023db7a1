// tvirtd as a real process: layout, socket, pid file, API through the remote client, TCP tokens,
// SIGHUP and a clean SIGTERM. Only PIDs started here are signalled.
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectRemote, type RemoteConnection } from '../../src/api/client.js';
import type { TvirtEvent } from '../../src/drivers/connection.js';
import { isVirError } from '../../src/util/errors.js';
import { nodeArgs, srcPath, tvirtPath } from '../support/cli.js';
import { spawnTvirtd, type Tvirtd } from '../support/daemon.js';

const testDriver = srcPath('drivers/test/driver');
const skip = existsSync(testDriver) ? false : 'the test driver (src/drivers/test) is not built';

type Daemon = Tvirtd;

const started: ChildProcess[] = [];

const startDaemon = (args: string[]): Daemon => spawnTvirtd(args, started);

/** True once no process has `pid` (a daemon this test started and stopped). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** A user's home and XDG directories under `base`: where a session daemon keeps everything. */
const sessionEnv = (base: string) => ({
  HOME: join(base, 'home'),
  XDG_RUNTIME_DIR: join(base, 'xdg-run'),
  XDG_CONFIG_HOME: join(base, 'config'),
  XDG_DATA_HOME: join(base, 'data'),
  XDG_CACHE_HOME: join(base, 'cache'),
});

async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  d?: Daemon,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (d && d.child.exitCode !== null)
      throw new Error(`tvirtd exited (${d.child.exitCode}) waiting for ${what}: ${d.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${d?.stderr() ?? ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirtd-it-'));
});
after(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('tvirtd process', { skip }, () => {
  it('creates its layout and socket, answers, reloads on SIGHUP and exits cleanly on SIGTERM', async () => {
    const root = join(dir, 'r1');
    const d = startDaemon(['--root', root, '--driver', 'test']);
    const sock = join(root, 'run', 'tvirt-sock');
    // The socket file appears at bind(), a moment before listen(): wait for the daemon to say it is up.
    await waitFor('tvirtd to start', () => d.stderr().includes('tvirtd started'), d);
    for (const sub of ['etc', 'lib', 'run', 'log'])
      assert.ok((await stat(join(root, sub))).isDirectory(), sub);
    assert.equal((await stat(sock)).mode & 0o777, 0o600);
    assert.equal((await readFile(join(root, 'run', 'tvirtd.pid'), 'utf8')).trim(), String(d.child.pid));

    const conn = (await connectRemote(`test+unix:///system?socket=${sock}`)) as RemoteConnection;
    try {
      assert.equal(typeof (await conn.getVersion()).library, 'string');
      const doms = await conn.listDomains();
      assert.ok(doms.some((x) => x.name === 'test'));
      await assert.rejects(conn.domainLookup('no-such-domain'), (e) => isVirError(e, 'NO_DOMAIN'));

      const seen: TvirtEvent[] = [];
      const off = conn.onEvent((e) => seen.push(e));
      await conn.eventsReady();
      await conn.domainSuspend('test');
      await conn.domainResume('test');
      await waitFor(
        'lifecycle events',
        () => seen.filter((e) => e.kind === 'domain-lifecycle').length >= 2,
        d,
      );
      off();

      d.child.kill('SIGHUP');
      await waitFor('the reload log', () => d.stderr().includes('SIGHUP'), d);
      assert.equal((await conn.domainGetState('test')).state, 'running');
    } finally {
      await conn.close();
    }

    // A second daemon on the same root refuses to start.
    const second = startDaemon(['--root', root, '--driver', 'test']);
    assert.notEqual(await second.exited, 0);
    assert.match(second.stderr(), /already/);

    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0);
    assert.equal(existsSync(sock), false, 'socket removed');
    assert.equal(existsSync(join(root, 'run', 'tvirtd.pid')), false, 'pid file removed');
    assert.match(await readFile(join(root, 'log', 'tvirtd.log'), 'utf8'), /shutting down/);
  });

  it('exits by itself after --timeout seconds without clients', async () => {
    const root = join(dir, 'r4');
    const d = startDaemon(['--root', root, '--driver', 'test', '--timeout', '1']);
    await waitFor('tvirtd to start', () => d.stderr().includes('tvirtd started'), d);
    // The test driver's default domain runs; stop it so nothing keeps the daemon busy.
    const conn = await connectRemote(`test+unix:///system?socket=${join(root, 'run', 'tvirt-sock')}`);
    await conn.domainDestroy('test');
    await conn.close();
    assert.equal(await d.exited, 0);
    assert.match(d.stderr(), /idle timeout/);
  });

  it('refuses to listen on TCP without a token file', async () => {
    const d = startDaemon(['--root', join(dir, 'r2'), '--driver', 'test', '--listen-tcp', '127.0.0.1:0']);
    assert.equal(await d.exited, 1);
    assert.match(d.stderr(), /refusing to listen on TCP without authentication/);
  });

  it('serves TCP with tokens: 401 for a wrong one, 403 for a read-only one on a modifying call', async () => {
    const root = join(dir, 'r3');
    const tokens = join(dir, 'tokens');
    await writeFile(tokens, 'rw-secret-0123456789abcdef rw admin\nro-secret-0123456789abcdef ro monitor\n', {
      mode: 0o600,
    });
    const d = startDaemon([
      '--root',
      root,
      '--driver',
      'test',
      '--listen-tcp',
      '127.0.0.1:0',
      '--tcp-auth-token-file',
      tokens,
      '--unix-group',
      '0',
    ]);
    await waitFor('the TCP listener', () => /"tcp":"127\.0\.0\.1:\d+"/.test(d.stderr()), d);
    const port = Number(/"tcp":"127\.0\.0\.1:(\d+)"/.exec(d.stderr())![1]);
    assert.equal((await stat(join(root, 'run', 'tvirt-sock'))).mode & 0o777, 0o660);
    const uri = `test+tcp://127.0.0.1:${port}/system`;
    const saved = process.env.TVIRT_AUTH_TOKEN;
    try {
      process.env.TVIRT_AUTH_TOKEN = 'wrong-secret-0123456789';
      await assert.rejects(connectRemote(uri), (e) => isVirError(e, 'AUTH_FAILED'));
      process.env.TVIRT_AUTH_TOKEN = 'ro-secret-0123456789abcdef';
      const ro = await connectRemote(uri);
      assert.ok((await ro.listDomains()).length >= 1);
      await assert.rejects(ro.domainSuspend('test'), (e) => isVirError(e, 'OPERATION_DENIED'));
      await ro.close();
      process.env.TVIRT_AUTH_TOKEN = 'rw-secret-0123456789abcdef';
      const rw = await connectRemote(uri);
      await rw.domainSuspend('test');
      await rw.domainResume('test');
      await rw.close();
    } finally {
      if (saved === undefined) delete process.env.TVIRT_AUTH_TOKEN;
      else process.env.TVIRT_AUTH_TOKEN = saved;
    }
    d.child.kill('SIGTERM');
    assert.equal(await d.exited, 0);
  });

  it('qemu:///session starts the user session daemon on first use', async () => {
    const saved = { ...process.env };
    const base = join(dir, 'session');
    Object.assign(process.env, sessionEnv(base));
    let pid = 0;
    try {
      const conn = await connectRemote('qemu:///session');
      try {
        assert.equal(typeof (await conn.getVersion()).library, 'string');
      } finally {
        await conn.close();
      }
      pid = Number(await readFile(join(base, 'xdg-run', 'tvirt', 'tvirtd.pid'), 'utf8'));
      assert.ok(pid > 0);
      assert.ok(existsSync(join(base, 'config', 'tvirt')));
      // A second connection reuses the running daemon.
      const again = await connectRemote('qemu:///session');
      await again.close();
      assert.equal(Number(await readFile(join(base, 'xdg-run', 'tvirt', 'tvirtd.pid'), 'utf8')), pid);
    } finally {
      for (const k of ['HOME', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      // The daemon was started by this test (through the client): stop exactly that pid.
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
    await waitFor('the session daemon to exit', () => gone(pid));
  });

  it('the tvirt command starts the session daemon too (the bundle finds tvirtd beside it)', async () => {
    const base = join(dir, 'session-cli');
    const env: NodeJS.ProcessEnv = { ...process.env, ...sessionEnv(base) };
    delete env.TVIRTD_PATH;
    delete env.TVIRT_DEFAULT_URI;
    const r = spawnSync(process.execPath, [...nodeArgs, tvirtPath, '-c', 'qemu:///session', 'uri'], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const pidFile = join(base, 'xdg-run', 'tvirt', 'tvirtd.pid');
    const pid = existsSync(pidFile) ? Number(await readFile(pidFile, 'utf8')) : 0;
    try {
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, 'qemu:///session\n\n');
      assert.equal(r.status, 0);
      assert.ok(pid > 0);
    } finally {
      // Started by the command this test ran: stop exactly that pid.
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
    await waitFor('the session daemon to exit', () => gone(pid));
  });
});
