// The QEMU driver's bookkeeping without booting anything: definitions on disk, redefine, undefine,
// autostart links, SIGHUP reload of hand-edited files, stale status files of QEMUs that are gone,
// and libvirt's errors for wrong states and clashing names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TvirtEvent } from '../../src/drivers/connection.js';
import { openQemuDriver, type QemuDriver } from '../../src/drivers/qemu/qemu-driver.js';
import { isVirError } from '../../src/util/errors.js';

const xml = (name: string, uuid: string, extra = '') => `<domain type='qemu'>
  <name>${name}</name>
  <uuid>${uuid}</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>${extra}
  <devices><disk type='file' device='disk'><source file='/nonexistent/${name}.qcow2'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>`;
const U1 = '11111111-2222-4333-8444-555555555501';
const U2 = '11111111-2222-4333-8444-555555555502';

let dir: string;
const open = () =>
  openQemuDriver({
    configDir: join(dir, 'etc'),
    runDir: join(dir, 'run'),
    logDir: join(dir, 'log'),
    noSync: true,
  });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-qemu-conf-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('QEMU driver definitions', () => {
  let drv: QemuDriver;
  const events: TvirtEvent[] = [];
  before(async () => {
    drv = await open();
    drv.onEvent((e) => events.push(e));
  });
  after(() => drv.close());

  it('defines to etc/NAME.xml with defaults, redefines, refuses clashes', async () => {
    const s = await drv.domainDefineXML(xml('a', U1));
    assert.deepEqual(
      { name: s.name, id: s.id, state: s.state, reason: s.reason, persistent: s.persistent },
      { name: 'a', id: null, state: 'shutoff', reason: 'unknown', persistent: true },
    );
    const onDisk = await readFile(join(dir, 'etc', 'a.xml'), 'utf8');
    assert.match(onDisk, /<uuid>11111111-2222-4333-8444-555555555501<\/uuid>/);
    assert.match(onDisk, /machine='pc'/);
    await drv.domainDefineXML(xml('a', U1, '\n  <description>second</description>'));
    assert.match(await readFile(join(dir, 'etc', 'a.xml'), 'utf8'), /second/);
    assert.deepEqual(
      events.map((e) => `${e.name} ${e.event} ${e.detail}`),
      ['a defined added', 'a defined updated'],
    );
    await assert.rejects(
      drv.domainDefineXML(xml('b', U1)),
      (e) => isVirError(e, 'DOM_EXIST') && /already defined with uuid/.test(e.message),
    );
    await assert.rejects(
      drv.domainDefineXML(xml('a', U2)),
      (e) => isVirError(e, 'DOM_EXIST') && /already exists with uuid/.test(e.message),
    );
    await assert.rejects(drv.domainDefineXML('<domain>'), (e) => isVirError(e, 'XML_ERROR'));
  });

  it('gives libvirt errors for wrong states and unknown domains', async () => {
    for (const op of [
      () => drv.domainShutdown('a'),
      () => drv.domainDestroy('a'),
      () => drv.domainReboot('a'),
      () => drv.domainReset('a'),
      () => drv.domainSuspend('a'),
      () => drv.domainOpenConsole('a'),
    ])
      await assert.rejects(
        op(),
        (e) =>
          isVirError(e, 'OPERATION_INVALID') &&
          e.message === 'Requested operation is not valid: domain is not running',
      );
    await assert.rejects(
      drv.domainLookup('nope'),
      (e) =>
        isVirError(e, 'NO_DOMAIN') && e.message === "Domain not found: no domain with matching name 'nope'",
    );
  });

  it('fails clearly when the emulator cannot be executed, leaving nothing behind', async () => {
    const bad = xml('noemu', '11111111-2222-4333-8444-555555555509').replace(
      '<devices>',
      '<devices><emulator>/nonexistent/qemu-system-x86_64</emulator>',
    );
    await drv.domainDefineXML(bad);
    await assert.rejects(drv.domainCreate('noemu'), (e) => {
      assert.ok(isVirError(e, 'OPERATION_FAILED'), String(e));
      assert.match(e.message, /cannot execute binary \/nonexistent\/qemu-system-x86_64/);
      return true;
    });
    assert.deepEqual(await drv.domainGetState('noemu'), { state: 'shutoff', reason: 'unknown' });
    assert.ok(!existsSync(join(dir, 'run', 'noemu.json')));
    assert.match(
      await readFile(join(dir, 'log', 'noemu.log'), 'utf8'),
      /starting up tvirt[\s\S]*shutting down, reason=failed/,
    );
    await drv.domainUndefine('noemu');
  });

  it('resolves <disk type=volume> through the storage driver, refuses it without one', async () => {
    const vol = (name: string, uuid: string) =>
      xml(name, uuid)
        .replace('<devices>', '<devices><emulator>/nonexistent/qemu-system-x86_64</emulator>')
        .replace(
          /<disk type='file'[\s\S]*?<\/disk>/,
          "<disk type='volume' device='disk'><source pool='pool1' volume='v1.qcow2'/><target dev='vda' bus='virtio'/></disk>",
        );
    await drv.domainDefineXML(vol('vol1', '11111111-2222-4333-8444-555555555511'));
    await assert.rejects(
      drv.domainCreate('vol1'),
      (e) => isVirError(e, 'OPERATION_UNSUPPORTED') && /no storage driver/.test(e.message),
    );
    await drv.domainUndefine('vol1');

    const asked: string[] = [];
    const withStorage = await openQemuDriver({
      configDir: join(dir, 'etc2'),
      runDir: join(dir, 'run2'),
      logDir: join(dir, 'log2'),
      noSync: true,
      resolveDiskVolume: async (pool, volume) => {
        asked.push(`${pool}/${volume}`);
        return { diskType: 'file', path: `/srv/pools/${pool}/${volume}`, format: 'qcow2' };
      },
    });
    try {
      await withStorage.domainDefineXML(vol('vol2', '11111111-2222-4333-8444-555555555512'));
      // The emulator is missing, but the command line in the log shows the resolved volume.
      await assert.rejects(withStorage.domainCreate('vol2'), (e) => isVirError(e, 'OPERATION_FAILED'));
      assert.deepEqual(asked, ['pool1/v1.qcow2']);
      const log = await readFile(join(dir, 'log2', 'vol2.log'), 'utf8');
      assert.match(log, /"filename":"\/srv\/pools\/pool1\/v1\.qcow2"/);
      assert.match(log, /"driver":"qcow2"/);
    } finally {
      await withStorage.close();
    }
  });

  it('keeps autostart links and config changes, undefines', async () => {
    await drv.domainSetAutostart('a', true);
    assert.ok(existsSync(join(dir, 'etc', 'autostart', 'a.xml')));
    assert.equal((await drv.domainLookup('a')).autostart, true);
    await drv.domainSetMemory('a', 32 * 1024);
    await drv.domainSetMetadata('a', 'title', 'A title');
    const again = await open();
    try {
      const a = await again.domainLookup('a');
      assert.equal(a.autostart, true);
      assert.equal(a.title, 'A title');
      assert.equal((await again.domainGetInfo('a')).memoryKiB, 32 * 1024);
    } finally {
      await again.close();
    }
    await drv.domainDefineXML(xml('b', U2));
    assert.deepEqual(await drv.domainUndefine('b'), { becameTransient: false });
    assert.ok(!existsSync(join(dir, 'etc', 'b.xml')));
    await assert.rejects(drv.domainLookup('b'), (e) => isVirError(e, 'NO_DOMAIN'));
  });

  it('reloads definitions edited on disk (SIGHUP)', async () => {
    await writeFile(join(dir, 'etc', 'c.xml'), xml('c', '11111111-2222-4333-8444-555555555503'));
    await writeFile(join(dir, 'etc', 'a.xml'), xml('a', U1, '\n  <title>edited by hand</title>'));
    await drv.reload();
    assert.equal((await drv.domainLookup('c')).state, 'shutoff');
    assert.equal((await drv.domainLookup('a')).title, 'edited by hand');
    await rm(join(dir, 'etc', 'c.xml'));
    await drv.reload();
    await assert.rejects(drv.domainLookup('c'), (e) => isVirError(e, 'NO_DOMAIN'));
  });

  it('drops the status of a QEMU that is gone (daemon restart after a host reboot or crash)', async () => {
    await mkdir(join(dir, 'run', 'domain-7-a'), { recursive: true });
    const status = {
      version: 1,
      name: 'a',
      uuid: U1,
      id: 7,
      pid: 2 ** 22 + 12345, // beyond pid_max: never a live process
      monitorPath: join(dir, 'run', 'domain-7-a', 'monitor.sock'),
      runtimeDir: join(dir, 'run', 'domain-7-a'),
      logPath: join(dir, 'log', 'a.log'),
      state: 'running',
      reason: 'booted',
      liveXml: '',
      liveDef: {},
      persistent: true,
      startedAt: Date.now(),
      ports: [],
    };
    await writeFile(join(dir, 'run', 'a.json'), JSON.stringify(status));
    await writeFile(join(dir, 'run', 'broken.json'), '{not json');
    const d2 = await open();
    try {
      assert.deepEqual(await d2.domainGetState('a'), { state: 'shutoff', reason: 'crashed' });
      assert.ok(!existsSync(join(dir, 'run', 'a.json')));
      assert.ok(!existsSync(join(dir, 'run', 'domain-7-a')));
    } finally {
      await d2.close();
    }
  });
});

