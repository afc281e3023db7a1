// libvirt's fixtures, read in place: generic xml2xml, qemu inputs (parse, fixed point, no loss) and RelaxNG validity.
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
  testdataDir,
} from '../../../test/support/testdata.js';
import { type XmlElement, parseXml } from '../../util/xml.js';
import { addressKey } from './address.js';
import {
  type DomainDef,
  domainAssignDefaults,
  formatDomain,
  parseBitmap,
  parseDomain,
  type RandomSource,
} from './index.js';

const fixedRandom: RandomSource = {
  uuid: () => 'c7a5fdbd-edaf-9455-926a-d65c16db1809',
  bytes: (n) => new Uint8Array(n),
};

interface GenericCase {
  test: string;
  files: { path: string }[];
  expect: string;
  activeOnly: boolean;
  compareTo?: string;
}

test('domain-generic xml2xml', { skip: skipNoTestdata }, () => {
  const cases = manifest('domain-generic').cases as GenericCase[];
  let ok = 0;
  let total = 0;
  let rejected = 0;
  let errs = 0;
  const failures: string[] = [];
  for (const c of cases) {
    const input = readTestdata(c.files[0]!.path);
    if (c.expect === 'parse-error') {
      errs++;
      try {
        parseDomain(input, { random: fixedRandom });
        failures.push(`${c.test}: accepted, expected a parse error`);
      } catch {
        rejected++;
      }
      continue;
    }
    total++;
    try {
      const out = formatDomain(parseDomain(input, { random: fixedRandom }), {
        inactive: !c.activeOnly,
        secure: true,
      });
      if (sameXmlText(out, readTestdata(c.compareTo!))) ok++;
      else failures.push(`${c.test}: output differs`);
    } catch (e) {
      failures.push(`${c.test}: ${(e as Error).message}`);
    }
  }
  console.log(`domain-generic xml2xml: ${ok}/${total} identical, parse errors ${rejected}/${errs} rejected`);
  if (failures.length) console.log('  ' + failures.join('\n  '));
  assert.equal(rejected, errs);
  assert.ok(ok >= Math.ceil(total * 0.9), `only ${ok}/${total} identical`);
});

/** Inputs of domain-qemu cases with at least one x86_64 run expected to succeed. */
function qemuInputs(): string[] {
  const out: string[] = [];
  for (const c of manifest('domain-qemu').cases as {
    input?: string;
    runs?: { arch: string; expect: string }[];
  }[]) {
    if (c.input && c.runs?.some((r) => r.arch === 'x86_64' && r.expect === 'success')) out.push(c.input);
  }
  return [...new Set(out)];
}

