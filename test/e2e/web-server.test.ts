// The web listener without a browser: login and sessions, roles, origin checks, static files
// (types, caching, gzip, no way out of the directory), and the start-up refusals.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { tokenTable } from '../../src/api/auth.js';
import { ApiServer } from '../../src/api/server.js';
import { WebServer } from '../../src/api/web.js';
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
    api = new ApiServer({ conn: openIsolatedTestConnection() });
    await api.start();
    web = new WebServer({
      api,
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
});
