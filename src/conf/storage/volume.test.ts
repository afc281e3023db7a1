// Storage volume XML layer: libvirt's storagevolxml2xml fixtures (parsed within their pool), RelaxNG, units, errors.
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
import { formatVolume, parsePool, parseVolume } from './index.js';

interface Case {
  test: string;
  kind: string;
  expect: string;
  pool: string;
  parseFlags?: string[];
  files: { path: string; role: string }[];
}

const outputs: { name: string; xml: string }[] = [];

test('storage volume xml2xml fixtures', { skip: skipNoTestdata }, () => {
  const cases = (manifest('storage').cases as Case[]).filter((c) => c.kind === 'storagevolxml2xml');
  let ok = 0;
  let errs = 0;
  let rejected = 0;
  const bad: string[] = [];
  for (const c of cases) {
    const input = c.files.find((f) => f.role.startsWith('input') && f.path !== c.pool)!.path;
    const flags = c.parseFlags ?? [];
    const opts = {
      noCapacity: flags.includes('VIR_VOL_XML_PARSE_NO_CAPACITY'),
      optCapacity: flags.includes('VIR_VOL_XML_PARSE_OPT_CAPACITY'),
    };
    const pool = parsePool(readTestdata(c.pool));
    if (c.expect !== 'success') {
      errs++;
      try {
        parseVolume(readTestdata(input), pool, opts);
        bad.push(`${c.test}: accepted`);
      } catch {
        rejected++;
      }
      continue;
    }
    const exp = c.files.find((f) => f.role === 'expected' || f.role === 'input+expected')!.path;
    try {
      const out = formatVolume(parseVolume(readTestdata(input), pool, opts), pool);
      outputs.push({ name: c.test.replace(/\W+/g, '_'), xml: out });
      if (sameXmlText(out, readTestdata(exp))) ok++;
      else bad.push(`${c.test}: differs`);
    } catch (e) {
      bad.push(`${c.test}: ${(e as Error).message}`);
    }
  }
  const succ = cases.length - errs;
  console.log(`storage volume xml2xml: ${ok}/${succ} identical, parse errors ${rejected}/${errs} rejected`);
  if (bad.length) console.log(bad.join('\n'));
  assert.ok(ok >= Math.ceil(succ * 0.9), `only ${ok}/${succ} identical`);
  assert.equal(rejected, errs);
});

