// The storage routes end to end: the remote client -> ApiServer -> daemon guard (jobs) -> the host's
// StorageDriver on a temporary directory, as tvirtd composes them (src/daemon/host-storage.ts).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../daemon/events.js';
import { GuardedConnection } from '../daemon/guarded-connection.js';
import { composeStorage, openHostStorage } from '../daemon/host-storage.js';
import { JobManager } from '../daemon/jobs.js';
import { nullLogger } from '../daemon/log.js';
import { rootPaths } from '../daemon/paths.js';
import type { TvirtEvent } from '../drivers/connection.js';
import { isVirError } from '../util/errors.js';
import { tokenTable } from './auth.js';
import { connectRemote, type RemoteConnection } from './client.js';
import { FakeConnection } from './fake-connection.test-util.js';
import { ApiServer } from './server.js';
import { decodeSparse, encodeSparse } from './sparse-stream.js';

const RO = 'ro-token-0123456789abcdef';
let dir: string;
let sock: string;
let server: ApiServer;
let client: RemoteConnection;
let jobs: JobManager;
let vmdir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-api-storage-'));
  sock = join(dir, 'sock');
  vmdir = join(dir, 'vmdisk');
  const paths = rootPaths(join(dir, 'root'));
  await mkdir(paths.configDir, { recursive: true });
  await mkdir(paths.runDir, { recursive: true });
  const storage = await openHostStorage({ paths, log: nullLogger });
  const bus = new EventBus();
  jobs = new JobManager({ events: bus });
  server = new ApiServer({
    conn: new GuardedConnection(composeStorage(new FakeConnection(), storage), jobs, bus),
    jobs,
    socketPath: sock,
    tcp: { host: '127.0.0.1', port: 0, tokens: tokenTable([{ token: RO, role: 'ro' }]) },
  });
  await server.start();
  client = (await connectRemote(`qemu+unix:///system?socket=${sock}`)) as RemoteConnection;
});
after(async () => {
  await client?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const code = (c: string) => (e: unknown) => isVirError(e, c as never);

describe('storage pools over the API', () => {
  it('has the default pool, autostarted, under the state directory', async () => {
    const [p] = await client.listStoragePools();
    assert.equal(p?.name, 'default');
    assert.equal(p?.autostart, true);
    assert.equal((await client.storagePoolGetInfo('default')).state, 'running');
    assert.match(await client.storagePoolGetXMLDesc('default'), /<path>.*\/root\/lib\/images<\/path>/);
    assert.match(
      await client.storagePoolGetCapabilities(),
      /<storagepoolCapabilities>[\s\S]*<pool type='dir' supported='yes'>/,
    );
  });

  it('define, build, start, autostart, refresh; filters; lifecycle events', async () => {
    const seen: TvirtEvent[] = [];
    const off = client.onEvent((e) => seen.push(e));
    await client.eventsReady();
    const p = await client.storagePoolDefineXML(
      `<pool type='dir'><name>vmdisk</name><target><path>${vmdir}</path></target></pool>`,
    );
    assert.deepEqual(
      (await client.listStoragePools({ inactive: true })).map((x) => x.name),
      ['vmdisk'],
    );
    await client.storagePoolBuild('vmdisk');
    assert.ok((await stat(vmdir)).isDirectory());
    await client.storagePoolCreate(p.uuid);
    await client.storagePoolSetAutostart('vmdisk', true);
    await client.storagePoolRefresh('vmdisk');
    assert.deepEqual(
      (await client.listStoragePools({ autostart: true, types: ['dir'] })).map((x) => x.name),
      ['default', 'vmdisk'],
    );
    assert.equal((await client.storagePoolLookup(p.uuid)).name, 'vmdisk');
    const deadline = Date.now() + 5000;
    while (!seen.some((e) => e.kind === 'pool-lifecycle' && e.event === 'started') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    off();
    assert.deepEqual(
      seen.filter((e) => e.kind === 'pool-lifecycle').map((e) => `${e.name} ${e.event}`),
      ['vmdisk defined', 'vmdisk created', 'vmdisk started'], // created: built (libvirt's VIR_STORAGE_POOL_EVENT_CREATED)
    );
  });

  it('errors keep libvirt codes; bad input changes nothing', async () => {
    await assert.rejects(client.storagePoolGetInfo('nosuch'), code('NO_STORAGE_POOL'));
    await assert.rejects(
      client.storageVolCreateXML('vmdisk', '<volume><name>../x</name><capacity>1024</capacity></volume>'),
      code('OPERATION_INVALID'),
    );
    await assert.rejects(
      client.storageVolCreateXML('vmdisk', '<volume><name>a/b</name><capacity>1024</capacity></volume>'),
      code('OPERATION_INVALID'),
    );
    await assert.rejects(
      client.storageVolCreateXML('vmdisk', '<volume><name>..</name><capacity>1024</capacity></volume>'),
      code('INVALID_ARG'),
    );
    assert.deepEqual(await readdir(vmdir), []);
    const f = join(dir, 'file');
    await writeFile(f, 'x');
    await assert.rejects(
      client.storagePoolCreateXML(
        `<pool type='dir'><name>notdir</name><target><path>${f}</path></target></pool>`,
      ),
    );
    assert.deepEqual(
      (await client.listStoragePools({})).map((p) => p.name),
      ['default', 'vmdisk'],
    );
  });

  it('POST /v1/storage/pools with build: true defines and builds; a failed build leaves no pool', async () => {
    const post = (body: object) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            socketPath: sock,
            method: 'POST',
            path: '/v1/storage/pools',
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    const built = join(dir, 'built');
    const pool = (name: string, path: string) =>
      `<pool type='dir'><name>${name}</name><target><path>${path}</path></target></pool>`;
    assert.equal(await post({ xml: pool('built', built), build: true }), 201);
    assert.ok((await stat(built)).isDirectory());
    await client.storagePoolCreate('built');
    await client.storagePoolDestroy('built');
    await client.storagePoolUndefine('built');
    // A target under a file cannot be built: the pool is not left defined.
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    assert.notEqual(await post({ xml: pool('unbuilt', join(file, 'sub')), build: true }), 201);
    assert.deepEqual(
      (await client.listStoragePools()).map((p) => p.name).filter((n) => n === 'unbuilt'),
      [],
    );
  });

  it('a read-only token lists but cannot define or download volume content', async () => {
    const port = server.tcpPort!;
    const call = (method: string, path: string, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method,
            path,
            headers: { authorization: `Bearer ${RO}`, 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    assert.equal(await call('GET', '/v1/storage/pools'), 200);
    assert.equal(await call('POST', '/v1/storage/pools', JSON.stringify({ xml: '<pool/>' })), 403);
    // Volume content is a guest's disk: downloading it needs a read-write credential, as in libvirt.
    assert.equal(await call('GET', '/v1/storage/pools/vmdisk/volumes/x/content'), 403);
  });
});

describe('storage volumes over the API', () => {
  it('create, list, info, xml, path, lookups', async () => {
    const v = await client.storageVolCreateXML(
      'vmdisk',
      "<volume><name>a.qcow2</name><capacity unit='G'>1</capacity><target><format type='qcow2'/></target></volume>",
    );
    assert.equal(v.path, join(vmdir, 'a.qcow2'));
    assert.deepEqual(
      (await client.listStorageVols('vmdisk')).map((x) => x.name),
      ['a.qcow2'],
    );
    const info = await client.storageVolGetInfo({ pool: 'vmdisk', name: 'a.qcow2' });
    assert.equal(info.capacity, 1024 ** 3);
    assert.equal(info.format, 'qcow2');
    assert.match(
      await client.storageVolGetXMLDesc({ pool: 'vmdisk', name: 'a.qcow2' }),
      /<format type='qcow2'\/>/,
    );
    assert.equal(await client.storageVolGetPath({ pool: 'vmdisk', name: 'a.qcow2' }), v.path);
    assert.equal((await client.storageVolLookupByPath(v.path)).name, 'a.qcow2');
    assert.equal((await client.storageVolLookupByKey(v.key)).pool, 'vmdisk');
    assert.equal((await client.storagePoolLookupByVolume(v.path)).name, 'vmdisk');
    await assert.rejects(
      client.storageVolCreateXML('vmdisk', '<volume><name>a.qcow2</name><capacity>1</capacity></volume>'),
      code('STORAGE_VOL_EXIST'),
    );
  });

  it('a clone reports progress through its tagged job', async () => {
    const data = Buffer.alloc(8 << 20, 7);
    await client.storageVolCreateXML(
      'vmdisk',
      '<volume><name>d.raw</name><capacity>8388608</capacity></volume>',
    );
    await client.storageVolUpload({ pool: 'vmdisk', name: 'd.raw' }, Readable.from([data]));
    const progress: number[] = [];
    await client.storageVolCreateXMLFrom(
      'vmdisk',
      '<volume><name>e.raw</name><capacity>0</capacity></volume>',
      { pool: 'vmdisk', name: 'd.raw' },
      {},
      { progress: (p) => progress.push(p) },
    );
    assert.ok(progress.length > 0, 'progress events arrived');
    assert.equal(progress.at(-1), 8 << 20);
    assert.deepEqual(await readFile(join(vmdir, 'e.raw')), data);
    const job = jobs.list().find((j) => j.operation === 'vol-create-from' && j.name === 'vmdisk/e.raw');
    assert.equal(job?.state, 'completed');
    assert.equal(job?.kind, 'volume');
  });

  it('a cancelled clone leaves nothing behind', async () => {
    const big = join(vmdir, 'big.raw');
    await writeFile(big, Buffer.alloc(256 << 20, 1));
    await client.storagePoolRefresh('vmdisk');
    const ac = new AbortController();
    const started = client.storageVolCreateXMLFrom(
      'vmdisk',
      '<volume><name>big2.raw</name><capacity>0</capacity></volume>',
      { pool: 'vmdisk', name: 'big.raw' },
      {},
      { signal: ac.signal, progress: () => ac.abort() },
    );
    setTimeout(() => ac.abort(), 5);
    await assert.rejects(started, code('OPERATION_ABORTED'));
    assert.deepEqual((await readdir(vmdir)).sort(), ['a.qcow2', 'big.raw', 'd.raw', 'e.raw']);
    await assert.rejects(
      client.storageVolGetInfo({ pool: 'vmdisk', name: 'big2.raw' }),
      code('NO_STORAGE_VOL'),
    );
    await client.storageVolDelete({ pool: 'vmdisk', name: 'big.raw' });
  });

  it('sparse upload and download keep holes and bytes', async () => {
    const ref = { pool: 'vmdisk', name: 's.raw' };
    await client.storageVolCreateXML(
      'vmdisk',
      '<volume><name>s.raw</name><capacity>16777216</capacity></volume>',
    );
    const head = Buffer.alloc(1 << 20, 3);
    const tail = Buffer.alloc(1 << 20, 4);
    await client.storageVolUpload(
      ref,
      Readable.from([head, { hole: 14 << 20 }, tail], { objectMode: true }),
      {
        sparse: true,
      },
    );
    const chunks: (Buffer | { hole: number })[] = [];
    for await (const c of await client.storageVolDownload(ref, { sparse: true })) chunks.push(c);
    const holes = chunks
      .filter((c) => !Buffer.isBuffer(c))
      .reduce((a, c) => a + (c as { hole: number }).hole, 0);
    assert.ok(holes >= 12 << 20, `holes travel as holes (${holes})`);
    const plain: Buffer[] = [];
    for await (const c of await client.storageVolDownload(ref)) plain.push(c as Buffer);
    const all = Buffer.concat(plain);
    assert.equal(all.length, 16 << 20);
    assert.deepEqual(all.subarray(0, 1 << 20), head);
    assert.deepEqual(all.subarray(15 << 20), tail);
    assert.ok(all.subarray(1 << 20, 15 << 20).every((b) => b === 0));
    // A window: 4 bytes at offset 1 MiB - 2.
    const w: Buffer[] = [];
    for await (const c of await client.storageVolDownload(ref, { offset: (1 << 20) - 2, length: 4 }))
      w.push(c as Buffer);
    assert.deepEqual(Buffer.concat(w), Buffer.from([3, 3, 0, 0]));
  });

  it('wipe, resize, delete; a pool with volumes is not deleted', async () => {
    const ref = { pool: 'vmdisk', name: 'd.raw' };
    await client.storageVolWipe(ref);
    assert.ok((await readFile(join(vmdir, 'd.raw'))).every((b) => b === 0));
    await client.storageVolResize(ref, 16 << 20);
    assert.equal((await client.storageVolGetInfo(ref)).capacity, 16 << 20);
    await assert.rejects(client.storageVolResize(ref, 1 << 20), code('INVALID_ARG'));
    await client.storageVolDelete(ref);
    assert.equal(existsSync(join(vmdir, 'd.raw')), false);
    await client.storagePoolDestroy('vmdisk');
    await assert.rejects(client.storagePoolDelete('vmdisk'), code('OPERATION_INVALID'));
    assert.ok(existsSync(join(vmdir, 'a.qcow2')));
    await client.storagePoolUndefine('vmdisk');
    await assert.rejects(client.storagePoolLookup('vmdisk'), code('NO_STORAGE_POOL'));
  });
});

describe('sparse stream frames', () => {
  it('round-trip, split at any byte', async () => {
    const src = [Buffer.from('abc'), { hole: 5 }, Buffer.from('de'), { hole: 0 }];
    const frames: Buffer[] = [];
    for await (const f of encodeSparse(Readable.from(src, { objectMode: true }))) frames.push(f);
    const bytes = Buffer.concat(frames);
    const split = [...bytes].map((b) => Buffer.from([b]));
    const out: (Buffer | { hole: number })[] = [];
    for await (const c of decodeSparse(Readable.from(split))) out.push(c);
    const text = out.map((c) => (Buffer.isBuffer(c) ? c.toString() : `<${c.hole}>`)).join('');
    assert.equal(text, 'abc<5>de');
    await assert.rejects(async () => {
      for await (const _ of decodeSparse(Readable.from([bytes.subarray(0, 5)]))) void _;
    }, /ended inside a frame/);
  });
});
