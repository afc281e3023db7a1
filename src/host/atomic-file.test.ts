import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomic } from './atomic-file.js';
import { ensureSymlink, fileMode, listDir, mkdirp, readFileIfExists, removeIfExists } from './fs-util.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-atomic-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates and replaces a file with the given mode, leaving no temp files', async () => {
    const p = join(dir, 'a.xml');
    await writeFileAtomic(p, 'one');
    assert.equal(await readFile(p, 'utf8'), 'one');
    assert.equal((await stat(p)).mode & 0o777, 0o600);
    await writeFileAtomic(p, 'two', { mode: 0o644 });
    assert.equal(await readFile(p, 'utf8'), 'two');
    assert.equal((await stat(p)).mode & 0o777, 0o644);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.includes('tmp')),
      [],
    );
  });

  it('fails cleanly when the directory does not exist', async () => {
    await assert.rejects(writeFileAtomic(join(dir, 'nope', 'x'), 'x'), { code: 'ENOENT' });
  });

  it('a SIGKILL mid-write leaves the old or the new file, never a partial one', async () => {
    const p = join(dir, 'crash.dat');
    const size = 1 << 20;
    await writeFile(p, 'a'.repeat(size));
    const self = import.meta.url;
    const modUrl = new URL(self.endsWith('.ts') ? './atomic-file.ts' : './atomic-file.js', self).href;
    const code = `
      const { writeFileAtomic } = await import(${JSON.stringify(modUrl)});
      const bufs = [Buffer.alloc(${size}, 'a'), Buffer.alloc(${size}, 'b')];
      process.stdout.write('ready\\n');
      for (let i = 0; ; i++) await writeFileAtomic(${JSON.stringify(p)}, bufs[i % 2]);
    `;
    const execArgv = self.endsWith('.ts') ? ['--import', 'tsx'] : [];
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, [...execArgv, '--input-type=module', '-e', code], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 120));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const data = await readFile(p);
      assert.equal(data.length, size, 'file has full length');
      const first = data[0];
      assert.ok(first === 0x61 || first === 0x62);
      assert.ok(
        data.every((b) => b === first),
        'file is wholly old or wholly new',
      );
    }
  });
});

describe('fs-util', () => {
  it('mkdirp sets the mode of the leaf exactly', async () => {
    const d = join(dir, 'x', 'y', 'z');
    await mkdirp(d, 0o700);
    assert.equal(await fileMode(d), 0o700);
    await mkdirp(d, 0o750);
    assert.equal(await fileMode(d), 0o750);
  });

  it('ensureSymlink creates, keeps and replaces links; helpers tolerate missing files', async () => {
    const link = join(dir, 'auto', 'n.xml');
    await ensureSymlink('/etc/one.xml', link);
    await ensureSymlink('/etc/one.xml', link);
    await ensureSymlink('/etc/two.xml', link);
    assert.deepEqual(await listDir(join(dir, 'auto')), ['n.xml']);
    assert.equal(await removeIfExists(link), true);
    assert.equal(await removeIfExists(link), false);
    assert.equal(await readFileIfExists(join(dir, 'missing')), undefined);
    assert.deepEqual(await listDir(join(dir, 'missing-dir')), []);
  });
});
