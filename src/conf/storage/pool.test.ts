// Storage pool XML layer: libvirt's storagepoolxml2xml fixtures, RelaxNG validity, validation errors, lossless round trips.
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
import { formatPool, parsePool, sanitizePath } from './index.js';

interface Case {
  test: string;
  kind: string;
  expect: string;
  files: { path: string; role: string }[];
}

const outputs: { name: string; xml: string }[] = [];

test('storage pool xml2xml fixtures', { skip: skipNoTestdata }, () => {
  const cases = (manifest('storage').cases as Case[]).filter((c) => c.kind === 'storagepoolxml2xml');
  let ok = 0;
  let errs = 0;
  let rejected = 0;
  const bad: string[] = [];
  for (const c of cases) {
    const input = c.files.find((f) => f.role.startsWith('input'))!.path;
    if (c.expect !== 'success') {
      errs++;
      try {
        parsePool(readTestdata(input));
        bad.push(`${c.test}: accepted`);
      } catch {
        rejected++;
      }
      continue;
    }
    const exp = c.files.find((f) => f.role === 'expected' || f.role === 'input+expected')!.path;
    try {
      const out = formatPool(parsePool(readTestdata(input)));
      outputs.push({ name: c.test.replace(/\W+/g, '_'), xml: out });
      if (sameXmlText(out, readTestdata(exp))) ok++;
      else bad.push(`${c.test}: differs`);
    } catch (e) {
      bad.push(`${c.test}: ${(e as Error).message}`);
    }
  }
  const succ = cases.length - errs;
  console.log(`storage pool xml2xml: ${ok}/${succ} identical, parse errors ${rejected}/${errs} rejected`);
  if (bad.length) console.log(bad.join('\n'));
  assert.ok(ok >= Math.ceil(succ * 0.9), `only ${ok}/${succ} identical`);
  assert.equal(rejected, errs);
});

