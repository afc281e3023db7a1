// Checks buildDnsmasqFiles against libvirt's networkxml2confdata fixtures (config and hosts file).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetwork } from '../../conf/network/index.js';
import { manifest, readTestdata, skipNoTestdata } from '../../../test/support/testdata.js';
import { buildDnsmasqFiles } from './dnsmasq-conf.js';

test('dnsmasq config matches every networkxml2conf fixture', { skip: skipNoTestdata }, () => {
  const cases = manifest('network').cases.filter((c: { kind: string }) => c.kind === 'networkxml2conf');
  let ok = 0;
  const bad: string[] = [];
  for (const c of cases) {
    const input = c.files.find((f: { role: string }) => f.role === 'input').path as string;
    const base = input.replace(/\.xml$/, '');
    const def = parseNetwork(readTestdata(input));
    const out = buildDnsmasqFiles(def, { stateDir: c.dnsmasqStateDir });
    const conf = readTestdata(`${base}.conf`);
    const hosts = c.hostsfileExpected ? readTestdata(`${base}.hostsfile`) : '';
    if (out.conf === conf && out.hostsfile === hosts) ok++;
    else bad.push(`${c.test}\n--- got\n${out.conf}${out.hostsfile}--- want\n${conf}${hosts}`);
  }
  console.log(`networkxml2conf: ${ok}/${cases.length} agree`);
  assert.deepEqual(bad, []);
});

test('pid-file, lease file and addn-hosts contents', () => {
  const def = parseNetwork(`<network><name>n1</name><forward mode='nat'/><bridge name='br9'/>
    <dns><host ip='10.0.3.5'><hostname>a</hostname><hostname>b</hostname></host></dns>
    <ip address='10.0.3.1' prefix='24'><dhcp><range start='10.0.3.2' end='10.0.3.9'/></dhcp></ip></network>`);
  const f = buildDnsmasqFiles(def, { stateDir: '/s', pidFile: '/s/n1.pid', leaseFile: '/s/n1.leases' });
  assert.match(f.conf, /^pid-file=\/s\/n1.pid$/m);
  assert.match(f.conf, /^dhcp-range=10.0.3.2,10.0.3.9,255.255.255.0$/m);
  assert.match(f.conf, /^dhcp-lease-max=8$/m);
  assert.match(f.conf, /^dhcp-leasefile=\/s\/n1.leases$/m);
  assert.equal(f.addnhosts, '10.0.3.5\ta\tb\n');
  assert.equal(f.dhcp, true);
});
