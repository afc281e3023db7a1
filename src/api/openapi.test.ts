// The OpenAPI document (openapi.ts) against the route tables, its own structure, and a real ApiServer:
// every route is described with its access and nothing undocumented is served; answers match the
// documented schemas; GET /v1/openapi.json serves it; Accept: application/xml answers raw XML.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../daemon/events.js';
import { GuardedConnection } from '../daemon/guarded-connection.js';
import { JobManager } from '../daemon/jobs.js';
import type { Connection } from '../drivers/connection.js';
import { openIsolatedTestConnection } from '../drivers/test/driver.js';
import {
  type HttpMethod,
  type Operation,
  type Response,
  type Schema,
  type SchemaObject,
  openapiDocument as doc,
} from './openapi.js';
import { domainActionNames, routes, wsRoutes } from './routes.js';
import { networkActionNames } from './routes-network.js';
import { poolActionNames, volumeActionNames } from './routes-storage.js';
import { acceptsXml, ApiServer } from './server.js';

const METHODS: HttpMethod[] = ['get', 'put', 'post', 'delete'];

/** Every documented operation with its path template and method. */
function operations(): { path: string; method: HttpMethod; op: Operation }[] {
  const out: { path: string; method: HttpMethod; op: Operation }[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of METHODS) {
      const op = item[method];
      if (op) out.push({ path, method, op });
    }
  return out;
}

