import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../daemon/events.js';
import { GuardedConnection } from '../daemon/guarded-connection.js';
import { JobManager } from '../daemon/jobs.js';
import type { TvirtEvent } from '../drivers/connection.js';
import { isVirError, VirError } from '../util/errors.js';
import { tokenTable } from './auth.js';
import { connectRemote, parseRemoteUri, RemoteConnection } from './client.js';
import { FakeConnection } from './fake-connection.test-util.js';
import { ApiServer } from './server.js';

const RW = 'rw-token-0123456789abcdef';
const RO = 'ro-token-0123456789abcdef';

let dir: string;
let sock: string;
let fake: FakeConnection;
let server: ApiServer;
let client: RemoteConnection;

function raw(opts: {
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  port?: number;
}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...(opts.port ? { host: '127.0.0.1', port: opts.port } : { socketPath: sock }),
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers ?? {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-api-'));
  sock = join(dir, 'tvirt-sock');
  fake = new FakeConnection();
  const bus = new EventBus();
  const jobs = new JobManager({ events: bus });
  server = new ApiServer({
    conn: new GuardedConnection(fake, jobs, bus),
    jobs,
    socketPath: sock,
    tcp: {
      host: '127.0.0.1',
      port: 0,
      tokens: tokenTable([
        { token: RW, role: 'rw' },
        { token: RO, role: 'ro' },
      ]),
    },
    maxBodyBytes: 64 * 1024,
  });
  await server.start();
  client = (await connectRemote(`qemu+unix:///system?socket=${sock}`)) as RemoteConnection;
});