const NUM_RE = /^(0x[0-9a-fA-F]+|-?[0-9]+)$/;
/** Multiset of element paths and attributes (numbers compared by value, units ignored). */
function inventory(root: XmlElement): Map<string, number> {
  const m = new Map<string, number>();
  const add = (k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const walk = (el: XmlElement, path: string) => {
    const p = `${path}/${el.name}`;
    add(p);
    for (const k in el.attrs) {
      if (k === 'unit') continue;
      let v = el.attrs[k]!;
      if (NUM_RE.test(v)) v = String(Number(v));
      // Normalisations libvirt makes on purpose: per-id scheduler entries, lower-case MACs,
      // and no fixed port with autoport.
      if ((el.name === 'vcpusched' && k === 'vcpus') || (el.name === 'iothreadsched' && k === 'iothreads')) {
        for (const id of parseBitmap(v)) add(`${p}@${k}=${id}`);
        continue;
      }
      if (el.name === 'mac' && k === 'address') v = v.toLowerCase();
      if (el.name === 'graphics' && k === 'port' && (el.attrs.autoport === 'yes' || v === '-1')) continue;
      add(`${p}@${k}=${v}`);
    }
    for (const c of el.children) if (c.type === 'element') walk(c, p);
  };
  walk(root, '');
  return m;
}

test('domain-qemu inputs: parse, fixed point, nothing lost', { skip: skipNoTestdata }, () => {
  const inputs = qemuInputs();
  let parsed = 0;
  let fixed = 0;
  let lossless = 0;
  const failures: string[] = [];
  for (const path of inputs) {
    const xml = readTestdata(path);
    let text: string;
    try {
      const def = parseDomain(xml, { random: fixedRandom });
      parsed++;
      text = formatDomain(def);
      const def2 = parseDomain(text, { random: fixedRandom });
      const text2 = formatDomain(def2);
      assert.deepEqual(def2, def);
      assert.equal(text2, text);
      fixed++;
    } catch (e) {
      failures.push(`${path}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const before = inventory(parseXml(xml));
    const after = inventory(parseXml(text));
    const lost: string[] = [];
    for (const [k, n] of before) if ((after.get(k) ?? 0) < n) lost.push(k);
    if (lost.length === 0) lossless++;
    else failures.push(`${path}: lost ${lost.slice(0, 4).join(' ')}`);
  }
  console.log(
    `domain-qemu x86_64 success inputs: ${parsed}/${inputs.length} parsed, ${fixed}/${inputs.length} fixed point, ${lossless}/${inputs.length} lossless`,
  );
  if (failures.length) console.log('  ' + failures.slice(0, 40).join('\n  '));
  assert.equal(parsed, inputs.length);
  assert.equal(fixed, inputs.length);
  assert.equal(lossless, inputs.length);
});

test('libvirt-formatted outputs (domain-qemu expected .xml, all arches) come back identical', {
  skip: skipNoTestdata,
}, () => {
  let same = 0;
  let total = 0;
  const failures: string[] = [];
  for (const c of manifest('domain-qemu').cases as { runs?: { expectedFiles: string[] }[] }[]) {
    for (const run of c.runs ?? []) {
      for (const f of run.expectedFiles) {
        if (!f.endsWith('.xml')) continue;
        total++;
        const xml = readTestdata(f);
        try {
          if (formatDomain(parseDomain(xml, { random: fixedRandom }), { inactive: true }) === xml) same++;
          else failures.push(`${f}: differs`);
        } catch (e) {
          failures.push(`${f}: ${(e as Error).message}`);
        }
      }
    }
  }
  console.log(`domain-qemu expected outputs: ${same}/${total} identical after parse+format (inactive)`);
  if (failures.length) console.log('  ' + failures.slice(0, 10).join('\n  '));
  assert.ok(same >= total * 0.99, `only ${same}/${total}`);
});

test('domain-qemu inputs with assigned defaults: unique PCI slots, stable, schema-valid', {
  skip: skipNoTestdata || (!hasXmllint && 'xmllint not installed'),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-domain-defaults-'));
  try {
    const files: string[] = [];
    const inputs: string[] = [];
    let stable = 0;
    let total = 0;
    const failures: string[] = [];
    qemuInputs().forEach((p, i) => {
      const def = parseDomain(readTestdata(p), { random: fixedRandom });
      if (def.os.arch !== undefined && def.os.arch !== 'x86_64' && def.os.arch !== 'i686') return;
      total++;
      const opts = { arch: 'x86_64', machine: def.os.machine ?? 'pc' };
      domainAssignDefaults(def, opts);
      const text = formatDomain(def, { inactive: true });
      const again = parseDomain(text, { random: fixedRandom });
      domainAssignDefaults(again, opts);
      if (formatDomain(again, { inactive: true }) === text) stable++;
      else failures.push(`${p}: not stable`);
      const keys = pciKeys(def);
      if (new Set(keys).size !== keys.length) failures.push(`${p}: duplicate PCI address`);
      const f = join(dir, `${i}.xml`);
      writeFileSync(f, text);
      files.push(f);
      inputs.push(join(testdataDir!, p));
    });
    const bad = relaxngInvalid('domain.rng', files);
    const badIn = relaxngInvalid('domain.rng', inputs);
    files.forEach((f, i) => {
      if (bad.has(f) && !badIn.has(inputs[i]!)) failures.push(`${inputs[i]}: schema-invalid after defaults`);
    });
    console.log(
      `domain-qemu with assigned defaults: ${stable}/${total} stable, ${files.length - bad.size}/${files.length} schema-valid, ${failures.length} problems`,
    );
    if (failures.length) console.log('  ' + failures.slice(0, 20).join('\n  '));
    assert.equal(stable, total);
    assert.equal(failures.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function pciKeys(def: DomainDef): string[] {
  const d = def.devices;
  const all = [
    ...d.disks,
    ...d.controllers,
    ...d.interfaces,
    ...d.videos,
    ...d.sounds,
    ...d.rngs,
    ...d.watchdogs,
    ...(d.memballoon ? [d.memballoon] : []),
  ];
  return all.flatMap((x) => (x.address?.type === 'pci' ? [addressKey(x.address)] : []));
}

test('domain-qemu: parse + domainAssignDefaults compared with libvirt x86_64-latest outputs (informational)', {
  skip: skipNoTestdata,
}, () => {
  let same = 0;
  let total = 0;
  for (const c of manifest('domain-qemu').cases as {
    input?: string;
    runs?: { suffix: string; expect: string; expectedFiles: string[] }[];
  }[]) {
    for (const run of c.runs ?? []) {
      if (run.suffix !== '.x86_64-latest' || run.expect !== 'success' || !c.input) continue;
      const f = run.expectedFiles.find((x) => x.endsWith('.xml'));
      if (!f) continue;
      total++;
      const def = parseDomain(readTestdata(c.input), { random: fixedRandom });
      domainAssignDefaults(def, { arch: 'x86_64', machine: def.os.machine ?? 'pc' });
      if (sameXmlText(formatDomain(def, { inactive: true }), readTestdata(f))) same++;
    }
  }
  // Not required to match (the QEMU driver owns capability-dependent defaults); guards against regressions.
  console.log(`domain-qemu defaults vs libvirt x86_64-latest: ${same}/${total} identical`);
  assert.ok(same >= total * 0.5, `only ${same}/${total}`);
});

test('formatted outputs validate against domain.rng wherever the input does', {
  skip: skipNoTestdata || (!hasXmllint && 'xmllint not installed'),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tvirt-domain-rng-'));
  try {
    const pairs: { input: string; output: string }[] = [];
    const generic = (manifest('domain-generic').cases as GenericCase[]).filter((c) => c.expect === 'success');
    const all = [...generic.map((c) => c.files[0]!.path), ...qemuInputs()];
    all.forEach((p, i) => {
      try {
        const out = formatDomain(parseDomain(readTestdata(p), { random: fixedRandom }));
        const f = join(dir, `${i}.xml`);
        writeFileSync(f, out);
        pairs.push({ input: join(testdataDir!, p), output: f });
      } catch {
        // parse failures are reported by the tests above
      }
    });
    const badIn = relaxngInvalid(
      'domain.rng',
      pairs.map((x) => x.input),
    );
    const badOut = relaxngInvalid(
      'domain.rng',
      pairs.map((x) => x.output),
    );
    const validIn = pairs.filter((x) => !badIn.has(x.input));
    const regressions = validIn.filter((x) => badOut.has(x.output));
    console.log(
      `domain.rng: ${validIn.length}/${pairs.length} inputs valid, ${pairs.length - badOut.size}/${pairs.length} outputs valid, ${regressions.length} outputs invalid where input valid`,
    );
    for (const r of regressions.slice(0, 10))
      console.log(`  ${r.input}: ${badOut.get(r.output)!.split('\n')[0]}`);
    assert.equal(regressions.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