function resolve(pointer: string): unknown {
  assert.ok(pointer.startsWith('#/'), `only local references: ${pointer}`);
  let v: unknown = doc;
  for (const part of pointer.slice(2).split('/')) {
    assert.ok(v && typeof v === 'object' && part in v, `unresolved $ref ${pointer}`);
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** A path template with sample values: every documented enum value of a path parameter, else one sample. */
function concretePaths(path: string, op: Operation, samples: Record<string, string> = {}): string[] {
  let out = [path];
  for (const p of op.parameters ?? []) {
    if (p.in !== 'path') continue;
    const schema = p.schema as SchemaObject;
    const values = schema.enum ? schema.enum.map(String) : [samples[p.name] ?? `sample-${p.name}`];
    out = out.flatMap((t) => values.map((v) => t.replace(`{${p.name}}`, encodeURIComponent(v))));
  }
  return out;
}

describe('OpenAPI document against the routes', () => {
  it('describes every route, each with its access, and only served routes', () => {
    const described = new Set<object>();
    const wsDescribed = new Set<string>();
    for (const { path, method, op } of operations()) {
      for (const p of concretePaths(path, op)) {
        const what = `${method.toUpperCase()} ${p} (${op.operationId})`;
        if (op['x-tvirt-websocket']) {
          assert.equal(method, 'get', `${what}: WebSockets are GET + Upgrade`);
          const ws = Object.entries(wsRoutes).filter(([, w]) => w.pattern.test(p));
          assert.equal(ws.length, 1, `${what}: matches ${ws.length} WebSocket routes`);
          const [name, w] = ws[0]!;
          assert.equal(op['x-tvirt-access'], w.access, `${what}: x-tvirt-access`);
          assert.ok(op.responses['101'], `${what}: a 101 response`);
          wsDescribed.add(name);
          continue;
        }
        const matching = routes.filter((r) => r.method === method.toUpperCase() && r.pattern.test(p));
        assert.equal(matching.length, 1, `${what}: matches ${matching.length} routes`);
        assert.equal(op['x-tvirt-access'], matching[0]!.access, `${what}: x-tvirt-access`);
        described.add(matching[0]!);
      }
    }
    const missing = routes.filter((r) => !described.has(r)).map((r) => `${r.method} ${r.pattern.source}`);
    assert.deepEqual(missing, [], 'routes without an OpenAPI description');
    assert.deepEqual(
      Object.keys(wsRoutes).filter((k) => !wsDescribed.has(k)),
      [],
      'WebSocket routes without a description',
    );
  });

  it('documents every action name the action routes accept, and no other', () => {
    const families: [string, readonly string[]][] = [
      ['/v1/domains/{ref}/actions/', domainActionNames],
      ['/v1/networks/{ref}/actions/', networkActionNames],
      ['/v1/storage/pools/{pool}/actions/', poolActionNames],
      ['/v1/storage/pools/{pool}/volumes/{vol}/actions/', volumeActionNames],
    ];
    for (const [prefix, names] of families) {
      const documented = operations()
        .filter((o) => o.method === 'post' && o.path.startsWith(prefix))
        .map((o) => o.path.slice(prefix.length));
      assert.deepEqual([...documented].sort(), [...names].sort(), prefix);
    }
    // Every route with an {action} segment belongs to one of those families.
    for (const r of routes.filter((x) => x.pattern.source.includes('(?<action>'))) {
      const probes = families.map(([prefix]) => `${prefix.replace(/\{\w+\}/g, 'x')}probe`);
      assert.ok(
        probes.some((p) => r.pattern.test(p)),
        `${r.pattern.source}: an action route outside the checked families`,
      );
    }
  });
});

describe('OpenAPI document structure', () => {
  it('is OpenAPI 3.1 with unique operationIds and x-tvirt-access on each operation', () => {
    assert.equal(doc.openapi, '3.1.0');
    const ids = operations().map((o) => o.op.operationId);
    assert.deepEqual(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      [],
      'duplicate operationIds',
    );
    for (const { path, method, op } of operations()) {
      assert.ok(['ro', 'rw'].includes(op['x-tvirt-access']), `${method} ${path}: x-tvirt-access`);
      assert.ok(
        Object.keys(op.responses).some((s) => /^(2\d\d|101)$/.test(s)),
        `${method} ${path}: a success response`,
      );
      assert.ok(op.responses['400'] && op.responses['500'], `${method} ${path}: error responses`);
    }
  });

  it('declares every {param} of a path as a required path parameter, and no other', () => {
    for (const { path, method, op } of operations()) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
      const declared = (op.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => {
          assert.equal(p.required, true, `${method} ${path}: {${p.name}} required`);
          return p.name;
        })
        .sort();
      assert.deepEqual(declared, inPath, `${method} ${path}`);
      const names = (op.parameters ?? []).map((p) => `${p.in}:${p.name}`);
      assert.equal(new Set(names).size, names.length, `${method} ${path}: duplicate parameters`);
    }
  });

  it('resolves every $ref', () => {
    let count = 0;
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref') {
            assert.equal(typeof x, 'string');
            assert.ok(resolve(x as string) !== undefined, `unresolved $ref ${x}`);
            count++;
          } else walk(x);
        }
    };
    walk(doc);
    assert.ok(count > 50, `only ${count} references`);
  });

  it('offers application/xml wherever the answer is {xml}, and on XML request bodies', () => {
    let n = 0;
    for (const { path, method, op } of operations()) {
      const ok = op.responses['200'];
      const json = ok && 'content' in ok ? ok.content?.['application/json']?.schema : undefined;
      if (json && '$ref' in json && json.$ref === '#/components/schemas/Xml') {
        assert.ok(ok && 'content' in ok && ok.content?.['application/xml'], `${method} ${path}`);
        n++;
      }
      const body = op.requestBody?.content['application/json']?.schema as SchemaObject | undefined;
      if (body?.required?.length === 1 && body.required[0] === 'xml')
        assert.ok(op.requestBody?.content['application/xml'], `${method} ${path}: XML request body`);
    }
    assert.ok(n >= 6, `${n} XML answers`);
  });

  it('describes the error body and the security schemes', () => {
    const err = resolve('#/components/schemas/Error') as SchemaObject;
    const inner = err.properties?.error as SchemaObject;
    assert.deepEqual(inner.required, ['code', 'number', 'domain', 'message']);
    // The statuses httpStatusOf and the server give, each with its response (405: any path with the
    // wrong method, described once in components).
    const used = new Set(operations().flatMap((o) => Object.keys(o.op.responses)));
    for (const st of ['400', '401', '403', '404', '409', '413', '500', '501']) assert.ok(used.has(st), st);
    for (const r of Object.values(doc.components.responses))
      assert.deepEqual(r.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' });
    assert.ok(doc.components.responses.MethodNotAllowed);
    assert.equal(doc.components.securitySchemes.bearerAuth?.scheme, 'bearer');
    assert.ok(
      doc.security.some((s) => Object.keys(s).length === 0),
      'the UNIX socket needs no credential',
    );
  });
});

