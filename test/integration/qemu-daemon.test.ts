// tvirtd (a real process, --root TMP, QEMU driver) with real guests: SIGKILL of the daemon loses no
// guest and a restarted daemon controls them again; and the classic day through the tvirt CLI with
// virsh's messages. Every process started here (tvirtd, QEMU) is ended by its PID in `after`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connectRemote } from '../../src/api/client.js';
import type { Connection } from '../../src/drivers/connection.js';
import { QmpClient } from '../../src/drivers/qemu/qmp.js';
import { processRunning } from '../../src/host/process.js';
import { cli } from '../support/cli.js';
import {
  killChildren,
  killQemus,
  qemuPid as readQemuPid,
  rootUri,
  startTvirtd,
  stopTvirtd,
} from '../support/daemon.js';
import { ConsoleReader, guestOrSkip, guestXml, markerCount, waitFor } from './qemu-env.js';

const { guest, skip } = guestOrSkip();
const daemons: ChildProcess[] = [];
const qemuPids = new Set<number>();
const dirs: string[] = [];

/** QEMU pid of a running domain, from its status file (remembered for cleanup). */
async function qemuPid(root: string, name: string): Promise<number> {
  const pid = await readQemuPid(root, name);
  qemuPids.add(pid);
  return pid;
}

after(async () => {
  killChildren(daemons);
  // Guests outlive their daemon by design: end every QEMU a status file under our roots names,
  // when its argv shows it is ours (a test that failed early may not have recorded its pid).
  await killQemus(dirs, qemuPids);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('tvirtd with the QEMU driver', { skip, concurrency: true }, () => {
  it('survives SIGKILL: both guests keep running and a new tvirtd controls them; a poweroff meanwhile; autostart', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tvirtd-qemu-'));
    dirs.push(root);
    const uri = rootUri(root);
    let d = await startTvirtd(root, daemons);
    let conn: Connection = await connectRemote(uri);
    try {
      await conn.domainDefineXML(guestXml(guest!, { name: 'g1', dir: root }));
      await conn.domainDefineXML(guestXml(guest!, { name: 'g2', dir: root }));
      await Promise.all([conn.domainCreate('g1'), conn.domainCreate('g2')]);
      const ids = Object.fromEntries((await conn.listDomains({ active: true })).map((x) => [x.name, x.id]));
      const p1 = await qemuPid(root, 'g1');
      const p2 = await qemuPid(root, 'g2');
      await waitFor(
        'both boot markers',
        async () =>
          (await markerCount(join(root, 'g1.serial'))) >= 1 &&
          (await markerCount(join(root, 'g2.serial'))) >= 1,
        90_000,
      );
      await conn.close();

      await stopTvirtd(d, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(await processRunning(p1), 'g1 QEMU survives the daemon');
      assert.ok(await processRunning(p2), 'g2 QEMU survives the daemon');

      d = await startTvirtd(root, daemons);
      conn = await connectRemote(uri);
      const active = await conn.listDomains({ active: true });
      assert.deepEqual(active.map((x) => `${x.name} ${x.id} ${x.state}`).sort(), [
        `g1 ${ids.g1} running`,
        `g2 ${ids.g2} running`,
      ]);
      // Controllable again: pause/resume over QMP, the console answers, then destroy.
      await conn.domainSuspend('g1');
      assert.deepEqual(await conn.domainGetState('g1'), { state: 'paused', reason: 'user' });
      await conn.domainResume('g1');
      assert.deepEqual(await conn.domainGetState('g1'), { state: 'running', reason: 'unpaused' });
      const con = new ConsoleReader(await conn.domainOpenConsole('g2'));
      try {
        con.send('echo again-$((40+2))');
        await con.expect(/again-42/);
      } finally {
        con.close();
      }
      await conn.domainDestroy('g1');
      assert.equal(await processRunning(p1), false);

      // The guest powers off while no daemon listens: the next daemon sees it and applies on_poweroff.
      await conn.close();
      await stopTvirtd(d, 'SIGKILL');
      const st = JSON.parse(await readFile(join(root, 'run', 'qemu', 'g2.json'), 'utf8')) as {
        monitorPath: string;
      };
      const qmp = await QmpClient.connect(st.monitorPath);
      const down = qmp.waitForEvent('SHUTDOWN', { timeoutMs: 60_000 });
      await qmp.execute('system_powerdown');
      await down;
      await qmp.close();
      d = await startTvirtd(root, daemons);
      conn = await connectRemote(uri);
      await waitFor('g2 shut off', async () => (await conn.domainGetState('g2')).state === 'shutoff');
      assert.deepEqual(await conn.domainGetState('g2'), { state: 'shutoff', reason: 'shutdown' });
      await waitFor('g2 QEMU gone', async () => !(await processRunning(p2)));
      assert.deepEqual(await conn.listDomains({ active: true }), []);

      // Autostart: a daemon that starts brings the marked domain up.
      await conn.domainSetAutostart('g1', true);
      assert.ok(existsSync(join(root, 'etc', 'qemu', 'autostart', 'g1.xml')));
      await conn.close();
      await stopTvirtd(d, 'SIGTERM');
      d = await startTvirtd(root, daemons);
      conn = await connectRemote(uri);
      await waitFor('g1 autostarted', async () => (await conn.domainGetState('g1')).state === 'running');
      const p3 = await qemuPid(root, 'g1');
      assert.equal((await conn.domainGetState('g2')).state, 'shutoff');

      // SIGTERM stops the daemon, not the guests; the next one finds g1 and does not start it twice.
      await conn.close();
      await stopTvirtd(d, 'SIGTERM');
      assert.ok(await processRunning(p3), 'g1 keeps running after SIGTERM of tvirtd');
      d = await startTvirtd(root, daemons);
      conn = await connectRemote(uri);
      assert.equal((await conn.domainGetState('g1')).state, 'running');
      assert.equal(await qemuPid(root, 'g1'), p3);
      // A found-again QEMU is not our child: its death is seen through the monitor closing.
      process.kill(p3, 'SIGKILL');
      const t0 = Date.now();
      await waitFor(
        'g1 shutoff (crashed)',
        async () => {
          const st = await conn.domainGetState('g1');
          return st.state === 'shutoff' && st.reason === 'crashed';
        },
        1000,
      );
      assert.ok(Date.now() - t0 < 1000);
    } finally {
      await conn.close().catch(() => {});
      await stopTvirtd(d, 'SIGTERM');
    }
  });

  it('the classic day through the CLI: define a copy, start, suspend, resume, reboot, shutdown, undefine', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tvirtd-cli-'));
    dirs.push(root);
    const uri = rootUri(root);
    const d = await startTvirtd(root, daemons);
    try {
      // A copied XML with a new name, uuid, disk and MAC, as people do.
      const base = guestXml(guest!, {
        name: 'base',
        dir: root,
        uuid: '6b1e1f0c-0e6c-4f55-9d7a-1f6e2a3b4c5d',
        mac: '52:54:00:aa:bb:01',
      });
      await guestXml(guest!, { name: 'vm1', dir: root }); // creates root/vm1.qcow2
      const copy = base
        .replaceAll('base', 'vm1')
        .replace('6b1e1f0c-0e6c-4f55-9d7a-1f6e2a3b4c5d', '0f8a2c44-3f1d-4b7e-8a55-2c9d1e7f6a01')
        .replace('52:54:00:aa:bb:01', '52:54:00:aa:bb:02');
      const file = join(root, 'vm1.xml');
      await writeFile(file, copy);
      let r = await cli(uri, `define ${file}`);
      assert.equal(r.out.trim(), `Domain 'vm1' defined from ${file}`, r.err);
      r = await cli(uri, 'start vm1');
      assert.equal(r.out.trim(), "Domain 'vm1' started", r.err);
      await qemuPid(root, 'vm1');
      const serial = join(root, 'vm1.serial');
      await waitFor('the boot marker', async () => (await markerCount(serial)) >= 1, 90_000);
      r = await cli(
        uri,
        'suspend vm1; domstate --reason vm1; resume vm1; domstate --reason vm1; dumpxml vm1',
      );
      assert.equal(r.code, 0, r.err);
      assert.match(
        r.out,
        /Domain 'vm1' suspended\n\npaused \(user\)\n\nDomain 'vm1' resumed\n\nrunning \(unpaused\)/,
      );
      assert.match(r.out, /<mac address='52:54:00:aa:bb:02'\/>/);
      assert.match(r.out, /vm1\.qcow2/);
      r = await cli(uri, 'reboot vm1');
      assert.equal(r.out.trim(), "Domain 'vm1' is being rebooted", r.err);
      await waitFor('the second boot marker', async () => (await markerCount(serial)) >= 2, 90_000);
      r = await cli(uri, 'shutdown vm1');
      assert.equal(r.out.trim(), "Domain 'vm1' is being shutdown", r.err);
      await waitFor(
        'shut off',
        async () => (await cli(uri, 'domstate --reason vm1')).out.trim() === 'shut off (shutdown)',
        60_000,
      );
      r = await cli(uri, 'list --all');
      assert.match(r.out, / -\s+vm1\s+shut off/);
      r = await cli(uri, 'undefine vm1');
      assert.equal(r.out.trim(), "Domain 'vm1' has been undefined", r.err);
      r = await cli(uri, 'domstate vm1');
      assert.equal(r.code, 1);
      assert.match(r.err, /error: failed to get domain 'vm1'/);
      assert.ok(!existsSync(join(root, 'etc', 'qemu', 'vm1.xml')));
    } finally {
      await stopTvirtd(d, 'SIGTERM');
    }
  });
});

describe('tvirtd pid file', { concurrency: true }, () => {
  /** A zombie: `sh` forks `sleep 0` then execs a `sleep` that never reaps it. */
  async function zombie(): Promise<{ pid: number; parent: ChildProcess }> {
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    daemons.push(parent);
    const pid = await new Promise<number>((r) =>
      parent.stdout!.once('data', (b: Buffer) => r(Number(String(b).trim()))),
    );
    await waitFor('a zombie', async () => !(await processRunning(pid)) && existsSync(`/proc/${pid}`), 5000);
    return { pid, parent };
  }

  it('a pid file naming a zombie (a daemon killed a moment ago) or another program does not block a start', async () => {
    const z = await zombie();
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    daemons.push(other);
    for (const pid of [z.pid, other.pid!]) {
      const root = await mkdtemp(join(tmpdir(), 'tvirtd-pid-'));
      dirs.push(root);
      await mkdir(join(root, 'run'), { recursive: true });
      await writeFile(join(root, 'run', 'tvirtd.pid'), `${pid}\n`);
      const d = await startTvirtd(root, daemons);
      assert.equal((await readFile(join(root, 'run', 'tvirtd.pid'), 'utf8')).trim(), String(d.child.pid));
      // A live tvirtd still blocks a second one.
      const second = await startTvirtd(root, daemons, { check: false });
      assert.notEqual(await second.exited, 0);
      assert.match(second.stderr(), new RegExp(`already running with pid ${d.child.pid}`));
      await stopTvirtd(d, 'SIGTERM');
    }
    z.parent.kill('SIGKILL');
    other.kill('SIGKILL');
  });
});