test('pool outputs validate against storagepool.rng', {
  skip: skipNoTestdata || (!hasXmllint && 'xmllint missing'),
}, () => {
  assert.ok(outputs.length > 0);
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-pool-'));
  try {
    const files = outputs.map((o) => {
      const f = join(dir, `${o.name}.xml`);
      writeFileSync(f, o.xml);
      return f;
    });
    const bad = relaxngInvalid('storagepool.rng', files);
    console.log(`storage pool RelaxNG: ${files.length - bad.size}/${files.length} valid`);
    assert.deepEqual([...bad.values()], []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function rejects(xml: string, code: string, msg: RegExp | string) {
  assert.throws(
    () => parsePool(xml),
    (e: unknown) => {
      assert.ok(isVirError(e), String(e));
      assert.equal(e.code, code);
      if (typeof msg === 'string') assert.equal(e.message, msg);
      else assert.match(e.message, msg);
      return true;
    },
  );
}

test('pool validation errors carry libvirt codes and messages', () => {
  rejects("<pool type='dir'><name>p</name></pool>", 'XML_ERROR', 'missing storage pool target path');
  rejects(
    "<pool type='fs'><name>p</name><target><path>/m</path></target></pool>",
    'XML_ERROR',
    'missing storage pool source device name',
  );
  rejects(
    "<pool type='netfs'><name>p</name><source><dir path='/x'/></source><target><path>/m</path></target></pool>",
    'XML_ERROR',
    'missing storage pool source host name',
  );
  rejects(
    "<pool type='netfs'><name>p</name><source><host name='h'/></source><target><path>/m</path></target></pool>",
    'XML_ERROR',
    'missing storage pool source path',
  );
  rejects(
    "<pool type='fs'><name>p</name><source><device path='/dev/x'/><format type='zzz'/></source><target><path>/m</path></target></pool>",
    'CONFIG_UNSUPPORTED',
    'unknown pool format type zzz',
  );
  rejects(
    "<pool type='rbd'><name>p</name><source><host name='h'/></source></pool>",
    'XML_ERROR',
    "element 'name' is mandatory for RBD pool",
  );
  rejects(
    "<pool type='dir'><name>a/b</name><target><path>/x</path></target></pool>",
    'XML_ERROR',
    "name a/b cannot contain '/'",
  );
  rejects("<pool type='nope'><name>p</name></pool>", 'XML_ERROR', /Invalid value for attribute 'type'/);
  rejects('<pool><name>p</name></pool>', 'XML_ERROR', /Missing required attribute 'type'/);
  rejects(
    "<pool type='dir'><name>p</name><target><path>/x</path><permissions><mode>0999</mode></permissions></target></pool>",
    'XML_ERROR',
    'malformed octal mode',
  );
  rejects(
    "<pool type='logical'><name>p</name><features><cow state='yes'/></features></pool>",
    'NO_SUPPORT',
    "cow feature may only be used for 'fs' and 'dir' pools",
  );
  rejects(
    "<pool type='scsi'><name>p</name><source><adapter type='fc_host'/></source><target><path>/d</path></target></pool>",
    'XML_ERROR',
    /'wwnn' and 'wwpn' must be specified/,
  );
  rejects(
    "<pool type='iscsi-direct'><name>p</name><source><host name='h'/><device path='iqn.x'/></source></pool>",
    'CONFIG_UNSUPPORTED',
    'missing initiator IQN',
  );
});

test('pool defaults: logical source name/format/target path, uuid injected, runtime sizes not read', () => {
  const d = parsePool(
    "<pool type='logical'><name>vg0</name><capacity unit='G'>5</capacity><source><device path='/dev/sdb1'/></source></pool>",
    { uuidSource: () => '00000000-0000-0000-0000-000000000001' },
  );
  assert.equal(d.uuid, '00000000-0000-0000-0000-000000000001');
  assert.equal(d.source.name, 'vg0');
  assert.equal(d.source.format, 'lvm2');
  assert.equal(d.target?.path, '/dev/vg0');
  assert.equal(d.capacity, 0);
  assert.equal(sanitizePath('///a//b/'), '/a/b');
  assert.equal(sanitizePath('//host/share'), '//host/share');
});

test('pool: unknown elements and attributes are kept in place', () => {
  const xml =
    "<pool type='dir' extra='1'><name>p</name><source><device path='/dev/kept'/></source>" +
    "<target><path>/var/x</path><permissions><mode>0755</mode><acl>x</acl></permissions><future/></target><later a='b'/></pool>";
  const out = formatPool(parsePool(xml));
  assert.match(out, /<pool type='dir' extra='1'>/);
  assert.match(out, /<source>\n {4}<device path='\/dev\/kept'\/>\n {2}<\/source>/);
  assert.match(out, /<mode>0755<\/mode>\n {6}<acl>x<\/acl>/);
  assert.match(out, /<future\/>\n {2}<\/target>\n {2}<later a='b'\/>/);
  assert.equal(formatPool(parsePool(out)), out);
});

test('pool adapters: legacy name becomes scsi_host, parentaddr normalized, libvirt messages', () => {
  const scsi = (adapter: string) =>
    `<pool type='scsi'><name>h</name><source>${adapter}</source><target><path>/dev/disk/by-path</path></target></pool>`;
  assert.match(
    formatPool(parsePool(scsi("<adapter name='host0'/>"))),
    /<adapter type='scsi_host' name='host0'\/>/,
  );
  const out = formatPool(
    parsePool(
      scsi(
        "<adapter type='scsi_host'><parentaddr unique_id='5'><address domain='0' bus='0' slot='31' function='2'/></parentaddr></adapter>",
      ),
    ),
  );
  assert.match(
    out,
    /<parentaddr unique_id='5'>\n {8}<address domain='0x0000' bus='0x00' slot='0x1f' function='0x2'\/>/,
  );
  rejects(
    scsi("<adapter wwnn='20000000c9831b4b'/>"),
    'XML_ERROR',
    "Use of 'wwnn', 'wwpn', and 'parent' attributes requires use of the adapter 'type'",
  );
  rejects(scsi('<adapter/>'), 'XML_ERROR', 'missing storage pool source adapter');
  rejects(
    scsi(
      "<adapter type='scsi_host' name='host0'><parentaddr unique_id='1'><address bus='1'/></parentaddr></adapter>",
    ),
    'XML_ERROR',
    "Both 'name' and 'parent' cannot be specified for the 'scsi_host' adapter",
  );
  rejects(
    scsi(
      "<adapter type='fc_host' parent_wwnn='20000000c9831b4b' wwnn='20000000c9831b4b' wwpn='10000000c9831b4b'/>",
    ),
    'XML_ERROR',
    "when providing parent_wwnn='20000000c9831b4b', the parent_wwpn must also be provided",
  );
});
