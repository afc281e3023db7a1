// Checks networkDefUpdateSection against libvirt's networkxml2xmlupdate fixtures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatNetwork, parseNetwork } from '../../conf/network/index.js';
import { manifest, readTestdata, sameXmlText, skipNoTestdata } from '../../../test/support/testdata.js';
import {
  type NetworkUpdateCommand,
  type NetworkUpdateSection,
  networkDefUpdateSection,
} from './net-update.js';

const cmdOf = (c: string) => c.replace('VIR_NETWORK_UPDATE_COMMAND_', '').toLowerCase().replace('_', '-');
const sectionOf = (s: string) => s.replace('VIR_NETWORK_SECTION_', '').toLowerCase().replace(/_/g, '-');

test('net-update matches every networkxml2xmlupdate fixture', { skip: skipNoTestdata }, () => {
  const cases = manifest('network').cases.filter((c: { kind: string }) => c.kind === 'networkxml2xmlupdate');
  let ok = 0;
  const bad: string[] = [];
  for (const c of cases) {
    const def = parseNetwork(readTestdata(c.baseNetwork));
    let out: string | undefined;
    let err: unknown;
    try {
      networkDefUpdateSection(
        def,
        cmdOf(c.command) as NetworkUpdateCommand,
        sectionOf(c.section) as NetworkUpdateSection,
        readTestdata(c.updateXML),
        c.parentIndex,
      );
      out = formatNetwork(def);
    } catch (e) {
      err = e;
    }
    if (c.expect === 'failure') {
      if (err) ok++;
      else bad.push(`${c.test}: expected failure, got success`);
    } else if (err) bad.push(`${c.test}: ${(err as Error).message}`);
    else {
      const want = readTestdata(c.expectedXML);
      if (out === want || sameXmlText(out!, want)) ok++;
      else bad.push(`${c.test}\n--- got\n${out}--- want\n${want}`);
    }
  }
  console.log(`networkxml2xmlupdate: ${ok}/${cases.length} agree`);
  assert.deepEqual(bad, []);
});

test('modify of an unsupported section is refused', () => {
  const def = parseNetwork(`<network><name>x</name><ip address='10.0.0.1' prefix='24'/></network>`);
  assert.throws(() => networkDefUpdateSection(def, 'modify', 'bridge', '<bridge/>'), /can't update 'bridge'/);
  assert.throws(
    () => networkDefUpdateSection(def, 'add-last', 'ip-dhcp-host', '<range/>'),
    /expecting <host>/,
  );
});
