// Sanity with a real QEMU: each golden case's command line is accepted by qemu-system-x86_64 (paused with -S).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { DomainDef } from '../../conf/domain/index.js';
import { buildQemuCommand } from './command.js';
import { GOLDEN_CASES, goldenCtx, loadCase } from './command-cases.test.js';

const QEMU = 'qemu-system-x86_64';
const haveQemu =
  spawnSync(QEMU, ['--version']).status === 0 && spawnSync('qemu-img', ['--version']).status === 0;
const skip = haveQemu ? false : `${QEMU} or qemu-img not found`;
const guestDir = process.env.TVIRT_GUEST_DIR ?? join(homedir(), '.cache', 'tvirt', 'guest');
const dir = mkdtempSync(join(tmpdir(), 'tvirt-cmd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Points host resources at temp files and drops what needs root or KVM here (taps, /dev/kvm). */
function localize(def: DomainDef, name: string): string | undefined {
  def.type = 'qemu';
  if (def.cpu?.mode === 'host-passthrough') def.cpu = undefined;
  for (const n of def.devices.interfaces) n.type = 'user';
  def.devices.disks.forEach((d, i) => {
    if (!d.source || !(d.source.file || d.source.dev)) return;
    const fmt = d.driver?.type ?? 'raw';
    // Keep the original base name: odd characters (commas, '=') must reach QEMU intact.
    const p = join(dir, `${name}-${i}-${basename(d.source.file ?? d.source.dev!)}`);
    const r = spawnSync('qemu-img', ['create', '-q', '-f', fmt, p, '16M'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    d.type = 'file';
    d.source = { file: p };
  });
  if (def.os.kernel) {
    if (!existsSync(join(guestDir, 'vmlinuz')))
      return `test guest kernel not built (${guestDir}; scripts/build-test-guest.sh)`;
    def.os.kernel = join(guestDir, 'vmlinuz');
    def.os.initrd = join(guestDir, 'initrd.gz');
  }
  for (const s of [...def.devices.serials, ...def.devices.channels]) {
    if (s.source.path) s.source.path = join(dir, `${name}-${basename(s.source.path)}`);
    if (s.source.type === 'tcp' && s.source.mode !== 'connect')
      s.source.service = String(45000 + GOLDEN_CASES.indexOf(name));
  }
  for (const g of def.devices.graphics) {
    for (const l of g.listens) if (l.socket) l.socket = join(dir, `${name}-${basename(l.socket)}`);
  }
  for (const r of def.devices.rngs) if (r.backendModel === 'egd') r.backendModel = 'builtin'; // no egd daemon here
  if (def.os.nvram?.path) {
    const vars = def.os.loader?.path?.replace('OVMF_CODE', 'OVMF_VARS') ?? '';
    if (!existsSync(vars) || !existsSync(def.os.loader!.path!))
      return `OVMF firmware not installed (${vars})`;
    def.os.nvram.path = join(dir, `${name}-${basename(def.os.nvram.path)}`);
    copyFileSync(vars, def.os.nvram.path);
  }
  return undefined;
}

describe('real QEMU accepts the command lines', { skip }, () => {
  for (const name of GOLDEN_CASES) {
    it(name, async (t) => {
      const def = loadCase(name);
      const why = localize(def, name);
      if (why) return t.skip(why);
      const ctx = {
        ...goldenCtx(name),
        kvmAvailable: false,
        monitorPath: join(dir, `${def.name}.mon`),
        runtimeDir: dir,
      };
      ctx.vncPort = 5900 + 60 + GOLDEN_CASES.indexOf(name);
      ctx.spicePort = 5900 + 70 + GOLDEN_CASES.indexOf(name);
      const cmd = buildQemuCommand(def, ctx);
      const child = spawn(QEMU, cmd.args, {
        env: { ...process.env, ...cmd.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (b) => {
        stderr += b;
      });
      const code = await new Promise<number | null | 'running'>((resolve) => {
        const timer = setTimeout(() => resolve('running'), 1500);
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      if (code === 'running' && child.pid) process.kill(child.pid, 'SIGKILL');
      const errors = stderr.split('\n').filter((l) => /qemu-system-x86_64: /.test(l) && !/warning:/.test(l));
      assert.equal(code, 'running', `QEMU exited (${code}):\n${stderr}`);
      assert.deepEqual(errors, []);
      // The QMP socket exists at exactly the (escaped) path: names with commas reach QEMU intact.
      assert.ok(existsSync(ctx.monitorPath), `no monitor socket at ${ctx.monitorPath}`);
    });
  }
});
