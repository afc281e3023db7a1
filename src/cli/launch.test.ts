// The installed `tvirt` command (launch.cts): runs the CommonJS bundle through V8's code cache,
// remakes a cache that is missing, stale or rejected, and falls back to the ES-module entry when
// there is no bundle. Each case works on a copy in a temporary directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const launcher = join(here, 'launch.cjs');
const bundle = join(here, 'tvirt.bundle.cjs');
const skip =
  import.meta.url.endsWith('.ts') || !existsSync(bundle)
    ? 'the CLI bundle is not built (scripts/build-cli.mjs runs after tsc)'
    : false;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A directory holding the launcher and, unless `withBundle` is false, a copy of the bundle. */
function install(withBundle = true): string {
  const d = mkdtempSync(join(tmpdir(), 'tvirt-launch-test-'));
  dirs.push(d);
  copyFileSync(launcher, join(d, 'launch.cjs'));
  if (withBundle) copyFileSync(bundle, join(d, 'tvirt.bundle.cjs'));
  return d;
}

function run(d: string, ...args: string[]) {
  return spawnSync(process.execPath, [join(d, 'launch.cjs'), ...args], { encoding: 'utf8' });
}

const cacheOf = (d: string) => join(d, 'tvirt.bundle.cjs.cache');
const keyOf = (d: string) => {
  const buf = readFileSync(cacheOf(d));
  return JSON.parse(buf.toString('utf8', 0, buf.indexOf(10))) as {
    size: number;
    mtimeMs: number;
    node: string;
  };
};

describe('tvirt launcher', { skip }, () => {
  it('runs the bundled CLI like the ES-module entry', () => {
    const d = install();
    const viaBundle = run(d, '-c', 'test:///default', 'list --all; domstate test; domstate nosuch');
    const viaEsm = spawnSync(
      process.execPath,
      [join(here, 'tvirt.js'), '-c', 'test:///default', 'list --all; domstate test; domstate nosuch'],
      { encoding: 'utf8' },
    );
    assert.equal(viaBundle.stdout, viaEsm.stdout);
    assert.equal(viaBundle.stderr, viaEsm.stderr);
    assert.match(viaBundle.stdout, / 1 {4}test {3}running/);
    assert.match(viaBundle.stderr, /failed to get domain 'nosuch'/);
    assert.equal(viaBundle.status, 1);
  });

  it('loads builtins the CLI imports lazily (https for TLS) from the cached bundle', () => {
    const d = install();
    run(d, '--version');
    assert.ok(existsSync(cacheOf(d)));
    // Port 1 on loopback: nothing listens, so the TLS client is loaded and then refused.
    const r = run(d, '-c', 'qemu+tls://127.0.0.1:1/system', 'version');
    assert.equal(
      r.stderr,
      'error: failed to connect to the hypervisor\nerror: Failed to connect to 127.0.0.1:1: Connection refused\n',
    );
    assert.equal(r.status, 1);
  });

  it('makes the code cache on first run, keyed by the bundle and the Node version, and keeps it', () => {
    const d = install();
    assert.equal(existsSync(cacheOf(d)), false);
    assert.equal(run(d, '--version').status, 0);
    const st = statSync(join(d, 'tvirt.bundle.cjs'));
    assert.deepEqual(keyOf(d), { size: st.size, mtimeMs: st.mtimeMs, node: process.version });
    const first = statSync(cacheOf(d)).mtimeMs;
    const r = run(d, '--version');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
    assert.equal(statSync(cacheOf(d)).mtimeMs, first, 'a matching cache is not written again');
  });

  it('remakes a cache made for another bundle, or one V8 rejects', () => {
    const d = install();
    run(d, '--version');
    const b = join(d, 'tvirt.bundle.cjs');
    utimesSync(b, new Date(), new Date(Date.now() - 3_600_000));
    const r = run(d, '-c', 'test:///default', 'domstate test');
    assert.equal(r.stdout, 'running\n\n');
    assert.equal(keyOf(d).mtimeMs, statSync(b).mtimeMs);

    const key = readFileSync(cacheOf(d)).subarray(0, readFileSync(cacheOf(d)).indexOf(10) + 1);
    writeFileSync(cacheOf(d), Buffer.concat([key, Buffer.from('not a V8 code cache')]));
    assert.equal(run(d, '--version').status, 0);
    assert.ok(statSync(cacheOf(d)).size > key.length + 1000, 'the rejected cache was replaced');
  });

  it('runs the ES-module entry when there is no bundle', () => {
    const d = install(false);
    symlinkSync(join(here, 'tvirt.js'), join(d, 'tvirt.js'));
    const r = run(d, '-c', 'test:///default', 'domname 1');
    assert.equal(r.stdout, 'test\n\n');
    assert.equal(r.status, 0);
    assert.equal(existsSync(cacheOf(d)), false);
  });

  it('runs the ES-module entry when the modules were compiled after the bundle', () => {
    const d = install();
    symlinkSync(join(here, 'tvirt.js'), join(d, 'tvirt.js'));
    writeFileSync(join(d, 'tvirt.bundle.cjs'), 'throw new Error("stale bundle ran");', { flag: 'a' });
    utimesSync(
      join(d, 'tvirt.bundle.cjs'),
      new Date(),
      new Date(statSync(join(here, 'tvirt.js')).mtimeMs - 60_000),
    );
    const r = run(d, '-c', 'test:///default', 'domname 1');
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'test\n\n');
    assert.equal(existsSync(cacheOf(d)), false);
  });
});
