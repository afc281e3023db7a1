// qemu-img command lines against libvirt's storagevolxml2argv fixtures, and `info` JSON parsing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manifest, readTestdata, skipNoTestdata } from '../../../test/support/testdata.js';
import { parsePool, parseVolume } from '../../conf/storage/index.js';
import { isVirError } from '../../util/errors.js';
import {
  parseImageInfo,
  qemuImgConvertCommand,
  qemuImgCreateCommands,
  qemuImgResizeCommand,
} from './qemu-img.js';
import { fixtureArgv, renderFixtureStyle } from './fixture-argv.test-util.js';

interface VolCase {
  test: string;
  kind: string;
  expect: 'success' | 'failure';
  pool: string;
  vol: string;
  inputPool: string | null;
  inputVol: string | null;
  createFlags: string[];
  parseFlags: string[];
  expectedArgv?: string;
}

test('storagevolxml2argv fixtures: qemu-img create/convert command lines', { skip: skipNoTestdata }, () => {
  const cases = (manifest('storage').cases as VolCase[]).filter((c) => c.kind === 'storagevolxml2argv');
  let agree = 0;
  let failedAsExpected = 0;
  const bad: string[] = [];
  for (const c of cases) {
    try {
      const pool = parsePool(readTestdata(c.pool));
      const input = c.inputVol
        ? parseVolume(readTestdata(c.inputVol), parsePool(readTestdata(c.inputPool!)))
        : undefined;
      const vol = parseVolume(readTestdata(c.vol), pool, {
        optCapacity: c.parseFlags.includes('VIR_VOL_XML_PARSE_OPT_CAPACITY'),
        // libvirt's harness parses the new volume without a capacity when converting.
        noCapacity: input !== undefined,
      });
      const cmds = qemuImgCreateCommands(vol, {
        inputVol: input,
        preallocMetadata: c.createFlags.includes('VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA'),
        secretPath: '/path/to/secretFile',
        inputSecretPath: '/path/to/inputSecretFile',
      });
      if (c.expect === 'failure') {
        bad.push(`${c.test}: expected a failure, got ${cmds.map((x) => x.args.join(' ')).join(' | ')}`);
        continue;
      }
      const got = cmds.map(renderFixtureStyle).join('\n');
      const want = fixtureArgv(readTestdata(c.expectedArgv!));
      if (got === want) agree++;
      else bad.push(`${c.test}:\n got: ${got}\nwant: ${want}`);
    } catch (e) {
      if (c.expect === 'failure' && isVirError(e)) failedAsExpected++;
      else bad.push(`${c.test}: ${(e as Error).message}`);
    }
  }
  const ok = cases.filter((c) => c.expect === 'success').length;
  const fail = cases.length - ok;
  console.log(
    `storagevolxml2argv: ${agree}/${ok} command lines agree, ${failedAsExpected}/${fail} failures fail`,
  );
  assert.deepEqual(bad, []);
});

test('failure cases carry libvirt messages', { skip: skipNoTestdata }, () => {
  const pool = parsePool(readTestdata('storage/storagepoolxml2xmlin/pool-dir.xml'));
  const lazy = parseVolume(readTestdata('storage/storagevolxml2xmlin/vol-qcow2-0.10-lazy.xml'), pool);
  assert.throws(() => qemuImgCreateCommands(lazy), {
    code: 'CONFIG_UNSUPPORTED',
    message: 'lazy_refcounts not supported with compat level 0.10',
  });
  const enc = parseVolume(readTestdata('storage/storagevolxml2xmlin/vol-qcow2-encryption.xml'), pool);
  assert.throws(() => qemuImgCreateCommands(enc), {
    message: 'creation of qcow2 encrypted image is not supported',
  });
  const raw = parseVolume(
    '<volume><name>r</name><capacity>1</capacity><target><path>/p/r</path><format type="raw"/></target><backingStore><path>/p/b</path></backingStore></volume>',
    pool,
  );
  assert.throws(() => qemuImgCreateCommands(raw), { message: 'cannot set backing store for raw volume' });
  const rawPre = parseVolume(
    '<volume><name>r</name><capacity>1</capacity><target><path>/p/r</path></target></volume>',
    pool,
  );
  assert.throws(() => qemuImgCreateCommands(rawPre, { preallocMetadata: true }), {
    message: 'metadata preallocation only available with qcow2',
  });
});

test('resize, convert and odd paths stay single argv entries', () => {
  assert.deepEqual(qemuImgResizeCommand('/p/a b', 'qcow2', 1024, { shrink: true }).args, [
    'resize',
    '--shrink',
    '-f',
    'qcow2',
    '/p/a b',
    '1024',
  ]);
  assert.deepEqual(qemuImgConvertCommand('/p/x;rm -rf', 'raw', '/p/y', 'qcow2').args, [
    'convert',
    '-f',
    'raw',
    '-O',
    'qcow2',
    '-o',
    'compat=1.1',
    '/p/x;rm -rf',
    '/p/y',
  ]);
});

test('parseImageInfo reads qemu-img 7.2 JSON', () => {
  const info = parseImageInfo(
    JSON.stringify({
      'virtual-size': 1073741824,
      filename: 'a.qcow2',
      'cluster-size': 65536,
      format: 'qcow2',
      'actual-size': 200704,
      'backing-filename': 'base.img',
      'full-backing-filename': '/p/base.img',
      'backing-filename-format': 'raw',
      'format-specific': {
        type: 'qcow2',
        data: { compat: '1.1', 'lazy-refcounts': false, 'extended-l2': false },
      },
      'dirty-flag': false,
    }),
  );
  assert.deepEqual(info, {
    format: 'qcow2',
    virtualSize: 1073741824,
    actualSize: 200704,
    backingFile: '/p/base.img',
    backingFormat: 'raw',
    clusterSize: 65536,
    compat: '1.1',
    lazyRefcounts: false,
    extendedL2: false,
    encrypted: false,
  });
  assert.throws(() => parseImageInfo('nope'), { code: 'INTERNAL_ERROR' });
});