describe('domxml-to-native qemu-argv', () => {
  it('prints the command line a definition would start with, changing nothing', async () => {
    const drv = await openQemuDriver({
      configDir: join(dir, 'native-etc'),
      runDir: join(dir, 'native-run'),
      logDir: join(dir, 'native-log'),
      noSync: true,
      kvmAvailable: false,
    });
    try {
      const nics =
        "<interface type='network'><mac address='52:54:00:00:00:0a'/><source network='default'/><model type='virtio'/></interface>" +
        "<interface type='bridge'><mac address='52:54:00:00:00:0b'/><source bridge='br0'/><target dev='tap7'/><model type='virtio'/></interface>" +
        "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>";
      const x = xml('native', U1).replace('</devices>', `${nics}</devices>`);
      const line = await drv.domainXMLToNative('qemu-argv', x);
      assert.equal(line.includes('\n'), false);
      assert.match(line, /^LC_ALL=C qemu-system-x86_64 -name guest=native,debug-threads=on -S /);
      assert.match(line, / -accel tcg /);
      assert.match(line, new RegExp(`-uuid ${U1} `));
      // Runtime paths as for id -1, autoport VNC as port 5900, taps by target dev or vnetN.
      assert.ok(line.includes(`path=${join(dir, 'native-run', 'domain--1-native', 'monitor.sock')},`), line);
      assert.match(line, / -vnc 127\.0\.0\.1:0[ ,]/);
      assert.match(line, /'\{"type":"tap","ifname":"vnet0"[^']*\}'/);
      assert.match(line, /'\{"type":"tap","ifname":"tap7"[^']*\}'/);
      // JSON arguments are single-quoted for a shell.
      assert.match(line, / -blockdev '\{"driver":"file","filename":"\/nonexistent\/native\.qcow2"/);
      assert.deepEqual(await drv.listDomains({}), []);
      assert.equal(existsSync(join(dir, 'native-run', 'domain--1-native')), false);
      await assert.rejects(drv.domainXMLToNative('xen-xm', x), (e) => {
        assert.ok(isVirError(e, 'INVALID_ARG'));
        assert.equal((e as Error).message, 'invalid argument: unsupported config type xen-xm');
        return true;
      });
      // libvirt: 'internal error: missing domain type attribute' (an XML error in older versions).
      await assert.rejects(
        drv.domainXMLToNative('qemu-argv', '<domain/>'),
        (e) =>
          (isVirError(e, 'XML_ERROR') || isVirError(e, 'INTERNAL_ERROR')) &&
          /type/.test((e as Error).message),
      );
    } finally {
      await drv.close();
    }
  });
});

describe('domblkinfo of a local image', () => {
  it('capacity from the image, allocation and physical from the file; unknown disks refused', async () => {
    const drv = await openQemuDriver({
      configDir: join(dir, 'blk-etc'),
      runDir: join(dir, 'blk-run'),
      logDir: join(dir, 'blk-log'),
      noSync: true,
      kvmAvailable: false,
    });
    try {
      const img = join(dir, 'blk.qcow2');
      const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '1G']);
      if (r.status !== 0) return; // qemu-img missing: the other tests say so
      await drv.domainDefineXML(xml('blk', U2).replace(`/nonexistent/blk.qcow2`, img));
      const b = await drv.domainGetBlockInfo('blk', 'vda');
      const st = await stat(img);
      assert.deepEqual(b, { capacity: 1 << 30, allocation: st.blocks * 512, physical: st.size });
      assert.deepEqual(await drv.domainGetBlockInfo('blk', img), b);
      await assert.rejects(drv.domainGetBlockInfo('blk', 'vdz'), {
        code: 'INVALID_ARG',
        message: 'invalid argument: invalid path vdz not assigned to domain',
      });
    } finally {
      await drv.close();
    }
  });
});
