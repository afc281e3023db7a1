// mount and LVM command lines against libvirt's storagepoolxml2argv fixtures, and the backends' command sequences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manifest, readTestdata, skipNoTestdata } from '../../../test/support/testdata.js';
import { parsePool, parseVolume } from '../../conf/storage/index.js';
import { RecordingRunner } from '../../host/run.js';
import { mkfsCommand, mountCommand, type MountPlatform, umountCommand } from './backend-fs.js';
import {
  buildPoolCommands,
  deletePoolCommands,
  LogicalBackend,
  lvcreateCommand,
  parseLvs,
  vgchangeCommand,
} from './backend-logical.js';
import { fixtureArgv, renderFixtureStyle } from './fixture-argv.test-util.js';

interface PoolCase {
  test: string;
  kind: string;
  expect: 'success' | 'failure';
  files: { path: string; role: string }[];
  platformFiles?: Record<string, string>;
}

test('storagepoolxml2argv fixtures: mount and vgchange command lines', { skip: skipNoTestdata }, () => {
  const cases = (manifest('storage').cases as PoolCase[]).filter((c) => c.kind === 'storagepoolxml2argv');
  let agree = 0;
  let total = 0;
  let refused = 0;
  const bad: string[] = [];
  for (const c of cases) {
    const input = c.files.find((f) => f.role === 'input')!.path;
    const pool = parsePool(readTestdata(input));
    const start = (p: MountPlatform) => {
      if (pool.type === 'fs' || pool.type === 'netfs') return mountCommand(pool, p);
      if (pool.type === 'logical') return vgchangeCommand(pool, true);
      throw new Error(`no start command for pool type ${pool.type}`);
    };
    if (c.expect === 'failure') {
      assert.throws(() => start('linux'), Error, c.test);
      refused++;
      continue;
    }
    const variants: [MountPlatform, string][] = c.platformFiles
      ? [
          ['linux', c.platformFiles.linux!],
          ['freebsd', c.platformFiles.freebsd!],
          ['other', c.platformFiles.other!],
        ]
      : [['linux', c.files.find((f) => f.role === 'expected')!.path]];
    for (const [platform, file] of variants) {
      total++;
      const got = renderFixtureStyle(start(platform));
      const want = fixtureArgv(readTestdata(file));
      if (got === want) agree++;
      else bad.push(`${c.test} (${platform}):\n got: ${got}\nwant: ${want}`);
    }
  }
  console.log(
    `storagepoolxml2argv: ${agree}/${total} command lines agree (${cases.filter((c) => c.expect === 'success').length} cases x platforms), ${refused} other pool types refused`,
  );
  assert.deepEqual(bad, []);
});

test('LVM command sequences are argv values', { skip: skipNoTestdata }, () => {
  const pool = parsePool(readTestdata('storage/storagepoolxml2xmlin/pool-logical-create.xml'));
  assert.deepEqual(buildPoolCommands(pool).map(renderFixtureStyle), [
    'pvcreate /dev/sdb1',
    'pvcreate /dev/sdb2',
    'pvcreate /dev/sdb3',
    'vgcreate HostVG /dev/sdb1 /dev/sdb2 /dev/sdb3',
  ]);
  assert.deepEqual(deletePoolCommands(pool).map(renderFixtureStyle), [
    'vgremove -f HostVG',
    'pvremove /dev/sdb1',
    'pvremove /dev/sdb2',
    'pvremove /dev/sdb3',
  ]);
  const full = parseVolume('<volume><name>lv1</name><capacity unit="M">100</capacity></volume>', pool);
  assert.equal(renderFixtureStyle(lvcreateCommand(pool, full)), 'lvcreate --name lv1 -L 102400K HostVG');
  const sparse = parseVolume(
    '<volume><name>lv2</name><capacity unit="G">1</capacity><allocation>0</allocation></volume>',
    pool,
  );
  assert.equal(
    renderFixtureStyle(lvcreateCommand(pool, sparse)),
    'lvcreate --name lv2 -L 1K --type snapshot --virtualsize 1048576K HostVG',
  );
  assert.equal(renderFixtureStyle(vgchangeCommand(pool, false)), 'vgchange -aln HostVG');
});

test('lvs output becomes block volumes; the logical backend runs only argv commands', async () => {
  const pool = parsePool(
    "<pool type='logical'><name>vg0</name><source><device path='/dev/loop9'/></source></pool>",
  );
  const vols = parseLvs(
    pool,
    '  lv1#abc-123#104857600#-wi-a-----#\n  [pool_tmeta]#x#4194304#ewi-------#\n  snap#def#8388608#swi-a-s---#lv1\n',
  );
  assert.deepEqual(
    vols.map((v) => [v.name, v.key, v.capacity, v.target.path, v.backingStore?.path]),
    [
      ['lv1', 'abc-123', 104857600, '/dev/vg0/lv1', undefined],
      ['snap', 'def', 8388608, '/dev/vg0/snap', '/dev/vg0/lv1'],
    ],
  );
  const runner = new RecordingRunner((cmd) => {
    if (cmd.program === 'vgs') return { stdout: '  209715200:104857600\n' };
    if (cmd.program === 'lvs') return { stdout: '  lv1#abc-123#104857600#-wi-a-----#\n' };
    return undefined;
  });
  const b = new LogicalBackend({ runner, qemuImg: 'qemu-img' });
  await b.startPool(pool);
  const r = await b.refreshPool(pool);
  assert.equal(r.capacity, 209715200);
  assert.equal(r.available, 104857600);
  assert.equal(r.volumes.length, 1);
  const vol = parseVolume('<volume><name>x;rm -rf /</name><capacity>1024</capacity></volume>', pool);
  await assert.rejects(b.buildVol(pool, vol, {}, {}), { code: 'INVALID_ARG' });
  assert.deepEqual(runner.lines().slice(0, 1), ['vgchange -aly vg0']);
});

test('fs pools: mkfs and umount command values', () => {
  const pool = parsePool(
    "<pool type='fs'><name>f</name><source><device path='/dev/loop7'/><format type='ext4'/></source><target><path>/mnt/f</path></target></pool>",
  );
  assert.deepEqual(mkfsCommand(pool, true), { program: 'mkfs', args: ['-t', 'ext4', '-F', '/dev/loop7'] });
  assert.deepEqual(umountCommand(pool), { program: 'umount', args: ['/mnt/f'] });
});

test('a logical clone that fails removes its new LV', async () => {
  const pool = parsePool(
    "<pool type='logical'><name>vg0</name><source><device path='/dev/loop9'/></source></pool>",
  );
  const runner = new RecordingRunner((cmd) =>
    cmd.program === 'qemu-img'
      ? { code: 1, stderr: 'qemu-img: error while writing: No space left on device' }
      : undefined,
  );
  const b = new LogicalBackend({ runner, qemuImg: 'qemu-img' });
  const vol = parseVolume("<volume><name>copy</name><capacity unit='M'>8</capacity></volume>", pool);
  const input = parseVolume(
    "<volume><name>src.qcow2</name><capacity unit='M'>8</capacity><target><path>/p/src.qcow2</path><format type='qcow2'/></target></volume>",
  );
  await assert.rejects(b.buildVolFrom(pool, vol, input, {}, {}), /No space left on device/);
  assert.deepEqual(runner.lines(), [
    'lvcreate --name copy -L 8192K vg0',
    'qemu-img convert -n -f qcow2 -O raw /p/src.qcow2 /dev/vg0/copy',
    'lvremove -f /dev/vg0/copy',
  ]);
  assert.equal(runner.commands[0]!.env?.LVM_SUPPRESS_FD_WARNINGS, '1');
});
