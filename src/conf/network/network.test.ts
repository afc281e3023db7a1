// Network XML layer: libvirt's networkxml2xml fixtures, RelaxNG validity, validation errors, lossless round trips.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  hasXmllint,
  manifest,
  readTestdata,
  relaxngInvalid,
  sameXmlText,
  skipNoTestdata,
} from '../../../test/support/testdata.js';
import { isVirError } from '../../util/errors.js';
import { formatNetwork, networkSetBridgeMac, parseNetwork } from './index.js';

interface Case {
  test: string;
  kind: string;
  expect: string;
  formatFlags?: string[];
  files: { path: string; role: string }[];
}

const outputs: { name: string; xml: string }[] = [];

test('network xml2xml fixtures', { skip: skipNoTestdata }, () => {
  const cases = (manifest('network').cases as Case[]).filter((c) => c.kind === 'networkxml2xml');
  let ok = 0;
  let succ = 0;
  let rejected = 0;
  let errs = 0;
  const bad: string[] = [];
  for (const c of cases) {
    const input = c.files.find((f) => f.role.startsWith('input'))!.path;
    if (c.expect === 'parse-error') {
      errs++;
      try {
        parseNetwork(readTestdata(input));
        bad.push(`${c.test}: accepted`);
      } catch (e) {
        assert.ok(isVirError(e), `${c.test}: ${e}`);
        rejected++;
      }
      continue;
    }
    succ++;
    const exp = c.files.find((f) => f.role === 'expected' || f.role === 'input+expected')!.path;
    try {
      const out = formatNetwork(parseNetwork(readTestdata(input)), {
        inactive: (c.formatFlags ?? []).includes('VIR_NETWORK_XML_INACTIVE'),
      });
      outputs.push({ name: c.test.replace(/\W+/g, '_'), xml: out });
      if (sameXmlText(out, readTestdata(exp))) ok++;
      else bad.push(`${c.test}: differs`);
    } catch (e) {
      bad.push(`${c.test}: ${(e as Error).message}`);
    }
  }
  console.log(`network xml2xml: ${ok}/${succ} identical, parse errors ${rejected}/${errs} rejected`);
  if (bad.length) console.log(bad.join('\n'));
  assert.ok(ok >= Math.ceil(succ * 0.9), `only ${ok}/${succ} identical`);
  assert.equal(rejected, errs);
});

