// domdisplay, ttyconsole and vcpucount against test:///default; expected texts checked against virsh 9.0.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runTvirt } from '../../test/support/cli.js';

const tvirt = (...args: string[]) => runTvirt('test:///default', ...args);
const dir = mkdtempSync(join(tmpdir(), 'tvirt-display-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const g = join(dir, 'g.xml');
writeFileSync(
  g,
  `<domain type='test'><name>g</name><memory>65536</memory><vcpu current='1'>3</vcpu><os><type>hvm</type></os><devices>
  <graphics type='vnc' port='5901' listen='127.0.0.1' passwd='sekret'/>
  <graphics type='spice' port='5902' tlsPort='5903' listen='0.0.0.0'/>
  <console type='pty'/></devices></domain>`,
);
const started = (cmd: string) => tvirt('-q', `define ${g}; start g; ${cmd}`);

describe('domdisplay', () => {
  it('the first display, all of them, by type, with the password (no empty line after one, as virsh)', async () => {
    assert.deepEqual(await started('domdisplay g'), { out: 'vnc://127.0.0.1:1\n', err: '', code: 0 });
    assert.equal(
      (await started('domdisplay g --all')).out,
      'vnc://127.0.0.1:1\nspice://localhost:5902?tls-port=5903\n',
    );
    assert.equal((await started('domdisplay g --type spice')).out, 'spice://localhost:5902?tls-port=5903\n');
    assert.equal((await started('domdisplay g --include-password')).out, 'vnc://:sekret@127.0.0.1:1\n');
  });
  it('says when there is none, or the domain is not running', async () => {
    assert.equal(
      (await started('domdisplay g --type rdp')).err,
      "error: No graphical display with type 'rdp' found\n",
    );
    assert.equal((await tvirt('domdisplay test')).err, 'error: No graphical display found\n');
    assert.equal((await tvirt('destroy test; domdisplay test')).err, 'error: Domain is not running\n');
  });
});

describe('vcpucount', () => {
  it('the table, live rows only while running', async () => {
    const row = (a: string, b: string, n: number) =>
      `${a.padEnd(12)} ${b.padEnd(12)} ${String(n).padStart(3)}\n`;
    assert.equal(
      (await started('vcpucount g')).out,
      row('maximum', 'config', 3) +
        row('maximum', 'live', 3) +
        row('current', 'config', 1) +
        row('current', 'live', 1),
    );
    assert.equal(
      (await tvirt('-q', 'destroy test; vcpucount test')).out,
      row('maximum', 'config', 2) + row('current', 'config', 2),
    );
    assert.equal((await tvirt('-q', 'setvcpus test 1 --live; vcpucount test --live')).out, '1\n');
  });
  it('one number with a flag; exclusive flags; --live of a stopped domain', async () => {
    assert.equal((await started('vcpucount g --maximum --live')).out, '3\n');
    assert.equal((await started('vcpucount g --config')).out, '1\n');
    assert.equal(
      (await tvirt('vcpucount test --maximum --active')).err,
      'error: Options --active and --maximum are mutually exclusive\n',
    );
    assert.equal(
      (await tvirt('vcpucount test --live --config')).err,
      'error: Options --live and --config are mutually exclusive\n',
    );
    assert.equal(
      (await tvirt('destroy test; vcpucount test --live')).err,
      'error: Requested operation is not valid: domain is not running\n',
    );
  });
});

describe('ttyconsole', () => {
  it('prints nothing and fails for a console without a host device, as virsh', async () => {
    assert.deepEqual(await tvirt('ttyconsole test'), { out: '\n', err: '', code: 1 });
  });
});

describe('domblkinfo', () => {
  it("libvirt's test-driver sizes, by target or path, human, all; virsh's errors", async () => {
    assert.equal(
      (await tvirt('-q', 'domblkinfo test vda')).out,
      'Capacity:       1099506450432\nAllocation:     1099511627776\nPhysical:       1099511627776\n',
    );
    assert.equal(
      (await tvirt('-q', 'domblkinfo test /guest/diskimage1 --human')).out.split('\n')[0],
      'Capacity:       1023.995 GiB',
    );
    assert.equal(
      (await tvirt('-q', 'domblkinfo test --all --human')).out,
      ' vda   1023.995 GiB   1.000 TiB   1.000 TiB\n',
    );
    assert.equal(
      (await tvirt('domblkinfo test vdb')).err,
      'error: invalid argument: invalid path vdb not assigned to domain\n',
    );
    assert.equal(
      (await tvirt('domblkinfo test')).err,
      "error: command 'domblkinfo' requires <device> option\n",
    );
    assert.equal(
      (await tvirt('domblkinfo test vda --all')).err,
      'error: Options --all and --device are mutually exclusive\n',
    );
  });
});

describe('dommemstat', () => {
  it("libvirt's test-driver figures; a stopped domain fails as in virsh", async () => {
    const r = await tvirt('-q', 'dommemstat test');
    assert.match(r.out, /^actual 2097152\nswap_in 0\n[\s\S]*\nrss 1048576\n$/);
    assert.equal(
      (await tvirt('destroy test; dommemstat test')).err,
      'error: Failed to get memory statistics for domain test\nerror: Requested operation is not valid: domain is not running\n',
    );
    assert.deepEqual(JSON.parse((await tvirt('--json', 'dommemstat test')).out).actual, 2097152);
  });
});
