// Clones on a tvirt network, end to end: tvirtd (QEMU driver, --networks) runs inside a network
// namespace this test creates; a guest on the default NAT network is booted (DHCP), shut off, then
// cloned in full and linked (`clone -o base --auto-clone [--linked]`). All three boot, each with its
// own MAC and its own lease (net-dhcp-leases: three MACs, three IPs; domifaddr of each clone shows
// its own). The base's disk is made readonly before it boots again, as tvirt asks of a linked
// clone's base. Cleanup: guests destroyed via the API, tvirtd killed by PID, QEMUs named by status
// files killed as a safety net, the namespace deleted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDomain } from '../../src/conf/domain/index.js';
import { createNetns, deleteNetns, netnsUnavailable } from '../../src/host/netdev-testns.js';
import { type NetnsDaemon, startNetnsDaemon } from '../support/netns-daemon.js';
import { guestOrSkip, guestXml, waitFor } from './qemu-env.js';

const { guest, skip: guestSkip } = guestOrSkip();
const skip =
  (process.getuid?.() !== 0 ? 'needs root (network namespaces, taps)' : false) ||
  netnsUnavailable(['ip', 'dnsmasq', 'nft']) ||
  guestSkip;

const BASE_MAC = '52:54:00:c7:00:01';
const DEFAULT_RANGE = /^192\.168\.122\.([2-9]|\d\d|1\d\d|2[0-4]\d|25[0-4])$/;

describe('clones on the default NAT network (tvirtd in a fresh namespace)', { skip }, () => {
  let ns = '';
  let dir = '';
  let d: NetnsDaemon | undefined;

  after(async () => {
    try {
      await d?.cleanup();
    } finally {
      if (ns) await deleteNetns(ns);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });

  it('full and linked clones boot with their own MAC and their own DHCP lease', async () => {
    ns = await createNetns('clnet');
    dir = await mkdtemp(join(tmpdir(), 'tvirt-clnet-'));
    // dnsmasq drops root and must still read its files under the daemon's run directory.
    await chmod(dir, 0o755);
    d = await startNetnsDaemon(ns, join(dir, 'root'));
    const { tvirt, conn } = d;

    // The base: a standalone qcow2 root disk, one NIC on 'default', DHCP in the guest.
    const disk = join(dir, 'base.qcow2');
    const cv = spawnSync('qemu-img', ['convert', '-O', 'qcow2', guest!.rootDisk, disk], { encoding: 'utf8' });
    assert.equal(cv.status, 0, cv.stderr);
    const nic = `<interface type='network'><mac address='${BASE_MAC}'/><source network='default'/><model type='virtio'/></interface>`;
    const xml = guestXml(guest!, { name: 'base', dir, disk })
      .replace(/<interface type='user'>.*<\/interface>/, nic)
      .replace('</cmdline>', ' tvirt.net=1</cmdline>');
    const f = join(dir, 'base.xml');
    await writeFile(f, xml);
    assert.deepEqual(await tvirt(`define ${f}; start base`), {
      out: `Domain 'base' defined from ${f}\n\nDomain 'base' started\n\n`,
      err: '',
      code: 0,
    });
    const leased = (mac: string) =>
      waitFor(
        `the DHCP lease of ${mac}`,
        async () => (await tvirt('net-dhcp-leases', 'default', '--mac', mac)).out.includes(mac),
        45_000,
      );
    await leased(BASE_MAC);
    assert.equal((await tvirt('destroy', 'base')).code, 0);
    assert.equal((await tvirt('domstate', 'base')).out, 'shut off\n\n');

    // A full clone and a linked clone, by the CLI.
    const full = await tvirt('clone', '-o', 'base', '--auto-clone');
    assert.equal(full.code, 0, full.err);
    assert.match(full.out, /Clone 'base-clone' created successfully\./);
    const linked = await tvirt('clone', '-o', 'base', '--auto-clone', '--linked');
    assert.equal(linked.code, 0, linked.err);
    assert.match(linked.out, /Clone 'base-clone1' created successfully\./);
    const names = ['base', 'base-clone', 'base-clone1'];
    const defs = await Promise.all(names.map(async (n) => parseDomain(await conn.domainGetXMLDesc(n))));
    const macs = defs.map((x) => x.devices.interfaces[0]!.mac!);
    assert.equal(macs[0], BASE_MAC);
    assert.equal(new Set(macs).size, 3, `three MACs: ${macs.join(' ')}`);
    assert.equal(new Set(defs.map((x) => x.uuid)).size, 3, 'three uuids');

    // The base of a linked clone boots only with its disk readonly (tvirt refuses otherwise).
    await assert.rejects(conn.domainCreate('base'), /base image of linked clone\(s\) base-clone1/);
    await conn.domainDefineXML(
      (await conn.domainGetXMLDesc('base')).replace(/(<target dev='vda'[^>]*\/>)/, '$1<readonly/>'),
    );

    // Boot all three; each gets its own lease.
    assert.deepEqual(await tvirt(names.map((n) => `start ${n}`).join('; ')), {
      out: names.map((n) => `Domain '${n}' started\n\n`).join(''),
      err: '',
      code: 0,
    });
    await Promise.all(macs.slice(1).map(leased));
    const leases = (await tvirt('net-dhcp-leases', 'default')).out;
    const ips = macs.map((mac) => {
      const row = new RegExp(` ${mac}   ipv4       ([\\d.]+)/24 `).exec(leases);
      assert.ok(row, `a lease for ${mac}: ${leases}`);
      assert.match(row[1]!, DEFAULT_RANGE);
      return row[1]!;
    });
    assert.equal(new Set(ips).size, 3, `three addresses: ${ips.join(' ')}`);
    for (const [i, n] of names.entries()) {
      if (i === 0) continue;
      const out = (await tvirt('domifaddr', n)).out;
      assert.match(
        out,
        new RegExp(
          `^ Name +MAC address +Protocol +Address\\n-+\\n vnet\\d+ +${macs[i]} +ipv4 +${ips[i]!.replaceAll('.', '\\.')}/24\\n\\n$`,
        ),
        `domifaddr ${n}`,
      );
    }

    assert.deepEqual(await tvirt(names.map((n) => `destroy ${n}`).join('; ')), {
      out: names.map((n) => `Domain '${n}' destroyed\n\n`).join(''),
      err: '',
      code: 0,
    });
  });
});
