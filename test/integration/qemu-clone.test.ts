// Cloning with real QEMU through a real tvirtd (--root TMP, QEMU driver): full and linked clones of
// the test guest boot with their own uuid and MAC, their disks are independent of the original's,
// a linked clone stays small and protects its base, --auto-clone twice gives two names, -n/-f puts
// the disk where asked, a cancel mid-copy leaves nothing, and bad clones fail clearly. Every
// process started here (tvirtd, QEMU) is ended by its PID in `after`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connectRemote } from '../../src/api/client.js';
import { parseDomain } from '../../src/conf/domain/index.js';
import type { Connection } from '../../src/drivers/connection.js';
import { isVirError } from '../../src/util/errors.js';
import { cli } from '../support/cli.js';
import { killChildren, killQemus, rootUri, startTvirtd } from '../support/daemon.js';
import { ConsoleReader, guestOrSkip, guestXml, markerCount, waitFor } from './qemu-env.js';

const { guest, skip } = guestOrSkip();
const daemons: ChildProcess[] = [];
let root = '';
/** The second test's daemon root. */
let volRoot = '';

after(async () => {
  killChildren(daemons);
  await killQemus([root, volRoot]);
  for (const r of [root, volRoot]) if (r) await rm(r, { recursive: true, force: true });
});

