// Storage through a real tvirtd (--root TMP --driver test) with the tvirt CLI over its socket: the
// classic pool/volume session with files checked on disk, bad input that changes nothing, Ctrl+C
// cancelling a clone, and pools surviving a daemon restart. Only PIDs started here are signalled.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderTable } from '../../src/cli/format.js';
import { tvirtPath } from '../support/cli.js';

const fromTs = import.meta.url.endsWith('.ts');
const src = (p: string) => fileURLToPath(new URL(`../../src/${p}.${fromTs ? 'ts' : 'js'}`, import.meta.url));
const node = (script: string, args: string[]) =>
  spawn(process.execPath, [...(fromTs ? ['--import', 'tsx'] : []), script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });

const started: ChildProcess[] = [];
let dir: string;
let root: string;
let uri: string;
let daemon: ChildProcess | undefined;

async function startDaemon(): Promise<void> {
  const d = node(src('daemon/tvirtd'), ['--root', root, '--driver', 'test']);
  started.push(d);
  daemon = d;
  let err = '';
  d.stderr!.on('data', (c: Buffer) => {
    err += c;
  });
  d.stdout!.resume();
  const sock = join(root, 'run', 'tvirt-sock');
  const deadline = Date.now() + 20_000;
  while (!existsSync(sock)) {
    if (d.exitCode !== null) throw new Error(`tvirtd exited: ${err}`);
    if (Date.now() > deadline) throw new Error(`tvirtd did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopDaemon(): Promise<void> {
  const d = daemon;
  if (!d || d.exitCode !== null || d.signalCode !== null) return;
  const exited = new Promise((r) => d.once('exit', r));
  d.kill('SIGTERM');
  await exited;
}

interface Run {
  out: string;
  err: string;
  code: number | null;
}
function tvirtProc(cmd: string): { child: ChildProcess; done: Promise<Run> } {
  const child = node(tvirtPath, ['-c', uri, cmd]);
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c;
  });
  const done = new Promise<Run>((resolve) => child.once('exit', (code) => resolve({ out, err, code })));
  return { child, done };
}
const tvirt = (cmd: string) => tvirtProc(cmd).done;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-storage-it-'));
  root = join(dir, 'root');
  uri = `test+unix:///system?socket=${join(root, 'run', 'tvirt-sock')}`;
  await startDaemon();
});
after(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('storage through tvirtd and the CLI', () => {
  it('the default pool exists, is running and autostarted, under the state directory', async () => {
    const r = await tvirt('pool-list --all; pool-dumpxml default');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, / default {3}active {3}yes\n/);
    assert.match(r.out, new RegExp(`<path>${join(root, 'lib', 'images')}</path>`));
    assert.ok((await stat(join(root, 'lib', 'images'))).isDirectory());
  });

  it('the classic session', async () => {
    const vm = join(dir, 'vmdisk');
    let r = await tvirt(
      `pool-define-as vmdisk --type dir --target ${vm}; pool-build vmdisk; pool-list --all`,
    );
    assert.equal(r.err, '');
    assert.equal(
      r.out,
      `Pool vmdisk defined\n\nPool vmdisk built\n\n Name      State      Autostart\n---------------------------------\n default   active     yes\n vmdisk    inactive   no\n\n`,
    );
    assert.ok((await stat(vm)).isDirectory());
    assert.ok(existsSync(join(root, 'etc', 'storage', 'vmdisk.xml')));

    r = await tvirt(
      'pool-start vmdisk; pool-autostart vmdisk; vol-create-as vmdisk a.qcow2 1G --format qcow2; vol-list vmdisk',
    );
    assert.equal(r.err, '');
    assert.equal(
      r.out,
      `Pool vmdisk started\n\nPool vmdisk marked as autostarted\n\nVol a.qcow2 created\n\n${renderTable(['Name', 'Path'], [['a.qcow2', `${vm}/a.qcow2`]])}\n`,
    );
    assert.equal(
      await readlink(join(root, 'etc', 'storage', 'autostart', 'vmdisk.xml')),
      join(root, 'etc', 'storage', 'vmdisk.xml'),
    );
    const head = await readFile(join(vm, 'a.qcow2'));
    assert.equal(head.subarray(0, 4).toString('latin1'), 'QFI\xfb');

    r = await tvirt(
      'vol-clone a.qcow2 b.qcow2 --pool vmdisk; vol-info b.qcow2 --pool vmdisk; vol-path b.qcow2 --pool vmdisk; vol-delete a.qcow2 --pool vmdisk',
    );
    assert.equal(r.err, '');
    assert.match(
      r.out,
      /^Vol b\.qcow2 cloned from a\.qcow2\n\nName: {11}b\.qcow2\nType: {11}file\nCapacity: {7}1\.00 GiB\n/,
    );
    assert.match(r.out, new RegExp(`\n${vm}/b.qcow2\n\nVol a.qcow2 deleted\n\n$`));
    assert.deepEqual(await readdir(vm), ['b.qcow2']);

    r = await tvirt('pool-destroy vmdisk; pool-undefine vmdisk; pool-list --all --name');
    assert.equal(r.err, '');
    assert.equal(
      r.out,
      'Pool vmdisk destroyed\n\nPool vmdisk has been undefined\n\ndefault             \n\n',
    );
    assert.equal(existsSync(join(root, 'etc', 'storage', 'vmdisk.xml')), false);
    assert.equal(existsSync(join(root, 'etc', 'storage', 'autostart', 'vmdisk.xml')), false);
    assert.deepEqual(await readdir(vm), ['b.qcow2'], 'undefining a pool keeps its data');
  });

  it('bad input: clear errors, exit 1, nothing changed', async () => {
    const before = await readdir(join(root, 'lib', 'images'));
    for (const [cmd, msg] of [
      [
        'vol-create-as default ../x 1M',
        /^error: Failed to create vol \.\.\/x\nerror: .*volume name '\.\.\/x' cannot contain '\/'/,
      ],
      [
        'vol-create-as default a/b 1M',
        /^error: Failed to create vol a\/b\nerror: Requested operation is not valid: volume name 'a\/b' cannot contain '\/'\n$/,
      ],
      [
        'vol-create-as default .. 1M',
        /^error: Failed to create vol \.\.\nerror: invalid argument: invalid volume name '\.\.'/,
      ],
      [
        'vol-create-as default c 1Q',
        /^error: Malformed size 1Q\nerror: invalid argument: unknown suffix 'Q'\n$/,
      ],
      [
        'pool-info nosuch',
        /^error: failed to get pool 'nosuch'\nerror: Storage pool not found: no storage pool with matching name 'nosuch'\n$/,
      ],
    ] as const) {
      const r = await tvirt(cmd);
      assert.equal(r.code, 1, cmd);
      assert.match(r.err, msg, cmd);
    }
    assert.deepEqual(await readdir(join(root, 'lib', 'images')), before);

    // A pool whose target is a file, not a directory.
    const file = join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    let r = await tvirt(`pool-create-as nd dir --target ${file}`);
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Failed to create pool nd\nerror: .*not a directory/i);
    assert.equal(await readFile(file, 'utf8'), 'x');
    r = await tvirt('pool-list --all --name');
    assert.equal(r.out, 'default             \n\n');

    // An inactive pool says so.
    const p2 = join(dir, 'p2');
    r = await tvirt(`pool-define-as p2 dir --target ${p2}; pool-build p2`);
    assert.equal(r.code, 0, r.err);
    r = await tvirt('vol-create-as p2 v 1M');
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Failed to create vol v\nerror: .*storage pool 'p2' is not active/);

    // Deleting a pool that still holds volumes is refused; the files stay.
    r = await tvirt('pool-start p2; vol-create-as p2 v 1M');
    assert.equal(r.code, 0, r.err);
    r = await tvirt('vol-create-as p2 v 1M');
    assert.equal(r.code, 1);
    assert.equal(r.err, "error: Failed to create vol v\nerror: storage volume 'v' exists already\n");
    const missing = join(dir, 'no-such-file');
    r = await tvirt(`vol-upload v ${missing} --pool p2`);
    assert.equal(r.code, 1);
    assert.equal(r.err, `error: cannot read ${missing}\nerror: No such file or directory\n`);
    // vol-clone --reflink: a copy-on-write clone where the file system shares blocks, else a clear
    // failure and no volume (never a silent byte copy).
    const probe = spawnSync('cp', ['--reflink=always', join(p2, 'v'), join(p2, '.probe')]);
    await rm(join(p2, '.probe'), { force: true });
    r = await tvirt('vol-clone v v2 --pool p2 --reflink');
    if (probe.status === 0) {
      assert.equal(r.code, 0, r.err);
      r = await tvirt('vol-delete v2 --pool p2');
    } else {
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /^error: Failed to clone vol from v\nerror: .*reflink is not supported by the file system of/,
      );
      assert.deepEqual(await readdir(p2), ['v']);
    }
    r = await tvirt('pool-destroy p2');
    assert.equal(r.code, 0, r.err);
    r = await tvirt('pool-delete p2');
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Failed to delete pool p2\nerror: .*still holds 1 volume/);
    assert.deepEqual(await readdir(p2), ['v']);
  });

  it('a volume a running domain uses is not deleted; undefine --remove-all-storage removes it after', async () => {
    const p = join(dir, 'inuse');
    const domXml = join(dir, 'inuse.xml');
    await writeFile(
      domXml,
      `<domain type='test'><name>vm1</name><memory>1048576</memory><os><type>hvm</type></os><devices><disk type='file' device='disk'><source file='${p}/d.raw'/><target dev='vda' bus='virtio'/></disk></devices></domain>`,
    );
    let r = await tvirt(
      `pool-create-as inuse dir --target ${p} --build; vol-create-as inuse d.raw 1M; define ${domXml}; start vm1`,
    );
    assert.equal(r.code, 0, r.err);
    r = await tvirt('vol-delete d.raw --pool inuse');
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Failed to delete vol d\.raw\nerror: .*in use by running domain 'vm1'/);
    assert.deepEqual(await readdir(p), ['d.raw']);
    r = await tvirt('destroy vm1; undefine vm1 --remove-all-storage; pool-destroy inuse');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`Volume 'vda'\\(${p}/d\\.raw\\) removed\\.\n`));
    assert.deepEqual(await readdir(p), []);
  });

  it('Ctrl+C cancels a clone and leaves nothing behind', async () => {
    const vm = join(dir, 'big');
    await mkdir(vm);
    let r = await tvirt(`pool-create-as big dir --target ${vm}`);
    assert.equal(r.code, 0, r.err);
    await writeFile(join(vm, 'src.raw'), Buffer.alloc(768 << 20, 1));
    r = await tvirt('pool-refresh big');
    assert.equal(r.code, 0, r.err);
    const p = tvirtProc('vol-clone src.raw dst.raw --pool big');
    // Interrupt once the daemon runs the copy (its job appears in the listing).
    const { connectRemote } = await import('../../src/api/client.js');
    const conn = (await connectRemote(uri)) as import('../../src/api/client.js').RemoteConnection;
    try {
      const deadline = Date.now() + 20_000;
      while (!(await conn.listJobs({ active: true })).some((j) => j.name === 'big/dst.raw')) {
        if (Date.now() > deadline) throw new Error('the clone job never started');
        await new Promise((res) => setTimeout(res, 5));
      }
      p.child.kill('SIGINT');
      const res = await p.done;
      assert.equal(res.code, 1);
      assert.match(res.err, /^error: Failed to clone vol from src\.raw\nerror: operation aborted/);
      const deadline2 = Date.now() + 5000;
      while ((await readdir(vm)).length > 1 && Date.now() < deadline2)
        await new Promise((res2) => setTimeout(res2, 20));
      assert.deepEqual(await readdir(vm), ['src.raw']);
      const jobs = await conn.listJobs();
      assert.equal(jobs.find((j) => j.name === 'big/dst.raw')?.state, 'cancelled');
    } finally {
      await conn.close();
    }
    r = await tvirt('vol-list big; pool-destroy big');
    assert.equal(
      r.out,
      `${renderTable(['Name', 'Path'], [['src.raw', `${vm}/src.raw`]])}\nPool big destroyed\n\n`,
    );
  });

  it('vol-upload and vol-download stream the content, sparse with --sparse', async () => {
    const p = join(dir, 'up');
    const local = join(dir, 'local.img');
    // 32 MiB with data at both ends and a hole between.
    const fh = await import('node:fs/promises').then((m) => m.open(local, 'w'));
    await fh.write(Buffer.alloc(1 << 20, 5), 0, 1 << 20, 0);
    await fh.write(Buffer.alloc(1 << 20, 6), 0, 1 << 20, 31 << 20);
    await fh.close();
    let r = await tvirt(
      `pool-create-as up dir --target ${p} --build; vol-create-as up v.raw 32M --format raw`,
    );
    assert.equal(r.code, 0, r.err);
    r = await tvirt(`vol-upload v.raw ${local} --pool up --sparse`);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(await readFile(join(p, 'v.raw')), await readFile(local));
    const { statSync } = await import('node:fs');
    assert.ok(statSync(join(p, 'v.raw')).blocks * 512 < 8 << 20, 'the hole stayed a hole in the volume');
    const down = join(dir, 'down.img');
    const downSparse = join(dir, 'down-sparse.img');
    r = await tvirt(
      `vol-download v.raw ${down} --pool up; vol-download v.raw ${downSparse} --pool up --sparse`,
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(await readFile(down), await readFile(local));
    assert.deepEqual(await readFile(downSparse), await readFile(local));
    assert.ok(statSync(downSparse).blocks * 512 < 8 << 20, 'the download kept the hole');
    // A window: 2 bytes at 1 MiB - 1 of the volume.
    const win = join(dir, 'win.bin');
    r = await tvirt(`vol-download v.raw ${win} --pool up --offset ${(1 << 20) - 1} --length 2`);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(await readFile(win), Buffer.from([5, 0]));
    // A failed download of a new file leaves no file behind.
    r = await tvirt(`vol-download nosuch.raw ${join(dir, 'nofile')} --pool up`);
    assert.equal(r.code, 1);
    assert.equal(existsSync(join(dir, 'nofile')), false);
    r = await tvirt('pool-destroy up');
    assert.equal(r.code, 0, r.err);
  });

  it('pools come back after a daemon restart: autostart ones running, others inactive', async () => {
    const auto = join(dir, 'auto');
    let r = await tvirt(`pool-define-as auto dir --target ${auto}; pool-build auto; pool-autostart auto`);
    assert.equal(r.code, 0, r.err);
    await stopDaemon();
    await startDaemon();
    r = await tvirt('pool-list --all');
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      renderTable(
        ['Name', 'State', 'Autostart'],
        [
          ['auto', 'active', 'yes'],
          ['default', 'active', 'yes'],
          ['p2', 'inactive', 'no'],
        ],
      ) + '\n',
    );
  });
});
