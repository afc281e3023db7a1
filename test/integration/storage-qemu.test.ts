// A real guest booting from a pool volume (`<disk type='volume'>`) through tvirtd (--driver qemu)
// and the tvirt CLI: the volume is resolved at start, is refused deletion while the guest runs, and
// `undefine --remove-all-storage` removes it. Every process started here is ended by its PID.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processCmdline, processRunning } from '../../src/host/process.js';
import { tvirtPath } from '../support/cli.js';
import { createOverlay } from '../support/guest.js';
import { guestOrSkip, guestXml, markerCount, waitFor } from './qemu-env.js';

const { guest, skip } = guestOrSkip();
const fromTs = import.meta.url.endsWith('.ts');
const ext = fromTs ? 'ts' : 'js';
const tvirtd = fileURLToPath(new URL(`../../src/daemon/tvirtd.${ext}`, import.meta.url));
const nodeArgs = fromTs ? ['--import', 'tsx'] : [];
let daemon: ChildProcess | undefined;
let root: string | undefined;
const qemuPids = new Set<number>();

function cli(uri: string, cmds: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [...nodeArgs, tvirtPath, '-c', uri, cmds], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    c.once('close', (code) => resolve({ code, out, err }));
  });
}

after(async () => {
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  if (!root) return;
  const stDir = join(root, 'run', 'qemu');
  for (const f of existsSync(stDir) ? await readdir(stDir) : []) {
    if (!f.endsWith('.json')) continue;
    const st = JSON.parse(await readFile(join(stDir, f), 'utf8').catch(() => '{}')) as { pid?: number };
    const argv = st.pid ? await processCmdline(st.pid) : undefined;
    if (st.pid && argv?.some((a) => a.includes(root!))) qemuPids.add(st.pid);
  }
  for (const pid of qemuPids) if (await processRunning(pid)) process.kill(pid, 'SIGKILL');
  await rm(root, { recursive: true, force: true });
});

describe('a guest on a pool volume', { skip }, () => {
  it('boots from <disk type=volume>, keeps its volume while running, undefine removes it', async () => {
    root = await mkdtemp(join(tmpdir(), 'tvirt-storage-qemu-'));
    const d = spawn(process.execPath, [...nodeArgs, tvirtd, '--root', root, '--driver', 'qemu'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon = d;
    let derr = '';
    d.stderr!.setEncoding('utf8').on('data', (c: string) => {
      derr += c;
    });
    await waitFor('tvirtd to start', () => derr.includes('tvirtd started') || d.exitCode !== null);
    assert.equal(d.exitCode, null, derr);
    const uri = `qemu+unix:///system?socket=${join(root, 'run', 'tvirt-sock')}`;
    const pool = join(root, 'vmdisk');

    let r = await cli(
      uri,
      `pool-define-as vmdisk --type dir --target ${pool}; pool-build vmdisk; pool-start vmdisk`,
    );
    assert.equal(r.code, 0, r.err);
    createOverlay(guest!, join(pool, 'root.qcow2'));
    r = await cli(uri, 'pool-refresh vmdisk; vol-info root.qcow2 --pool vmdisk');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Name: {11}root\.qcow2\nType: {11}file\n/);

    const xml = guestXml(guest!, { name: 'pv', dir: root, disk: '/unused' }).replace(
      /<disk type='file' device='disk'>[\s\S]*?<\/disk>/,
      "<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='vmdisk' volume='root.qcow2'/><target dev='vda' bus='virtio'/></disk>",
    );
    const file = join(root, 'pv.xml');
    await writeFile(file, xml);
    r = await cli(uri, `define ${file}; start pv`);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `Domain 'pv' defined from ${file}\n\nDomain 'pv' started\n\n`);
    const st = JSON.parse(await readFile(join(root, 'run', 'qemu', 'pv.json'), 'utf8')) as { pid: number };
    qemuPids.add(st.pid);
    assert.ok((await processCmdline(st.pid))?.some((a) => a.includes(join(pool, 'root.qcow2'))));
    await waitFor('the boot marker', async () => (await markerCount(join(root!, 'pv.serial'))) >= 1, 60_000);

    r = await cli(uri, 'vol-delete root.qcow2 --pool vmdisk');
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Failed to delete vol root\.qcow2\nerror: .*in use by running domain 'pv'/);
    assert.ok(existsSync(join(pool, 'root.qcow2')));

    r = await cli(
      uri,
      'destroy pv; undefine pv --remove-all-storage; vol-list vmdisk; pool-destroy vmdisk; pool-undefine vmdisk',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Domain 'pv' has been undefined\nVolume 'vda'\(root\.qcow2\) removed\.\n/);
    assert.deepEqual(await readdir(pool), []);
    await waitFor('QEMU gone', async () => !(await processRunning(st.pid)));
  });
});