/** Boots `name`, runs shell lines on its console after the marker, then powers it off from inside. */
async function bootAndRun(
  conn: Connection,
  name: string,
  lines: string[],
  expect: RegExp[],
): Promise<string> {
  const log = join(root, `${name}.serial`);
  const before = await markerCount(log);
  await conn.domainCreate(name);
  const con = new ConsoleReader(await conn.domainOpenConsole(name));
  try {
    await waitFor(`${name} to boot`, async () => (await markerCount(log)) > before, 40_000);
    // Type only once the shell answers (input sent while it starts may be lost).
    const p = con.mark();
    con.send('');
    await con.expect(/tvirt# /, p);
    const from = con.mark();
    for (const l of lines) con.send(l);
    con.send('echo DONE-$((6*7))');
    await con.expect(/DONE-42/, from, 20_000);
    const text = con.text.slice(from);
    for (const re of expect) assert.match(text, re, `${name}: ${text}`);
    con.send('sync; poweroff -f');
    await waitFor(
      `${name} to stop`,
      async () => (await conn.domainGetState(name)).state === 'shutoff',
      20_000,
    );
    return text;
  } finally {
    con.close();
  }
}

const mac = (c: string) => parseDomain(c).devices.interfaces[0]!.mac;

describe('clone with real QEMU through tvirtd', { skip }, () => {
  it('full and linked clones boot, are independent, protect the base; errors and cancel leave nothing', async () => {
    root = await mkdtemp(join(tmpdir(), 'tvirt-clone-qemu-'));
    await startTvirtd(root, daemons);
    const uri = rootUri(root);
    const conn = await connectRemote(uri);
    try {
      // A standalone qcow2 root disk (no backing file) for the original.
      const origDisk = join(root, 'orig.qcow2');
      const cv = spawnSync('qemu-img', ['convert', '-O', 'qcow2', guest!.rootDisk, origDisk], {
        encoding: 'utf8',
      });
      assert.equal(cv.status, 0, cv.stderr);
      await conn.domainDefineXML(
        guestXml(guest!, { name: 'orig', dir: root, disk: origDisk, mac: '52:54:00:c1:00:01' }),
      );

      // The original writes a file, and cloning it while it runs fails clearly.
      await conn.domainCreate('orig');
      await assert.rejects(
        conn.domainClone('orig', { name: 'x' }),
        (e) =>
          isVirError(e, 'OPERATION_INVALID') &&
          /'orig' is running; the domain to clone must be shut off or paused/.test(e.message),
      );
      const con = new ConsoleReader(await conn.domainOpenConsole('orig'));
      await waitFor('orig to boot', async () => (await markerCount(join(root, 'orig.serial'))) >= 1, 40_000);
      const m = con.mark();
      con.send('echo from-orig > /data/o.txt; sync; echo W-$((1+1))');
      await con.expect(/W-2/, m);
      con.send('sync; poweroff -f');
      await waitFor(
        'orig to stop',
        async () => (await conn.domainGetState('orig')).state === 'shutoff',
        20_000,
      );
      con.close();

      // Clear failures: missing original, taken name.
      await assert.rejects(
        conn.domainClone('missing'),
        (e) => isVirError(e, 'NO_DOMAIN') && /Domain 'missing' was not found/.test(e.message),
      );
      await conn.domainDefineXML(guestXml(guest!, { name: 'taken', dir: root }));
      const taken = await cli(uri, 'clone -o orig -n taken --auto-clone');
      assert.equal(taken.code, 1);
      assert.match(taken.err, /error: Invalid name for new guest: Guest name 'taken' is already in use/);

      // Full clone with -n/-f (CLI): the disk goes where asked.
      await mkdir(join(root, 'elsewhere'));
      const fullDisk = join(root, 'elsewhere', 'full.qcow2');
      const full = await cli(uri, `clone -o orig -n full -f ${fullDisk}`);
      assert.equal(full.code, 0, full.err);
      assert.match(full.out, /Allocating 'full\.qcow2' +\| +[\d.]+ [kMG]?B {2}\d\d:\d\d/);
      assert.match(full.out, /Clone 'full' created successfully\./);
      assert.ok(existsSync(fullDisk));
      assert.match(await conn.domainGetXMLDesc('full'), new RegExp(`<source file='${fullDisk}'/>`));

      // Linked clones with --auto-clone, twice: two distinct names, small overlays.
      const l1 = await cli(uri, 'clone -o orig --auto-clone --linked');
      const l2 = await cli(uri, 'clone -o orig --auto-clone --linked');
      assert.equal(l1.code, 0, l1.err);
      assert.equal(l2.code, 0, l2.err);
      assert.match(l1.out, /Clone 'orig-clone' created successfully\./);
      assert.match(l2.out, /Clone 'orig-clone1' created successfully\./);
      for (const p of ['orig-clone.qcow2', 'orig-clone1.qcow2'])
        assert.ok(statSync(join(root, p)).size < 1 << 20, `${p} is a small overlay`);

      // Own uuids and MACs.
      const xmls = await Promise.all(
        ['orig', 'full', 'orig-clone', 'orig-clone1'].map((n) => conn.domainGetXMLDesc(n)),
      );
      assert.equal(new Set(xmls.map((x) => parseDomain(x).uuid)).size, 4);
      assert.equal(new Set(xmls.map(mac)).size, 4);

      // The clones boot, see the original's file, and write their own.
      await bootAndRun(conn, 'full', ['cat /data/o.txt', 'echo from-full > /data/c.txt'], [/from-orig/]);
      await bootAndRun(
        conn,
        'orig-clone',
        ['cat /data/o.txt', 'echo from-linked > /data/l.txt'],
        [/from-orig/],
      );
      assert.ok(statSync(join(root, 'orig-clone.qcow2')).size < 16 << 20, 'the linked clone stays small');

      // The base is protected while linked clones exist; dominfo says by whom.
      await assert.rejects(
        conn.domainCreate('orig'),
        (e) =>
          isVirError(e, 'OPERATION_INVALID') && /linked clone\(s\) orig-clone, orig-clone1/.test(e.message),
      );
      const info = await cli(uri, 'dominfo orig; dominfo orig-clone');
      assert.match(info.out, /Linked clones: +orig-clone, orig-clone1/);
      assert.match(info.out, new RegExp(`Linked to: +${origDisk} \\(orig, vda\\)`));
      await conn.domainUndefine('orig-clone1');
      await conn.domainUndefine('orig-clone');

      // The original has neither clone's file; what it writes now is not in the full clone.
      const o = await bootAndRun(
        conn,
        'orig',
        ['ls /data/c.txt /data/l.txt', 'echo again > /data/o2.txt'],
        [/c\.txt: No such file/, /l\.txt: No such file/],
      );
      assert.ok(o);
      await bootAndRun(
        conn,
        'full',
        ['cat /data/c.txt', 'ls /data/o2.txt'],
        [/from-full/, /o2\.txt: No such file/],
      );

      // Cancel mid-copy: a dense 1 GiB disk; nothing is left behind.
      const big = join(root, 'big.img');
      const fh = await open(big, 'w');
      const chunk = Buffer.alloc(8 << 20, 0xa5);
      for (let i = 0; i < 128; i++) await fh.write(chunk, 0, chunk.length, i * chunk.length);
      await fh.close();
      await conn.domainDefineXML(
        guestXml(guest!, { name: 'big', dir: root, disk: big }).replace("type='qcow2'", "type='raw'"),
      );
      const ac = new AbortController();
      await assert.rejects(
        conn.domainClone('big', {
          name: 'big2',
          signal: ac.signal,
          progress: (p, t) => {
            if (p > 0 && p < t) ac.abort();
          },
        }),
        (e) => isVirError(e, 'OPERATION_ABORTED'),
      );
      await assert.rejects(conn.domainLookup('big2'), (e) => isVirError(e, 'NO_DOMAIN'));
      const left = (await readdir(root)).filter((f) => f.startsWith('big2') || f.includes('tvirt-clone'));
      assert.deepEqual(left, []);
    } finally {
      await conn.close();
    }
  });

  it('README: clone -o vm1 -n vm3 --linked --start of a pool volume; its base is protected; --reflink fails clean', async () => {
    volRoot = await mkdtemp(join(tmpdir(), 'tvirt-clone-qemu-vol-'));
    await startTvirtd(volRoot, daemons);
    const uri = rootUri(volRoot);
    const images = join(volRoot, 'lib', 'images');
    const baseVol = join(images, 'vm1.qcow2');
    const cv = spawnSync('qemu-img', ['convert', '-O', 'qcow2', guest!.rootDisk, baseVol], {
      encoding: 'utf8',
    });
    assert.equal(cv.status, 0, cv.stderr);
    const xml = join(volRoot, 'vm1.xml');
    await writeFile(
      xml,
      guestXml(guest!, { name: 'vm1', dir: volRoot, disk: baseVol }).replace(
        `<disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${baseVol}'/>`,
        `<disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='default' volume='vm1.qcow2'/>`,
      ),
    );
    const def = await cli(uri, `pool-refresh default; define ${xml}`);
    assert.equal(def.code, 0, def.err);
    assert.match(await readFile(xml, 'utf8'), /<source pool='default' volume='vm1\.qcow2'\/>/);

    // The README's line, as written.
    const r = await cli(uri, 'clone -o vm1 -n vm3 --linked --start');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.match(r.out, /Allocating 'vm3\.qcow2'/);
    assert.match(r.out, /\nClone 'vm3' created successfully\.\nDomain 'vm3' started\.\n/);
    const st = await cli(uri, 'domstate vm3; domblklist vm3; destroy vm3');
    assert.match(st.out, /^running$/m);
    assert.match(st.out, /vda +default\/vm3\.qcow2/);

    // The base volume is protected against every change while vm3 reads it; nothing changes.
    const sum = async () =>
      createHash('sha256')
        .update(await readFile(baseVol))
        .digest('hex');
    const before = await sum();
    const refused = await cli(
      uri,
      `start vm1; create ${xml}; vol-wipe vm1.qcow2 --pool default; vol-resize vm1.qcow2 2G --pool default; ` +
        `vol-upload vm1.qcow2 ${xml} --pool default; vol-delete vm1.qcow2 --pool default; ` +
        'undefine vm1 --remove-all-storage --wipe-storage; list --all --name; vol-list default',
    );
    for (const re of [
      /cannot start 'vm1': its disk vda \(\S+vm1\.qcow2\) is the base image of linked clone\(s\) vm3/,
      /cannot wipe volume '\S+vm1\.qcow2': it is the base image of linked clone\(s\) vm3/,
      /cannot resize volume '\S+vm1\.qcow2': it is the base image of linked clone\(s\) vm3/,
      /cannot upload to volume '\S+vm1\.qcow2': it is the base image of linked clone\(s\) vm3/,
      /error: Failed to delete vol vm1\.qcow2\nerror: .*is the base image of linked clone\(s\) vm3/,
      /error: Failed to undefine domain 'vm1'\nerror: .*is the base image of linked clone\(s\) vm3/,
    ])
      assert.match(refused.err, re);
    assert.equal(refused.err.match(/cannot start 'vm1'/g)?.length, 2, 'start and create');
    assert.match(refused.out, /^vm1$/m);
    assert.match(refused.out, /^ vm1\.qcow2 /m);
    assert.equal(await sum(), before, 'the base is unchanged');
    assert.equal((await cli(uri, 'domstate vm1')).out.trim(), 'shut off');

    // --reflink: a copy-on-write clone of the volume, or a clear failure that leaves nothing.
    const probe = join(images, '.probe');
    const canReflink = spawnSync('cp', ['--reflink=always', baseVol, probe]).status === 0;
    await rm(probe, { force: true });
    const rl = await cli(uri, 'clone -o vm1 -n vm4 --auto-clone --reflink');
    if (canReflink) {
      assert.equal(rl.code, 0, rl.err);
    } else {
      assert.equal(rl.code, 1);
      assert.match(rl.err, new RegExp(`reflink is not supported by the file system of '${images}'`));
      const left = await cli(uri, 'list --all --name; vol-list default');
      assert.doesNotMatch(left.out, /vm4/);
      assert.deepEqual(
        (await readdir(images)).filter((f) => f.includes('vm4') || f.startsWith('.')),
        [],
      );
    }
  });
});
