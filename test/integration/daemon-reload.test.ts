// SIGHUP through a real tvirtd (--root TMP --driver test): pool definitions written and edited by
// hand in ROOT/etc/storage are picked up, as `tvirt pool-list --all` / `pool-dumpxml` show over the
// socket; networks likewise through a tvirtd run with --networks inside a fresh network namespace,
// whose bridge and dnsmasq the reload leaves alone. Only the daemons started here are signalled, by
// their PIDs.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { listLinks } from '../../src/host/netdev.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../../src/host/netdev-testns.js';
import { cli } from '../support/cli.js';
import { killChildren, rootUri, spawnTvirtd, stopTvirtd, type Tvirtd } from '../support/daemon.js';
import {
  killNetnsLeftovers,
  netnsPids,
  procComm,
  spawnNetnsTvirtd,
  stopNetnsTvirtd,
} from '../support/netns-daemon.js';

const started: ChildProcess[] = [];
let root: string | undefined;
let daemon: Tvirtd | undefined;
after(async () => {
  if (daemon) await stopTvirtd(daemon, 'SIGTERM');
  killChildren(started);
  if (root) await rm(root, { recursive: true, force: true });
});

async function until(what: string, ok: () => boolean, ms = 20_000, d = daemon): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${d?.stderr()}`);
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

test('SIGHUP: network files added, edited and removed by hand; bridges and dnsmasq untouched', {
  skip: netnsUnavailable(['ip', 'dnsmasq', 'nft']),
}, async () => {
  const ns = await createNetns('reload');
  const dir = await mkdtemp(join(tmpdir(), 'tvirt-reload-net-'));
  let d: Tvirtd | undefined;
  try {
    // dnsmasq drops root and must still read its files under the state dir.
    await chmod(dir, 0o755);
    const nroot = join(dir, 'root');
    d = await spawnNetnsTvirtd(ns, nroot, 30_000);
    assert.equal(d.child.exitCode, null, d.stderr());
    const uri = rootUri(nroot);
    const etc = join(nroot, 'etc', 'qemu', 'networks');
    const dnsmasqs = () => netnsPids(ns).filter((p) => procComm(p) === 'dnsmasq');
    const bridges = async () =>
      (await listLinks({ netns: ns }))
        .filter((l) => l.kind === 'bridge')
        .map((l) => l.ifname)
        .sort();
    const list0 = await cli(uri, 'net-list --all');
    assert.match(list0.out, /^\s*default\s+active\s+yes\s+yes\s*$/m, list0.out + list0.err);
    await writeFile(join(dir, 'gone.xml'), "<network><name>gone</name><bridge name='virbr9'/></network>");
    const r = await cli(uri, `net-define ${join(dir, 'gone.xml')}`);
    assert.equal(r.code, 0, r.err);
    const before = { dnsmasq: dnsmasqs(), bridges: await bridges() };
    assert.ok(before.dnsmasq.length > 0);

    await writeFile(
      join(etc, 'byhand.xml'),
      "<network>\n  <name>byhand</name>\n  <bridge name='virbr7'/>\n  <ip address='10.77.0.1' prefix='24'/>\n</network>\n",
    );
    const defaultFile = join(etc, 'default.xml');
    const saved = await readFile(defaultFile, 'utf8');
    const end = /range start='([\d.]+)' end='([\d.]+)'/.exec(saved)!;
    const edited = saved.replace(`end='${end[2]}'`, `end='${end[1]!.replace(/\d+$/, '77')}'`);
    assert.notEqual(edited, saved);
    await writeFile(defaultFile, edited);
    await rm(join(etc, 'gone.xml'));

    process.kill(d.child.pid!, 'SIGHUP');
    const done = d;
    await until('the reload', () => done.stderr().includes('reload done'), 20_000, done);

    const list = await cli(uri, 'net-list --all');
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^\s*byhand\s+inactive\s+no\s+yes\s*$/m, list.out);
    assert.match(list.out, /^\s*default\s+active\s+yes\s+yes\s*$/m, list.out);
    assert.doesNotMatch(list.out, /\bgone\b/);
    const live = await cli(uri, 'net-dumpxml default');
    const next = await cli(uri, 'net-dumpxml default --inactive');
    assert.match(live.out, new RegExp(`end='${end[2]!.replace(/\./g, '\\.')}'`), 'the live definition stays');
    assert.match(next.out, /end='[\d.]+\.77'/, 'the edited file is the next definition');
    assert.deepEqual(dnsmasqs(), before.dnsmasq, 'dnsmasq is not restarted');
    assert.deepEqual(await bridges(), before.bridges, 'no bridge is made or removed');
    assert.equal(d.child.exitCode, null);
  } finally {
    if (d) await stopNetnsTvirtd(d);
    await killNetnsLeftovers(ns);
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  }
});
