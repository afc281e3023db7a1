// The daemon's storage half: the default pool at first start, pools across restarts, the composed
// Connection (storage calls, pool events, resolveDiskVolume) and the in-use check.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeConnection } from '../api/fake-connection.test-util.js';
import type { Connection, TvirtEvent } from '../drivers/connection.js';
import { composeStorage, defaultPoolDir, domainsUsingPath, openHostStorage } from './host-storage.js';
import { nullLogger } from './log.js';
import { type DaemonPaths, rootPaths } from './paths.js';

let dir: string;
let paths: DaemonPaths;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-host-storage-'));
  paths = rootPaths(dir);
  await mkdir(paths.configDir, { recursive: true });
  await mkdir(paths.runDir, { recursive: true });
});
after(() => rm(dir, { recursive: true, force: true }));

describe('host storage', () => {
  it('makes the default pool once: built, running, autostarted', async () => {
    const s = await openHostStorage({ paths, log: nullLogger });
    const info = await s.driver.storagePoolGetInfo('default');
    assert.equal(info.state, 'running');
    assert.equal(info.autostart, true);
    assert.ok(existsSync(defaultPoolDir({ paths })));
    assert.equal(
      await readlink(join(paths.configDir, 'storage', 'autostart', 'default.xml')),
      join(paths.configDir, 'storage', 'default.xml'),
    );
    await s.driver.storageVolCreateXML(
      'default',
      '<volume><name>v.raw</name><capacity>1024</capacity></volume>',
    );
    // A second daemon start finds the same pool (same uuid) with its volume.
    const again = await openHostStorage({ paths, log: nullLogger });
    assert.equal((await again.driver.storagePoolLookup('default')).uuid, info.uuid);
    assert.deepEqual(
      (await again.driver.listStorageVols('default')).map((v) => v.name),
      ['v.raw'],
    );
  });

  it('composes storage into a Connection and resolves volume disks', async () => {
    const s = await openHostStorage({ paths, log: nullLogger });
    const conn = composeStorage(new FakeConnection(), s);
    const seen: TvirtEvent[] = [];
    const off = conn.onEvent((e) => seen.push(e));
    assert.deepEqual(
      (await conn.listStoragePools()).map((p) => p.name),
      ['default'],
    );
    await conn.storagePoolRefresh('default');
    await conn.storagePoolCreateXML(
      `<pool type='dir'><name>t</name><target><path>${join(dir, 't')}</path></target></pool>`,
      { build: true },
    );
    await conn.storagePoolDestroy('t');
    off();
    const names = seen.filter((e) => e.kind === 'pool-lifecycle').map((e) => `${e.name} ${e.event}`);
    for (const want of ['t started', 't stopped']) assert.ok(names.includes(want), want);
    const r = await conn.resolveDiskVolume('default', 'v.raw');
    assert.deepEqual(r, {
      diskType: 'file',
      path: join(defaultPoolDir({ paths }), 'v.raw'),
      format: 'raw',
      pool: 'default',
      volume: 'v.raw',
    });
    assert.equal((await conn.getVersion()).hypervisorType, 'Test'); // the rest goes to the hypervisor
  });

  it('domainsUsingPath finds file, block and volume sources of running domains', async () => {
    const disk = (type: string, src: string, dev: string) =>
      `<disk type='${type}' device='disk'><source ${src}/><target dev='${dev}' bus='virtio'/></disk>`;
    const xml =
      `<domain type='qemu'><name>vm1</name><memory>1024</memory><os><type>hvm</type></os><devices>` +
      disk('volume', "pool='default' volume='v.raw'", 'vda') +
      disk('file', "file='/a&amp;b.img'", 'vdb') +
      disk('block', "dev='/dev/sdz'", 'vdc') +
      `</devices></domain>`;
    const fake = {
      listDomains: async () => [{ uuid: 'u1', name: 'vm1' }],
      domainGetXMLDesc: async () => xml,
    } as unknown as Pick<Connection, 'listDomains' | 'domainGetXMLDesc'>;
    const inUse = domainsUsingPath(fake, async (p, v) => ({ path: `/pools/${p}/${v}` }));
    assert.equal(await inUse('/a&b.img'), 'vm1');
    assert.equal(await inUse('/pools/default/v.raw'), 'vm1');
    assert.equal(await inUse('/dev/sdz'), 'vm1');
    assert.equal(await inUse('/other'), undefined);
  });
});
