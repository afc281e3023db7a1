// pool-capabilities XML: valid against libvirt's storagepoolcaps.rng, supported types marked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasXmllint, relaxngInvalid, skipNoTestdata } from '../../../test/support/testdata.js';
import { formatPoolCapabilities } from './pool-caps.js';

test('pool capabilities list every type and validate against storagepoolcaps.rng', {
  skip: skipNoTestdata || (!hasXmllint && 'xmllint not installed'),
}, () => {
  const xml = formatPoolCapabilities(['dir', 'fs', 'netfs', 'logical']);
  assert.match(xml, /<pool type="dir" supported="yes">|<pool type='dir' supported='yes'>/);
  assert.match(xml, /<pool type=.iscsi. supported=.no.\/>/);
  assert.match(xml, /<defaultFormat type=.lvm2.\/>/);
  assert.match(xml, /<value>qcow2<\/value>/);
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-caps-'));
  try {
    const f = join(dir, 'caps.xml');
    writeFileSync(f, xml);
    assert.deepEqual([...relaxngInvalid('storagepoolcaps.rng', [f]).values()], []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
