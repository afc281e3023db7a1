// StorageDriver on real dir pools in temp directories: lifecycle, persistence, volumes, clones, streams, cancel, safety.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ConfigStore } from '../../daemon/config-store.js';
import type { JobContext } from '../../daemon/jobs.js';
import { isVirError } from '../../util/errors.js';
import type { StorageJobOptions } from './storage-api.js';
import { StorageDriver } from './storage-driver.js';

// A daemon job context is accepted as is wherever the driver takes job options.
const _jobFits: (ctx: JobContext) => StorageJobOptions = (ctx) => ctx;
void _jobFits;

const hasQemuImg = spawnSync('qemu-img', ['--version']).status === 0;
const skip = hasQemuImg ? false : 'qemu-img not installed';

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tvirt-storage-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function storeAt(dir: string): ConfigStore {
  return new ConfigStore({
    dir: join(dir, 'etc'),
    autostartDir: join(dir, 'etc', 'autostart'),
    noSync: true,
  });
}

/** A fresh driver with an active dir pool 'p' at a new directory. */
async function setup(opts: { inUse?: (p: string) => string | undefined } = {}) {
  const dir = join(root, `t${++n}`);
  const drv = new StorageDriver({ store: storeAt(dir), isVolumeInUse: opts.inUse });
  const target = join(dir, 'images');
  await drv.storagePoolDefineXML(
    `<pool type='dir'><name>p</name><target><path>${target}</path></target></pool>`,
  );
  await drv.storagePoolBuild('p');
  await drv.storagePoolCreate('p');
  return { drv, dir, target };
}

const volXml = (name: string, cap: string, format = 'raw', extra = '') =>
  `<volume><name>${name}</name><capacity unit='bytes'>${cap}</capacity><allocation>0</allocation><target><format type='${format}'/></target>${extra}</volume>`;

/** Writes `mib` MiB of random data at `atMiB` into a file (keeps the rest sparse). */
async function fillRandom(path: string, atMiB: number, mib: number): Promise<void> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r+');
  const { randomBytes } = await import('node:crypto');
  for (let i = 0; i < mib; i++) await fh.write(randomBytes(1 << 20), 0, 1 << 20, (atMiB + i) * (1 << 20));
  await fh.close();
}

