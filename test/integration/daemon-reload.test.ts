// SIGHUP through a real tvirtd (--root TMP --driver test): pool definitions written and edited by
// hand in ROOT/etc/storage are picked up, as `tvirt pool-list --all` / `pool-dumpxml` show over the
// socket. Only the daemon started here is signalled, by its PID. (Networks: see the unit tests in
// src/drivers/network/network-reload.test.ts; a daemon with networks needs a fresh namespace.)
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cli } from '../support/cli.js';
import { killChildren, rootUri, spawnTvirtd, stopTvirtd, type Tvirtd } from '../support/daemon.js';

const started: ChildProcess[] = [];
let root: string | undefined;
let daemon: Tvirtd | undefined;
after(async () => {
  if (daemon) await stopTvirtd(daemon, 'SIGTERM');
  killChildren(started);
  if (root) await rm(root, { recursive: true, force: true });
});

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${daemon?.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('SIGHUP: a new pool file defines a pool; an edited one replaces its definition', async () => {
  root = await mkdtemp(join(tmpdir(), 'tvirt-reload-'));
  const d = spawnTvirtd(['--root', root, '--driver', 'test'], started);
  daemon = d;
  await until('tvirtd to start', () => d.stderr().includes('tvirtd started') || d.child.exitCode !== null);
  assert.equal(d.child.exitCode, null, d.stderr());
  const uri = rootUri(root);
  const etc = join(root, 'etc', 'storage');

  const r0 = await cli(uri, 'pool-define-as edited dir --target /srv/before');
  assert.equal(r0.code, 0, r0.err);
  const file = join(etc, 'edited.xml');
  const saved = await readFile(file, 'utf8');
  assert.match(saved, /<path>\/srv\/before<\/path>/);

  await writeFile(
    join(etc, 'byhand.xml'),
    "<pool type='dir'>\n  <name>byhand</name>\n  <target>\n    <path>/srv/byhand</path>\n  </target>\n</pool>\n",
  );
  await writeFile(file, saved.replace('/srv/before', '/srv/after'));

  const before = await cli(uri, 'pool-list --all --name');
  assert.doesNotMatch(before.out, /byhand/, 'nothing changes before SIGHUP');

  const pid = d.child.pid!;
  process.kill(pid, 'SIGHUP');
  await until('the reload', () => d.stderr().includes('reload done'));

  const list = await cli(uri, 'pool-list --all');
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, /^\s*byhand\s+inactive\s+no\s*$/m);
  assert.match(list.out, /^\s*edited\s+inactive\s+no\s*$/m);
  const xml = await cli(uri, 'pool-dumpxml byhand; pool-dumpxml edited');
  assert.equal(xml.code, 0, xml.err);
  assert.match(xml.out, /<name>byhand<\/name>[\s\S]*<path>\/srv\/byhand<\/path>/);
  assert.match(xml.out, /<name>edited<\/name>[\s\S]*<path>\/srv\/after<\/path>/);
  assert.doesNotMatch(xml.out, /\/srv\/before/);
  assert.equal(d.child.exitCode, null, 'the daemon runs on after SIGHUP');
});
