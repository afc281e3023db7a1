import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVirError } from '../util/errors.js';
import { ConfigStore, driverStores } from './config-store.js';
import { driverDirs, rootPaths, sessionPaths, systemPaths } from './paths.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-store-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ConfigStore', () => {
  it('saves, lists, loads and removes objects with autostart links', async () => {
    const d = driverDirs(rootPaths(dir), 'qemu');
    const store = new ConfigStore({ dir: d.domains, autostartDir: d.domainsAutostart, noSync: true });
    assert.deepEqual(await store.list(), []);
    await store.save('vm1', '<domain><name>vm1</name></domain>');
    await store.save('vm2', '<domain><name>vm2</name></domain>\n');
    assert.deepEqual(await store.list(), ['vm1', 'vm2']);
    assert.equal(
      await readFile(join(dir, 'etc/qemu/vm1.xml'), 'utf8'),
      '<domain><name>vm1</name></domain>\n',
    );
    assert.equal((await lstat(join(dir, 'etc/qemu/vm1.xml'))).mode & 0o777, 0o600);
    await store.setAutostart('vm1', true);
    assert.equal(await readlink(join(dir, 'etc/qemu/autostart/vm1.xml')), join(dir, 'etc/qemu/vm1.xml'));
    assert.equal(await store.isAutostart('vm1'), true);
    assert.deepEqual(await store.listAutostart(), ['vm1']);
    assert.deepEqual(
      (await store.loadAll()).map((o) => o.name),
      ['vm1', 'vm2'],
    );
    assert.equal(await store.remove('vm1'), true);
    assert.equal(await store.isAutostart('vm1'), false);
    assert.equal(await store.load('vm1'), undefined);
    assert.equal(await store.remove('vm1'), false);
  });

  it('keeps runtime status apart from definitions', async () => {
    const stores = driverStores(driverDirs(rootPaths(dir), 'qemu'));
    await stores.domainStatus.save('vm', '<domstatus/>');
    await stores.networks.save('default', '<network/>');
    await stores.networks.setAutostart('default', true);
    assert.equal(await readFile(join(dir, 'run/qemu/vm.xml'), 'utf8'), '<domstatus/>\n');
    assert.equal(
      await readlink(join(dir, 'etc/qemu/networks/autostart/default.xml')),
      join(dir, 'etc/qemu/networks/default.xml'),
    );
  });

  it('refuses names that could escape its directory', async () => {
    const store = new ConfigStore({ dir: join(dir, 'x') });
    for (const bad of ['', '../etc/passwd', 'a/b', '.hidden'])
      await assert.rejects(store.save(bad, '<x/>'), (e) => isVirError(e, 'INVALID_ARG'));
    await assert.rejects(store.setAutostart('ok', true), (e) => isVirError(e, 'NO_SUPPORT'));
  });
});

describe('paths', () => {
  it('lays out --root, system and session modes', () => {
    const r = rootPaths('/tmp/t');
    assert.equal(r.socketPath, '/tmp/t/run/tvirt-sock');
    assert.deepEqual(
      [r.configDir, r.stateDir, r.runDir, r.logDir],
      ['/tmp/t/etc', '/tmp/t/lib', '/tmp/t/run', '/tmp/t/log'],
    );
    assert.equal(systemPaths().socketPath, '/run/tvirt/tvirt-sock');
    const s = sessionPaths({ HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' });
    assert.equal(s.socketPath, '/run/user/1000/tvirt/tvirt-sock');
    assert.equal(s.configDir, '/home/u/.config/tvirt');
    assert.equal(s.stateDir, '/home/u/.local/share/tvirt');
    assert.equal(sessionPaths({ HOME: '/home/u' }).socketPath, '/home/u/.cache/tvirt/run/tvirt-sock');
    const dd = driverDirs(systemPaths(), 'qemu');
    assert.equal(dd.networks, '/etc/tvirt/qemu/networks');
    assert.equal(dd.pools, '/etc/tvirt/storage');
    assert.equal(dd.domainStatus, '/run/tvirt/qemu');
  });
});