async function allocated(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

describe('dir pool lifecycle', { skip }, () => {
  it('define, build, start, list, info, xml, autostart, destroy, undefine; persisted across drivers', async () => {
    const dir = join(root, 'life');
    const target = join(dir, 'vmdisk');
    const events: string[] = [];
    const drv = new StorageDriver({
      store: storeAt(dir),
      onEvent: (e) => events.push(`${e.name}:${e.event}`),
    });
    const s = await drv.storagePoolDefineXML(
      `<pool type='dir'><name>vmdisk</name><target><path>${target}</path></target></pool>`,
    );
    assert.equal(s.active, false);
    assert.equal(s.persistent, true);
    await assert.rejects(drv.listStorageVols('vmdisk'), {
      code: 'OPERATION_INVALID',
      message: "storage pool 'vmdisk' is not active",
    });
    await assert.rejects(drv.storagePoolCreate('vmdisk'), /does not exist; build it first/);
    await drv.storagePoolBuild('vmdisk');
    assert.equal((await stat(target)).mode & 0o777, 0o711);
    assert.deepEqual(
      (await drv.listStoragePools({ inactive: true })).map((p) => p.name),
      ['vmdisk'],
    );
    await drv.storagePoolCreate('vmdisk');
    await assert.rejects(drv.storagePoolCreate('vmdisk'), {
      code: 'OPERATION_INVALID',
      message: "storage pool 'vmdisk' is already active",
    });
    await assert.rejects(drv.storagePoolBuild('vmdisk'), { code: 'OPERATION_INVALID' });
    await drv.storagePoolSetAutostart('vmdisk', true);
    const info = await drv.storagePoolGetInfo('vmdisk');
    assert.equal(info.state, 'running');
    assert.ok(info.capacity > 0 && info.available > 0 && info.allocation > 0);
    assert.equal((await drv.storagePoolLookup(s.uuid)).name, 'vmdisk');
    await assert.rejects(drv.storagePoolLookup('nope'), { code: 'NO_STORAGE_POOL' });
    const xml = await drv.storagePoolGetXMLDesc('vmdisk');
    assert.match(xml, /<pool type="dir">|<pool type='dir'>/);
    assert.match(xml, new RegExp(`<path>${target}</path>`));

    // A second driver on the same store finds the pool and autostarts it.
    const drv2 = new StorageDriver({ store: storeAt(dir) });
    await drv2.init();
    assert.deepEqual(await drv2.listStoragePools({ active: true, autostart: true }), [
      { name: 'vmdisk', uuid: s.uuid, type: 'dir', active: true, persistent: true, autostart: true },
    ]);

    await drv.storagePoolDestroy('vmdisk');
    await assert.rejects(drv.storagePoolDestroy('vmdisk'), {
      message: "storage pool 'vmdisk' is not active",
    });
    await drv.storagePoolDelete('vmdisk');
    await assert.rejects(stat(target), { code: 'ENOENT' });
    await drv.storagePoolUndefine('vmdisk');
    assert.deepEqual(await drv.listStoragePools(), []);
    assert.deepEqual(events, [
      'vmdisk:defined',
      'vmdisk:created',
      'vmdisk:started',
      'vmdisk:stopped',
      'vmdisk:deleted',
      'vmdisk:undefined',
    ]);
  });

  it('transient pools vanish when destroyed; names and target paths stay unique', async () => {
    const { drv, dir, target } = await setup();
    const t = join(dir, 'transient');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(t);
    const s = await drv.storagePoolCreateXML(
      `<pool type='dir'><name>tmp</name><target><path>${t}</path></target></pool>`,
    );
    assert.deepEqual([s.active, s.persistent], [true, false]);
    await assert.rejects(drv.storagePoolSetAutostart('tmp', true), { code: 'OPERATION_INVALID' });
    await drv.storagePoolDestroy('tmp');
    await assert.rejects(drv.storagePoolLookup('tmp'), { code: 'NO_STORAGE_POOL' });
    await assert.rejects(
      drv.storagePoolDefineXML(
        `<pool type='dir'><name>other</name><target><path>${target}</path></target></pool>`,
      ),
      /already in use by pool 'p'/,
    );
    // libvirt's two duplicate checks, word for word: another pool's name, another pool's uuid.
    const p = await drv.storagePoolLookup('p');
    const other = join(dir, 'other');
    await assert.rejects(
      drv.storagePoolDefineXML(
        `<pool type='dir'><name>p</name><uuid>11111111-2222-3333-4444-555555555555</uuid><target><path>${other}</path></target></pool>`,
      ),
      { code: 'OPERATION_FAILED', message: `operation failed: pool 'p' already exists with uuid ${p.uuid}` },
    );
    await assert.rejects(
      drv.storagePoolDefineXML(
        `<pool type='dir'><name>q</name><uuid>${p.uuid}</uuid><target><path>${other}</path></target></pool>`,
      ),
      {
        code: 'OPERATION_FAILED',
        message: `operation failed: pool 'p' is already defined with uuid ${p.uuid}`,
      },
    );
    await assert.rejects(drv.storagePoolLookup('nosuch'), {
      code: 'NO_STORAGE_POOL',
      message: "Storage pool not found: no storage pool with matching name 'nosuch'",
    });
    await assert.rejects(
      drv.storagePoolDefineXML(
        `<pool type='iscsi'><name>i</name><source><host name='h'/><device path='iqn.x'/></source><target><path>/dev/disk/by-path</path></target></pool>`,
      ),
      { code: 'NO_SUPPORT' },
    );
  });

  it('running pools come back after a restart through the status store; stopped ones do not', async () => {
    const dir = join(root, 'status');
    const mk = () =>
      new StorageDriver({
        store: storeAt(dir),
        statusStore: new ConfigStore({ dir: join(dir, 'run'), noSync: true }),
      });
    const drv = mk();
    const { mkdir } = await import('node:fs/promises');
    for (const name of ['a', 'b', 'gone']) {
      await drv.storagePoolDefineXML(
        `<pool type='dir'><name>${name}</name><target><path>${join(dir, name)}</path></target></pool>`,
      );
      await drv.storagePoolBuild(name);
      await drv.storagePoolCreate(name);
    }
    const t = join(dir, 'tr');
    await mkdir(t);
    await drv.storagePoolCreateXML(
      `<pool type='dir'><name>tr</name><target><path>${t}</path></target></pool>`,
    );
    await drv.storageVolCreateXML('a', volXml('v.img', '1024'));
    await drv.storagePoolDestroy('b');
    await rm(join(dir, 'gone'), { recursive: true });
    const errors: string[] = [];
    const drv2 = mk();
    await drv2.init((p) => errors.push(p));
    assert.deepEqual(
      (await drv2.listStoragePools()).map((p) => [p.name, p.active, p.persistent]),
      [
        ['a', true, true],
        ['b', false, true],
        ['gone', false, true],
        ['tr', true, false],
      ],
    );
    assert.deepEqual(
      (await drv2.listStorageVols('a')).map((v) => v.name),
      ['v.img'],
    );
    assert.match(await drv2.storagePoolGetCapabilities(), /<pool type='dir' supported='yes'>/);
  });

  it('ensureDefaultPool creates, builds, starts and autostarts `default` once', async () => {
    const dir = join(root, 'default');
    const drv = new StorageDriver({ store: storeAt(dir) });
    const s = await drv.ensureDefaultPool(join(dir, 'images'));
    assert.deepEqual([s.name, s.active, s.autostart, s.persistent], ['default', true, true, true]);
    const again = await drv.ensureDefaultPool(join(dir, 'images'));
    assert.equal(again.uuid, s.uuid);
    const drv2 = new StorageDriver({ store: storeAt(dir) });
    await drv2.init();
    assert.equal((await drv2.storagePoolLookup('default')).active, true);
  });

  it('a pool target that is not a directory is refused at build and start', async () => {
    const dir = join(root, 'notdir');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'file'), 'x');
    const drv = new StorageDriver({ store: storeAt(dir) });
    await drv.storagePoolDefineXML(
      `<pool type='dir'><name>f</name><target><path>${join(dir, 'file')}</path></target></pool>`,
    );
    await assert.rejects(drv.storagePoolBuild('f'), /exists and is not a directory/);
    await assert.rejects(drv.storagePoolCreate('f'), {
      code: 'OPERATION_INVALID',
      message: /is not a directory/,
    });
    assert.equal(await readFile(join(dir, 'file'), 'utf8'), 'x');
  });
});