after(async () => {
  await client?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('API over the UNIX socket', () => {
  it('creates the socket with mode 0600', async () => {
    assert.equal((await stat(sock)).mode & 0o777, 0o600);
  });

  it('answers host queries', async () => {
    assert.deepEqual(await client.getVersion(), {
      library: '0.1.0',
      hypervisorType: 'Test',
      hypervisor: '2.0.0',
    });
    assert.equal(await client.getHostname(), 'fakehost');
    assert.equal((await client.nodeGetInfo()).cpus, 16);
    assert.equal(await client.getCapabilities(), '<capabilities/>');
    assert.equal(client.uri, `qemu+unix:///system?socket=${sock}`);
  });

  it('covers the domain lifecycle', async () => {
    const def = await client.domainDefineXML('<domain><name>vm1</name></domain>');
    assert.equal(def.name, 'vm1');
    assert.equal(def.id, null);
    assert.deepEqual(
      (await client.listDomains({ inactive: true })).map((d) => d.name),
      ['vm1'],
    );
    assert.deepEqual(
      (await client.listDomains({ states: ['running'] })).map((d) => d.name),
      ['test'],
    );
    const started = await client.domainCreate('vm1');
    assert.equal(started.state, 'running');
    assert.equal((await client.domainLookup(String(started.id))).name, 'vm1');
    assert.equal((await client.domainLookup(def.uuid)).name, 'vm1');
    await client.domainSuspend('vm1');
    assert.deepEqual(await client.domainGetState('vm1'), { state: 'paused', reason: 'user' });
    await client.domainResume('vm1');
    await client.domainReboot('vm1', { mode: 'acpi' });
    await client.domainReset('vm1');
    await client.domainSetMemory('vm1', 1024, { live: true });
    await client.domainSetMaxMemory('vm1', 2048, { config: true });
    await client.domainSetVcpus('vm1', 1, { maximum: false });
    await client.domainSetAutostart('vm1', true);
    await client.domainSetMetadata('vm1', 'title', 'My VM');
    assert.equal(await client.domainGetMetadata('vm1', 'title'), 'My VM');
    const info = await client.domainGetInfo('vm1');
    assert.deepEqual([info.memoryKiB, info.maxMemoryKiB, info.vcpus, info.autostart], [1024, 2048, 1, true]);
    assert.match(await client.domainGetXMLDesc('vm1', { secure: true }), /secret/);
    await client.domainShutdown('vm1');
    await client.domainCreate('vm1', { paused: true });
    await client.domainDestroy('vm1', { graceful: false });
    assert.deepEqual(await client.domainUndefine('vm1', { nvram: true }), { becameTransient: false });
    const tr = await client.domainCreateXML('<domain><name>tr</name></domain>', { paused: true });
    assert.equal(tr.state, 'paused');
    assert.equal(tr.persistent, false);
    await client.domainDestroy('tr');
    await assert.rejects(client.domainLookup('tr'), (e) => isVirError(e, 'NO_DOMAIN'));
  });

  it('returns the driver errors with the same code, domain and message', async () => {
    const direct = await fake.domainLookup('missing').catch((e: VirError) => e);
    const remote = await client.domainLookup('missing').catch((e: VirError) => e);
    assert.ok(remote instanceof VirError);
    assert.deepEqual(remote.toJSON(), (direct as VirError).toJSON());
    await assert.rejects(client.domainCreate('test'), (e) => isVirError(e, 'OPERATION_INVALID'));
    await assert.rejects(client.domainDefineXML('<domain/>'), (e) => isVirError(e, 'XML_ERROR'));
    await assert.rejects(client.domainDefineXML('<domain><name>test</name></domain>'), (e) =>
      isVirError(e, 'DOM_EXIST'),
    );
    await assert.rejects(client.domainResume('test'), /not paused/);
  });

  it('maps errors to HTTP statuses with the error body', async () => {
    const r = await raw({ path: '/v1/domains/missing' });
    assert.equal(r.status, 404);
    assert.deepEqual(JSON.parse(r.body).error.code, 'NO_DOMAIN');
    assert.equal(JSON.parse(r.body).error.number, 42);
    assert.equal((await raw({ method: 'POST', path: '/v1/domains/test/actions/start' })).status, 409);
    assert.equal((await raw({ path: '/v1/nothing' })).status, 404);
    assert.equal((await raw({ method: 'PATCH', path: '/v1/domains' })).status, 405);
    const bad = await raw({ method: 'POST', path: '/v1/domains', body: '{nope' });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).error.code, 'INVALID_ARG');
    const big = await raw({
      method: 'POST',
      path: '/v1/domains',
      body: JSON.stringify({ xml: 'x'.repeat(70_000) }),
    });
    assert.equal(big.status, 413);
    assert.equal((await raw({ method: 'POST', path: '/v1/domains/test/actions/fly' })).status, 400);
    assert.equal((await raw({ path: '/v1/domains?state=flying' })).status, 400);
    const xml = await raw({
      method: 'POST',
      path: '/v1/domains',
      body: '<domain><name>raw</name></domain>',
      headers: { 'content-type': 'application/xml' },
    });
    assert.equal(xml.status, 201);
    assert.equal(JSON.parse(xml.body).name, 'raw');
    await client.domainUndefine('raw');
  });

  it('serializes concurrent modifying calls on one domain while reads answer at once', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    fake.trace.length = 0;
    fake.gate = async (op) => {
      if (op === 'suspend') await held;
    };
    try {
      const suspend = client.domainSuspend('test');
      const resume = client.domainResume('test');
      while (!fake.trace.includes('start:suspend')) await new Promise((r) => setTimeout(r, 5));
      assert.equal((await client.domainGetState('test')).state, 'running');
      const active = await client.listJobs({ active: true });
      assert.deepEqual(
        active.map((j) => [j.operation, j.state]),
        [
          ['suspend', 'running'],
          ['resume', 'queued'],
        ],
      );
      release();
      await Promise.all([suspend, resume]);
      assert.deepEqual(fake.trace, ['start:suspend', 'end:suspend', 'start:resume', 'end:resume']);
    } finally {
      fake.gate = async () => {};
    }
  });

  it('lists jobs', async () => {
    await client.domainSuspend('test');
    await client.domainResume('test');
    const jobs = await client.listJobs();
    assert.ok(jobs.some((j) => j.operation === 'suspend' && j.state === 'completed'));
    assert.deepEqual(await client.listJobs({ active: true }), []);
    await assert.rejects(client.cancelJob(jobs[0]!.id), (e) => isVirError(e, 'OPERATION_INVALID'));
  });

  it('delivers events over the WebSocket', async () => {
    const seen: TvirtEvent[] = [];
    const off = client.onEvent((e) => seen.push(e));
    await client.eventsReady();
    await client.domainSuspend('test');
    await client.domainResume('test');
    const deadline = Date.now() + 2000;
    while (seen.filter((e) => e.kind === 'domain-lifecycle').length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    off();
    assert.deepEqual(
      seen.filter((e) => e.kind === 'domain-lifecycle').map((e) => e.event),
      ['suspended', 'resumed'],
    );
    assert.ok(seen.some((e) => e.kind === 'job' && e.event === 'completed' && e.detail === 'suspend'));
  });

  it('filters the event stream by kind and name', async () => {
    const { openWebSocket } = await import('./ws.js');
    const got: string[] = [];
    const ws = await openWebSocket(
      { socketPath: sock, path: '/v1/events?kind=domain-lifecycle&name=test' },
      (d) => got.push(String(d)),
    );
    while (got.length === 0) await new Promise((r) => setTimeout(r, 5));
    await client.domainSuspend('test');
    await client.domainResume('test');
    while (got.length < 3) await new Promise((r) => setTimeout(r, 5));
    ws.close();
    const msgs = got.map((g) => JSON.parse(g));
    assert.deepEqual(msgs[0], { type: 'ready' });
    assert.deepEqual(
      msgs.slice(1).map((m) => `${m.event.kind}:${m.event.event}`),
      ['domain-lifecycle:suspended', 'domain-lifecycle:resumed'],
    );
  });

  it('opens the serial console as a byte stream', async () => {
    const stream = await client.domainOpenConsole('test');
    const got = new Promise<string>((resolve) => stream.once('data', (c: Buffer) => resolve(c.toString())));
    stream.write(Buffer.from([0x68, 0x69, 0x00, 0xff]));
    assert.equal(await got, 'echo:hi\u0000\ufffd');
    stream.destroy();
    await client.domainDefineXML('<domain><name>off</name></domain>');
    await assert.rejects(client.domainOpenConsole('off'), (e) => isVirError(e, 'OPERATION_INVALID'));
    await assert.rejects(client.domainOpenConsole('nope'), (e) => isVirError(e, 'NO_DOMAIN'));
    await client.domainUndefine('off');
  });

  it('serves requests authenticated by another listener with their role', async () => {
    const { createServer } = await import('node:http');
    const front = createServer((req, res) =>
      server.serve(req, res, req.url?.includes('ro=1') ? 'ro' : 'rw', 'web'),
    );
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    const port = (front.address() as { port: number }).port;
    try {
      assert.equal((await raw({ port, path: '/v1/domains/test/state' })).status, 200);
      assert.equal(
        (await raw({ port, method: 'POST', path: '/v1/domains/test/actions/start?ro=1' })).status,
        403,
      );
    } finally {
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
    }
  });

  it('fails to connect to a missing socket with NO_CONNECT', async () => {
    await assert.rejects(connectRemote(`qemu+unix:///system?socket=${join(dir, 'none')}`), (e) =>
      isVirError(e, 'NO_CONNECT'),
    );
  });
});

