// Mutated fixture documents: parseDomain either rejects them with a VirError or round-trips them to a fixed point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manifest, readTestdata, skipNoTestdata } from '../../../test/support/testdata.js';
import { isVirError } from '../../util/errors.js';
import { formatXml, parseXml, type XmlElement } from '../../util/xml.js';
import { formatDomain, parseDomain, type RandomSource } from './index.js';

const random: RandomSource = {
  uuid: () => 'c7a5fdbd-edaf-9455-926a-d65c16db1809',
  bytes: (n) => new Uint8Array(n),
};
const VALUES = ['', '-1', 'x', '99999999999999999999', '0x1f', 'yes', 'on', '0'];

function elements(el: XmlElement, out: XmlElement[] = []): XmlElement[] {
  out.push(el);
  for (const c of el.children) if (c.type === 'element') elements(c, out);
  return out;
}

test('mutated domain documents never crash and round-trip when accepted', { skip: skipNoTestdata }, () => {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const inputs = (manifest('domain-qemu').cases as { input?: string }[]).flatMap((c) =>
    c.input ? [c.input] : [],
  );
  let accepted = 0;
  let rejected = 0;
  for (const path of inputs.filter((_, i) => i % 4 === 0)) {
    const original = formatXml(parseXml(readTestdata(path)));
    for (let k = 0; k < 4; k++) {
      const doc = parseXml(original);
      const els = elements(doc);
      for (let m = 0; m < 3; m++) {
        const e = pick(els);
        const keys = Object.keys(e.attrs);
        const op = rnd();
        if (op < 0.4 && keys.length) delete e.attrs[pick(keys)];
        else if (op < 0.7 && keys.length) e.attrs[pick(keys)] = pick(VALUES);
        else if (op < 0.85 && e.children.length) e.children.splice(Math.floor(rnd() * e.children.length), 1);
        else e.children.push({ type: 'text', text: pick(['abc', '1']) });
      }
      const xml = formatXml(doc);
      let def: ReturnType<typeof parseDomain>;
      try {
        def = parseDomain(xml, { random });
      } catch (e) {
        assert.ok(isVirError(e), `${path}: ${(e as Error).stack}`);
        rejected++;
        continue;
      }
      const text = formatDomain(def);
      const again = parseDomain(text, { random });
      assert.deepEqual(again, def, `${path}: not a fixed point`);
      assert.equal(formatDomain(again), text);
      accepted++;
    }
  }
  console.log(
    `mutated documents: ${accepted} accepted and stable, ${rejected} rejected with VirError, 0 crashes`,
  );
});