describe('dir pool volumes', { skip }, () => {
  it('creates qcow2 and raw volumes and reads them back like qemu-img info', async () => {
    const { drv, target } = await setup();
    const q = await drv.storageVolCreateXML('p', volXml('a.qcow2', String(1 << 30), 'qcow2'));
    assert.equal(q.path, join(target, 'a.qcow2'));
    assert.equal(q.key, q.path);
    const qi = await drv.storageVolGetInfo({ pool: 'p', name: 'a.qcow2' });
    assert.deepEqual([qi.capacity, qi.format, qi.type], [1 << 30, 'qcow2', 'file']);
    assert.ok(qi.allocation < 1 << 20);
    // What the driver says right after creating equals what qemu-img info says on refresh.
    const lazy = await drv.storageVolCreateXML(
      'p',
      volXml('l.qcow2', String(1 << 30), 'qcow2').replace(
        '</target>',
        '<features><lazy_refcounts/></features></target>',
      ),
    );
    const strip = (x: string) => x.replace(/<timestamps>[\s\S]*<\/timestamps>/, '');
    const justMade = strip(await drv.storageVolGetXMLDesc({ pool: 'p', name: 'l.qcow2' }));
    await drv.storagePoolRefresh('p');
    assert.equal(strip(await drv.storageVolGetXMLDesc({ pool: 'p', name: 'l.qcow2' })), justMade);
    assert.match(justMade, /<lazy_refcounts\/>/);
    await drv.storageVolDelete({ pool: 'p', name: lazy.name });
    const r = await drv.storageVolCreateXML('p', volXml('b.img', String(64 << 20)));
    const ri = await drv.storageVolGetInfo({ pool: 'p', name: 'b.img' });
    assert.deepEqual([ri.capacity, ri.format, ri.allocation], [64 << 20, 'raw', 0]);
    // Full allocation when asked (the XML's allocation defaults to its capacity, as libvirt).
    await drv.storageVolCreateXML(
      'p',
      `<volume><name>full.img</name><capacity unit='MiB'>4</capacity></volume>`,
    );
    assert.equal((await drv.storageVolGetInfo({ pool: 'p', name: 'full.img' })).allocation, 4 << 20);
    // Overlay with a backing store in the pool.
    await drv.storageVolCreateXML(
      'p',
      volXml(
        'overlay.qcow2',
        '0',
        'qcow2',
        `<backingStore><path>${r.path}</path><format type='raw'/></backingStore>`,
      ).replace("<capacity unit='bytes'>0</capacity>", ''),
    );
    const oi = await drv.storageVolGetInfo({ pool: 'p', name: 'overlay.qcow2' });
    assert.deepEqual(
      [oi.capacity, oi.format, oi.backingStore],
      [64 << 20, 'qcow2', { path: r.path, format: 'raw' }],
    );
    assert.match(await drv.storageVolGetXMLDesc({ pool: 'p', name: 'overlay.qcow2' }), /<backingStore>/);
    assert.equal((await drv.storageVolLookupByPath(r.path)).name, 'b.img');
    assert.equal((await drv.storageVolLookupByKey(q.key)).name, 'a.qcow2');
    assert.equal(await drv.storageVolGetPath({ pool: 'p', name: 'a.qcow2' }), q.path);
    assert.deepEqual(
      (await drv.listStorageVols('p')).map((v) => v.name),
      ['a.qcow2', 'b.img', 'full.img', 'overlay.qcow2'],
    );
    await assert.rejects(drv.storageVolCreateXML('p', volXml('a.qcow2', '1024')), {
      code: 'STORAGE_VOL_EXIST',
      message: "storage volume 'a.qcow2' exists already",
    });
    // Files appearing behind the driver's back show up on refresh; the resolver serves <disk type='volume'>.
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(target, 'side.qcow2'), '1M']);
    await drv.storagePoolRefresh('p');
    assert.deepEqual(await drv.resolveDiskVolume('p', 'side.qcow2'), {
      diskType: 'file',
      path: join(target, 'side.qcow2'),
      format: 'qcow2',
      pool: 'p',
      volume: 'side.qcow2',
    });
    // Symlinks count only when they stay inside the pool.
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/hostname', join(target, 'escape.img'));
    await symlink(join(target, 'b.img'), join(target, 'alias.img'));
    await drv.storagePoolRefresh('p');
    const names = (await drv.listStorageVols('p')).map((v) => v.name);
    assert.ok(names.includes('alias.img') && !names.includes('escape.img'), names.join());
    await drv.storagePoolDestroy('p');
    await assert.rejects(
      drv.resolveDiskVolume('p', 'side.qcow2'),
      /containing volume 'side.qcow2' is not active/,
    );
  });

  it('clones keep holes (raw and qcow2) and convert between formats', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('src.img', String(64 << 20)));
    await fillRandom(join(target, 'src.img'), 8, 4);
    await drv.storagePoolRefresh('p');
    const progress: number[] = [];
    const c = await drv.storageVolCreateXMLFrom(
      'p',
      volXml('clone.img', '0'),
      { pool: 'p', name: 'src.img' },
      {},
      {
        progress: (p) => progress.push(p),
      },
    );
    const ci = await drv.storageVolGetInfo({ pool: 'p', name: 'clone.img' });
    assert.equal(ci.capacity, 64 << 20);
    assert.ok((await allocated(c.path)) <= 5 << 20, `clone allocates ${await allocated(c.path)} bytes`);
    assert.deepEqual(await readFile(c.path), await readFile(join(target, 'src.img')));
    assert.equal(progress.at(-1), 64 << 20);
    // raw -> qcow2 conversion (qemu-img convert), then a qcow2 clone (byte copy).
    await drv.storageVolCreateXMLFrom('p', volXml('conv.qcow2', '0', 'qcow2'), {
      pool: 'p',
      name: 'src.img',
    });
    const qi = await drv.storageVolGetInfo({ pool: 'p', name: 'conv.qcow2' });
    assert.deepEqual([qi.format, qi.capacity], ['qcow2', 64 << 20]);
    assert.ok(qi.allocation < 6 << 20);
    await drv.storageVolCreateXMLFrom('p', volXml('conv2.qcow2', '0', 'qcow2'), {
      pool: 'p',
      name: 'conv.qcow2',
    });
    const cmp = spawnSync('qemu-img', [
      'compare',
      '-q',
      join(target, 'src.img'),
      join(target, 'conv2.qcow2'),
    ]);
    assert.equal(cmp.status, 0, 'clone has the same guest-visible content');
    // A bigger capacity grows the clone.
    await drv.storageVolCreateXMLFrom('p', volXml('big.img', String(128 << 20)), {
      pool: 'p',
      name: 'src.img',
    });
    assert.equal((await drv.storageVolGetInfo({ pool: 'p', name: 'big.img' })).capacity, 128 << 20);
    assert.deepEqual(
      (await readdir(target)).filter((f) => f.includes('tvirt-part')),
      [],
    );
  });

  it('reflink: a copy-on-write clone or a clear failure that leaves nothing (never a byte copy)', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('src.img', String(4 << 20)));
    await fillRandom(join(target, 'src.img'), 1, 1);
    await drv.storagePoolRefresh('p');
    const probe = join(target, 'probe');
    const canReflink = spawnSync('cp', ['--reflink=always', join(target, 'src.img'), probe]).status === 0;
    await rm(probe, { force: true });
    const clone = () =>
      drv.storageVolCreateXMLFrom(
        'p',
        volXml('r.img', '0'),
        { pool: 'p', name: 'src.img' },
        { reflink: true },
      );
    if (canReflink) {
      const c = await clone();
      assert.deepEqual(await readFile(c.path), await readFile(join(target, 'src.img')));
    } else {
      await assert.rejects(
        clone(),
        (e) =>
          isVirError(e, 'OPERATION_UNSUPPORTED') &&
          e.message.includes(`reflink is not supported by the file system of '${target}'`),
      );
      assert.deepEqual(await readdir(target), ['src.img']);
      await assert.rejects(drv.storageVolGetInfo({ pool: 'p', name: 'r.img' }), { code: 'NO_STORAGE_VOL' });
    }
    // A conversion writes new blocks: refused with --reflink whatever the file system.
    await assert.rejects(
      drv.storageVolCreateXMLFrom(
        'p',
        volXml('r.qcow2', '0', 'qcow2'),
        { pool: 'p', name: 'src.img' },
        { reflink: true },
      ),
      (e) => isVirError(e, 'OPERATION_UNSUPPORTED') && /reflink needs a plain copy/.test(e.message),
    );
    assert.ok(!(await readdir(target)).includes('r.qcow2'));
  });

  it('a cancelled clone leaves nothing behind', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('src.img', String(64 << 20)));
    await fillRandom(join(target, 'src.img'), 0, 40);
    await drv.storagePoolRefresh('p');
    for (const format of ['raw', 'qcow2']) {
      const ac = new AbortController();
      await assert.rejects(
        drv.storageVolCreateXMLFrom(
          'p',
          volXml(`c.${format}`, '0', format),
          { pool: 'p', name: 'src.img' },
          {},
          {
            signal: ac.signal,
            progress: (p) => {
              if (p > 0) ac.abort();
            },
          },
        ),
        (e) => isVirError(e, 'OPERATION_ABORTED'),
      );
      assert.deepEqual((await readdir(target)).sort(), ['src.img'], `after cancelling the ${format} clone`);
      await assert.rejects(drv.storageVolGetInfo({ pool: 'p', name: `c.${format}` }), {
        code: 'NO_STORAGE_VOL',
      });
    }
    // A mostly-hole source goes through cp: cancelling it leaves nothing either.
    await drv.storageVolCreateXML('p', volXml('holes.img', String(256 << 20)));
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      drv.storageVolCreateXMLFrom(
        'p',
        volXml('h2.img', '0'),
        { pool: 'p', name: 'holes.img' },
        {},
        { signal: ac.signal },
      ),
      (e) => isVirError(e, 'OPERATION_ABORTED'),
    );
    assert.deepEqual((await readdir(target)).sort(), ['holes.img', 'src.img']);
    // The source is free again.
    await drv.storageVolDelete({ pool: 'p', name: 'src.img' });
  });

  it('resizes raw and qcow2, refusing to shrink without the flag', async () => {
    const { drv } = await setup();
    await drv.storageVolCreateXML('p', volXml('r.img', String(16 << 20)));
    await drv.storageVolCreateXML('p', volXml('q.qcow2', String(16 << 20), 'qcow2'));
    for (const name of ['r.img', 'q.qcow2']) {
      const ref = { pool: 'p', name };
      await drv.storageVolResize(ref, 32 << 20);
      assert.equal((await drv.storageVolGetInfo(ref)).capacity, 32 << 20);
      await drv.storageVolResize(ref, 8 << 20, { delta: true });
      assert.equal((await drv.storageVolGetInfo(ref)).capacity, 40 << 20);
      await assert.rejects(drv.storageVolResize(ref, 8 << 20), {
        code: 'INVALID_ARG',
        message: "Can't shrink capacity below current capacity unless shrink flag explicitly specified",
      });
      await drv.storageVolResize(ref, 8 << 20, { shrink: true });
      assert.equal((await drv.storageVolGetInfo(ref)).capacity, 8 << 20);
    }
  });

  it('wipes raw data to zeros and leaves a wiped qcow2 a valid empty image', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('r.img', String(8 << 20)));
    await fillRandom(join(target, 'r.img'), 2, 2);
    await drv.storagePoolRefresh('p');
    const seen: number[] = [];
    await drv.storageVolWipe({ pool: 'p', name: 'r.img' }, 'zero', { progress: (p, t) => seen.push(p / t) });
    const data = await readFile(join(target, 'r.img'));
    assert.equal(data.length, 8 << 20);
    assert.ok(data.every((b) => b === 0));
    assert.equal(seen.at(-1), 1);
    await drv.storageVolCreateXMLFrom('p', volXml('q.qcow2', '0', 'qcow2'), { pool: 'p', name: 'r.img' });
    await drv.storageVolWipe({ pool: 'p', name: 'q.qcow2' });
    const qi = await drv.storageVolGetInfo({ pool: 'p', name: 'q.qcow2' });
    assert.deepEqual([qi.format, qi.capacity], ['qcow2', 8 << 20]);
    await assert.rejects(drv.storageVolWipe({ pool: 'p', name: 'q.qcow2' }, 'trim'), {
      code: 'ARGUMENT_UNSUPPORTED',
    });
  });

  it('uploads and downloads round trip, plain and sparse', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('u.img', String(16 << 20)));
    const { randomBytes } = await import('node:crypto');
    const payload = Buffer.concat([Buffer.alloc(4 << 20), randomBytes(1 << 20), Buffer.alloc(11 << 20)]);
    await drv.storageVolUpload(
      { pool: 'p', name: 'u.img' },
      Readable.from([payload.subarray(0, 7 << 20), payload.subarray(7 << 20)]),
    );
    assert.deepEqual(await readFile(join(target, 'u.img')), payload);
    assert.ok((await allocated(join(target, 'u.img'))) <= 2 << 20, 'uploaded zeros stay holes');
    const plain: Buffer[] = [];
    for await (const c of await drv.storageVolDownload({ pool: 'p', name: 'u.img' })) plain.push(c as Buffer);
    assert.deepEqual(Buffer.concat(plain), payload);
    const sparse: unknown[] = [];
    for await (const c of await drv.storageVolDownload({ pool: 'p', name: 'u.img' }, { sparse: true }))
      sparse.push(c);
    const holes = sparse.filter((c) => !Buffer.isBuffer(c)) as { hole: number }[];
    assert.equal(
      holes.reduce((a, h) => a + h.hole, 0),
      15 << 20,
    );
    // Sparse stream back into a second volume, and a windowed upload into the middle.
    await drv.storageVolCreateXML('p', volXml('v.img', String(16 << 20)));
    await drv.storageVolUpload({ pool: 'p', name: 'v.img' }, Readable.from(sparse), { sparse: true });
    assert.deepEqual(await readFile(join(target, 'v.img')), payload);
    await drv.storageVolUpload({ pool: 'p', name: 'v.img' }, Readable.from([Buffer.from('hello')]), {
      offset: 100,
      length: 5,
    });
    assert.equal((await readFile(join(target, 'v.img'))).subarray(100, 105).toString(), 'hello');
    const part: Buffer[] = [];
    for await (const c of await drv.storageVolDownload(
      { pool: 'p', name: 'v.img' },
      { offset: 100, length: 5 },
    ))
      part.push(c as Buffer);
    assert.equal(Buffer.concat(part).toString(), 'hello');
  });

  it('a whole-volume upload shorter than the volume keeps its size (libvirt writes in place)', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('s.img', String(10 << 20)));
    await drv.storageVolUpload({ pool: 'p', name: 's.img' }, Readable.from([Buffer.from('x'.repeat(1000))]));
    const data = await readFile(join(target, 's.img'));
    assert.equal(data.length, 10 << 20);
    assert.equal(data.subarray(0, 1000).toString(), 'x'.repeat(1000));
    assert.ok(data.subarray(1000).every((b) => b === 0));
    assert.equal((await drv.storageVolGetInfo({ pool: 'p', name: 's.img' })).capacity, 10 << 20);
    // A sparse upload of 8 MiB into a 16 MiB volume too.
    await drv.storageVolCreateXML('p', volXml('t.img', String(16 << 20)));
    await drv.storageVolUpload({ pool: 'p', name: 't.img' }, Readable.from([{ hole: 8 << 20 }]), {
      sparse: true,
    });
    assert.equal((await drv.storageVolGetInfo({ pool: 'p', name: 't.img' })).capacity, 16 << 20);
  });

  it('a failed whole-volume upload keeps the old content and leaves no temp file', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('u.img', String(1 << 20)));
    await writeFile(join(target, 'u.img'), Buffer.alloc(1 << 20, 7));
    async function* broken() {
      yield Buffer.alloc(1 << 20, 1);
      throw new Error('client went away');
    }
    await assert.rejects(drv.storageVolUpload({ pool: 'p', name: 'u.img' }, broken()), /client went away/);
    assert.ok((await readFile(join(target, 'u.img'))).every((b) => b === 7));
    assert.deepEqual(await readdir(target), ['u.img']);
  });
});

