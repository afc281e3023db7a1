#!/usr/bin/env node
// Runs the whole test job: lint + format check (biome), type check + build (tsc, then the CLI
// bundle: scripts/build-cli.mjs), then node's test runner over every compiled *.test.js. Extra
// arguments filter test files by substring.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const filters = process.argv.slice(2);
function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
if (!process.env.TVIRT_SKIP_LINT) run('npx', ['biome', 'check', '.']);
run('npx', ['tsc', '-p', 'tsconfig.json']);
run(process.execPath, ['scripts/build-cli.mjs']);
const files = walk('dist', [])
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
const concurrency = process.env.TVIRT_TEST_CONCURRENCY ?? '2';
run(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files]);