describe('Accept header', () => {
  it('prefers XML only when asked for it', () => {
    assert.equal(acceptsXml(undefined), false);
    assert.equal(acceptsXml('*/*'), false);
    assert.equal(acceptsXml('application/json'), false);
    assert.equal(acceptsXml('application/xml'), true);
    assert.equal(acceptsXml('text/xml'), true);
    assert.equal(acceptsXml('Application/XML; charset=utf-8'), true);
    assert.equal(acceptsXml('application/json, application/xml'), false);
    assert.equal(acceptsXml('application/xml, application/json'), true);
    assert.equal(acceptsXml('application/xml;q=0.5, application/json'), false);
    assert.equal(acceptsXml('application/json;q=0.1, text/xml'), true);
    assert.equal(acceptsXml('application/xml;q=0'), false);
    assert.equal(acceptsXml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), true);
  });
});

// ---- Through a real server ----

let dir: string;
let sock: string;
let server: ApiServer;
let inner: Connection;

const vm = (name: string) =>
  `<domain type='test'><name>${name}</name><memory>1048576</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>`;

function call(opts: {
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { socketPath: sock, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () =>
          resolvePromise({ status: res.statusCode!, body, type: String(res.headers['content-type'] ?? '') }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A small JSON Schema check for the subset openapi.ts uses; returns the mismatches. */
function check(schema: Schema, v: unknown, at = '$', errs: string[] = []): string[] {
  if ('$ref' in schema) return check(resolve(schema.$ref) as Schema, v, at, errs);
  for (const s of schema.allOf ?? []) check(s, v, at, errs);
  if (schema.oneOf) {
    const n = schema.oneOf.filter((s) => check(s, v, at).length === 0).length;
    if (n !== 1) errs.push(`${at}: matches ${n} of oneOf`);
  }
  if (schema.const !== undefined && v !== schema.const) errs.push(`${at}: not ${schema.const}`);
  if (schema.enum && !schema.enum.includes(v as string)) errs.push(`${at}: ${String(v)} not in enum`);
  if (schema.type) {
    const ok = [schema.type].flat().some((t) => {
      switch (t) {
        case 'integer':
          return Number.isInteger(v);
        case 'number':
          return typeof v === 'number';
        case 'null':
          return v === null;
        case 'array':
          return Array.isArray(v);
        case 'object':
          return typeof v === 'object' && v !== null && !Array.isArray(v);
        default:
          return typeof v === t;
      }
    });
    if (!ok) errs.push(`${at}: not ${String(schema.type)}: ${JSON.stringify(v)}`);
  }
  if (typeof v === 'number' && schema.minimum !== undefined && v < schema.minimum)
    errs.push(`${at}: below ${schema.minimum}`);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const k of schema.required ?? []) if (!(k in o)) errs.push(`${at}: no ${k}`);
    for (const [k, s] of Object.entries(schema.properties ?? {}))
      if (k in o && o[k] !== undefined) check(s, o[k], `${at}.${k}`, errs);
  }
  if (Array.isArray(v) && schema.items)
    for (const [i, x] of v.entries()) check(schema.items, x, `${at}[${i}]`, errs);
  return errs;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-openapi-'));
  sock = join(dir, 'sock');
  const bus = new EventBus();
  const jobs = new JobManager({ events: bus });
  inner = openIsolatedTestConnection();
  server = new ApiServer({ conn: new GuardedConnection(inner, jobs, bus), jobs, socketPath: sock });
  await server.start();
});

after(async () => {
  await server?.close();
  await inner?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('OpenAPI and XML through the server', () => {
  it('serves the document at GET /v1/openapi.json', async () => {
    const r = await call({ path: '/v1/openapi.json' });
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), JSON.parse(JSON.stringify(doc)));
  });

  it('answers raw XML for Accept: application/xml, JSON {xml} otherwise', async () => {
    const xml = await call({ path: '/v1/domains/test/xml', headers: { accept: 'application/xml' } });
    assert.equal(xml.status, 200);
    assert.equal(xml.type, 'application/xml; charset=utf-8');
    assert.match(xml.body, /^<domain type='test'/);
    assert.match(xml.body, /<name>test<\/name>/);
    const json = await call({ path: '/v1/domains/test/xml' });
    assert.equal(json.status, 200);
    assert.match(json.type, /^application\/json/);
    assert.deepEqual(JSON.parse(json.body), { xml: xml.body });
    assert.equal(xml.body, await inner.domainGetXMLDesc('test'));
    const text = await call({ path: '/v1/capabilities', headers: { accept: 'text/xml' } });
    assert.equal(text.type, 'application/xml; charset=utf-8');
    assert.match(text.body, /^<capabilities/);
    // Answers that are not {xml} stay JSON whatever the Accept header says.
    const v = await call({ path: '/v1/version', headers: { accept: 'application/xml' } });
    assert.equal(v.status, 200);
    assert.match(v.type, /^application\/json/);
    assert.equal(typeof JSON.parse(v.body).library, 'string');
  });

  it('defines a domain from an application/xml body', async () => {
    const r = await call({
      method: 'POST',
      path: '/v1/domains',
      headers: { 'content-type': 'application/xml' },
      body: vm('from-xml'),
    });
    assert.equal(r.status, 201, r.body);
    const created = JSON.parse(r.body);
    assert.deepEqual(check({ $ref: '#/components/schemas/DomainSummary' }, created), []);
    assert.equal(created.name, 'from-xml');
    assert.equal(created.persistent, true);
    assert.equal((await inner.domainLookup('from-xml')).uuid, created.uuid);
    const back = await call({
      path: '/v1/domains/from-xml/xml?inactive',
      headers: { accept: 'application/xml' },
    });
    assert.match(back.body, /<name>from-xml<\/name>/);
  });

  it('keeps errors JSON with their status when XML is asked for', async () => {
    const r = await call({ path: '/v1/domains/no-such/xml', headers: { accept: 'application/xml' } });
    assert.equal(r.status, 404);
    assert.match(r.type, /^application\/json/);
    const body = JSON.parse(r.body);
    assert.equal(body.error.code, 'NO_DOMAIN');
    assert.deepEqual(check({ $ref: '#/components/schemas/Error' }, body), []);
    const bad = await call({
      method: 'POST',
      path: '/v1/domains',
      headers: { 'content-type': 'application/xml', accept: 'application/xml' },
      body: '<domain',
    });
    assert.equal(bad.status, 400);
    assert.match(bad.type, /^application\/json/);
    assert.equal(JSON.parse(bad.body).error.code, 'XML_ERROR');
    const wrongMethod = await call({ method: 'PUT', path: '/v1/openapi.json' });
    assert.equal(wrongMethod.status, 405);
  });

  it('answers every documented GET with a documented status and body', async () => {
    // Something in each collection: a volume and a job.
    const vol = await call({
      method: 'POST',
      path: '/v1/storage/pools/default-pool/volumes',
      headers: { 'content-type': 'application/xml' },
      body: '<volume><name>oa.img</name><capacity>1048576</capacity></volume>',
    });
    assert.equal(vol.status, 201, vol.body);
    const volPath = JSON.parse(vol.body).path as string;
    const jobs = JSON.parse((await call({ path: '/v1/jobs' })).body).jobs as { id: string }[];
    assert.ok(jobs.length > 0);
    const samples: Record<string, Record<string, string>> = {
      domains: { ref: 'test' },
      networks: { ref: 'default', bridge: 'br0' },
      storage: { pool: 'default-pool', vol: 'oa.img' },
      jobs: { id: jobs[0]!.id },
      host: {},
    };
    const queries: Record<string, string> = {
      storagePoolLookupByVolume: `?volume=${encodeURIComponent(volPath)}`,
      storageVolLookupByPath: `?path=${encodeURIComponent(volPath)}`,
    };
    let checked = 0;
    for (const { path, method, op } of operations()) {
      if (method !== 'get' || op['x-tvirt-websocket'] || op.operationId === 'storageVolDownload') continue;
      for (const p of concretePaths(path, op, samples[op.tags[0]!] ?? {})) {
        const r = await call({ path: p + (queries[op.operationId] ?? '') });
        const what = `GET ${p}: ${r.status} ${r.body.slice(0, 200)}`;
        const documented = op.responses[String(r.status)];
        assert.ok(documented, `${what}: status not documented`);
        const resp = ('$ref' in documented ? resolve(documented.$ref) : documented) as Response;
        const schema = resp.content?.['application/json']?.schema;
        assert.ok(schema, what);
        assert.deepEqual(check(schema, JSON.parse(r.body)), [], what);
        if (r.status === 200) checked++;
      }
    }
    assert.ok(checked >= 25, `${checked} answers checked`);
  });
});
