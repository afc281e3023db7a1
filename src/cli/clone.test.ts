// `tvirt clone` and tvirt-clone against test:///default: virt-clone's options, output and errors.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
