// The StorageConnection contract suite, run against both implementations: the in-memory pools of
// test:///default and the host's StorageDriver as tvirtd serves it (temporary directory). Both must
// agree on the lifecycle and on libvirt's error codes.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeConnection } from '../api/fake-connection.test-util.js';
import { composeStorage, openHostStorage } from '../daemon/host-storage.js';
import { nullLogger } from '../daemon/log.js';
import { rootPaths } from '../daemon/paths.js';
import { isVirError } from '../util/errors.js';
import type { StorageConnection } from './connection.js';
import { TestStorage } from './test/storage.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const impls: [string, () => Promise<{ s: StorageConnection; base: string }>][] = [
  ['test:///default pools', async () => ({ s: new TestStorage(), base: '/contract' })],
  [
    "tvirtd's StorageDriver",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tvirt-storage-contract-'));
      dirs.push(dir);
      const paths = rootPaths(join(dir, 'root'));
      await mkdir(paths.configDir, { recursive: true });
      await mkdir(paths.runDir, { recursive: true });
      const host = await openHostStorage({ paths, log: nullLogger });
      return { s: composeStorage(new FakeConnection(), host), base: dir };
    },
  ],
];

const code = (c: string) => (e: unknown) => isVirError(e, c as never);

for (const [name, make] of impls) {
  describe(`StorageConnection contract: ${name}`, () => {
    it('pool lifecycle, volumes, lookups and errors', async () => {
      const { s, base } = await make();
      const target = join(base, 'vmdisk');
      const pool = await s.storagePoolDefineXML(
        `<pool type='dir'><name>vmdisk</name><target><path>${target}</path></target></pool>`,
      );
      assert.deepEqual(
        { active: pool.active, persistent: pool.persistent, autostart: pool.autostart, type: pool.type },
        { active: false, persistent: true, autostart: false, type: 'dir' },
      );
      assert.equal((await s.storagePoolLookup(pool.uuid)).name, 'vmdisk');
      await assert.rejects(s.storagePoolLookup('nosuch'), code('NO_STORAGE_POOL'));
      await assert.rejects(s.listStorageVols('vmdisk'), code('OPERATION_INVALID'));
      await assert.rejects(
        s.storageVolCreateXML('vmdisk', '<volume><name>a</name><capacity>1024</capacity></volume>'),
        code('OPERATION_INVALID'),
      );
      await assert.rejects(s.storagePoolDestroy('vmdisk'), code('OPERATION_INVALID'));
      assert.equal((await s.storagePoolGetInfo('vmdisk')).state, 'inactive');

      await s.storagePoolBuild('vmdisk');
      await s.storagePoolCreate('vmdisk');
      await assert.rejects(s.storagePoolCreate('vmdisk'), code('OPERATION_INVALID'));
      await assert.rejects(s.storagePoolBuild('vmdisk'), code('OPERATION_INVALID'));
      await assert.rejects(s.storagePoolDelete('vmdisk'), code('OPERATION_INVALID'));
      await s.storagePoolSetAutostart('vmdisk', true);
      assert.equal((await s.storagePoolLookup('vmdisk')).autostart, true);
      assert.deepEqual(
        (await s.listStoragePools({ active: true, autostart: true }))
          .map((p) => p.name)
          .filter((n) => n === 'vmdisk'),
        ['vmdisk'],
      );
      const info = await s.storagePoolGetInfo('vmdisk');
      assert.equal(info.state, 'running');
      assert.ok(info.capacity > 0);

      const v = await s.storageVolCreateXML(
        'vmdisk',
        "<volume><name>a.raw</name><capacity unit='M'>1</capacity><target><format type='raw'/></target></volume>",
      );
      assert.deepEqual(
        { name: v.name, pool: v.pool, path: v.path, key: v.key, type: v.type },
        {
          name: 'a.raw',
          pool: 'vmdisk',
          path: join(target, 'a.raw'),
          key: join(target, 'a.raw'),
          type: 'file',
        },
      );
      await assert.rejects(
        s.storageVolCreateXML('vmdisk', '<volume><name>a.raw</name><capacity>1024</capacity></volume>'),
        (e) => isVirError(e, 'OPERATION_FAILED') || isVirError(e, 'STORAGE_VOL_EXIST'),
      );
      for (const [bad, want] of [
        ['../x', 'OPERATION_INVALID'],
        ['a/b', 'OPERATION_INVALID'],
        ['..', 'INVALID_ARG'],
      ] as const)
        await assert.rejects(
          s.storageVolCreateXML('vmdisk', `<volume><name>${bad}</name><capacity>1024</capacity></volume>`),
          code(want),
          bad,
        );
      assert.equal((await s.storageVolLookupByPath(v.path)).name, 'a.raw');
      assert.equal((await s.storageVolLookupByKey(v.key)).name, 'a.raw');
      assert.equal((await s.storagePoolLookupByVolume(v.path)).name, 'vmdisk');
      await assert.rejects(s.storageVolLookupByName('vmdisk', 'nosuch'), code('NO_STORAGE_VOL'));
      await assert.rejects(s.storageVolLookupByPath('/nosuch'), code('NO_STORAGE_VOL'));
      const vi = await s.storageVolGetInfo({ pool: 'vmdisk', name: 'a.raw' });
      assert.equal(vi.capacity, 1 << 20);
      assert.match(await s.storageVolGetXMLDesc({ pool: 'vmdisk', name: 'a.raw' }), /<name>a\.raw<\/name>/);
      assert.equal(await s.storageVolGetPath({ pool: 'vmdisk', name: 'a.raw' }), v.path);

      const c = await s.storageVolCreateXMLFrom(
        'vmdisk',
        '<volume><name>b.raw</name><capacity>0</capacity></volume>',
        { pool: 'vmdisk', name: 'a.raw' },
      );
      assert.equal(c.path, join(target, 'b.raw'));
      assert.equal((await s.storageVolGetInfo({ pool: 'vmdisk', name: 'b.raw' })).capacity, 1 << 20);
      assert.deepEqual((await s.listStorageVols('vmdisk')).map((x) => x.name).sort(), ['a.raw', 'b.raw']);
      await s.storageVolDelete({ pool: 'vmdisk', name: 'b.raw' });
      await assert.rejects(s.storageVolGetInfo({ pool: 'vmdisk', name: 'b.raw' }), code('NO_STORAGE_VOL'));

      await s.storagePoolDestroy('vmdisk');
      await assert.rejects(
        s.storageVolGetInfo({ pool: 'vmdisk', name: 'a.raw' }),
        (e) => isVirError(e, 'OPERATION_INVALID') || isVirError(e, 'NO_STORAGE_VOL'),
      );
      await s.storagePoolUndefine('vmdisk');
      await assert.rejects(s.storagePoolLookup('vmdisk'), code('NO_STORAGE_POOL'));
    });

    it('transient pools disappear when stopped; autostart needs a persistent pool', async () => {
      const { s, base } = await make();
      await s.storagePoolCreateXML(
        `<pool type='dir'><name>tp</name><target><path>${join(base, 'tp')}</path></target></pool>`,
        base.startsWith('/contract') ? {} : { build: true },
      );
      const tp = await s.storagePoolLookup('tp');
      assert.deepEqual({ active: tp.active, persistent: tp.persistent }, { active: true, persistent: false });
      await assert.rejects(
        s.storagePoolSetAutostart('tp', true),
        (e) => isVirError(e, 'INVALID_ARG') || isVirError(e, 'OPERATION_INVALID'),
      );
      await s.storagePoolDestroy('tp');
      await assert.rejects(s.storagePoolLookup('tp'), code('NO_STORAGE_POOL'));
    });
  });
}
