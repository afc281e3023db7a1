// The web listener without a browser: login and sessions, roles, origin checks, static files
// (types, caching, gzip, no way out of the directory), and the start-up refusals.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { tokenTable } from '../../src/api/auth.js';
import { ApiServer } from '../../src/api/server.js';
import { listenError, WebServer } from '../../src/api/web.js';
import { openIsolatedTestConnection } from '../../src/drivers/test/driver.js';

const RW = 'rw-token-0123456789abcdef';
const RO = 'ro-token-0123456789abcdef';

describe('web listener', () => {
  let dir: string;
  let api: ApiServer;
  let web: WebServer;
  let base: string;
  const bigJs = `console.log(${JSON.stringify('x'.repeat(5000))});\n`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tvirt-webserver-'));
    await mkdir(join(dir, 'static', 'assets'), { recursive: true });
    await writeFile(join(dir, 'secret.txt'), 'do not serve me');
    await writeFile(join(dir, 'static', 'index.html'), '<!doctype html><title>tvirt</title>');
    await writeFile(join(dir, 'static', 'assets', 'index-abc123.js'), bigJs);
    const conn = openIsolatedTestConnection();
    api = new ApiServer({ conn });
    await api.start();
    web = new WebServer({
      api,
      conn,
      host: '127.0.0.1',
      port: 0,
      tokens: tokenTable([
        { token: RW, role: 'rw' },
        { token: RO, role: 'ro', name: 'viewer' },
      ]),
      staticDir: join(dir, 'static'),
      loginUrlFile: join(dir, 'web-login-url'),
    });
    await web.start();
    base = web.url.replace(/\/$/, '');
  });

  after(async () => {
    await web?.close();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function login(token: string): Promise<{ status: number; cookie: string; body: unknown }> {
    const r = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const cookie = /tvirt_session=[^;]+/.exec(r.headers.get('set-cookie') ?? '')?.[0] ?? '';
    return { status: r.status, cookie, body: await r.json() };
  }

  it('serves the app shell and hashed assets with the right headers, gzip when asked', async () => {
    const index = await fetch(`${base}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(
      (await fetch(`${base}/guests/test`)).headers.get('content-type'),
      'text/html; charset=utf-8',
    );
    const js = await fetch(`${base}/assets/index-abc123.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await js.text(), bigJs); // fetch decodes gzip
    const raw = await new Promise<{ enc: string | undefined; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(`${base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ enc: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
        }).on('error', reject),
      );
    });
    assert.equal(raw.enc, 'gzip');
    assert.ok(raw.body.length < bigJs.length / 10);
    assert.equal(gunzipSync(raw.body).toString(), bigJs);
    assert.equal((await fetch(`${base}/assets/missing.js`)).status, 404);
  });

  it('never serves a file outside its directory', async () => {
    for (const p of ['/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/a%00b.js']) {
      const r = await fetch(`${base}${p}`);
      assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
      assert.doesNotMatch(await r.text(), /do not serve me/);
    }
  });

  it('requires a login for the API and its WebSockets', async () => {
    const r = await fetch(`${base}/v1/domains`);
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'AUTH_FAILED');
    const bad = await login('wrong-token-0123456789');
    assert.equal(bad.status, 401);
    assert.equal(bad.cookie, '');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/events`);
        ws.on('open', resolve);
        ws.on('error', reject);
      }),
      /401/,
    );
  });

  it('logs in with a token, keeps a session, and tells the role', async () => {
    const { status, cookie, body } = await login(RO);
    assert.equal(status, 200);
    assert.deepEqual(body, { role: 'ro', name: 'viewer' });
    const s = await fetch(`${base}/v1/session`, { headers: { cookie } });
    assert.deepEqual(await s.json(), { role: 'ro', name: 'viewer' });
    const list = (await (await fetch(`${base}/v1/domains`, { headers: { cookie } })).json()) as {
      domains: { name: string }[];
    };
    assert.deepEqual(
      list.domains.map((d) => d.name),
      ['test'],
    );
    const denied = await fetch(`${base}/v1/domains/test/actions/suspend`, {
      method: 'POST',
      headers: { cookie },
    });
    assert.equal(denied.status, 403);
    await fetch(`${base}/logout`, { method: 'POST', headers: { cookie } });
    assert.equal((await fetch(`${base}/v1/session`, { headers: { cookie } })).status, 401);
  });

  it('accepts the one-time token once, then mints a new one into the URL file', async () => {
    const once = web.loginUrl.split('#token=')[1]!;
    const first = await login(once);
    assert.deepEqual(first.body, { role: 'rw', name: 'local' });
    assert.equal((await login(once)).status, 401);
    const { readFile } = await import('node:fs/promises');
    const file = (await readFile(join(dir, 'web-login-url'), 'utf8')).trim();
    assert.equal(file, web.loginUrl);
    assert.notEqual(file.split('#token=')[1], once);
  });

  it('refuses cross-origin changes and WebSockets; accepts bearer tokens for scripts', async () => {
    const { cookie } = await login(RW);
    const cross = await fetch(`${base}/v1/domains/test/actions/suspend`, {
      method: 'POST',
      headers: { cookie, origin: 'http://evil.example' },
    });
    assert.equal(cross.status, 403);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/events`, {
          headers: { cookie, origin: 'http://evil.example' },
        });
        ws.on('open', resolve);
        ws.on('error', reject);
      }),
      /403/,
    );
    const same = await fetch(`${base}/v1/domains/test/actions/suspend`, {
      method: 'POST',
      headers: { cookie, origin: base },
    });
    assert.equal(same.status, 200);
    const bearer = await fetch(`${base}/v1/domains/test/actions/resume`, {
      method: 'POST',
      headers: { authorization: `Bearer ${RW}` },
    });
    assert.equal(bearer.status, 200);
    const ready = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/events`, {
        headers: { cookie, origin: base },
      });
      ws.on('message', (m) => {
        resolve(String(m));
        ws.close();
      });
      ws.on('error', reject);
    });
    assert.deepEqual(JSON.parse(ready), { type: 'ready' });
  });

  it('proxies a WebSocket to the VNC server named in the live XML, for read-write users only', async () => {
    const received: Buffer[] = [];
    const peers = new Set<Socket>();
    const vnc: Server = createServer((s) => {
      peers.add(s);
      s.write('RFB 003.008\n');
      s.on('data', (d: Buffer) => received.push(d));
    });
    await new Promise<void>((r) => vnc.listen(0, '127.0.0.1', r));
    const port = (vnc.address() as AddressInfo).port;
    try {
      const { cookie } = await login(RW);
      const headers = { cookie, 'content-type': 'application/json' };
      const xml = `<domain type='test'><name>vnc1</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices><graphics type='vnc' port='${port}' listen='127.0.0.1'/></devices></domain>`;
      assert.equal(
        (await fetch(`${base}/v1/domains`, { method: 'POST', headers, body: JSON.stringify({ xml }) }))
          .status,
        201,
      );
      const wsUrl = `${base.replace('http', 'ws')}/v1/domains/vnc1/vnc`;
      await assert.rejects(
        new Promise((resolve, reject) => {
          const ws = new WebSocket(wsUrl, { headers: { cookie } });
          ws.on('open', resolve);
          ws.on('error', reject);
        }),
        /409|400/, // not running
      );
      await fetch(`${base}/v1/domains/vnc1/actions/start`, { method: 'POST', headers, body: '{}' });
      const first = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, { headers: { cookie } });
        ws.on('message', (m: Buffer) => {
          ws.send(Buffer.from('RFB 003.008\n'));
          resolve(m.toString());
          setTimeout(() => ws.close(), 100);
        });
        ws.on('error', reject);
      });
      assert.equal(first, 'RFB 003.008\n');
      for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(Buffer.concat(received).toString(), 'RFB 003.008\n');
      const ro = await login(RO);
      await assert.rejects(
        new Promise((resolve, reject) => {
          const ws = new WebSocket(wsUrl, { headers: { cookie: ro.cookie } });
          ws.on('open', resolve);
          ws.on('error', reject);
        }),
        /403/,
      );
    } finally {
      for (const p of peers) p.destroy();
      await new Promise((r) => vnc.close(r));
    }
  });

  it('says how to build the app when it is missing', async () => {
    const bare = new WebServer({
      api,
      host: '127.0.0.1',
      port: 0,
      tokens: [],
      staticDir: join(dir, 'nothing'),
    });
    await bare.start();
    try {
      const r = await fetch(bare.url);
      assert.equal(r.status, 503);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /npm run build:web/);
    } finally {
      await bare.close();
    }
  });

  it('refuses a non-loopback address without TLS', () => {
    assert.throws(
      () => new WebServer({ api, host: '0.0.0.0', port: 0, tokens: [] }),
      /refusing to serve the web UI on 0.0.0.0 without TLS/,
    );
  });

  it('says what to change when the address cannot be bound', async () => {
    const taken = new WebServer({
      api,
      host: '127.0.0.1',
      port: web.port,
      tokens: [],
      loginUrlFile: join(dir, 'u2'),
    });
    await assert.rejects(taken.start(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'SYSTEM_ERROR');
      assert.equal(
        e.message,
        `cannot serve the web UI on 127.0.0.1:${web.port}: the port is in use: stop what holds it, or give --web-listen HOST:PORT`,
      );
      return true;
    });
    assert.match(
      listenError('127.0.0.1', 16580, Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' })).message,
      /^cannot serve the web UI on 127\.0\.0\.1:16580: no interface has that address \(in a new network namespace, bring loopback up: ip link set lo up\)$/,
    );
    assert.match(
      listenError('::1', 80, Object.assign(new Error('x'), { code: 'EACCES' })).message,
      /on \[::1\]:80: ports below 1024 need root$/,
    );
  });
});