test('network outputs validate against network.rng', {
  skip: skipNoTestdata || (!hasXmllint && 'xmllint missing'),
}, () => {
  assert.ok(outputs.length > 0);
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-net-'));
  try {
    const files = outputs.map((o) => {
      const f = join(dir, `${o.name}.xml`);
      writeFileSync(f, o.xml);
      return f;
    });
    const bad = relaxngInvalid('network.rng', files);
    console.log(`network RelaxNG: ${files.length - bad.size}/${files.length} valid`);
    assert.deepEqual([...bad.values()], []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const base = (body: string, root = '<network>') =>
  `${root}<name>n</name><uuid>11111111-2222-3333-4444-555555555555</uuid>${body}</network>`;

function rejects(xml: string, code: string, msg: RegExp | string) {
  assert.throws(
    () => parseNetwork(xml),
    (e: unknown) => {
      assert.ok(isVirError(e), String(e));
      assert.equal(e.code, code);
      if (typeof msg === 'string') assert.equal(e.message, msg);
      else assert.match(e.message, msg);
      return true;
    },
  );
}

test('network validation errors carry libvirt codes and messages', () => {
  const ip24 = "<ip address='192.168.1.1' prefix='24'>";
  rejects(
    base("<ip address='192.168.1.1' netmask='255.255.0.255'/>"),
    'CONFIG_UNSUPPORTED',
    "Invalid netmask '255.255.0.255' in network 'n'",
  );
  rejects(
    base("<ip address='192.168.1.1' netmask='255.255.255.0' prefix='24'/>"),
    'CONFIG_UNSUPPORTED',
    "Network 'n' IP address cannot have both a prefix and a netmask",
  );
  rejects(
    base("<ip address='192.168.1.1' prefix='33'/>"),
    'CONFIG_UNSUPPORTED',
    "Invalid IPv4 prefix '33' in network 'n'",
  );
  rejects(
    base(`${ip24}<dhcp><range start='192.168.2.2' end='192.168.2.9'/></dhcp></ip>`),
    'INTERNAL_ERROR',
    'range 192.168.2.2 - 192.168.2.9 is not entirely within network 192.168.1.1/24',
  );
  rejects(
    base(`${ip24}<dhcp><range start='192.168.1.9' end='192.168.1.2'/></dhcp></ip>`),
    'INTERNAL_ERROR',
    /is reversed/,
  );
  rejects(
    base(`${ip24}<dhcp><host mac='52:54:00:00:00:01' name='a'/></dhcp></ip>`),
    'XML_ERROR',
    "Missing IP address in static host definition for network 'n'",
  );
  rejects(
    base(`${ip24}<dhcp><range start='192.168.1.2' end='192.168.1.9'><lease expiry='1'/></range></dhcp></ip>`),
    'CONFIG_UNSUPPORTED',
    'The minimum lease time should be greater than 2 minutes',
  );
  rejects(
    base("<ip address='10.0.0.1' prefix='24'/><ip address='10.0.0.1' prefix='24'/>"),
    'XML_ERROR',
    "IP address '10.0.0.1' is used more than once in network 'n'",
  );
  rejects(
    base(
      "<ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.3'/></dhcp></ip>" +
        "<ip address='10.0.1.1' prefix='24'><dhcp><range start='10.0.1.2' end='10.0.1.3'/></dhcp></ip>",
    ),
    'CONFIG_UNSUPPORTED',
    /Multiple IPv4 dhcp sections/,
  );
  rejects(
    base("<ip address='fd00::1' prefix='64'/>"),
    'CONFIG_UNSUPPORTED',
    "no family specified for non-IPv4 address 'fd00::1' in network 'n'",
  );
  rejects(base("<ip address='not-an-ip'/>"), 'XML_ERROR', "Invalid address 'not-an-ip' in network 'n'");
  rejects(base('<ip/>'), 'XML_ERROR', "Missing required address attribute in network 'n'");
  rejects(
    base("<forward mode='nat' dev='eth0'><interface dev='eth1'/></forward><ip address='10.0.0.1'/>"),
    'XML_ERROR',
    "<forward dev='eth0'> must match first <interface dev='eth1'/> in network n",
  );
  rejects(
    base("<forward mode='route'><interface dev='a'/><interface dev='b'/></forward><ip address='10.0.0.1'/>"),
    'XML_ERROR',
    "multiple forwarding interfaces specified for network 'n', only one is supported",
  );
  rejects(
    base("<forward mode='nat'/>"),
    'XML_ERROR',
    "nat forwarding requested, but no IP address provided for network 'n'",
  );
  rejects(base("<forward mode='teleport'/>"), 'CONFIG_UNSUPPORTED', "unknown forwarding type 'teleport'");
  rejects(
    base("<forward mode='bridge'/><bridge name='br0' stp='off'/>"),
    'XML_ERROR',
    "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in bridge (network 'n')",
  );
  rejects(
    base("<forward mode='passthrough'><interface dev='a'/></forward><bridge name='br0'/>"),
    'XML_ERROR',
    "bridge name not allowed in passthrough mode (network 'n')",
  );
  rejects(
    base("<ip address='10.0.0.1' prefix='24'/><route address='10.9.0.0' prefix='16' gateway='10.1.0.1'/>"),
    'CONFIG_UNSUPPORTED',
    "unreachable static route gateway '10.1.0.1' specified for network 'n'",
  );
  rejects(base("<mac address='01:00:00:00:00:01'/>"), 'XML_ERROR', /multicast/);
  rejects(
    base("<dns enable='no'><host ip='10.0.0.2'><hostname>a</hostname></host></dns>"),
    'XML_ERROR',
    "Extra data in disabled network 'n'",
  );
  rejects('<network><uuid>11111111-2222-3333-4444-555555555555</uuid></network>', 'NO_NAME', /missing name/);
  rejects('<pool/>', 'XML_ERROR', /expecting <network>/);
});

test('network post-parse: uuid injected when missing, not a bridge MAC', () => {
  const d = parseNetwork("<network><name>x</name><bridge name='virbr9'/></network>", {
    uuidSource: () => 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE',
  });
  assert.equal(d.uuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
  assert.equal(d.mac, undefined);
  assert.match(formatNetwork(d), /<bridge name='virbr9' stp='on' delay='0'\/>/);
});

test('network: unknown elements and attributes are kept in place', () => {
  const xml = base(
    "<title>t</title><metadata><app:x xmlns:app='urn:a'>1</app:x></metadata>" +
      "<bridge name='virbr3' future='1'/>" +
      "<ip address='10.1.0.1' prefix='16' extra='y'><dhcp><range start='10.1.0.2' end='10.1.0.9' z='1'/><new/></dhcp></ip>" +
      '<shiny/>',
    "<network foo='bar'>",
  );
  const out = formatNetwork(parseNetwork(xml));
  assert.match(out, /<network foo='bar'>/);
  assert.match(out, /<uuid>[^<]+<\/uuid>\n {2}<title>t<\/title>\n {2}<metadata>/);
  assert.match(out, /<bridge name='virbr3' stp='on' delay='0' future='1'\/>/);
  assert.match(out, /<ip address='10.1.0.1' prefix='16' extra='y'>/);
  assert.match(out, /<range start='10.1.0.2' end='10.1.0.9' z='1'\/>\n {6}<new\/>/);
  assert.match(out, /<shiny\/>/);
  // And a second round trip is stable.
  assert.equal(formatNetwork(parseNetwork(out)), out);
});

test('network: IPv6 addresses and MACs are normalized, lease units kept', () => {
  const d = parseNetwork(
    base(
      "<mac address='52:54:00:AB:CD:EF'/><ip family='ipv6' address='2001:DB8:0:0::1' prefix='64'>" +
        "<dhcp><range start='2001:db8::10' end='2001:db8::20'><lease expiry='2' unit='hours'/></range></dhcp></ip>",
    ),
  );
  assert.equal(d.mac, '52:54:00:ab:cd:ef');
  assert.equal(d.ips[0]!.address, '2001:db8::1');
  assert.deepEqual(d.ips[0]!.dhcp!.ranges[0]!.lease, { expiry: 2, unit: 'hours', extra: undefined });
});

test('networkSetBridgeMac: a 52:54:00 MAC from injected randomness, only when none is set', () => {
  const d = parseNetwork(base("<bridge name='virbr1'/>"));
  assert.equal(
    networkSetBridgeMac(d, () => new Uint8Array([1, 2, 255])),
    true,
  );
  assert.equal(d.mac, '52:54:00:01:02:ff');
  assert.equal(networkSetBridgeMac(d), false);
  assert.match(formatNetwork(d), /<mac address='52:54:00:01:02:ff'\/>/);
});

test('network: hostdev PCI pool normalized, duplicates refused; title/metadata after uuid', () => {
  const xml = base(
    "<forward mode='hostdev' managed='yes'><driver name='vfio'/>" +
      "<address type='pci' domain='0' bus='3' slot='0x0' function='1'/>" +
      "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x2'/></forward>" +
      "<metadata><app:x xmlns:app='urn:a'>1</app:x></metadata><title>T</title>",
  );
  const out = formatNetwork(parseNetwork(xml));
  assert.match(out, /<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x1'\/>/);
  assert.match(out, /<uuid>[^<]+<\/uuid>\n {2}<title>T<\/title>\n {2}<metadata>/);
  rejects(
    base(
      "<forward mode='hostdev'><address type='pci' domain='0' bus='3' slot='0' function='1'/>" +
        "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x1'/></forward>",
    ),
    'XML_ERROR',
    "PCI device '0000:03:00.1' can only be listed once in network n",
  );
  const vp = formatNetwork(
    parseNetwork(
      base(
        "<forward mode='vepa'><interface dev='eth1'/></forward>" +
          "<virtualport type='802.1Qbg'><parameters typeid='1193047' managerid='11' typeidversion='2'/></virtualport>",
      ),
    ),
  );
  assert.match(vp, /<parameters managerid='11' typeid='1193047' typeidversion='2'\/>/);
});
