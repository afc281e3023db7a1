// net-* and iface-* commands against test:///default, in-process; expected texts checked against virsh 9.0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runTvirt } from '../../test/support/cli.js';
import { runCli } from './shell.js';

const dir = mkdtempSync(join(tmpdir(), 'tvirt-net-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const netXml = (name: string, mask = '255.255.255.0', end = '10.0.3.254') =>
  `<network>\n  <name>${name}</name>\n  <forward mode='nat'/>\n  <ip address='10.0.3.1' netmask='${mask}'>\n    <dhcp>\n      <range start='10.0.3.2' end='${end}'/>\n    </dhcp>\n  </ip>\n</network>\n`;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const n1 = file('n1.xml', netXml('n1'));
const n2 = file('n2.xml', netXml('n2'));
const badmask = file('badmask.xml', netXml('bad', '255.0.255.0'));
const badrange = file('rng.xml', netXml('rng', '255.255.255.0', '10.0.4.254'));
const broken = file('broken.xml', '<network>\n');
const hostEl = "<host mac='52:54:00:00:00:01' ip='192.168.122.10'/>";
const hostFile = file('host.xml', hostEl);

/** tvirt -c test:///default ARGS, in process. */
const tvirt = (...args: string[]) => runTvirt('test:///default', ...args);
const mask = (s: string) =>
  s.replace(/(?!dd8fe884)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID');

const table = (rows: string) =>
  ` Name      State    Autostart   Persistent\n--------------------------------------------\n${rows}`;
const tableWide = (rows: string) =>
  ` Name      State      Autostart   Persistent\n----------------------------------------------\n${rows}`;
const defaultXml = `<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
`;
const defaultInfo = `Name:           default
UUID:           dd8fe884-6c02-601e-7551-cca97df1c5df
Active:         yes
Persistent:     yes
Autostart:      no
Bridge:         virbr0
`;

describe('tvirt net-* on test:///default, as virsh prints it', () => {
  it('net-list, net-info, net-dumpxml of the default network', async () => {
    assert.deepEqual(await tvirt('net-list --all; net-info default; net-dumpxml default'), {
      out: `${table(' default   active   no          yes\n')}\n${defaultInfo}\n${defaultXml}\n`,
      err: '',
      code: 0,
    });
    assert.equal(
      (await tvirt('net-list --name; net-list --uuid')).out,
      'default\n\ndd8fe884-6c02-601e-7551-cca97df1c5df\n\n',
    );
    assert.equal((await tvirt('-q', 'net-list')).out, ' default   active   no   yes\n');
  });

  it('lifecycle messages: destroy, start, autostart, define, undefine', async () => {
    const r = await tvirt(
      `net-destroy default; net-list --all; net-start default; net-autostart default; net-list --autostart; net-autostart default --disable; net-define ${n1}; net-list --all; net-start n1; net-destroy n1; net-undefine n1; net-list --all --name`,
    );
    assert.equal(
      r.out,
      'Network default destroyed\n\n' +
        `${tableWide(' default   inactive   no          yes\n')}\n` +
        'Network default started\n\n' +
        'Network default marked as autostarted\n\n' +
        `${table(' default   active   yes         yes\n')}\n` +
        'Network default unmarked as autostarted\n\n' +
        `Network n1 defined from ${n1}\n\n` +
        `${tableWide(' default   active     no          yes\n n1        inactive   no          yes\n')}\n` +
        'Network n1 started\n\nNetwork n1 destroyed\n\nNetwork n1 has been undefined\n\ndefault\n\n',
    );
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
  });

  it('transient networks: net-create, net-uuid, net-name, undefine refused while running', async () => {
    const r = await tvirt(
      `net-create ${n2}; net-list --transient; net-name dd8fe884-6c02-601e-7551-cca97df1c5df; net-undefine n2; net-destroy n2; net-list --all --transient`,
    );
    assert.equal(
      r.out,
      `Network n2 created from ${n2}\n\n` +
        ' Name   State    Autostart   Persistent\n-----------------------------------------\n n2     active   no          no\n\n' +
        'default\n\n\nNetwork n2 destroyed\n\n' +
        ' Name   State   Autostart   Persistent\n----------------------------------------\n\n',
    );
    assert.equal(
      r.err,
      "error: Failed to undefine network n2\nerror: Requested operation is not valid: Network 'n2' is still running\n",
    );
  });

  it('net-update: live, config, both, from a file, and the messages', async () => {
    const r = await tvirt(
      `net-update default add ip-dhcp-host "${hostEl}"; net-update default add-first dns-host "<host ip='192.168.122.5'><hostname>h5</hostname></host>" --config; net-update default delete ip-dhcp-host ${hostFile} --live; net-update default add ip-dhcp-host ${hostFile} --live --config; net-dumpxml default`,
    );
    assert.equal(r.err, '');
    assert.equal(
      r.out,
      'Updated network default live state\nUpdated network default persistent config\nUpdated network default live state\nUpdated network default persistent config and live state\n' +
        defaultXml.replace(
          "254'/>\n",
          "254'/>\n      <host mac='52:54:00:00:00:01' ip='192.168.122.10'/>\n",
        ) +
        '\n',
    );
  });

  it('errors: unknown network, already running, bad update words, leases, --inactive', async () => {
    const r = await tvirt(
      "net-info nope; net-name nope; net-uuid dd8fe884-6c02-601e-7551-cca97df1c5df; net-start default; net-update default foo ip-dhcp-host '<x/>'; net-update default add bogus '<x/>'; net-update default modify ip-dhcp-range \"<range start='192.168.122.2' end='192.168.122.100'/>\"; net-dhcp-leases default; net-dumpxml default --inactive; net-list --name --uuid",
    );
    assert.equal(
      r.err,
      [
        "failed to get network 'nope'",
        "Network not found: no network with matching name 'nope'",
        "failed to get network 'nope'",
        "failed to get network 'dd8fe884-6c02-601e-7551-cca97df1c5df'",
        "Network not found: no network with matching name 'dd8fe884-6c02-601e-7551-cca97df1c5df'",
        'Failed to start network default',
        "Requested operation is not valid: Network 'default' is already running",
        "unrecognized command name 'foo'",
        "unrecognized section name 'bogus'",
        'Failed to update network default',
        'Operation not supported: dhcp ranges cannot be modified, only added or deleted',
        'Failed to get leases info for default',
        'this function is not supported by the connection driver: virNetworkGetDHCPLeases',
        'unsupported flags (0x1) in function testNetworkGetXMLDesc',
        'Only one argument from --table, --name and --uuid may be specified.',
      ]
        .map((l) => `error: ${l}\n`)
        .join(''),
    );
    assert.equal(r.code, 1);
  });

  it('read-only connections may not change networks', async () => {
    const r = await tvirt('-r', 'net-destroy default; net-list --name');
    assert.equal(r.out, '\ndefault\n\n');
    assert.equal(
      r.err,
      'error: Failed to destroy network default\nerror: operation forbidden: read only access prevents virNetworkDestroy\n',
    );
  });

  it('tab completion offers network names where a network goes', async () => {
    let out = '';
    await runCli(['complete', '--', 'tvirt -c test:///default net-info d'], {
      stdout: (t) => {
        out += t;
      },
      stderr: () => {},
    });
    assert.equal(out.trim(), 'default');
  });

  it("iface-bridge/iface-unbridge of a missing interface: virsh's lookup failure", async () => {
    const a = await tvirt('iface-bridge eth0 br0');
    assert.equal(
      a.err,
      "error: failed to get interface 'eth0'\nerror: Interface not found: no interface with matching name 'eth0'\n",
    );
    assert.equal(a.code, 1);
    const b = await tvirt('iface-unbridge br0');
    assert.equal(
      b.err,
      "error: failed to get interface 'br0'\nerror: Interface not found: no interface with matching name 'br0'\n",
    );
    assert.equal(b.code, 1);
  });
  it('iface-list shows the test host interface', async () => {
    assert.equal(
      (await tvirt('iface-list')).out,
      ' Name   State    MAC Address\n------------------------------------\n eth1   active   aa:bb:cc:dd:ee:ff\n\n',
    );
  });

  it('--json for net-list and net-info', async () => {
    const list = JSON.parse((await tvirt('--json', 'net-list')).out);
    assert.deepEqual(list, [
      {
        name: 'default',
        uuid: 'dd8fe884-6c02-601e-7551-cca97df1c5df',
        active: true,
        persistent: true,
        autostart: false,
        bridge: 'virbr0',
      },
    ]);
    assert.equal(JSON.parse((await tvirt('--json', 'net-info', 'default')).out).bridge, 'virbr0');
  });
});

describe('bad network definitions: the conf error, exit 1, nothing defined', () => {
  for (const [f, msg] of [
    [badmask, "unsupported configuration: Invalid netmask '255.0.255.0' in network 'bad'"],
    [badrange, 'internal error: range 10.0.3.2 - 10.0.4.254 is not entirely within network 10.0.3.1/24'],
  ] as const) {
    it(f, async () => {
      const r = await tvirt(`net-define ${f}`);
      assert.deepEqual(r, {
        out: '\n',
        err: `error: Failed to define network from ${f}\nerror: ${msg}\n`,
        code: 1,
      });
      assert.equal((await tvirt(`net-define ${f}; net-list --all --name`)).out, '\ndefault\n\n');
    });
  }
  it('malformed XML and a missing file', async () => {
    const r = await tvirt(`net-define ${broken}`);
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Failed to define network from .*broken.xml\nerror: XML error: /);
    assert.deepEqual(await tvirt('net-create /nonexistent/n.xml'), {
      out: '\n',
      err: "error: Failed to open file '/nonexistent/n.xml': No such file or directory\n",
      code: 1,
    });
  });
});

// Live comparison with the real virsh, when it is installed.
const hasVirsh = spawnSync('virsh', ['--version']).status === 0;
describe('net-* output the same as virsh -c test:///default', {
  skip: hasVirsh ? false : 'virsh is not installed',
}, () => {
  const uuid = 'dd8fe884-6c02-601e-7551-cca97df1c5df';
  const batches = [
    'net-list --all; net-info default; net-dumpxml default; net-list --name; net-list --uuid; net-list --table --all',
    'net-start default; net-info nope; net-destroy default; net-destroy default; net-list --all; net-start default; net-autostart default; net-list --autostart; net-autostart default --disable',
    `net-define ${n1}; net-list --all; net-info n1; net-dumpxml n1; net-start n1; net-list --all; net-undefine n1; net-destroy n1; net-undefine n1; net-list --all`,
    `net-create ${n2}; net-list --all --transient; net-info n2; net-create ${n2}; net-define ${n2}; net-autostart n2; net-undefine n2; net-destroy n2; net-list --all`,
    'net-name nope; net-uuid nope; net-name 11111111-2222-3333-4444-555555555555; net-name n2',
    `net-uuid ${uuid}; net-name ${uuid}; net-uuid default; net-info ${uuid}; net-destroy ${uuid}; net-start ${uuid}; net-autostart ${uuid}; net-dumpxml ${uuid}`,
    `net-define ${badrange}; net-define /nonexistent.xml; net-dhcp-leases default; net-dhcp-leases default --mac 52:54:00:00:00:01`,
    `net-update default add ip-dhcp-host "${hostEl}"; net-update default add-last ip-dhcp-host "<host mac='52:54:00:00:00:02' ip='192.168.122.11'/>" --config; net-update default delete ip-dhcp-host "<host mac='52:54:00:00:00:02' ip='192.168.122.11'/>" --live --config; net-update default modify ip-dhcp-range "<range start='192.168.122.2' end='192.168.122.100'/>" --current; net-dumpxml default; net-dumpxml --inactive default`,
    `net-update default add bogus '<x/>'; net-update default foo ip-dhcp-host '<x/>'; net-update nope add ip-dhcp-host '<x/>'; net-update default add ip-dhcp-host /nonexistent.xml; net-update default add ip-dhcp-host ${hostFile} --current --live; net-update ${uuid} add dns-host "<host ip='192.168.122.5'><hostname>h5</hostname></host>"; net-dumpxml default`,
    'net-list --inactive; net-list --persistent --name; net-list --no-autostart --uuid; net-list --transient; net-list --name --uuid; net-list --table --name; net-list --all --inactive; net-list --autostart --no-autostart; net-list --persistent --transient',
    'help net-list; help net-update; help net-dhcp-leases; help net-edit; help net-autostart; help net-create; help net-define; help net-destroy; help net-info; help net-name; help net-start; help net-undefine; help net-uuid; help domifaddr',
    'iface-list; iface-list --all; iface-list --inactive',
    'net-start; net-info',
    `net-update default add ip-dhcp-host "${hostEl}" --parent-index 0; net-update default add ip-dhcp-host "<host mac='52:54:00:00:00:02' ip='192.168.122.11'/>" --parent-index 5; net-update default add-first ip-dhcp-range "<range start='192.168.122.2' end='192.168.122.9'/>"; net-update default delete ip-dhcp-range "<range start='192.168.122.2' end='192.168.122.254'/>"; net-update default add dns-txt "<txt name='example' value='x'/>"; net-update default add dns-srv "<srv service='name' protocol='tcp' domain='test-domain-name' target='.' port='1024' priority='10' weight='10'/>"; net-update default add portgroup "<portgroup name='pg'/>"; net-update default add portgroup "<portgroup name='pg2' default='yes'><vlan><tag id='42'/></vlan></portgroup>"; net-update default add forward-interface "<interface dev='eth0'/>"; net-update default modify bridge "<bridge name='x'/>"; net-update default add ip-dhcp-host '<host/>'; net-update default add ip-dhcp-host '<hosts/>'; net-dumpxml default`,
    `net-update default add ip-dhcp-host "${hostEl}" --config; net-destroy default; net-dumpxml default; net-start default; net-dumpxml default`,
    `connect --name test:///default --readonly; net-destroy default; net-autostart default; net-list; net-update default add dns-host "<host ip='192.168.122.5'><hostname>h5</hostname></host>"; net-define ${n1}; net-create ${n2}; net-start default; net-undefine default`,
  ];
  it('net-edit with an editor that changes the range, then destroy and start', async () => {
    const ed = file('ed.sh', '#!/bin/sh\nsed -i \'s/192.168.122.254/192.168.122.200/\' "$1"\n');
    chmodSync(ed, 0o755);
    const b =
      'net-edit default; net-dumpxml default; net-destroy default; net-dumpxml default; net-edit nope';
    const saved = process.env.EDITOR;
    process.env.EDITOR = ed;
    try {
      const v = spawnSync('virsh', ['-c', 'test:///default', b], { encoding: 'utf8' });
      const t = await tvirt(b);
      assert.equal(t.out, v.stdout);
      assert.equal(t.err, v.stderr);
      assert.equal(t.code, v.status);
    } finally {
      if (saved === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = saved;
    }
  });
  for (const b of batches) {
    it(b, async () => {
      const v = spawnSync('virsh', ['-c', 'test:///default', b], { encoding: 'utf8' });
      const t = await tvirt(b);
      assert.equal(mask(t.out), mask(v.stdout));
      assert.equal(mask(t.err), mask(v.stderr));
      assert.equal(t.code, v.status);
    });
  }
});
