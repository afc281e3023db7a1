// Parses and formats every domain XML in libvirt's domain-qemu fixtures; prints documents/second
// for parse and for format (one core: node runs this on one thread). Goal: >= 2,000/s each way.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DomainDef, formatDomain, parseDomain } from '../src/conf/index.js';
import { testdataDir } from '../test/support/testdata.js';
import { stats } from './harness.js';

if (!testdataDir) {
  console.log('bench/conf: skipped, libvirt-testdata not found');
  process.exit(0);
}
const dir = join(testdataDir, 'domain-qemu', 'qemuxmlconfdata');
const docs: string[] = [];
let rejected = 0;
for (const f of readdirSync(dir).sort()) {
  if (!f.endsWith('.xml')) continue;
  const text = readFileSync(join(dir, f), 'utf8');
  try {
    parseDomain(text);
    docs.push(text);
  } catch {
    rejected++; // inputs libvirt itself rejects (parse-error cases)
  }
}
const rounds = 7;
const parseRates: number[] = [];
const formatRates: number[] = [];
let defs: DomainDef[] = [];
for (let r = 0; r < rounds; r++) {
  let t0 = process.hrtime.bigint();
  defs = docs.map((d) => parseDomain(d));
  let s = Number(process.hrtime.bigint() - t0) / 1e9;
  parseRates.push(docs.length / s);
  t0 = process.hrtime.bigint();
  for (const d of defs) formatDomain(d);
  s = Number(process.hrtime.bigint() - t0) / 1e9;
  formatRates.push(defs.length / s);
}
const p = stats(parseRates);
const f = stats(formatRates);
const bytes = docs.reduce((a, d) => a + d.length, 0);
console.log(
  `domain documents: ${docs.length} (${(bytes / 1024).toFixed(0)} KiB), ${rejected} rejected inputs skipped`,
);
console.log(
  `parse : median ${p.median.toFixed(0)} docs/s (min ${p.min.toFixed(0)}, max ${p.max.toFixed(0)}, ${rounds} rounds)`,
);
console.log(
  `format: median ${f.median.toFixed(0)} docs/s (min ${f.min.toFixed(0)}, max ${f.max.toFixed(0)}, ${rounds} rounds)`,
);
console.log(
  `goal >= 2000 docs/s each way: parse ${p.median >= 2000 ? 'met' : 'NOT met'}, format ${f.median >= 2000 ? 'met' : 'NOT met'}`,
);
