// NetworkDriver.reloadDefinitions (SIGHUP): network XML files and autostart links edited on disk by hand.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fakeHost } from './fake-host.test-util.js';
import { ConfigStore } from '../../daemon/config-store.js';
import { NetworkDriver } from './network-driver.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const nat = (name: string, net: number) =>
  `<network><name>${name}</name><forward mode='nat'/><ip address='10.0.${net}.1' prefix='24'>
  <dhcp><range start='10.0.${net}.2' end='10.0.${net}.9'/></dhcp></ip></network>\n`;

/** A driver over a temp-dir store with inactive network 'idle' and running network 'live'. */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'tvirt-netreload-'));
  dirs.push(dir);
  const etc = join(dir, 'etc');
  const host = fakeHost();
  const events: string[] = [];
  const errors: string[] = [];
  const drv = new NetworkDriver({
    store: new ConfigStore({ dir: etc, autostartDir: join(etc, 'autostart'), noSync: true }),
    stateDir: join(dir, 'run'),
    netns: 'tvirt-test-fake',
    runner: host.runner,
    onEvent: (n, e) => events.push(`${n}:${e}`),
  });
  await drv.init();
  await drv.networkDefineXML(nat('idle', 3));
  await drv.networkDefineXML(nat('live', 4));
  await drv.networkCreate('live');
  events.length = 0;
  const commands = host.runner.lines().length;
  const reload = async () => {
    await drv.reloadDefinitions((name, e) => errors.push(`${name}: ${(e as Error).message}`));
    assert.equal(host.runner.lines().length, commands, 'reload runs no host command');
  };
  const file = (name: string) => join(etc, `${name}.xml`);
  const link = (name: string) => join(etc, 'autostart', `${name}.xml`);
  return { drv, dir, etc, host, events, errors, reload, file, link };
}

const names = (drv: NetworkDriver) =>
  drv
    .listNetworks()
    .map(
      (n) => `${n.name}:${n.active ? 'on' : 'off'}:${n.persistent ? 'P' : 'T'}${n.autostart ? ':auto' : ''}`,
    );

test('an unchanged store changes nothing (bridge name, MAC and uuid the driver gave stay)', async () => {
  const t = await setup();
  const xml = t.drv.networkGetXMLDesc('idle');
  await t.reload();
  assert.equal(t.drv.networkGetXMLDesc('idle'), xml);
  assert.deepEqual(names(t.drv), ['idle:off:P', 'live:on:P']);
  assert.deepEqual(t.events, []);
  assert.deepEqual(t.errors, []);
});

test('a new file defines an inactive persistent network', async () => {
  const t = await setup();
  await writeFile(t.file('added'), nat('added', 5));
  await t.reload();
  assert.deepEqual(names(t.drv), ['added:off:P', 'idle:off:P', 'live:on:P']);
  assert.match(t.drv.networkGetXMLDesc('added'), /10\.0\.5\.1/);
  assert.equal(t.drv.networkLookup('added').bridge, 'virbr2');
  assert.deepEqual(t.events, ['added:defined']);
});

test('a hand-edited file without uuid, bridge or MAC replaces an inactive network, keeping those', async () => {
  const t = await setup();
  const before = t.drv.networkGetDef('idle');
  await writeFile(t.file('idle'), nat('idle', 3).replace("'10.0.3.9'", "'10.0.3.99'"));
  await t.reload();
  const after = t.drv.networkGetDef('idle');
  assert.match(t.drv.networkGetXMLDesc('idle'), /10\.0\.3\.99/);
  assert.equal(after.uuid, before.uuid);
  assert.equal(after.mac, before.mac);
  assert.equal(after.bridge?.name, before.bridge?.name);
  assert.deepEqual(t.events, ['idle:defined']);
});

test('a changed file becomes the next definition of a running network; the live one stays', async () => {
  const t = await setup();
  const saved = await readFile(t.file('live'), 'utf8');
  await writeFile(t.file('live'), saved.replace("'10.0.4.9'", "'10.0.4.77'"));
  await t.reload();
  assert.match(t.drv.networkGetXMLDesc('live'), /10\.0\.4\.9'/);
  assert.match(t.drv.networkGetXMLDesc('live', { inactive: true }), /10\.0\.4\.77'/);
  assert.deepEqual(names(t.drv), ['idle:off:P', 'live:on:P']);
  await t.drv.networkDestroy('live');
  assert.match(t.drv.networkGetXMLDesc('live'), /10\.0\.4\.77'/);
});

test('a removed file: the inactive network goes away, the running one becomes transient', async () => {
  const t = await setup();
  await unlink(t.file('idle'));
  await unlink(t.file('live'));
  await t.reload();
  assert.deepEqual(names(t.drv), ['live:on:T']);
  assert.deepEqual(t.events.sort(), ['idle:undefined', 'live:undefined']);
  await t.drv.networkDestroy('live');
  assert.deepEqual(names(t.drv), []);
});

test('autostart follows the links; nothing is started', async () => {
  const t = await setup();
  await mkdir(join(t.etc, 'autostart'), { recursive: true });
  await symlink(t.file('idle'), t.link('idle'));
  await t.reload();
  assert.deepEqual(names(t.drv), ['idle:off:P:auto', 'live:on:P']);
  await unlink(t.link('idle'));
  await t.reload();
  assert.deepEqual(names(t.drv), ['idle:off:P', 'live:on:P']);
});

test('a file that does not parse is reported and leaves its network as it was; the others reload', async () => {
  const t = await setup();
  const xml = t.drv.networkGetXMLDesc('idle');
  await writeFile(t.file('idle'), '<network><name>idle</name><ip address=');
  await writeFile(t.file('wrongname'), nat('other', 6));
  await writeFile(t.file('added'), nat('added', 5));
  await t.reload();
  assert.equal(t.drv.networkGetXMLDesc('idle'), xml);
  assert.deepEqual(names(t.drv), ['added:off:P', 'idle:off:P', 'live:on:P']);
  assert.equal(t.errors.length, 2);
  assert.match(t.errors.join('\n'), /^idle: /m);
  assert.match(t.errors.join('\n'), /wrongname: .*does not match network name 'other'/);
});
