// Clone execution over the in-memory test driver: simulated and real files, progress, cancel, refusals.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDomain } from '../../conf/domain/index.js';
import { isVirError } from '../../util/errors.js';
import { openIsolatedTestConnection } from '../test/driver.js';
import { cloneDomain } from './clone.js';
import { localCloneHost } from './clone-host.js';
import { linkedBasesOf } from './linked.js';

const dir = mkdtempSync(join(tmpdir(), 'tvirt-clone-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const hasQemuImg = spawnSync('qemu-img', ['--version']).status === 0;

/** A raw file of `size` bytes with data at a few places (the rest holes). */
function sparseFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  for (const at of [0, size / 2, size - 4096]) writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, at);
  closeSync(fd);
}

function domXml(name: string, disk: string, fmt = 'raw'): string {
  return `<domain type='test'><name>${name}</name><memory>65536</memory><os><type>hvm</type></os><devices>
    <disk type='file' device='disk'><driver name='qemu' type='${fmt}'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='network'><mac address='52:54:00:11:22:33'/><source network='default'/></interface>
    <graphics type='vnc' port='5905' autoport='no'/>
  </devices></domain>`;
}

async function rejectsCode(p: Promise<unknown>, code: string, re?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVirError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

describe('domainClone on the test driver', () => {
  it("clones test:///default's simulated disk with progress; refuses a running original", async () => {
    const c = openIsolatedTestConnection();
    await rejectsCode(
      c.domainClone('test'),
      'OPERATION_INVALID',
      /'test' is running; the domain to clone must be shut off or paused/,
    );
    await rejectsCode(c.domainClone('nope'), 'NO_DOMAIN', /Domain 'nope' was not found/);
    await c.domainDestroy('test');
    const seen: [number, number][] = [];
    const r = await c.domainClone('test', { progress: (p, t) => seen.push([p, t]) });
    assert.equal(r.name, 'test-clone');
    assert.equal(r.disks.length, 1);
    assert.equal(r.disks[0]!.dest, '/guest/diskimage1-clone');
    assert.ok(seen.length >= 3, `progress events: ${seen.length}`);
    assert.deepEqual(seen.at(-1), [r.disks[0]!.bytes, r.disks[0]!.bytes]);
    const orig = parseDomain(await c.domainGetXMLDesc('test'));
    const clone = parseDomain(await c.domainGetXMLDesc('test-clone'));
    assert.notEqual(clone.uuid, orig.uuid);
    assert.notEqual(clone.devices.interfaces[0]?.mac, orig.devices.interfaces[0]?.mac);
    const again = await c.domainClone('test');
    assert.equal(again.name, 'test-clone1');
    assert.equal(again.disks[0]!.dest, '/guest/diskimage1-clone-1');
    await rejectsCode(c.domainClone('test', { name: 'test-clone' }), 'DOM_EXIST', /already in use/);
    // --replace
    const rep = await c.domainClone('test', { name: 'test-clone', replace: true });
    assert.notEqual(rep.uuid, clone.uuid);
    // dry run changes nothing
    const before = (await c.listDomains()).length;
    const dry = await c.domainClone('test', { dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal((await c.listDomains()).length, before);
    await c.close();
  });

  it('cancel mid-copy leaves no domain behind', async () => {
    const c = openIsolatedTestConnection();
    await c.domainDestroy('test');
    const ac = new AbortController();
    const p = c.domainClone('test', {
      signal: ac.signal,
      progress: (done) => {
        if (done > 0) ac.abort();
      },
    });
    await rejectsCode(p, 'OPERATION_ABORTED', /nothing|no domain/);
    assert.deepEqual(
      (await c.listDomains()).map((d) => d.name),
      ['test'],
    );
    await c.close();
  });

  it('copies real files sparse, keeps holes, and names them after the clone', async () => {
    const c = openIsolatedTestConnection();
    const src = join(dir, 'vm1.img');
    sparseFile(src, 64 << 20);
    await c.domainDefineXML(domXml('vm1', src));
    const r = await c.domainClone('vm1', { name: 'vm2' });
    assert.equal(r.disks[0]!.dest, join(dir, 'vm2.img'));
    assert.deepEqual(readFileSync(join(dir, 'vm2.img')), readFileSync(src));
    assert.ok(statSync(join(dir, 'vm2.img')).blocks * 512 < 8 << 20, 'the copy stays sparse');
    assert.deepEqual(r.warnings, [
      'Setting the graphics device port to autoport, in order to avoid conflicting.',
    ]);
    // -f onto an existing file is refused before anything is copied
    await rejectsCode(c.domainClone('vm1', { name: 'vm3', files: [src] }), 'INVALID_ARG', /overwrite/);
    // a file that appears while copying makes the clone fail and leave nothing
    assert.ok(!readdirSync(dir).some((f) => f.includes('tvirt-clone')), 'no temporary files');
    // --nonsparse allocates
    const n = await c.domainClone('vm1', { name: 'vm4', nonsparse: true, files: [join(dir, 'vm4.img')] });
    assert.ok(statSync(n.disks[0]!.dest).blocks * 512 >= 64 << 20);
    await c.close();
  });

  it('--start starts the clone; --reflink fails cleanly where the file system cannot share blocks', async () => {
    const c = openIsolatedTestConnection();
    const src = join(dir, 'st.img');
    sparseFile(src, 4 << 20);
    await c.domainDefineXML(domXml('st', src));
    const r = await c.domainClone('st', { name: 'st2', start: true });
    assert.equal(r.started, true);
    assert.equal((await c.domainGetState('st2')).state, 'running');
    const reflinkOk = spawnSync('cp', ['--reflink=always', src, join(dir, 'probe.img')]).status === 0;
    rmSync(join(dir, 'probe.img'), { force: true });
    if (reflinkOk) {
      assert.equal((await c.domainClone('st', { name: 'st3', reflink: true })).name, 'st3');
    } else {
      await rejectsCode(
        c.domainClone('st', { name: 'st3', reflink: true }),
        'OPERATION_UNSUPPORTED',
        /reflink is not supported by the file system of '/,
      );
      await rejectsCode(c.domainLookup('st3'), 'NO_DOMAIN');
      assert.ok(!readdirSync(dir).some((f) => f.startsWith('st3') || f.includes('tvirt-clone')));
    }
    await c.close();
  });

  it('--reflink of a pool-volume disk: the storage copy must share blocks, or the clone fails and leaves nothing', async () => {
    const c = openIsolatedTestConnection();
    const pools = join(dir, 'reflink-pool');
    const { ConfigStore } = await import('../../daemon/config-store.js');
    const { StorageDriver } = await import('../storage/storage-driver.js');
    const drv = new StorageDriver({
      store: new ConfigStore({
        dir: join(pools, 'etc'),
        autostartDir: join(pools, 'etc', 'auto'),
        noSync: true,
      }),
    });
    const images = join(pools, 'images');
    await drv.storagePoolDefineXML(
      `<pool type='dir'><name>rp</name><target><path>${images}</path></target></pool>`,
    );
    await drv.storagePoolBuild('rp');
    await drv.storagePoolCreate('rp');
    await drv.storageVolCreateXML(
      'rp',
      "<volume><name>rv.img</name><capacity unit='bytes'>4194304</capacity><target><format type='raw'/></target></volume>",
    );
    await c.domainDefineXML(
      `<domain type='test'><name>rv</name><memory>65536</memory><os><type>hvm</type></os><devices>
      <disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='rp' volume='rv.img'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`,
    );
    const host = localCloneHost({ storage: drv });
    const reflinkOk =
      spawnSync('cp', ['--reflink=always', join(images, 'rv.img'), join(images, 'probe')]).status === 0;
    rmSync(join(images, 'probe'), { force: true });
    if (reflinkOk) {
      const r = await cloneDomain(c, host, 'rv', { name: 'rv2', reflink: true });
      assert.equal(r.disks[0]!.volume, 'rv2.img');
    } else {
      await rejectsCode(
        cloneDomain(c, host, 'rv', { name: 'rv2', reflink: true }),
        'OPERATION_UNSUPPORTED',
        new RegExp(`reflink is not supported by the file system of '${images}'`),
      );
      await rejectsCode(c.domainLookup('rv2'), 'NO_DOMAIN');
      assert.deepEqual(
        (await drv.listStorageVols('rp')).map((v) => v.name),
        ['rv.img'],
      );
      assert.deepEqual(readdirSync(images), ['rv.img']);
    }
    // Without --reflink the same clone copies.
    const full = await cloneDomain(c, host, 'rv', { name: 'rv3' });
    assert.equal(full.disks[0]!.volume, 'rv3.img');
    await c.close();
  });

  it('the guard of every test connection: create XML and undefine with storage of a linked base', async () => {
    const c = openIsolatedTestConnection();
    await c.storageVolCreateXML(
      'default-pool',
      "<volume><name>gb.qcow2</name><capacity>10485760</capacity><target><format type='qcow2'/></target></volume>",
    );
    const xml = `<domain type='test'><name>gb</name><memory>65536</memory><os><type>hvm</type></os><devices>
      <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default-pool' volume='gb.qcow2'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`;
    await c.domainDefineXML(xml);
    await c.domainClone('gb', { name: 'gb-l', linked: true });
    const base = /base image of linked clone\(s\) gb-l/;
    await rejectsCode(c.domainCreate('gb'), 'OPERATION_INVALID', base);
    await rejectsCode(c.domainCreateXML(xml), 'OPERATION_INVALID', base);
    await rejectsCode(c.domainUndefine('gb', { removeAllStorage: true }), 'OPERATION_INVALID', base);
    await rejectsCode(
      c.storageVolDelete({ pool: 'default-pool', name: 'gb.qcow2' }),
      'OPERATION_INVALID',
      base,
    );
    await rejectsCode(
      c.storageVolWipe({ pool: 'default-pool', name: 'gb.qcow2' }),
      'OPERATION_INVALID',
      base,
    );
    await rejectsCode(
      c.storageVolResize({ pool: 'default-pool', name: 'gb.qcow2' }, 20 << 20),
      'OPERATION_INVALID',
      base,
    );
    assert.equal((await c.domainLookup('gb')).state, 'shutoff');
    // The clone itself is free to go, and so is the base after it.
    await c.domainUndefine('gb-l', { removeAllStorage: true });
    await c.domainUndefine('gb', { removeAllStorage: true });
    await c.close();
  });

  it('a failed copy (no space) changes nothing: no domain, no file', async () => {
    const c = openIsolatedTestConnection();
    const sub = join(dir, 'nospace');
    mkdirSync(sub);
    const a = join(sub, 'two.img');
    const b = join(sub, 'data.img');
    sparseFile(a, 1 << 20);
    sparseFile(b, 1 << 20);
    await c.domainDefineXML(
      domXml('two', a).replace(
        '</devices>',
        `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${b}'/><target dev='vdb' bus='virtio'/></disk></devices>`,
      ),
    );
    const real = localCloneHost();
    const host = {
      ...real,
      async copy(...args: Parameters<typeof real.copy>) {
        const [action, to] = args;
        if (action.target === 'vdb') {
          writeFileSync(to, 'partial');
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        return real.copy(...args);
      },
    };
    await assert.rejects(cloneDomain(c, host, 'two', { name: 'three' }), /ENOSPC/);
    assert.deepEqual(readdirSync(sub).sort(), ['data.img', 'two.img']);
    await rejectsCode(c.domainLookup('three'), 'NO_DOMAIN');
    await c.close();
  });

  it('linked clone: a small qcow2 overlay recorded as linked', {
    skip: !hasQemuImg && 'qemu-img not installed',
  }, async () => {
    const c = openIsolatedTestConnection();
    const base = join(dir, 'base.qcow2');
    assert.equal(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '1G']).status, 0);
    await c.domainDefineXML(domXml('base', base, 'qcow2'));
    const r = await c.domainClone('base', { name: 'lc', linked: true });
    assert.equal(r.disks[0]!.kind, 'overlay');
    const info = JSON.parse(
      spawnSync('qemu-img', ['info', '--output=json', r.disks[0]!.dest], { encoding: 'utf8' }).stdout,
    ) as { 'backing-filename': string; format: string };
    assert.equal(info.format, 'qcow2');
    assert.equal(info['backing-filename'], base);
    assert.ok(statSync(r.disks[0]!.dest).size < 1 << 20);
    const def = parseDomain(await c.domainGetXMLDesc('lc'));
    assert.deepEqual(
      linkedBasesOf(def).map((b) => b.base),
      [base],
    );
    await c.close();
  });
});
