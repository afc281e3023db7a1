// `tvirt clone` and tvirt-clone against test:///default: virt-clone's options, output and errors.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { endLine, formatNumber } from './clone-meter.js';
import { runCli } from './shell.js';
import { cloneMain, parseCloneArgs } from './tvirt-clone.js';

const dir = mkdtempSync(join(tmpdir(), 'tvirt-clone-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function tvirt(cmds: string): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const code = await runCli(['-c', 'test:///default', cmds], {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  });
  return { out, err, code };
}

async function tvirtClone(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const code = await cloneMain(args, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    live: false,
    width: 80,
  });
  return { out, err, code };
}

describe('clone meter', () => {
  it("formats sizes and the final line like virt-clone's", () => {
    assert.equal(formatNumber(0), '0 ');
    assert.equal(formatNumber(6 * 2 ** 30), '6.0 G');
    assert.equal(formatNumber(512 * 2 ** 20), '512 M');
    assert.equal(formatNumber(20 * 2 ** 30), '20 G');
    const line = endLine("Allocating 'vm2.qcow2'", 6 * 2 ** 30, 6);
    assert.equal(line.length, 80);
    assert.match(line, /^Allocating 'vm2\.qcow2' +\| 6\.0 GB {2}00:06 {5}$/);
    assert.match(endLine('x', 1, 3725, 100), /01:02:05/);
  });
});

