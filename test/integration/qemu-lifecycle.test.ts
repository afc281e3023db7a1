// The QEMU driver with a real QEMU (TCG) and the tiny test guest: boot marker, console, suspend and
// resume, reboot, reset, shutdown, disk persistence across restarts, destroy, crashes and on_crash,
// start failures. Every QEMU started here is ended by its PID in `after`.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TvirtEvent } from '../../src/drivers/connection.js';
import { openQemuDriver, type QemuDriver } from '../../src/drivers/qemu/qemu-driver.js';
import { processRunning } from '../../src/host/process.js';
import { isVirError } from '../../src/util/errors.js';
import {
  ConsoleReader,
  type DriverFixture,
  guestOrSkip,
  openDriverFixture,
  guestXml,
  markerCount,
  waitFor,
} from './qemu-env.js';

const { guest, skip } = guestOrSkip();

let fx: DriverFixture;
let dir: string;
let drv: QemuDriver;
let events: TvirtEvent[];
const pidOf = (name: string) => fx.pidOf(name);

before(async () => {
  if (skip) return;
  fx = await openDriverFixture('tvirt-qemu-');
  ({ dir, drv, events } = fx);
});

after(async () => {
  if (!skip) await fx.close();
});

const stateOf = (name: string) => fx.stateOf(name);

