// --json: as a global option and after the command, on every listing/info command, against
// test:///default (and a lease-giving wrapper of it for net-dhcp-leases), in-process.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Connection, NetworkLease } from '../drivers/connection.js';
import { leaseInterfaceAddresses } from '../drivers/interface-addresses.js';
import { openTestConnection } from '../drivers/test/driver.js';
import { runCli } from './shell.js';

const dir = mkdtempSync(join(tmpdir(), 'tvirt-json-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  out: string;
  err: string;
  code: number;
}
async function tvirt(args: string[], opener?: (uri: string) => Promise<Connection>): Promise<Result> {
  let out = '';
  let err = '';
  const code = await runCli(
    ['-c', 'test:///default', ...args],
    {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
    },
    {},
    opener,
  );
  return { out, err, code };
}
/** Runs a command string and parses its whole output as JSON (it must succeed quietly on stderr). */
async function json(cmd: string, opener?: (uri: string) => Promise<Connection>): Promise<unknown> {
  const r = await tvirt([cmd], opener);
  assert.equal(r.err, '', cmd);
  assert.equal(r.code, 0, cmd);
  return JSON.parse(r.out);
}
const testUuid = '6695eb01-f6a4-8304-79aa-97f2502e193f';
const poolUuid = 'dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566';

describe('--json after the command', () => {
  it('is the global flag, for that command', async () => {
    for (const cmd of [
      'list --all',
      'dominfo test',
      'domstate test',
      'nodeinfo',
      'net-list --all',
      'pool-list',
    ]) {
      const global = await tvirt(['--json', cmd]);
      const after = await tvirt([`${cmd} --json`]);
      assert.equal(after.err, '', cmd);
      assert.equal(after.code, 0, cmd);
      // The test hypervisor's CPU time is the wall clock.
      const parse = (t: string) => JSON.parse(t.replace(/"cpuTimeNs": \d+/, '"cpuTimeNs": 0'));
      assert.deepEqual(parse(after.out), parse(global.out), cmd);
    }
    // As separate words, and before other options.
    const words = await tvirt(['list', '--json', '--all']);
    assert.deepEqual(JSON.parse(words.out), JSON.parse((await tvirt(['--json', 'list', '--all'])).out));
  });
  it('applies to its own command only: the rest of a batch prints text', async () => {
    const r = await tvirt(['domstate test --json; domstate test']);
    assert.equal(r.out, '{\n  "state": "running",\n  "reason": "unknown"\n}\nrunning\n\n');
  });
  it("keeps virsh's errors for commands without JSON output and for misuse", async () => {
    assert.deepEqual(await tvirt(['start test --json']), {
      out: '',
      err: "error: command 'start' doesn't support option --json\n",
      code: 1,
    });
    assert.deepEqual(await tvirt(['list --json --json']), {
      out: '',
      err: 'error: option --json already seen\n',
      code: 1,
    });
    assert.deepEqual(await tvirt(['list --json=yes']), {
      out: '',
      err: "error: invalid '=' after option --json\n",
      code: 1,
    });
  });
});

describe('--json on info commands', () => {
  it('domstate, domid, domname, domuuid', async () => {
    assert.deepEqual(await json('domstate test --json'), { state: 'running', reason: 'unknown' });
    const ids = { id: 1, name: 'test', uuid: testUuid };
    assert.deepEqual(await json('domid test --json'), ids);
    assert.deepEqual(await json('domname 1 --json'), ids);
    assert.deepEqual(await json('domuuid test --json'), ids);
    const off = await tvirt(['-q', 'destroy test; domid test --json']);
    assert.deepEqual(JSON.parse(off.out), { id: null, name: 'test', uuid: testUuid });
  });
  it('nodeinfo, version, hostname, uri', async () => {
    assert.deepEqual(await json('nodeinfo --json'), {
      model: 'i686',
      memoryKiB: 3145728,
      cpus: 16,
      mhz: 1400,
      nodes: 2,
      sockets: 2,
      cores: 2,
      threads: 2,
    });
    const v = (await json('version --json')) as Record<string, string>;
    assert.equal(v.hypervisorType, 'TEST');
    assert.equal(typeof v.library, 'string');
    assert.deepEqual(Object.keys((await json('hostname --json')) as object), ['hostname']);
    assert.deepEqual(await json('uri --json'), { uri: 'test:///default' });
  });
  it('domblklist, domiflist, domifaddr', async () => {
    assert.deepEqual(await json('domblklist test --json'), [
      { type: 'file', device: 'disk', target: 'vda', source: '/guest/diskimage1' },
    ]);
    assert.deepEqual(await json('domiflist test --json'), [
      { interface: 'testnet0', type: 'network', source: 'default', model: '-', mac: 'aa:bb:cc:dd:ee:ff' },
    ]);
    assert.deepEqual(await json('domifaddr test --json'), [
      {
        name: 'testnet0',
        hwaddr: 'aa:bb:cc:dd:ee:ff',
        addrs: [{ type: 'ipv4', addr: '192.168.122.3', prefix: 24 }],
      },
    ]);
  });
  it('pool-name, pool-uuid, vol-pool: the pool; vol-path, vol-key, vol-name: the volume', async () => {
    const pool = { name: 'default-pool', uuid: poolUuid };
    assert.deepEqual(await json(`pool-name ${poolUuid} --json`), pool);
    assert.deepEqual(await json('pool-uuid default-pool --json'), pool);
    const vol = { pool: 'default-pool', name: 'v', key: '/default-pool/v', path: '/default-pool/v' };
    const r = await tvirt([
      '-q',
      'vol-create-as default-pool v 1M; vol-path v --pool default-pool --json; vol-key v --pool default-pool --json; vol-name /default-pool/v --json; vol-pool /default-pool/v --json; vol-pool /default-pool/v --uuid --json',
    ]);
    assert.equal(r.err, '');
    const docs = r.out
      .trim()
      .split(/\n(?=[{[])/)
      .map((d) => JSON.parse(d));
    assert.deepEqual(docs, [vol, vol, vol, pool, pool]);
  });
  it('vncdisplay', async () => {
    const g = join(dir, 'g.xml');
    writeFileSync(
      g,
      "<domain type='test'><name>g1</name><memory>1048576</memory><os><type>hvm</type></os><devices><graphics type='vnc' port='5901' listen='127.0.0.1'/></devices></domain>",
    );
    const r = await tvirt(['-q', `create ${g}; vncdisplay g1 --json`]);
    assert.deepEqual(JSON.parse(r.out), { display: '127.0.0.1:1', listen: '127.0.0.1', port: 5901 });
  });
  it('desc: the description or title, read or as set', async () => {
    assert.deepEqual(await json('desc test --json'), { description: '' });
    assert.deepEqual(await json('desc test --title --json'), { title: '' });
    const r = await tvirt(['desc test --json hello world; desc test --json; desc test --title --json T']);
    assert.equal(r.err, '');
    assert.equal(
      r.out,
      '{\n  "description": "hello world"\n}\n{\n  "description": "hello world"\n}\n{\n  "title": "T"\n}\n',
    );
  });
  it('net-dhcp-leases, and domifaddr from the leases of a hypervisor that has them', async () => {
    const lease: NetworkLease = {
      iface: 'virbr0',
      expiryTime: 1700000000,
      type: 'ipv4',
      mac: 'aa:bb:cc:dd:ee:ff',
      ipaddr: '192.168.122.77',
      prefix: 24,
      hostname: 'guest',
    };
    // test:///default with leases, whose domifaddr reads them as tvirtd's composite connection does.
    const opener = async () => {
      const c = openTestConnection();
      return new Proxy(c, {
        get(target, prop, receiver) {
          if (prop === 'uri') return 'qemu:///leases';
          if (prop === 'networkGetDHCPLeases') {
            return async (_ref: string, mac?: string) =>
              mac === undefined || mac === lease.mac ? [lease] : [];
          }
          if (prop === 'domainInterfaceAddresses')
            return (ref: string) => leaseInterfaceAddresses(receiver as Connection, ref);
          return Reflect.get(target, prop, receiver);
        },
      });
    };
    assert.deepEqual(await json('net-dhcp-leases default --json', opener), [lease]);
    assert.deepEqual(await json('net-dhcp-leases default --mac 52:54:00:00:00:01 --json', opener), []);
    assert.deepEqual(await json('domifaddr test --json', opener), [
      {
        name: 'testnet0',
        hwaddr: 'aa:bb:cc:dd:ee:ff',
        addrs: [{ type: 'ipv4', addr: '192.168.122.77', prefix: 24 }],
      },
    ]);
  });
});

describe('--json carries what the text shows about linked clones', () => {
  it('dominfo: linkedClones of a base, linkedTo of a clone', async () => {
    const r = await tvirt(['-q', 'destroy test; clone test --auto-clone --linked; dominfo test --json']);
    assert.equal(r.err, '');
    const base = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(base.linkedClones, ['test-clone']);
    assert.deepEqual(base.linkedTo, []);
    const c = await tvirt([
      '-q',
      'destroy test; clone test --auto-clone --linked; dominfo test-clone --json',
    ]);
    const clone = JSON.parse(c.out) as Record<string, unknown>;
    assert.deepEqual(clone.linkedClones, []);
    assert.deepEqual(clone.linkedTo, [{ target: 'vda', base: '/guest/diskimage1', original: 'test' }]);
  });
  it('vol-info: backingOf', async () => {
    const xml = join(dir, 'vv.xml');
    writeFileSync(
      xml,
      `<domain type='test'><name>vv</name><memory>65536</memory><os><type>hvm</type></os><devices>
      <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default-pool' volume='vv.qcow2'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`,
    );
    const r = await tvirt([
      '-q',
      `vol-create-as default-pool vv.qcow2 10M --format qcow2; define ${xml}; clone -o vv --auto-clone --linked -q; vol-info vv.qcow2 --pool default-pool --json; vol-create-as default-pool w 1M; vol-info w --pool default-pool --json`,
    ]);
    assert.equal(r.err, '');
    const [linked, plain] = r.out
      .trim()
      .split(/\n(?=\{)/)
      .map((d) => JSON.parse(d) as Record<string, unknown>);
    assert.deepEqual(linked!.backingOf, ['vv-clone']);
    assert.equal(linked!.name, 'vv.qcow2');
    assert.deepEqual(plain!.backingOf, []);
  });
});
