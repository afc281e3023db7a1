#!/usr/bin/env node
// Builds (tsc, the CLI bundle), then runs every compiled benchmark in dist/bench (or those whose name contains an argument).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const filters = process.argv.slice(2);
const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const cli = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' });
if (cli.status !== 0) process.exit(cli.status ?? 1);
const files = readdirSync('dist/bench')
  .filter((f) => f.endsWith('.js') && f !== 'harness.js')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
for (const f of files) {
  console.log(`\n== bench/${f.replace(/\.js$/, '.ts')}`);
  spawnSync(process.execPath, [`dist/bench/${f}`], { stdio: 'inherit' });
}
