// StorageDriver.reloadDefinitions (SIGHUP): pool XML files and autostart links edited on disk by hand.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigStore } from '../../daemon/config-store.js';
import { StorageDriver } from './storage-driver.js';

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tvirt-storage-reload-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const poolXml = (name: string, path: string, uuid?: string) =>
  `<pool type='dir'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<target><path>${path}</path></target></pool>\n`;

/** A driver over a temp-dir store, with inactive pool 'idle' and running pool 'live'. */
async function setup() {
  const dir = join(root, `t${++n}`);
  const etc = join(dir, 'etc');
  const store = new ConfigStore({ dir: etc, autostartDir: join(etc, 'autostart'), noSync: true });
  const events: string[] = [];
  const errors: string[] = [];
  const drv = new StorageDriver({ store, onEvent: (e) => events.push(`${e.name}:${e.event}`) });
  await drv.storagePoolDefineXML(poolXml('idle', join(dir, 'idle')));
  await drv.storagePoolDefineXML(poolXml('live', join(dir, 'live')));
  await drv.storagePoolBuild('live');
  await drv.storagePoolCreate('live');
  events.length = 0;
  const reload = () => drv.reloadDefinitions((pool, e) => errors.push(`${pool}: ${(e as Error).message}`));
  const file = (name: string) => join(etc, `${name}.xml`);
  const link = (name: string) => join(etc, 'autostart', `${name}.xml`);
  return { drv, dir, etc, events, errors, reload, file, link };
}

const names = async (drv: StorageDriver) =>
  (await drv.listStoragePools()).map(
    (p) => `${p.name}:${p.active ? 'on' : 'off'}:${p.persistent ? 'P' : 'T'}${p.autostart ? ':auto' : ''}`,
  );

test('an unchanged store changes nothing', async () => {
  const t = await setup();
  const before = await names(t.drv);
  const xml = await t.drv.storagePoolGetXMLDesc('idle');
  await t.reload();
  assert.deepEqual(await names(t.drv), before);
  assert.equal(await t.drv.storagePoolGetXMLDesc('idle'), xml);
  assert.deepEqual(t.events, []);
  assert.deepEqual(t.errors, []);
});

test('a new file defines an inactive persistent pool', async () => {
  const t = await setup();
  await writeFile(t.file('added'), poolXml('added', join(t.dir, 'added')));
  await t.reload();
  assert.deepEqual(await names(t.drv), ['added:off:P', 'idle:off:P', 'live:on:P']);
  assert.match(await t.drv.storagePoolGetXMLDesc('added'), new RegExp(`${t.dir}/added<`));
  assert.deepEqual(t.events, ['added:defined']);
});

test('a changed file replaces an inactive pool definition, keeping its uuid when the file has none', async () => {
  const t = await setup();
  const uuid = (await t.drv.storagePoolLookup('idle')).uuid;
  await writeFile(t.file('idle'), poolXml('idle', join(t.dir, 'elsewhere')));
  await t.reload();
  assert.match(await t.drv.storagePoolGetXMLDesc('idle'), /elsewhere</);
  assert.equal((await t.drv.storagePoolLookup('idle')).uuid, uuid);
  assert.deepEqual(t.events, ['idle:defined']);
});

test('a changed file becomes the next definition of an active pool; the live one stays', async () => {
  const t = await setup();
  const uuid = (await t.drv.storagePoolLookup('live')).uuid;
  await writeFile(t.file('live'), poolXml('live', join(t.dir, 'next'), uuid));
  await t.reload();
  assert.match(await t.drv.storagePoolGetXMLDesc('live'), new RegExp(`${t.dir}/live<`));
  assert.match(await t.drv.storagePoolGetXMLDesc('live', { inactive: true }), /next</);
  assert.deepEqual(await names(t.drv), ['idle:off:P', 'live:on:P']);
  await t.drv.storagePoolDestroy('live');
  assert.match(await t.drv.storagePoolGetXMLDesc('live'), /next</);
});

test('a removed file: the inactive pool goes away, the active one becomes transient', async () => {
  const t = await setup();
  await unlink(t.file('idle'));
  await unlink(t.file('live'));
  await t.reload();
  assert.deepEqual(await names(t.drv), ['live:on:T']);
  assert.deepEqual(t.events.sort(), ['idle:undefined', 'live:undefined']);
  await t.drv.storagePoolDestroy('live');
  assert.deepEqual(await names(t.drv), []);
});

test('autostart follows the links', async () => {
  const t = await setup();
  await mkdir(join(t.etc, 'autostart'), { recursive: true });
  await symlink(t.file('idle'), t.link('idle'));
  await t.reload();
  assert.deepEqual(await names(t.drv), ['idle:off:P:auto', 'live:on:P']);
  assert.equal((await t.drv.storagePoolLookup('idle')).active, false, 'reload starts nothing');
  await unlink(t.link('idle'));
  await t.reload();
  assert.deepEqual(await names(t.drv), ['idle:off:P', 'live:on:P']);
});

test('a file that does not parse is reported and leaves its pool as it was; the others reload', async () => {
  const t = await setup();
  const xml = await t.drv.storagePoolGetXMLDesc('idle');
  await writeFile(t.file('idle'), "<pool type='dir'><name>idle</name><target>");
  await writeFile(t.file('wrongname'), poolXml('other', join(t.dir, 'other')));
  await writeFile(t.file('added'), poolXml('added', join(t.dir, 'added')));
  await t.reload();
  assert.equal(await t.drv.storagePoolGetXMLDesc('idle'), xml);
  assert.deepEqual(await names(t.drv), ['added:off:P', 'idle:off:P', 'live:on:P']);
  assert.equal(t.errors.length, 2);
  assert.match(t.errors.join('\n'), /^idle: /m);
  assert.match(t.errors.join('\n'), /wrongname: .*does not match pool name 'other'/);
  assert.ok((await readFile(t.file('idle'), 'utf8')).endsWith('<target>'), 'the broken file is left alone');
});