describe('tvirt clone', () => {
  it('--auto-clone twice gives NAME-clone and NAME-clone1, with progress lines', async () => {
    const r = await tvirt(
      'destroy test; clone -o test --auto-clone; clone --original test --auto-clone; list --all --name',
    );
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.match(r.out, /Allocating 'diskimage1-clone' +\| 1\.0 GB {2}\d\d:\d\d {5}\n/);
    assert.match(r.out, /\nClone 'test-clone' created successfully\.\n/);
    assert.match(r.out, /Allocating 'diskimage1-clone-1' /);
    assert.match(r.out, /Clone 'test-clone1' created successfully\./);
    assert.match(r.out, /^test\ntest-clone\ntest-clone1\n/m);
  });

  it('-n NAME -f FILE puts the disk where asked; --mac sets the MAC; uuids differ', async () => {
    const r = await tvirt(
      'destroy test; clone test -n vm2 -f /guest/vm2.img --mac 52:54:00:01:02:03 -u 0e0e0e0e-1111-2222-3333-444444444444; domblklist vm2; domiflist vm2; domuuid vm2; domuuid test',
    );
    assert.equal(r.err, '');
    assert.match(r.out, /Allocating 'vm2\.img'/);
    assert.match(r.out, /vda +\/guest\/vm2\.img/);
    assert.match(r.out, /52:54:00:01:02:03/);
    assert.match(r.out, /0e0e0e0e-1111-2222-3333-444444444444\n/);
  });

  it('--print-xml prints and defines nothing', async () => {
    const r = await tvirt('destroy test; clone test -n vm3 --auto-clone --print-xml; list --all --name');
    assert.match(r.out, /<name>vm3<\/name>/);
    assert.doesNotMatch(r.out, /created successfully/);
    assert.doesNotMatch(r.out, /^vm3$/m);
  });

  it('fails clearly: running original, missing original, taken name, missing options, too many files', async () => {
    const cases: [string, RegExp][] = [
      ['clone test --auto-clone', /error: Requested operation is not valid: domain 'test' is running/],
      ['clone nope --auto-clone', /error: Domain 'nope' was not found\./],
      ['destroy test; clone test -n test --auto-clone', /error: Invalid name for new guest/],
      ['clone test -n x', /error: Either --auto-clone or --file is required/],
      ['clone -f /a.img -n x', /error: An original machine name is required/],
      ['clone test -f /a.img', /error: A name is required for the new virtual machine/],
      [
        'destroy test; clone test -n x -f /g/a.img -f /g/b.img',
        /error: 2 --file paths given but the original has 1 disk\(s\) to clone \(vda\)/,
      ],
      ['destroy test; clone test -n x --auto-clone --check bogus', /Unknown --check value 'bogus'/],
    ];
    for (const [cmd, re] of cases) {
      const r = await tvirt(cmd);
      assert.equal(r.code, 1, cmd);
      assert.match(r.err, re, cmd);
    }
    const taken = await tvirt(
      'destroy test; clone test --auto-clone -q; clone test -n test-clone --auto-clone',
    );
    assert.match(taken.err, /Guest name 'test-clone' is already in use/);
    const rep = await tvirt(
      'destroy test; clone test --auto-clone -q; clone test -n test-clone --auto-clone --replace -q; list --all --name',
    );
    assert.equal(rep.err, '');
    assert.match(rep.out, /^test-clone$/m);
  });

  it('--linked: dominfo shows which clones depend on which base', async () => {
    const r = await tvirt('destroy test; clone test --auto-clone --linked; dominfo test; dominfo test-clone');
    assert.equal(r.err, '');
    assert.match(r.out, /Allocating 'diskimage1-clone\.qcow2'/);
    assert.match(r.out, /Linked clones: +test-clone\n/);
    assert.match(r.out, /Linked to: +\/guest\/diskimage1 \(test, vda\)\n/);
    const s = await tvirt('destroy test; clone test --auto-clone --linked -q; start test');
    assert.match(
      s.err,
      /cannot start 'test': its disk vda \(\/guest\/diskimage1\) is the base image of linked clone\(s\) test-clone/,
    );
  });

  it('test:///default protects a linked base volume as tvirtd does: start, create, vol-*, undefine', async () => {
    const xml = join(dir, 'vv.xml');
    writeFileSync(
      xml,
      `<domain type='test'><name>vv</name><memory>65536</memory><os><type>hvm</type></os><devices>
      <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default-pool' volume='vv.qcow2'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`,
    );
    const setup = `vol-create-as default-pool vv.qcow2 10M --format qcow2; define ${xml}; clone -o vv --auto-clone --linked -q`;
    const base = /is the base image of linked clone\(s\) vv-clone/;
    const cases: [string, RegExp][] = [
      [
        'start vv',
        /error: Failed to start domain 'vv'\nerror: .*cannot start 'vv': its disk vda \(\/default-pool\/vv\.qcow2\)/,
      ],
      [`create ${xml}`, /error: .*cannot start 'vv': its disk vda \(\/default-pool\/vv\.qcow2\)/],
      [
        'vol-delete vv.qcow2 --pool default-pool',
        /error: Failed to delete vol vv\.qcow2\nerror: .*volume '\/default-pool\/vv\.qcow2'/,
      ],
      ['vol-wipe vv.qcow2 --pool default-pool', /error: .*cannot wipe volume '\/default-pool\/vv\.qcow2'/],
      [
        'vol-resize vv.qcow2 20M --pool default-pool',
        /error: .*cannot resize volume '\/default-pool\/vv\.qcow2'/,
      ],
      [
        `vol-upload vv.qcow2 ${xml} --pool default-pool`,
        /error: .*cannot upload to volume '\/default-pool\/vv\.qcow2'/,
      ],
      [
        'undefine vv --remove-all-storage',
        /error: Failed to undefine domain 'vv'\nerror: .*volume '\/default-pool\/vv\.qcow2'/,
      ],
      [
        'undefine vv --remove-all-storage --wipe-storage',
        /error: Failed to undefine domain 'vv'\nerror: .*volume '\/default-pool\/vv\.qcow2'/,
      ],
    ];
    for (const [cmd, re] of cases) {
      const r = await tvirt(`${setup}; ${cmd}; list --all --name; vol-info vv.qcow2 --pool default-pool`);
      assert.match(r.err, re, cmd);
      assert.match(r.err, base, cmd);
      // Nothing changed: vv is defined and shut off, its volume is there, whole.
      assert.match(r.out, /^vv$/m, cmd);
      assert.doesNotMatch(r.out, /^Domain 'vv' (started|created|has been undefined)/m, cmd);
      assert.match(r.out, /Capacity: +10\.00 MiB/, cmd);
    }
    // Once the clone and its disk are gone, the base is free again.
    const free = await tvirt(
      `${setup}; undefine vv-clone --remove-all-storage; start vv; destroy vv; undefine vv --remove-all-storage`,
    );
    assert.equal(free.err, '');
    assert.match(free.out, /Domain 'vv' started/);
    assert.match(free.out, /Volume 'vda'\(vv\.qcow2\) removed\./);
  });

  it('--linked without -f makes the overlays beside the originals (README: clone -o vm1 -n vm3 --linked --start)', async () => {
    const r = await tvirt(
      'destroy test; clone -o test -n vm3 --linked --start; domstate vm3; domblklist vm3',
    );
    assert.equal(r.err, '');
    assert.match(r.out, /Allocating 'diskimage1-clone\.qcow2'/);
    assert.match(r.out, /\nClone 'vm3' created successfully\.\nDomain 'vm3' started\.\n/);
    assert.match(r.out, /^running$/m);
    assert.match(r.out, /vda +\/guest\/diskimage1-clone\.qcow2/);
    // Plain clones keep virt-clone's rule.
    const plain = await tvirt('destroy test; clone -o test -n vm4');
    assert.match(plain.err, /error: Either --auto-clone or --file is required/);
  });

  it('--start starts the clone and says so', async () => {
    const r = await tvirt(
      'destroy test; clone test -n started --auto-clone --start; domstate started; list --name',
    );
    assert.equal(r.err, '');
    assert.match(r.out, /Clone 'started' created successfully\.\nDomain 'started' started\.\n/);
    assert.match(r.out, /^running$/m);
    assert.match(r.out, /^started$/m);
    const q = await tvirt('destroy test; clone test -n quiet --auto-clone --start -q; domstate quiet');
    assert.equal(q.out.includes('started.'), false);
    assert.match(q.out, /^running$/m);
  });

  it('--replace replaces the files of the domain it replaces (disk and NVRAM)', async () => {
    const sub = join(dir, 'nv');
    mkdirSync(sub);
    writeFileSync(join(sub, 'vm1.img'), Buffer.alloc(1 << 20, 1));
    writeFileSync(join(sub, 'vm1_VARS.fd'), 'vars-of-vm1');
    const xml = join(sub, 'vm1.xml');
    writeFileSync(
      xml,
      `<domain type='test'><name>vm1</name><memory>65536</memory><os><type>hvm</type>
      <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram>${sub}/vm1_VARS.fd</nvram></os><devices>
      <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${sub}/vm1.img'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`,
    );
    const r = await tvirt(
      `define ${xml}; clone -o vm1 -n vm2 --auto-clone -q; domuuid vm2; clone -o vm1 -n vm2 --auto-clone --replace -q; domuuid vm2; domblklist vm2; dumpxml vm2`,
    );
    assert.equal(r.err, '');
    const uuids = r.out.match(/^[0-9a-f-]{36}$/gm) ?? [];
    assert.equal(uuids.length, 2);
    assert.notEqual(uuids[0], uuids[1]);
    assert.match(r.out, new RegExp(`vda +${sub}/vm2\\.img`));
    assert.match(r.out, new RegExp(`<nvram>${sub}/vm2_VARS\\.fd</nvram>`));
    assert.deepEqual(readdirSync(sub).sort(), [
      'vm1.img',
      'vm1.xml',
      'vm1_VARS.fd',
      'vm2.img',
      'vm2_VARS.fd',
    ]);
    assert.equal(readFileSync(join(sub, 'vm2_VARS.fd'), 'utf8'), 'vars-of-vm1');
  });

  it('--print-xml prints only the XML: no warnings, on stdout or stderr', async () => {
    const xml = join(dir, 'gfx.xml');
    writeFileSync(
      xml,
      `<domain type='test'><name>gfx</name><memory>65536</memory><os><type>hvm</type></os><devices>
      <graphics type='vnc' port='5900' autoport='no'/></devices></domain>`,
    );
    const r = await tvirt(`define ${xml}; clone gfx -n gfx2 --auto-clone --print-xml`);
    const warned = await tvirt(
      `define ${xml}; clone gfx -n gfx3 --auto-clone -q; clone gfx -n gfx4 --auto-clone`,
    );
    assert.equal(r.err, '');
    const printed = r.out.slice(r.out.indexOf('<domain'));
    assert.match(printed, /^<domain type='test'>\n[\s\S]*<\/domain>\n+$/);
    assert.match(printed, /<graphics type='vnc' port='-1' autoport='yes'>/);
    assert.doesNotMatch(r.out, /WARNING/);
    // Without --print-xml the warning goes to stderr as virt-clone's, not into the output.
    assert.doesNotMatch(warned.out, /WARNING/);
    assert.equal(
      warned.err,
      'WARNING  Setting the graphics device port to autoport, in order to avoid conflicting.\n',
    );
    const v = await tvirtClone(
      '-c',
      'test:///default',
      '--original-xml',
      xml,
      '-n',
      'gfx5',
      '--auto-clone',
      '--print-xml',
    );
    assert.equal(v.code, 0);
    assert.equal(v.err, '');
    assert.match(v.out, /^<domain type='test'>\n[\s\S]*<\/domain>\n$/);
  });

  it('Ctrl+C cancels the copy and leaves nothing behind', async () => {
    setTimeout(() => process.emit('SIGINT'), 40);
    const r = await tvirt('destroy test; clone test --auto-clone; list --all --name');
    assert.match(
      r.err,
      /Clone aborted at user request: no domain, file or volume of 'test-clone' was left behind\./,
    );
    const l = await tvirt('list --all --name');
    assert.doesNotMatch(l.out, /test-clone/);
  });
});

