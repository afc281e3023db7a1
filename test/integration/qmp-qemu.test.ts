// QMP client against a real qemu-system-x86_64: started paused (-S) with no devices, and booting the
// tiny test guest (scripts/build-test-guest.sh) to power it off through ACPI.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { qmpConnect } from '../../src/drivers/qemu/qmp.js';
import {
  createOverlay,
  ensureTestGuest,
  GUEST_MARKER,
  guestQemuArgs,
  type TestGuest,
} from '../support/guest.js';

const QEMU = 'qemu-system-x86_64';
const skip: string | false =
  spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status === 0 ? false : `${QEMU} not found on PATH`;

test('QMP against a real QEMU: prelaunch, cont, stop, quit', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-qmp-qemu-'));
  const sock = join(dir, 'qmp.sock');
  let qemu: ChildProcess | undefined;
  let stderr = '';
  try {
    qemu = spawn(
      QEMU,
      [
        '-S',
        '-accel',
        'tcg',
        '-nodefaults',
        '-machine',
        'pc',
        '-display',
        'none',
        '-qmp',
        `unix:${sock},server=on,wait=off`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    qemu.stderr?.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => qemu?.once('exit', (code) => resolve(code)));

    const c = await qmpConnect(sock, { waitForSocket: true, timeoutMs: 20_000 });
    assert.equal(c.greeting?.QMP.version.qemu.major !== undefined, true);

    assert.deepEqual(await c.execute('query-status'), {
      status: 'prelaunch',
      singlestep: false,
      running: false,
    });

    const resumed = c.waitForEvent('RESUME', { timeoutMs: 10_000 });
    await c.execute('cont');
    await resumed;
    assert.equal((await c.execute<{ status: string; running: boolean }>('query-status')).status, 'running');

    const stopped = c.waitForEvent('STOP', { timeoutMs: 10_000 });
    await c.execute('stop');
    const stop = await stopped;
    assert.equal(stop.event, 'STOP');
    assert.ok(stop.timestamp.seconds > 0);
    assert.equal((await c.execute<{ status: string }>('query-status')).status, 'paused');

    await assert.rejects(c.execute('no-such-command'), (e: Error) => {
      assert.match(
        e.message,
        /^QMP command 'no-such-command' failed: The command no-such-command has not been found$/,
      );
      return true;
    });

    const closed = new Promise<Error | undefined>((r) => c.once('close', r));
    const shutdown = c.waitForEvent('SHUTDOWN', { timeoutMs: 10_000 });
    await c.execute('quit');
    assert.deepEqual((await shutdown).data, { guest: false, reason: 'host-qmp-quit' });
    assert.equal(await closed, undefined);
    assert.equal(c.closed, true);
    assert.equal(await exited, 0, `QEMU exit status (stderr: ${stderr})`);
  } finally {
    if (qemu?.pid !== undefined && qemu.exitCode === null && qemu.signalCode === null) {
      process.kill(qemu.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Boots the test guest; returns helpers to wait for console output and to type into it. */
function bootGuest(guest: TestGuest, disk: string, qmpSocket: string) {
  const qemu = spawn(QEMU, guestQemuArgs(guest, { disk, qmpSocket }), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  qemu.stdout?.on('data', (d) => {
    out += d;
  });
  qemu.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => qemu.once('exit', (code) => resolve(code)));
  /** Resolves with the console text up to the first match of `re` after `from`. */
  const waitFor = (re: RegExp, timeoutMs: number, from = 0) =>
    new Promise<string>((resolve, reject) => {
      const t0 = Date.now();
      const iv = setInterval(() => {
        const m = re.exec(out.slice(from));
        if (m) {
          clearInterval(iv);
          resolve(out.slice(from, from + m.index + m[0].length));
        } else if (Date.now() - t0 > timeoutMs || qemu.exitCode !== null) {
          clearInterval(iv);
          reject(new Error(`console never matched ${re}; console output:\n${out.slice(-3000)}`));
        }
      }, 25);
    });
  return {
    qemu,
    exited,
    waitFor,
    mark: () => out.length,
    type: (line: string) => qemu.stdin?.write(`${line}\n`),
    kill: () => {
      if (qemu.pid !== undefined && qemu.exitCode === null && qemu.signalCode === null)
        process.kill(qemu.pid, 'SIGKILL');
    },
  };
}

test('test guest: marker, shell, system_powerdown, data persists across boots', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const guest = ensureTestGuest();
  if ('skip' in guest) return t.skip(guest.skip);
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-guest-'));
  const disk = createOverlay(guest, join(dir, 'overlay.qcow2'));
  const sock = join(dir, 'qmp.sock');
  const token = `persisted-${process.pid}-${Date.now()}`;
  let vm: ReturnType<typeof bootGuest> | undefined;
  try {
    for (const round of [1, 2]) {
      const t0 = Date.now();
      vm = bootGuest(guest, disk, sock);
      await vm.waitFor(new RegExp(`(^|\\n)${GUEST_MARKER}\\r?\\n`), 120_000);
      t.diagnostic(`boot ${round}: marker after ${Date.now() - t0} ms`);
      const from = vm.mark();
      // The quotes keep the typed echo from matching: only the command's output says "done".
      if (round === 1) vm.type(`echo ${token} > /data/x; sync; echo round1-""done`);
      else vm.type(`cat /data/x; echo round2-""done`);
      const text = await vm.waitFor(new RegExp(`round${round}-done\\r?\\n`), 30_000, from);
      if (round === 2) assert.match(text, new RegExp(`\\n${token}\\r?\\n`));

      const c = await qmpConnect(sock, { waitForSocket: true, timeoutMs: 20_000 });
      const shutdown = c.waitForEvent('SHUTDOWN', { timeoutMs: 60_000 });
      await c.execute('system_powerdown');
      assert.deepEqual((await shutdown).data, { guest: true, reason: 'guest-shutdown' });
      assert.equal(await vm.exited, 0);
      await c.close();
    }
  } finally {
    vm?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