describe('API over TCP', () => {
  const tcpUri = () => `qemu+tcp://127.0.0.1:${server.tcpPort}/system`;

  it('refuses to start a TCP listener without tokens', () => {
    assert.throws(
      () => new ApiServer({ conn: fake, tcp: { host: '127.0.0.1', port: 0, tokens: [] } }),
      (e) => isVirError(e, 'AUTH_UNAVAILABLE'),
    );
  });

  it('answers 401 without a token or with a wrong one', async () => {
    const none = await raw({ port: server.tcpPort!, path: '/v1/version' });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="tvirt"');
    const wrong = await raw({
      port: server.tcpPort!,
      path: '/v1/version',
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(JSON.parse(wrong.body).error.code, 'AUTH_FAILED');
    process.env.TVIRT_AUTH_TOKEN = 'wrong-token-0123456789';
    await assert.rejects(connectRemote(tcpUri()), (e) => isVirError(e, 'AUTH_FAILED'));
    const unauth = new RemoteConnection(await parseRemoteUri(tcpUri()));
    delete process.env.TVIRT_AUTH_TOKEN;
    unauth.onEvent(() => {});
    await assert.rejects(unauth.eventsReady(), (e) => isVirError(e, 'AUTH_FAILED'));
    await assert.rejects(unauth.domainOpenConsole('test'), (e) => isVirError(e, 'AUTH_FAILED'));
    await unauth.close();
  });

  it('lets a read-only token read but not modify (403)', async () => {
    process.env.TVIRT_AUTH_TOKEN = RO;
    const ro = await connectRemote(tcpUri());
    delete process.env.TVIRT_AUTH_TOKEN;
    try {
      assert.equal((await ro.listDomains()).length, 1);
      assert.equal((await ro.domainGetState('test')).state, 'running');
      await assert.rejects(ro.domainSuspend('test'), (e) => isVirError(e, 'OPERATION_DENIED'));
      await assert.rejects(ro.domainDefineXML('<domain><name>x</name></domain>'), (e) =>
        isVirError(e, 'OPERATION_DENIED'),
      );
      await assert.rejects(ro.domainGetXMLDesc('test', { secure: true }), (e) =>
        isVirError(e, 'OPERATION_DENIED'),
      );
      await assert.rejects(ro.domainOpenConsole('test'), (e) => isVirError(e, 'OPERATION_DENIED'));
      const r = await raw({
        port: server.tcpPort!,
        method: 'POST',
        path: '/v1/domains/test/actions/suspend',
        headers: { authorization: `Bearer ${RO}` },
      });
      assert.equal(r.status, 403);
      // Events are a read.
      const seen: TvirtEvent[] = [];
      const off = ro.onEvent((e) => seen.push(e));
      await (ro as RemoteConnection).eventsReady();
      off();
    } finally {
      await ro.close();
    }
    assert.equal((await fake.domainGetState('test')).state, 'running');
  });

  it('lets a read-write token from a token file do everything', async () => {
    const { writeFile } = await import('node:fs/promises');
    const tf = join(dir, 'token');
    await writeFile(tf, `${RW}\n`, { mode: 0o600 });
    const rw = await connectRemote(`${tcpUri()}?token_file=${tf}`);
    try {
      await rw.domainSuspend('test');
      await rw.domainResume('test');
      const stream = await rw.domainOpenConsole('test');
      const got = new Promise<string>((resolve) => stream.once('data', (c: Buffer) => resolve(c.toString())));
      stream.write('x');
      assert.equal(await got, 'echo:x');
      stream.destroy();
    } finally {
      await rw.close();
    }
  });
});

describe('parseRemoteUri', () => {
  it('maps URIs to sockets and hosts', async () => {
    assert.equal((await parseRemoteUri('qemu:///system')).socketPath, '/run/tvirt/tvirt-sock');
    const s = await parseRemoteUri('qemu:///session', { HOME: '/h', XDG_RUNTIME_DIR: '/run/user/7' });
    assert.equal(s.socketPath, '/run/user/7/tvirt/tvirt-sock');
    assert.equal(s.autostartSession, true);
    assert.equal((await parseRemoteUri('qemu+unix:///system?socket=/x/s')).socketPath, '/x/s');
    assert.equal((await parseRemoteUri('test+unix:///system?socket=/x/s')).driver, 'test');
    const t = await parseRemoteUri('qemu+tcp://h.example:1234/system', { TVIRT_AUTH_TOKEN: 'abc' });
    assert.deepEqual([t.host, t.port, t.token], ['h.example', 1234, 'abc']);
    for (const bad of ['xen:///system', 'qemu:///nowhere', 'qemu+ssh://h/system', 'not a uri'])
      await assert.rejects(parseRemoteUri(bad), (e) => isVirError(e, 'NO_CONNECT'));
  });
});

describe('API over TLS', () => {
  const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
  let tlsServer: ApiServer | undefined;
  let certs: Record<'srvCert' | 'srvKey' | 'cliCert' | 'cliKey', string>;

  function selfSigned(name: string, cn: string, san?: string): [string, string] {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    args.push('-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${cn}`);
    if (san) args.push('-addext', `subjectAltName=${san}`);
    const r = spawnSync('openssl', args, { stdio: 'ignore' });
    assert.equal(r.status, 0, 'openssl req');
    return [cert, key];
  }

  before(async () => {
    if (!haveOpenssl) return;
    const [srvCert, srvKey] = selfSigned('srv', 'localhost', 'IP:127.0.0.1');
    const [cliCert, cliKey] = selfSigned('cli', 'admin-client');
    certs = { srvCert, srvKey, cliCert, cliKey };
    const { readFile } = await import('node:fs/promises');
    tlsServer = new ApiServer({
      conn: fake,
      tcp: {
        host: '127.0.0.1',
        port: 0,
        tokens: tokenTable([{ token: RO, role: 'ro' }]),
        tls: {
          cert: await readFile(srvCert),
          key: await readFile(srvKey),
          clientCa: await readFile(cliCert),
        },
      },
    });
    await tlsServer.start();
  });
  after(async () => {
    await tlsServer?.close();
  });

  it('serves qemu+tls with a token, and with a client certificate', {
    skip: !haveOpenssl && 'no openssl',
  }, async () => {
    const base = `qemu+tls://127.0.0.1:${tlsServer!.tcpPort}/system?ca_file=${certs.srvCert}`;
    process.env.TVIRT_AUTH_TOKEN = RO;
    const ro = await connectRemote(base);
    delete process.env.TVIRT_AUTH_TOKEN;
    try {
      assert.equal(await ro.getHostname(), 'fakehost');
      await assert.rejects(ro.domainSuspend('test'), (e) => isVirError(e, 'OPERATION_DENIED'));
    } finally {
      await ro.close();
    }
    await assert.rejects(connectRemote(base), (e) => isVirError(e, 'AUTH_FAILED'));
    const mtls = (await connectRemote(
      `${base}&cert_file=${certs.cliCert}&key_file=${certs.cliKey}`,
    )) as RemoteConnection;
    try {
      await mtls.domainSuspend('test');
      await mtls.domainResume('test');
      const seen: TvirtEvent[] = [];
      const off = mtls.onEvent((e) => seen.push(e));
      await mtls.eventsReady();
      off();
      const stream = await mtls.domainOpenConsole('test');
      const got = new Promise<string>((resolve) => stream.once('data', (c: Buffer) => resolve(c.toString())));
      stream.write('tls');
      assert.equal(await got, 'echo:tls');
      stream.destroy();
    } finally {
      await mtls.close();
    }
    // An untrusted server certificate fails the connection.
    await assert.rejects(
      connectRemote(`qemu+tls://127.0.0.1:${tlsServer!.tcpPort}/system?ca_file=${certs.cliCert}`),
      (e) => isVirError(e, 'NO_CONNECT'),
    );
  });
});

describe('event stream across a daemon restart', () => {
  it('re-subscribes by itself when tvirtd comes back', async () => {
    const path = join(dir, 'restart-sock');
    const first = new FakeConnection();
    let srv = new ApiServer({ conn: first, socketPath: path });
    await srv.start();
    const c = (await connectRemote(`qemu+unix:///system?socket=${path}`)) as RemoteConnection;
    const seen: string[] = [];
    c.onEvent((e) => seen.push(`${e.event}`));
    await c.eventsReady();
    await first.domainSuspend('test');
    await srv.close();
    const second = new FakeConnection();
    srv = new ApiServer({ conn: second, socketPath: path });
    await srv.start();
    try {
      const deadline = Date.now() + 5000;
      while (!seen.includes('resumed') && Date.now() < deadline) {
        await second.domainSuspend('test').catch(() => {});
        await second.domainResume('test');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(seen[0], 'suspended');
      assert.ok(seen.includes('resumed'), 'events from the restarted daemon arrive');
    } finally {
      await c.close();
      await srv.close();
    }
  });
});