test('volume outputs validate against storagevol.rng', {
  skip: skipNoTestdata || (!hasXmllint && 'xmllint missing'),
}, () => {
  assert.ok(outputs.length > 0);
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-vol-'));
  try {
    const files = outputs.map((o) => {
      const f = join(dir, `${o.name}.xml`);
      writeFileSync(f, o.xml);
      return f;
    });
    const bad = relaxngInvalid('storagevol.rng', files);
    console.log(`storage volume RelaxNG: ${files.length - bad.size}/${files.length} valid`);
    assert.deepEqual([...bad.values()], []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const dirPool = parsePool(
  "<pool type='dir'><name>d</name><target><path>/var/lib/images</path></target></pool>",
);
const diskPool = parsePool(
  "<pool type='disk'><name>k</name><source><device path='/dev/sda'/></source><target><path>/dev</path></target></pool>",
);
const lvmPool = parsePool("<pool type='logical'><name>vg</name></pool>");

function rejects(xml: string, code: string, msg: RegExp | string, pool = dirPool) {
  assert.throws(
    () => parseVolume(xml, pool),
    (e: unknown) => {
      assert.ok(isVirError(e), String(e));
      assert.equal(e.code, code);
      if (typeof msg === 'string') assert.equal(e.message, msg);
      else assert.match(e.message, msg);
      return true;
    },
  );
}

test('volume units: capacity/allocation/clusterSize scaled to bytes, allocation defaults to capacity', () => {
  const v = parseVolume(
    "<volume><name>a</name><capacity unit='GiB'>2</capacity><target><format type='qcow2'/><clusterSize unit='KiB'>64</clusterSize></target></volume>",
    dirPool,
  );
  assert.equal(v.capacity, 2 * 1024 ** 3);
  assert.equal(v.allocation, v.capacity);
  assert.equal(v.target.clusterSize, 65536);
  assert.equal(parseVolume("<volume><name>a</name><capacity unit='KB'>3</capacity></volume>").capacity, 3000);
  assert.equal(parseVolume('<volume><name>a</name><capacity>7</capacity></volume>').capacity, 7);
  const out = formatVolume(v, dirPool);
  assert.match(out, /<capacity unit='bytes'>2147483648<\/capacity>/);
  assert.match(out, /<clusterSize unit='B'>65536<\/clusterSize>/);
});

test('volume formats come from the pool: default raw (dir), none (disk), no format (logical)', () => {
  const x = '<volume><name>a</name><capacity>1</capacity></volume>';
  assert.equal(parseVolume(x, dirPool).target.format, 'raw');
  assert.equal(parseVolume(x, diskPool).target.format, 'none');
  assert.equal(parseVolume(x, lvmPool).target.format, undefined);
  assert.doesNotMatch(formatVolume(parseVolume(x, lvmPool), lvmPool), /<format/);
  rejects(
    "<volume><name>a</name><capacity>1</capacity><target><format type='qcow2'/></target></volume>",
    'CONFIG_UNSUPPORTED',
    'unknown volume format type qcow2',
    diskPool,
  );
});

test('volume validation errors carry libvirt codes and messages', () => {
  rejects('<volume><capacity>1</capacity></volume>', 'XML_ERROR', 'missing volume name element');
  rejects('<volume><name>a</name></volume>', 'XML_ERROR', 'missing capacity element');
  rejects('<volume><name>a</name><capacity>x</capacity></volume>', 'XML_ERROR', 'malformed capacity element');
  rejects(
    "<volume type='weird'><name>a</name><capacity>1</capacity></volume>",
    'CONFIG_UNSUPPORTED',
    "unknown volume type 'weird'",
  );
  rejects(
    '<volume><name>a</name><capacity>1</capacity><target><compat>1.x</compat></target></volume>',
    'XML_ERROR',
    "forbidden characters in 'compat' attribute",
  );
  rejects(
    '<volume><name>a</name><capacity>1</capacity><target><features><warp/></features></target></volume>',
    'CONFIG_UNSUPPORTED',
    'unsupported feature warp',
  );
  assert.equal(parseVolume('<volume><name>a</name></volume>', dirPool, { noCapacity: true }).capacity, 0);
});

test('volume: features imply compat 1.1; unknown parts are kept in place', () => {
  const v = parseVolume(
    "<volume zz='1'><name>a</name><capacity>1</capacity><target><path>/p</path><features><lazy_refcounts/></features><odd/></target><extra-thing/></volume>",
    dirPool,
  );
  assert.equal(v.target.compat, '1.1');
  const out = formatVolume(v, dirPool);
  assert.match(out, /<volume type='file' zz='1'>/);
  assert.match(out, /<\/features>\n {4}<odd\/>\n {2}<\/target>\n {2}<extra-thing\/>/);
  assert.equal(formatVolume(parseVolume(out, dirPool), dirPool), out);
});

test('volume: physical is read with units; runtime timestamps are written, not read', () => {
  const v = parseVolume(
    "<volume><name>a</name><capacity>1</capacity><physical unit='KiB'>4</physical><target><timestamps><atime>1.5</atime></timestamps></target></volume>",
    dirPool,
  );
  assert.equal(v.physical, 4096);
  assert.equal(v.target.timestamps, undefined);
  v.target.timestamps = { atime: '1341933637.273190990', mtime: '1341930622' };
  const out = formatVolume(v, dirPool);
  assert.match(out, /<physical unit='bytes'>4096<\/physical>/);
  assert.match(
    out,
    /<timestamps>\n {6}<atime>1341933637.273190990<\/atime>\n {6}<mtime>1341930622<\/mtime>\n {4}<\/timestamps>/,
  );
});

test('volume encryption is kept with libvirt attribute order', () => {
  const v = parseVolume(
    "<volume><name>a</name><capacity>1</capacity><target><encryption format='luks'><secret uuid='f52a81b2-424e-490c-823d-6bd4235bc572' type='passphrase'/><cipher size='256' name='serpent' mode='cbc' hash='sha256'/></encryption></target></volume>",
    dirPool,
  );
  const out = formatVolume(v, dirPool);
  assert.match(out, /<secret type='passphrase' uuid='f52a81b2-424e-490c-823d-6bd4235bc572'\/>/);
  assert.match(out, /<cipher name='serpent' size='256' mode='cbc' hash='sha256'\/>/);
});
