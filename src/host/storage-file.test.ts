// sparseCopy and copyVolumeFile on real files: content, holes, refusals, errors, cancel, and the
// copy worker thread (big sources) that must never keep a process alive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isVirError } from '../util/errors.js';
import { processRunner } from './run.js';
import { copyVolumeFile, sparseCopy, writeStreamToFile } from './storage-file.js';

const MiB = 1 << 20;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-storage-file-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A file of `mib` MiB: random data in every fourth MiB, written zeros in the MiB after it (which a
 * sparse copy turns into holes), holes elsewhere, and a tail marker.
 */
function mixedFile(path: string, mib: number): void {
  const fd = openSync(path, 'w');
  for (let i = 0; i < mib; i += 4) {
    writeSync(fd, randomBytes(MiB), 0, MiB, i * MiB);
    if (i + 1 < mib) writeSync(fd, Buffer.alloc(MiB), 0, MiB, (i + 1) * MiB);
  }
  writeSync(fd, Buffer.from('end'), 0, 3, mib * MiB - 3);
  closeSync(fd);
}

const aborted = (e: unknown) => isVirError(e, 'OPERATION_ABORTED');

async function leftovers(prefix: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith(prefix));
}

describe('sparseCopy', () => {
  it('copies a small file on this thread: same bytes, zero blocks as holes, mode 0600', async () => {
    const src = join(dir, 'small.img');
    mixedFile(src, 8);
    const seen: number[] = [];
    assert.equal(await sparseCopy(src, join(dir, 'small.copy'), { progress: (p) => seen.push(p) }), 'sparse');
    assert.deepEqual(await readFile(join(dir, 'small.copy')), await readFile(src));
    const s = await stat(join(dir, 'small.copy'));
    assert.ok(s.blocks * 512 < (await stat(src)).blocks * 512, 'written zero blocks became holes');
    assert.equal(s.mode & 0o777, 0o600);
    assert.equal(seen.at(-1), 8 * MiB);
  });

  it('copies a big file in the worker: same bytes, holes, progress on the way', async () => {
    const src = join(dir, 'big.img');
    mixedFile(src, 96);
    const seen: [number, number][] = [];
    const method = await sparseCopy(src, join(dir, 'big.copy'), { progress: (p, t) => seen.push([p, t]) });
    assert.equal(method, 'sparse');
    assert.deepEqual(await readFile(join(dir, 'big.copy')), await readFile(src));
    assert.ok((await stat(join(dir, 'big.copy'))).blocks * 512 <= 26 * MiB, 'zero blocks became holes');
    assert.ok(seen.length >= 2, `progress events: ${seen.length}`);
    assert.deepEqual(seen.at(-1), [96 * MiB, 96 * MiB]);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![0] >= seen[i - 1]![0], 'progress only grows');
  });

  it('refuses an existing destination and leaves it alone; reports errno errors like fs does', async () => {
    const src = join(dir, 'big.img');
    await writeFile(join(dir, 'taken'), 'mine');
    await assert.rejects(sparseCopy(src, join(dir, 'taken')), { code: 'EEXIST' });
    assert.equal(await readFile(join(dir, 'taken'), 'utf8'), 'mine');
    await assert.rejects(sparseCopy(join(dir, 'missing.img'), join(dir, 'never'), {}, 0o600, 96 * MiB), {
      code: 'ENOENT',
      syscall: 'open',
    });
    assert.deepEqual(await leftovers('never'), []);
  });

  it('a cancel, from the progress callback or from outside, leaves no file', async () => {
    const src = join(dir, 'big.img');
    for (let k = 0; k < 3; k++) {
      const ac = new AbortController();
      const p = sparseCopy(src, join(dir, 'cancelled'), {
        signal: ac.signal,
        progress: (n) => {
          if (n > 0) ac.abort();
        },
      });
      await assert.rejects(p, aborted);
      assert.deepEqual(await leftovers('cancelled'), []);
    }
    const ac = new AbortController();
    const p = sparseCopy(src, join(dir, 'cancelled'), { signal: ac.signal });
    setImmediate(() => ac.abort());
    await assert.rejects(p, aborted);
    assert.deepEqual(await leftovers('cancelled'), []);
    ac.abort();
    await assert.rejects(sparseCopy(src, join(dir, 'cancelled'), { signal: ac.signal }), aborted);
    assert.deepEqual(await leftovers('cancelled'), []);
    // A progress callback that throws ends the copy with its error.
    const boom = new Error('boom');
    const throwing = () => {
      throw boom;
    };
    await assert.rejects(sparseCopy(src, join(dir, 'cancelled'), { progress: throwing }), (e) => e === boom);
    assert.deepEqual(await leftovers('cancelled'), []);
  });

  it('runs copies side by side', async () => {
    const src = join(dir, 'big.img');
    const want = await readFile(src);
    await Promise.all([1, 2, 3].map((i) => sparseCopy(src, join(dir, `par${i}`))));
    for (const i of [1, 2, 3]) assert.deepEqual(await readFile(join(dir, `par${i}`)), want);
  });

  it('a process that used the copy worker exits right after its copy', () => {
    const mod = new URL('./storage-file.js', import.meta.url).href;
    const code = `import { sparseCopy } from ${JSON.stringify(mod)};
      await sparseCopy(${JSON.stringify(join(dir, 'big.img'))}, ${JSON.stringify(join(dir, 'child.copy'))});`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Date.now() - t0 < 10_000, 'the idle worker does not hold the process');
  });
});

describe('copyVolumeFile', () => {
  it('copies a qcow2 image into a valid, identical image', {
    skip: spawnSync('qemu-img', ['--version']).status !== 0 && 'qemu-img not installed',
  }, async () => {
    const raw = join(dir, 'seed.raw');
    mixedFile(raw, 80);
    const src = join(dir, 'disk.qcow2');
    assert.equal(spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, src]).status, 0);
    const dst = join(dir, 'disk-copy.qcow2');
    await copyVolumeFile(processRunner, src, dst);
    assert.deepEqual(await readFile(dst), await readFile(src));
    assert.equal(spawnSync('qemu-img', ['check', '-q', dst]).status, 0);
    const cmp = spawnSync('qemu-img', ['compare', '-q', '-f', 'raw', '-F', 'qcow2', raw, dst]);
    assert.equal(cmp.status, 0, cmp.stderr?.toString());
  });
});

describe('writeStreamToFile', () => {
  it('a cancel ends an upload whose sender stalls, and closes the source', async () => {
    const path = join(dir, 'stalled.img');
    const source = new PassThrough();
    source.write(Buffer.alloc(4096, 1));
    const ac = new AbortController();
    const p = writeStreamToFile(source, path, {
      create: true,
      signal: ac.signal,
      progress: () => ac.abort(),
    });
    await assert.rejects(p, (e) => isVirError(e, 'OPERATION_ABORTED'));
    assert.equal(source.destroyed, true);
  });
  it('writes what arrives when nobody cancels', async () => {
    const path = join(dir, 'whole.img');
    async function* chunks() {
      yield Buffer.from('abc');
      yield { hole: 5 };
      yield Buffer.from('z');
    }
    const n = await writeStreamToFile(chunks(), path, { create: true });
    assert.equal(n, 9);
    assert.equal((await readFile(path)).toString('latin1'), 'abc\0\0\0\0\0z');
  });
});
