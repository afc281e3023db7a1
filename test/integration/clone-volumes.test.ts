// Cloning pool volumes through a real tvirtd (--root TMP, QEMU driver, its default dir pool): full
// and linked clones are volumes of the same pool; the base volume of a linked clone cannot be
// deleted and its domain cannot start; dominfo and vol-info say who depends on whom. No guest boots.
// The daemon started here is ended by its PID in `after`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli } from '../support/cli.js';
import { killChildren, rootUri, startTvirtd } from '../support/daemon.js';

const skip = spawnSync('qemu-img', ['--version']).status === 0 ? false : 'qemu-img is not installed';

const daemons: ChildProcess[] = [];
let root = '';
after(async () => {
  killChildren(daemons);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('clone of pool volumes through tvirtd', { skip }, () => {
  it('clones are volumes of the pool; a linked base is protected and reported', async () => {
    root = await mkdtemp(join(tmpdir(), 'tvirt-clone-vol-'));
    await startTvirtd(root, daemons, { check: false });
    const uri = rootUri(root);
    const xml = join(root, 'vd.xml');
    await writeFile(
      xml,
      `<domain type='qemu'><name>vd</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
      <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='vd.qcow2'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`,
    );
    const r = await cli(
      uri,
      `vol-create-as default vd.qcow2 64M --format qcow2; define ${xml}; clone vd --auto-clone; clone vd --auto-clone --linked; vol-list default; dumpxml vd-clone1`,
    );
    assert.equal(r.err, '');
    assert.match(r.out, /Clone 'vd-clone' created successfully\./);
    assert.match(r.out, /Clone 'vd-clone1' created successfully\./);
    assert.match(r.out, /vd-clone\.qcow2 +\S+\/images\/vd-clone\.qcow2/);
    assert.match(r.out, /vd-clone1\.qcow2 +\S+\/images\/vd-clone1\.qcow2/);
    assert.match(r.out, /<source pool='default' volume='vd-clone1\.qcow2'\/>/);
    const info = JSON.parse(
      spawnSync('qemu-img', ['info', '--output=json', join(root, 'lib', 'images', 'vd-clone1.qcow2')], {
        encoding: 'utf8',
      }).stdout,
    ) as { 'backing-filename'?: string };
    assert.equal(info['backing-filename'], join(root, 'lib', 'images', 'vd.qcow2'));

    const p = await cli(
      uri,
      'vol-info --pool default vd.qcow2; dominfo vd; vol-delete --pool default vd.qcow2',
    );
    assert.match(p.out, /Backing of: +vd-clone1\n/);
    assert.match(p.out, /Linked clones: +vd-clone1\n/);
    assert.match(
      p.err,
      /error: Failed to delete vol vd\.qcow2\nerror: .*is the base image of linked clone\(s\) vd-clone1/,
    );
    const s = await cli(uri, 'start vd');
    assert.match(
      s.err,
      /cannot start 'vd': its disk vda .* is the base image of linked clone\(s\) vd-clone1/,
    );
    // Without its linked clone the base is free again.
    const d = await cli(
      uri,
      'undefine vd-clone1; vol-delete --pool default vd-clone1.qcow2; vol-info --pool default vd.qcow2',
    );
    assert.equal(d.err, '');
    assert.doesNotMatch(d.out, /Backing of/);
  });
});