describe('tvirt-clone', () => {
  it("parses virt-clone's short and long options", () => {
    const o = parseCloneArgs([
      '-o',
      'a',
      '-n',
      'b',
      '-f',
      '/x',
      '-f',
      '/y',
      '-m',
      'RANDOM',
      '-u',
      'U',
      '-q',
      '--check',
      'all=off',
    ]);
    assert.ok(o !== 'help');
    assert.equal(o.original, 'a');
    assert.equal(o.name, 'b');
    assert.deepEqual(o.files, ['/x', '/y']);
    assert.deepEqual(o.macs, ['RANDOM']);
    assert.equal(o.uuid, 'U');
    assert.equal(o.quiet, true);
    assert.deepEqual(o.check, ['all=off']);
  });

  it('--original-xml with a real disk file: copies it beside the original', async () => {
    const disk = join(dir, 'gold.img');
    writeFileSync(disk, Buffer.alloc(1 << 20, 7));
    const xml = join(dir, 'gold.xml');
    writeFileSync(
      xml,
      `<domain type='test'><name>gold</name><memory>65536</memory><os><type>hvm</type></os><devices>
      <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
      <graphics type='vnc' port='5900' autoport='no'/></devices></domain>`,
    );
    const r = await tvirtClone(
      '-c',
      'test:///default',
      '--original-xml',
      xml,
      '-n',
      'silver',
      '--auto-clone',
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.err,
      'WARNING  Setting the graphics device port to autoport, in order to avoid conflicting.\n',
    );
    assert.match(r.out, /Allocating 'silver\.img' +\| 1\.0 MB/);
    assert.match(r.out, /Clone 'silver' created successfully\./);
    assert.deepEqual(readFileSync(join(dir, 'silver.img')), readFileSync(disk));
    const e = await tvirtClone('-c', 'test:///default', '-o', 'nope', '--auto-clone');
    assert.equal(e.code, 1);
    assert.equal(e.err, "ERROR    Domain 'nope' was not found.\n");
  });
});
