// What the QEMU driver sets on a real QEMU (TCG) after the spawn, and what guest actions do (issue
// #3: nothing accepted is dropped): <link state='down'/>, the balloon's stats period, CPU pinning,
// agent shutdown with no agent running and with the test guest's tiny agent (reboot and shutdown go
// through it, not ACPI), on_reboot destroy/preserve when the guest reboots itself.
// Every QEMU started here is ended by its PID in `after`.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TvirtEvent } from '../../src/drivers/connection.js';
import type { QemuDriver } from '../../src/drivers/qemu/qemu-driver.js';
import { processRunning } from '../../src/host/process.js';
import { isVirError } from '../../src/util/errors.js';
import { GUEST_ACPI_MARKER, GUEST_AGENT_CHANNEL, GUEST_AGENT_MARKER } from '../support/guest.js';
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
  fx = await openDriverFixture('tvirt-qemu-rt-');
  ({ dir, drv, events } = fx);
});

after(async () => {
  if (!skip) await fx.close();
});

const stateOf = (name: string) => fx.stateOf(name);

/** Starts NAME and returns a console on which the guest shell answers. */
async function bootToShell(name: string): Promise<ConsoleReader> {
  await drv.domainCreate(name);
  pidOf(name);
  const con = new ConsoleReader(await drv.domainOpenConsole(name));
  await waitFor(
    `${name}'s boot marker`,
    async () => (await markerCount(join(dir, `${name}.serial`))) >= 1,
    90_000,
  );
  con.send('');
  await con.expect(/tvirt# /);
  return con;
}

/** Cpus_allowed_list of a task of `pid`. */
async function allowed(pid: number, tid: number | string = pid): Promise<string> {
  const st = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8');
  return /Cpus_allowed_list:\s*(\S+)/.exec(st)?.[1] ?? '';
}

describe('QEMU runtime settings and guest actions', { skip, concurrency: true }, () => {
  it("<link state='down'/>: the guest sees no carrier, the live XML keeps the element", async () => {
    await drv.domainDefineXML(guestXml(guest!, { name: 'linkdown', dir, nicExtra: "<link state='down'/>" }));
    const con = await bootToShell('linkdown');
    try {
      const m = con.mark();
      con.send(
        '(ip link set eth0 up || ifconfig eth0 up) 2>/dev/null; echo carrier=$(cat /sys/class/net/eth0/carrier)',
      );
      await con.expect(/carrier=0/, m);
      assert.match(await drv.domainGetXMLDesc('linkdown'), /<link state='down'\/>/);
      // QEMU really has the link down: set it up over QMP and the guest sees the carrier.
      await drv.qemuMonitorCommand('linkdown', 'set_link', { name: 'net0', up: true });
      const m2 = con.mark();
      con.send('sleep 1; echo carrier=$(cat /sys/class/net/eth0/carrier)');
      await con.expect(/carrier=1/, m2);
    } finally {
      con.close();
      await drv.domainDestroy('linkdown');
    }
  });

  it('<memballoon><stats period=N/> sets guest-stats-polling-interval on the balloon', async () => {
    await drv.domainDefineXML(
      guestXml(guest!, {
        name: 'balloon',
        dir,
        memballoon: "<memballoon model='virtio'><stats period='7'/></memballoon>",
      }),
    );
    await drv.domainCreate('balloon');
    pidOf('balloon');
    try {
      const v = await drv.qemuMonitorCommand('balloon', 'qom-get', {
        path: '/machine/peripheral/balloon0',
        property: 'guest-stats-polling-interval',
      });
      assert.equal(v, 7);
      assert.match(await drv.domainGetXMLDesc('balloon'), /<stats period='7'\/>/);
      // dommemstat: the balloon's size and QEMU's resident memory at least.
      const stats = new Map(await drv.domainMemoryStats('balloon'));
      assert.ok((stats.get('actual') ?? 0) > 0, JSON.stringify([...stats]));
      assert.ok((stats.get('rss') ?? 0) > 0, JSON.stringify([...stats]));
    } finally {
      await drv.domainDestroy('balloon');
    }
  });

  it("qemu-monitor-command: QMP as JSON, QEMU's refusals as its error reply, HMP as text", async () => {
    await drv.domainDefineXML(guestXml(guest!, { name: 'qmpcmd', dir }));
    await assert.rejects(drv.domainQemuMonitorCommand('qmpcmd', '{"execute":"query-status"}'), {
      code: 'OPERATION_INVALID',
    });
    await drv.domainCreate('qmpcmd');
    pidOf('qmpcmd');
    try {
      const ok = JSON.parse(await drv.domainQemuMonitorCommand('qmpcmd', '{"execute":"query-status"}'));
      assert.equal(typeof ok.id, 'string');
      assert.equal(ok.return.running, true);
      const refused = JSON.parse(
        await drv.domainQemuMonitorCommand('qmpcmd', '{"execute":"no-such-command"}'),
      );
      assert.equal(refused.error.class, 'CommandNotFound');
      assert.match(
        await drv.domainQemuMonitorCommand('qmpcmd', 'info status', { hmp: true }),
        /VM status: running/,
      );
      await assert.rejects(drv.domainQemuMonitorCommand('qmpcmd', 'not json'), { code: 'INVALID_ARG' });
      await assert.rejects(drv.domainQemuMonitorCommand('qmpcmd', '{"arguments":{}}'), {
        code: 'INVALID_ARG',
      });
    } finally {
      await drv.domainDestroy('qmpcmd');
    }
  });

  it('<vcpu cpuset>, <cputune><vcpupin>/<emulatorpin> pin the QEMU threads', async () => {
    await drv.domainDefineXML(
      guestXml(guest!, {
        name: 'pinned',
        dir,
        vcpu: "<vcpu cpuset='0'>2</vcpu><cputune><vcpupin vcpu='1' cpuset='0-1'/><emulatorpin cpuset='1'/></cputune>",
      }),
    );
    await drv.domainCreate('pinned');
    const pid = pidOf('pinned');
    try {
      const cpus = await drv.qemuMonitorCommand<{ 'cpu-index': number; 'thread-id': number }[]>(
        'pinned',
        'query-cpus-fast',
      );
      const tid = new Map(cpus.map((c) => [c['cpu-index'], c['thread-id']]));
      assert.equal(await allowed(pid, tid.get(0)!), '0');
      assert.equal(await allowed(pid, tid.get(1)!), '0-1');
      assert.equal(await allowed(pid), '1');
      const vcpuTids = new Set([...tid.values()].map(String));
      for (const t of await readdir(`/proc/${pid}/task`))
        if (!vcpuTids.has(t)) assert.equal(await allowed(pid, t), '1', `emulator thread ${t}`);
      assert.match(await drv.domainGetXMLDesc('pinned'), /<emulatorpin cpuset='1'\/>/);
    } finally {
      await drv.domainDestroy('pinned');
    }
  });

  it('shutdown --mode agent with an agent channel but no agent: AGENT_UNRESPONSIVE; plain shutdown uses ACPI', async () => {
    const agent =
      "<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";
    // The guest does not start its agent (tvirt.agent=0): the port stays closed on the guest side.
    await drv.domainDefineXML(
      guestXml(guest!, { name: 'noagent', dir, extraDevices: agent, cmdlineExtra: ' tvirt.agent=0' }),
    );
    const con = await bootToShell('noagent');
    con.close();
    const xml = await drv.domainGetXMLDesc('noagent');
    assert.match(
      xml,
      /<channel type='unix'>\s*<source mode='bind' path='[^']+\/org\.qemu\.guest_agent\.0'\/>\s*<target type='virtio' name='org\.qemu\.guest_agent\.0' state='disconnected'\/>/,
    );
    assert.doesNotMatch(await drv.domainGetXMLDesc('noagent', { inactive: true }), /state='disconnected'/);
    const t0 = Date.now();
    await assert.rejects(
      drv.domainShutdown('noagent', { mode: 'agent' }),
      (e) =>
        isVirError(e, 'AGENT_UNRESPONSIVE') &&
        (e as Error).message === 'Guest agent is not responding: QEMU guest agent is not connected',
    );
    await assert.rejects(drv.domainReboot('noagent', { mode: 'agent' }), (e) =>
      isVirError(e, 'AGENT_UNRESPONSIVE'),
    );
    assert.ok(Date.now() - t0 < 5000, 'fails at once');
    assert.equal(await stateOf('noagent'), 'running (booted)');
    // Without a mode: the agent is not connected, so ACPI powers the guest off.
    await drv.domainShutdown('noagent');
    await waitFor(
      'shutoff after ACPI shutdown',
      async () => (await stateOf('noagent')) === 'shutoff (shutdown)',
      90_000,
    );
    // The guest's ACPI handler says so on the console (what the agent test relies on not seeing).
    assert.equal(await markerCount(join(dir, 'noagent.serial'), GUEST_ACPI_MARKER), 1);
  });

  it('a running guest agent: the channel connects; reboot/shutdown (--mode agent or none) use it, not ACPI', async () => {
    await drv.domainDefineXML(guestXml(guest!, { name: 'agent', dir, extraDevices: GUEST_AGENT_CHANNEL }));
    const serial = join(dir, 'agent.serial');
    const count = (marker?: string) => markerCount(serial, marker);
    const connected = async () =>
      /<target type='virtio' name='org\.qemu\.guest_agent\.0' state='connected'\/>/.test(
        await drv.domainGetXMLDesc('agent'),
      );
    const boots = async (n: number) => {
      await waitFor(`boot marker #${n}`, async () => (await count()) >= n, 90_000);
      // The agent opens its port from rcS, before the console shell prints the marker.
      await waitFor(`the agent channel connected (boot ${n})`, connected, 30_000);
    };
    await drv.domainCreate('agent');
    const pid = pidOf('agent');
    await boots(1);
    assert.match(
      await drv.domainGetXMLDesc('agent'),
      /<source mode='bind' path='[^']+\/org\.qemu\.guest_agent\.0'\/>\s*<target type='virtio' name='org\.qemu\.guest_agent\.0' state='connected'\/>/,
    );

    // reboot --mode agent: guest-sync answered, guest-shutdown mode=reboot, the guest resets itself.
    await drv.domainReboot('agent', { mode: 'agent' });
    await boots(2);
    assert.equal(await count(`${GUEST_AGENT_MARKER} mode=reboot`), 1);
    assert.equal(await stateOf('agent'), 'running (booted)');
    assert.equal(drv.qemuPid('agent'), pid, 'the same QEMU: the guest reset in place');

    // Plain reboot: the agent is connected, so it is used (ACPI would mean a fake reboot).
    await drv.domainReboot('agent');
    await boots(3);
    assert.equal(await count(`${GUEST_AGENT_MARKER} mode=reboot`), 2);

    // shutdown --mode agent: guest-shutdown mode=powerdown, the guest powers itself off.
    await drv.domainShutdown('agent', { mode: 'agent' });
    await waitFor(
      'shutoff after the agent shutdown',
      async () => (await stateOf('agent')).startsWith('shutoff'),
      90_000,
    );
    assert.equal(await stateOf('agent'), 'shutoff (shutdown)');
    assert.equal(await count(`${GUEST_AGENT_MARKER} mode=powerdown`), 1);
    assert.equal(await count(GUEST_ACPI_MARKER), 0, 'no ACPI power button at any point');
    assert.equal(await count(), 3);
    const mine = events.filter((e) => e.name === 'agent').map((e) => `${e.event}/${e.detail ?? ''}`);
    // At least one per reboot: QEMU (7.2) reports one `reboot -f` of this guest as two RESET events.
    assert.ok(mine.filter((e) => e === 'rebooted/').length >= 2, mine.join(' '));
    assert.ok(mine.includes('stopped/shutdown'), mine.join(' '));
    // The inactive definition does not keep the runtime state.
    assert.doesNotMatch(await drv.domainGetXMLDesc('agent'), /state='(dis)?connected'/);
  });

  for (const action of ['destroy', 'preserve'] as const) {
    it(`on_reboot=${action}: a guest that reboots itself is stopped (libvirt)`, async () => {
      const name = `reboot-${action}`;
      await drv.domainDefineXML(guestXml(guest!, { name, dir, onReboot: action }));
      const con = await bootToShell(name);
      const pid = pidOf(name);
      try {
        con.send('reboot -f');
        await waitFor(`${name} shut off`, async () => (await stateOf(name)).startsWith('shutoff'), 60_000);
        assert.equal(await stateOf(name), 'shutoff (shutdown)');
        await waitFor('QEMU gone', async () => !(await processRunning(pid)), 10_000);
        assert.equal(await markerCount(join(dir, `${name}.serial`)), 1, 'no second boot');
        const mine = events.filter((e) => e.name === name).map((e) => `${e.event}/${e.detail ?? ''}`);
        assert.ok(mine.includes('stopped/shutdown'), mine.join(' '));
        assert.ok(!mine.includes('rebooted/'), mine.join(' '));
      } finally {
        con.close();
      }
    });
  }

  it('on_reboot=restart (default): a guest that reboots itself comes back', async () => {
    await drv.domainDefineXML(guestXml(guest!, { name: 'reboot-restart', dir }));
    const con = await bootToShell('reboot-restart');
    try {
      con.send('reboot -f');
      await waitFor(
        'the second boot marker',
        async () => (await markerCount(join(dir, 'reboot-restart.serial'))) >= 2,
        90_000,
      );
      assert.equal((await stateOf('reboot-restart')).split(' ')[0], 'running');
    } finally {
      con.close();
      await drv.domainDestroy('reboot-restart');
    }
  });
});
