// fs and logical pools on loop devices the test makes (and always removes), and running out of space on a 16 MiB ext4.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ConfigStore } from '../../daemon/config-store.js';
import { isVirError } from '../../util/errors.js';
import { StorageDriver } from './storage-driver.js';

const have = (p: string) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', p]).status === 0;
const isRoot = process.getuid?.() === 0;
const fsSkip = !isRoot
  ? 'needs root (losetup, mount)'
  : !have('losetup') || !have('mkfs.ext4') || !have('qemu-img')
    ? 'needs losetup, mkfs.ext4 and qemu-img'
    : false;
const lvmSkip = fsSkip || (!have('vgcreate') ? 'needs lvm2 (apt-get install lvm2)' : false);
const hasDeviceMapper = spawnSync('dmsetup', ['version']).status === 0;

let root: string;
const loops: string[] = [];
const mounts: string[] = [];

function sh(program: string, ...args: string[]): string {
  const r = spawnSync(program, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A loop device over a new sparse image of `mib` MiB; detached in after(). */
function loopDevice(name: string, mib: number): string {
  const img = join(root, name);
  sh('truncate', '-s', `${mib}M`, img);
  const dev = sh('losetup', '--find', '--show', img);
  loops.push(dev);
  return dev;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tvirt-loop-'));
});
after(async () => {
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
  for (const d of loops.reverse()) spawnSync('losetup', ['-d', d]);
  await rm(root, { recursive: true, force: true });
});

function driver(name: string): StorageDriver {
  const d = join(root, `${name}-etc`);
  return new StorageDriver({
    store: new ConfigStore({ dir: d, autostartDir: join(d, 'autostart'), noSync: true }),
  });
}

const vol = (name: string, cap: string, alloc = '0', format = 'raw') =>
  `<volume><name>${name}</name><capacity unit='bytes'>${cap}</capacity><allocation unit='bytes'>${alloc}</allocation><target><format type='${format}'/></target></volume>`;

describe('fs pool on a loop device', { skip: fsSkip }, () => {
  it('builds (mkfs), mounts, holds volumes across stop/start, refuses a second build', async () => {
    const dev = loopDevice('fs.img', 64);
    const target = join(root, 'fsmnt');
    mounts.push(target);
    const drv = driver('fs');
    await drv.storagePoolDefineXML(
      `<pool type='fs'><name>fsp</name><source><device path='${dev}'/><format type='ext4'/></source><target><path>${target}</path></target></pool>`,
    );
    await drv.storagePoolBuild('fsp', { overwrite: true });
    assert.equal(sh('blkid', '-p', '-o', 'value', '-s', 'TYPE', dev), 'ext4');
    await assert.rejects(drv.storagePoolBuild('fsp', { noOverwrite: true }), {
      code: 'STORAGE_POOL_BUILT',
      message: /already holds a 'ext4' file system/,
    });
    await drv.storagePoolCreate('fsp');
    const mountLine = (await readFile('/proc/self/mounts', 'utf8'))
      .split('\n')
      .find((l) => l.split(' ')[1] === target);
    assert.ok(mountLine?.startsWith(dev), `mounted: ${mountLine}`);
    assert.match(mountLine!, /nodev/);
    const info = await drv.storagePoolGetInfo('fsp');
    assert.ok(info.capacity > 50 << 20 && info.capacity <= 64 << 20, `capacity ${info.capacity}`);
    await drv.storageVolCreateXML('fsp', vol('a.qcow2', String(1 << 30), '0', 'qcow2'));
    await drv.storageVolCreateXMLFrom('fsp', vol('b.qcow2', '0', '0', 'qcow2'), {
      pool: 'fsp',
      name: 'a.qcow2',
    });
    await drv.storagePoolDestroy('fsp');
    assert.equal((await readdir(target)).length, 0, 'unmounted');
    await drv.storagePoolCreate('fsp');
    assert.deepEqual(
      // lost+found shows up as a 'dir' volume, as in libvirt.
      (await drv.listStorageVols('fsp'))
        .filter((v) => v.type === 'file')
        .map((v) => [v.name, v.format, v.capacity]),
      [
        ['a.qcow2', 'qcow2', 1 << 30],
        ['b.qcow2', 'qcow2', 1 << 30],
      ],
    );
    await drv.storagePoolDestroy('fsp');
    await drv.storagePoolDelete('fsp');
    await drv.storagePoolUndefine('fsp');
  });

  it('mounts an image file as the source device', async () => {
    const img = join(root, 'file-fs.img');
    sh('truncate', '-s', '32M', img);
    sh('mkfs.ext4', '-q', '-F', img);
    const target = join(root, 'filemnt');
    await mkdir(target);
    mounts.push(target);
    const drv = driver('filefs');
    await drv.storagePoolCreateXML(
      `<pool type='fs'><name>ff</name><source><device path='${img}'/><format type='ext4'/></source><target><path>${target}</path></target></pool>`,
    );
    await drv.storageVolCreateXML('ff', vol('x.img', String(4 << 20)));
    assert.equal((await drv.storageVolGetInfo({ pool: 'ff', name: 'x.img' })).capacity, 4 << 20);
    await drv.storagePoolDestroy('ff');
    assert.deepEqual(await readdir(target), []);
  });
});

describe('no space left on a 16 MiB ext4', { skip: fsSkip }, () => {
  it('fails creates, clones, conversions and uploads cleanly, keeping nothing', async () => {
    const dev = loopDevice('small.img', 16);
    sh('mkfs.ext4', '-q', '-F', dev);
    const target = join(root, 'smallmnt');
    mounts.push(target);
    const drv = driver('small');
    await drv.storagePoolCreateXML(
      `<pool type='fs'><name>small</name><source><device path='${dev}'/><format type='ext4'/></source><target><path>${target}</path></target></pool>`,
      { build: true },
    );
    const before = (await readdir(target)).sort();
    const enospc = (e: unknown) =>
      isVirError(e, 'SYSTEM_ERROR') && /no space left on device; nothing was kept/.test((e as Error).message);
    // 1. A fully allocated raw volume larger than the file system.
    await assert.rejects(
      drv.storageVolCreateXML('small', vol('big.img', String(64 << 20), String(64 << 20))),
      enospc,
    );
    assert.deepEqual((await readdir(target)).sort(), before);
    // 2. Clones: a 9 MiB-data volume fits once, not twice.
    await drv.storageVolCreateXML('small', vol('data.img', String(9 << 20)));
    const { randomBytes } = await import('node:crypto');
    await drv.storageVolUpload({ pool: 'small', name: 'data.img' }, Readable.from([randomBytes(9 << 20)]));
    await assert.rejects(
      drv.storageVolCreateXMLFrom('small', vol('copy.img', '0'), { pool: 'small', name: 'data.img' }),
      enospc,
    );
    await assert.rejects(
      drv.storageVolCreateXMLFrom('small', vol('copy.qcow2', '0', '0', 'qcow2'), {
        pool: 'small',
        name: 'data.img',
      }),
      enospc,
    );
    // 3. A whole-volume upload that does not fit keeps the old content.
    const old = await readFile(join(target, 'data.img'));
    await assert.rejects(
      drv.storageVolUpload({ pool: 'small', name: 'data.img' }, Readable.from([randomBytes(12 << 20)])),
      enospc,
    );
    assert.deepEqual(await readFile(join(target, 'data.img')), old);
    assert.deepEqual((await readdir(target)).sort(), [...before, 'data.img'].sort());
    assert.deepEqual(
      (await drv.listStorageVols('small')).filter((v) => v.type === 'file').map((v) => v.name),
      ['data.img'],
    );
    await drv.storagePoolDestroy('small');
  });
});

describe('logical pool on a loop device', { skip: lvmSkip }, () => {
  it('builds a VG (pvcreate, vgcreate), starts, refreshes, and deletes it', async () => {
    const dev = loopDevice('lvm.img', 64);
    const vg = `tvirt${process.pid}`;
    const drv = driver('lvm');
    await drv.storagePoolDefineXML(
      `<pool type='logical'><name>${vg}</name><source><device path='${dev}'/><name>${vg}</name><format type='lvm2'/></source><target><path>/dev/${vg}</path></target></pool>`,
    );
    try {
      await drv.storagePoolBuild(vg, { noOverwrite: true });
      assert.equal(sh('blkid', '-p', '-o', 'value', '-s', 'TYPE', dev), 'LVM2_member');
      await assert.rejects(drv.storagePoolBuild(vg, { noOverwrite: true }), { code: 'STORAGE_POOL_BUILT' });
      await drv.storagePoolCreate(vg);
      const info = await drv.storagePoolGetInfo(vg);
      assert.equal(info.state, 'running');
      assert.ok(info.capacity > 50 << 20 && info.capacity <= 64 << 20, `capacity ${info.capacity}`);
      assert.deepEqual(await drv.listStorageVols(vg), []);
      if (hasDeviceMapper) {
        await drv.storageVolCreateXML(
          vg,
          `<volume><name>lv1</name><capacity unit='MiB'>8</capacity></volume>`,
        );
        const v = await drv.storageVolGetInfo({ pool: vg, name: 'lv1' });
        assert.deepEqual([v.type, v.capacity, v.path], ['block', 8 << 20, `/dev/${vg}/lv1`]);
        await drv.storageVolDelete({ pool: vg, name: 'lv1' });
      } else {
        // Without device-mapper in the kernel LVs cannot be activated: a clear error, nothing left.
        await assert.rejects(
          drv.storageVolCreateXML(vg, `<volume><name>lv1</name><capacity unit='MiB'>8</capacity></volume>`),
          /lvcreate .*failed: .*device-mapper/s,
        );
        assert.deepEqual(await drv.listStorageVols(vg), []);
      }
      await drv.storagePoolDestroy(vg);
      await drv.storagePoolDelete(vg);
      assert.equal(
        spawnSync('blkid', ['-p', '-o', 'value', '-s', 'TYPE', dev], { encoding: 'utf8' }).stdout.trim(),
        '',
      );
    } finally {
      spawnSync('vgremove', ['-f', vg]);
      spawnSync('pvremove', ['-ff', '-y', dev]);
    }
  });
});