describe('QEMU driver with a real guest', { skip, concurrency: true }, () => {
  it('boots, suspends and resumes, reboots, resets, shuts down, keeps its disk, is destroyed', async () => {
    const serial = join(dir, 'life.serial');
    await drv.domainDefineXML(guestXml(guest!, { name: 'life', dir }));
    assert.equal(await stateOf('life'), 'shutoff (unknown)');
    await drv.domainCreate('life');
    assert.equal(await stateOf('life'), 'running (booted)');
    pidOf('life');
    const xml = await drv.domainGetXMLDesc('life');
    assert.match(xml, /<domain type='qemu' id='\d+'>/);
    assert.match(xml, /<source path='\/dev\/pts\/\d+'\/>/);
    assert.ok(existsSync(join(dir, 'run', 'life.json')), 'status file');
    const con = new ConsoleReader(await drv.domainOpenConsole('life'));
    try {
      await waitFor('the boot marker', async () => (await markerCount(serial)) >= 1);
      await con.send('');
      await con.expect(/tvirt# /);

      await drv.domainSuspend('life');
      assert.equal(await stateOf('life'), 'paused (user)');
      let m = con.mark();
      con.send('echo out-$((6*7))');
      await new Promise((r) => setTimeout(r, 300));
      assert.doesNotMatch(con.text.slice(m), /out-42/, 'a paused guest does not run commands');
      await drv.domainResume('life');
      assert.equal(await stateOf('life'), 'running (unpaused)');
      await con.expect(/out-42/, m);

      m = con.mark();
      con.send('echo persist-$((100+23)) > /data/f && sync && echo wrote-$((1+1))');
      await con.expect(/wrote-2/, m);

      await drv.domainReboot('life');
      await waitFor('the second boot marker', async () => (await markerCount(serial)) >= 2, 90_000);
      assert.equal(await stateOf('life'), 'running (booted)');
      assert.ok(events.some((e) => e.name === 'life' && e.event === 'rebooted'));

      await drv.domainReset('life');
      await waitFor('the boot marker after reset', async () => (await markerCount(serial)) >= 3, 90_000);

      await drv.domainShutdown('life');
      await waitFor('shutoff after shutdown', async () => (await stateOf('life')) === 'shutoff (shutdown)');
      assert.ok(!existsSync(join(dir, 'run', 'life.json')), 'status file removed');
      assert.match(await readFile(join(dir, 'log', 'life.log'), 'utf8'), /shutting down, reason=shutdown/);
    } finally {
      con.close();
    }

    // The file written before the reboot is still on the disk after a full stop and start.
    await drv.domainCreate('life');
    pidOf('life');
    const con2 = new ConsoleReader(await drv.domainOpenConsole('life'));
    try {
      await waitFor('the boot marker after restart', async () => (await markerCount(serial)) >= 4);
      const m = con2.mark();
      con2.send('cat /data/f');
      await con2.expect(/persist-123/, m);
    } finally {
      con2.close();
    }
    const pid = pidOf('life');
    await drv.domainDestroy('life');
    assert.equal(await stateOf('life'), 'shutoff (destroyed)');
    assert.equal(await processRunning(pid), false);
    const mine = events.filter((e) => e.name === 'life').map((e) => `${e.event}/${e.detail ?? ''}`);
    for (const want of [
      'defined/added',
      'started/booted',
      'suspended/paused',
      'resumed/unpaused',
      'shutdown/finished',
      'stopped/shutdown',
      'stopped/destroyed',
    ])
      assert.ok(mine.includes(want), `event ${want} in ${mine.join(' ')}`);
  });

  it('notices a killed QEMU within a second: shutoff (crashed); on_crash=restart brings it back', async () => {
    await drv.domainDefineXML(guestXml(guest!, { name: 'crashy', dir }));
    await drv.domainDefineXML(guestXml(guest!, { name: 'phoenix', dir, onCrash: 'restart' }));
    await Promise.all([drv.domainCreate('crashy'), drv.domainCreate('phoenix')]);
    const a = pidOf('crashy');
    const b = pidOf('phoenix');
    process.kill(a, 'SIGKILL');
    process.kill(b, 'SIGKILL');
    const t0 = Date.now();
    await waitFor(
      'crashy shutoff (crashed) and its event',
      async () =>
        (await stateOf('crashy')) === 'shutoff (crashed)' &&
        events.some((e) => e.name === 'crashy' && e.event === 'stopped' && e.detail === 'crashed'),
      1000,
    );
    assert.ok(Date.now() - t0 < 1000);
    assert.match(await readFile(join(dir, 'log', 'crashy.log'), 'utf8'), /shutting down, reason=crashed/);

    await waitFor(
      'phoenix running again with a new QEMU',
      async () => {
        const d = await drv.domainLookup('phoenix');
        return d.state === 'running' && pidOf('phoenix') !== b;
      },
      5000,
    );
    assert.ok(events.some((e) => e.name === 'phoenix' && e.event === 'stopped' && e.detail === 'crashed'));
    await waitFor(
      'phoenix boots again',
      async () => (await markerCount(join(dir, 'phoenix.serial'))) >= 1,
      90_000,
    );
    await drv.domainDestroy('phoenix');
    assert.equal(await stateOf('phoenix'), 'shutoff (destroyed)');
  });

  it("honours on_poweroff: 'preserve' keeps QEMU in shutdown, 'restart' boots again", async () => {
    await drv.domainDefineXML(guestXml(guest!, { name: 'keeper', dir, onPoweroff: 'preserve' }));
    await drv.domainDefineXML(guestXml(guest!, { name: 'again', dir, onPoweroff: 'restart' }));
    await Promise.all([drv.domainCreate('keeper'), drv.domainCreate('again')]);
    const kp = pidOf('keeper');
    const ap = pidOf('again');
    await waitFor(
      'both boot markers',
      async () =>
        (await markerCount(join(dir, 'keeper.serial'))) >= 1 &&
        (await markerCount(join(dir, 'again.serial'))) >= 1,
      90_000,
    );
    await Promise.all([drv.domainShutdown('keeper'), drv.domainShutdown('again')]);
    await waitFor('keeper in shutdown', async () => (await stateOf('keeper')) === 'shutdown (unknown)');
    assert.ok(await processRunning(kp), 'QEMU kept for inspection');
    await waitFor(
      'again boots a second time',
      async () => (await markerCount(join(dir, 'again.serial'))) >= 2,
      90_000,
    );
    assert.equal(await stateOf('again'), 'running (booted)');
    assert.equal(pidOf('again'), ap, 'same QEMU, reset');
    await drv.domainDestroy('keeper');
    await drv.domainDestroy('again');
    assert.equal(await stateOf('keeper'), 'shutoff (destroyed)');
  });

  it('fails to start with clear errors and leaves nothing behind', async () => {
    // QEMU itself fails: the message quotes its log.
    await drv.domainDefineXML(guestXml(guest!, { name: 'nodisk', dir, disk: join(dir, 'missing.qcow2') }));
    await assert.rejects(drv.domainCreate('nodisk'), (e) => {
      assert.ok(isVirError(e, 'OPERATION_FAILED'), String(e));
      assert.match(e.message, /missing\.qcow2/);
      assert.match(e.message, /nodisk\.log/);
      return true;
    });
    assert.equal(await stateOf('nodisk'), 'shutoff (unknown)');
    assert.equal(
      (await drv.listDomains({ active: true })).some((d) => d.name === 'nodisk'),
      false,
    );

    if (!existsSync('/dev/kvm')) {
      await drv.domainDefineXML(guestXml(guest!, { name: 'kvmonly', dir, type: 'kvm' }));
      await assert.rejects(
        drv.domainCreate('kvmonly'),
        (e) => isVirError(e, 'CONFIG_UNSUPPORTED') && /\/dev\/kvm/.test(e.message),
      );
    }

    const net = guestXml(guest!, { name: 'netted', dir }).replace(
      "<interface type='user'>",
      "<interface type='network'><source network='default'/>",
    );
    await assert.rejects(drv.domainCreateXML(net), (e) => isVirError(e) && /network driver/.test(e.message));
    await assert.rejects(drv.domainLookup('netted'), (e) => isVirError(e, 'NO_DOMAIN'));
    await assert.rejects(drv.domainSuspend('nodisk'), (e) => isVirError(e, 'OPERATION_INVALID'));
  });

  it('a daemon that died mid-start: the next one kills the half-started QEMU', async () => {
    const sub = join(dir, 'midstart');
    const opts = {
      configDir: join(sub, 'etc'),
      runDir: join(sub, 'run'),
      logDir: join(sub, 'log'),
      noSync: true,
    };
    const a = await openQemuDriver(opts);
    await a.domainDefineXML(guestXml(guest!, { name: 'half', dir }));
    await a.domainCreate('half', { paused: true });
    const pid = a.qemuPid('half')!;
    fx.track(pid);
    await a.close(); // detaches; QEMU keeps running
    // As if the daemon had died right after the spawn: the status file still says 'starting up'.
    const file = join(sub, 'run', 'half.json');
    const st = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...st, state: 'paused', reason: 'starting up' }));
    const b = await openQemuDriver(opts);
    try {
      assert.deepEqual(await b.domainGetState('half'), { state: 'shutoff', reason: 'failed' });
      await waitFor('the half-started QEMU gone', async () => !(await processRunning(pid)), 5000);
      assert.ok(!existsSync(file));
    } finally {
      await b.close();
    }
  });

  it('runs transient domains; undefine of a running domain makes it transient', async () => {
    const t = await drv.domainCreateXML(
      guestXml(guest!, {
        name: 'transient1',
        dir,
        extraDevices: "\n    <graphics type='vnc' autoport='yes' passwd='s3cret'/>",
      }),
      { paused: true },
    );
    // VNC: autoport picked a port QEMU listens on; the password was set over QMP, never shown unasked.
    const live = await drv.domainGetXMLDesc('transient1');
    const port = Number(/<graphics type='vnc' port='(\d+)' autoport='yes'/.exec(live)?.[1]);
    assert.ok(port >= 5900, live);
    assert.doesNotMatch(live, /s3cret/);
    assert.match(await drv.domainGetXMLDesc('transient1', { secure: true }), /passwd='s3cret'/);
    await new Promise<void>((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
    assert.equal(t.persistent, false);
    pidOf('transient1');
    assert.equal(await stateOf('transient1'), 'paused (user)');
    await assert.rejects(
      drv.domainCreateXML(guestXml(guest!, { name: 'transient1', dir, disk: '/nonexistent' })),
      (e) => isVirError(e, 'DOM_EXIST'),
    );
    await drv.domainDestroy('transient1');
    await assert.rejects(drv.domainLookup('transient1'), (e) => isVirError(e, 'NO_DOMAIN'));

    await drv.domainDefineXML(guestXml(guest!, { name: 'pers', dir }));
    await drv.domainCreate('pers', { paused: true });
    pidOf('pers');
    await assert.rejects(
      drv.domainCreate('pers'),
      (e) => isVirError(e, 'OPERATION_INVALID') && /already running/.test(e.message),
    );
    const r = await drv.domainUndefine('pers');
    assert.deepEqual(r, { becameTransient: true });
    assert.ok(!existsSync(join(dir, 'etc', 'pers.xml')));
    assert.equal((await drv.domainLookup('pers')).persistent, false);
    await drv.domainDestroy('pers');
    await assert.rejects(drv.domainLookup('pers'), (e) => isVirError(e, 'NO_DOMAIN'));
  });
});