describe('bad input and safety', { skip }, () => {
  it('refuses bad volume names, paths outside the pool and bad units, creating nothing', async () => {
    const { drv, target, dir } = await setup();
    for (const name of ['a/b', '../x', '..', '.', '.hidden', '']) {
      await assert.rejects(drv.storageVolCreateXML('p', volXml(name, '1024')), (e) => isVirError(e), name);
    }
    await assert.rejects(drv.storageVolCreateXML('p', volXml('a/b', '1024')), {
      code: 'OPERATION_INVALID',
      message: "volume name 'a/b' cannot contain '/'",
    });
    await assert.rejects(
      drv.storageVolCreateXML(
        'p',
        `<volume><name>x</name><capacity>1024</capacity><target><path>${join(dir, 'x')}</path></target></volume>`,
      ),
      { code: 'INVALID_ARG', message: /is outside pool 'p'/ },
    );
    await assert.rejects(
      drv.storageVolCreateXML('p', `<volume><name>x</name><capacity unit='zz'>1</capacity></volume>`),
      {
        code: 'INVALID_ARG',
        message: "unknown suffix 'zz'",
      },
    );
    await assert.rejects(
      drv.storageVolCreateXML('p', `<volume><name>x</name><capacity>-5</capacity></volume>`),
      {
        code: 'XML_ERROR',
      },
    );
    await assert.rejects(
      drv.storageVolCreateXML(
        'p',
        volXml('x.img', '1024', 'raw', `<backingStore><path>/nonexistent/base</path></backingStore>`),
      ),
      /cannot set backing store for raw volume|inaccessible/,
    );
    await assert.rejects(
      drv.storageVolCreateXML(
        'p',
        volXml('x.qcow2', '1024', 'qcow2', `<backingStore><path>/nonexistent/base</path></backingStore>`),
      ),
      /inaccessible backing store volume \/nonexistent\/base/,
    );
    await assert.rejects(
      drv.storageVolCreateXML(
        'p',
        volXml('enc.img', '1024', 'raw', '').replace(
          '</target>',
          "<encryption format='luks'><secret type='passphrase' uuid='f52a81b2-424e-490c-823d-6bd4235bc572'/></encryption></target>",
        ),
      ),
      { code: 'CONFIG_UNSUPPORTED', message: /encrypted volumes are not supported yet/ },
    );
    assert.deepEqual(await readdir(target), []);
    assert.deepEqual(await drv.listStorageVols('p'), []);
  });

  it('refuses to delete, wipe, resize or upload a volume a running domain uses', async () => {
    let user: string | undefined = 'web1';
    const { drv } = await setup({ inUse: () => user });
    const v = await drv.storageVolCreateXML('p', volXml('disk.qcow2', String(1 << 20), 'qcow2'));
    const ref = { pool: 'p', name: 'disk.qcow2' };
    await assert.rejects(drv.storageVolDelete(ref), {
      code: 'OPERATION_INVALID',
      message: `volume 'disk.qcow2' (${v.path}) is in use by running domain 'web1'; shut the domain down or detach the disk first`,
    });
    await assert.rejects(drv.storageVolWipe(ref), { code: 'OPERATION_INVALID' });
    await assert.rejects(drv.storageVolResize(ref, 2 << 20), { code: 'OPERATION_INVALID' });
    await assert.rejects(drv.storageVolUpload(ref, Readable.from([Buffer.from('x')])), {
      code: 'OPERATION_INVALID',
    });
    await stat(v.path);
    user = undefined;
    await drv.storageVolDelete(ref);
    await assert.rejects(stat(v.path), { code: 'ENOENT' });
  });

  it("the live XML shows the target directory's permissions, as libvirt's refresh fills them", async () => {
    const { drv, target } = await setup();
    const { chmod } = await import('node:fs/promises');
    await chmod(target, 0o750);
    await drv.storagePoolRefresh('p');
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    assert.match(
      await drv.storagePoolGetXMLDesc('p'),
      new RegExp(
        `<path>${target}</path>\\n    <permissions>\\n      <mode>0750</mode>\\n      <owner>${uid}</owner>\\n      <group>${gid}</group>\\n    </permissions>`,
      ),
    );
    assert.doesNotMatch(await drv.storagePoolGetXMLDesc('p', { inactive: true }), /<permissions>/);
  });

  it('refuses to delete a pool that still holds volumes unless asked', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('keep.img', '1024'));
    await assert.rejects(drv.storagePoolDelete('p'), {
      code: 'OPERATION_INVALID',
      message: "storage pool 'p' is still active",
    });
    await drv.storagePoolDestroy('p');
    await assert.rejects(drv.storagePoolDelete('p'), {
      code: 'OPERATION_INVALID',
      message: /storage pool 'p' still holds 1 volume\(s\) \(keep.img\)/,
    });
    await stat(join(target, 'keep.img'));
    await drv.storagePoolDelete('p', { withVolumes: true });
    await assert.rejects(stat(target), { code: 'ENOENT' });
  });

  it('deleting a pool with its volumes checks them all first: one in use deletes nothing', async () => {
    const { drv, target } = await setup({ inUse: (p) => (p.endsWith('b.img') ? 'vm1' : undefined) });
    for (const name of ['a.img', 'b.img', 'c.img']) await drv.storageVolCreateXML('p', volXml(name, '1024'));
    await drv.storagePoolDestroy('p');
    await assert.rejects(drv.storagePoolDelete('p'), {
      message:
        "storage pool 'p' still holds 3 volume(s) (a.img, b.img, c.img); delete them first (vol-delete)",
    });
    await assert.rejects(drv.storagePoolDelete('p', { withVolumes: true }), { code: 'OPERATION_INVALID' });
    assert.deepEqual((await readdir(target)).sort(), ['a.img', 'b.img', 'c.img']);
  });

  it('a pool with a running clone cannot be destroyed; its volumes cannot be deleted mid-build', async () => {
    const { drv, target } = await setup();
    await drv.storageVolCreateXML('p', volXml('src.img', String(32 << 20)));
    await fillRandom(join(target, 'src.img'), 0, 24);
    await drv.storagePoolRefresh('p');
    let checked = false;
    await drv.storageVolCreateXMLFrom(
      'p',
      volXml('c.img', '0'),
      { pool: 'p', name: 'src.img' },
      {},
      {
        progress: () => {
          if (checked) return;
          checked = true;
          assert.rejects(drv.storagePoolDestroy('p'), { message: "pool 'p' has asynchronous jobs running." });
          assert.rejects(drv.storageVolDelete({ pool: 'p', name: 'src.img' }), {
            message: "volume 'src.img' is still in use.",
          });
          assert.rejects(drv.storageVolGetInfo({ pool: 'p', name: 'c.img' }), { code: 'NO_STORAGE_VOL' });
        },
      },
    );
    assert.ok(checked);
    await drv.storagePoolDestroy('p');
  });
});
