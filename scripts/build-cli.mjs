#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli/tvirt.js and everything it imports, lazily or not) into one
// CommonJS file, dist/src/cli/tvirt.bundle.cjs, which dist/src/cli/launch.cjs (the `tvirt` command)
// runs through V8's code cache; then runs it once so that the cache exists. Run after tsc.
// Why: see src/cli/launch.cts. The bundle sits beside the module it replaces, so paths that modules
// resolve against import.meta.url (the session daemon's script) stay right.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'dist/src/cli');
const outfile = join(cliDir, 'tvirt.bundle.cjs');

/**
 * `await import('node:x')` (a builtin loaded on first use) would stay a dynamic import in a CommonJS
 * bundle, which a script run through vm with a code cache cannot perform; as a tiny CommonJS module
 * around require('node:x') it becomes a lazy require, with the same named exports.
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

rmSync(`${outfile}.cache`, { force: true });
await build({
  entryPoints: [join(cliDir, 'tvirt.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ws's optional native helpers: required inside try/catch, used when installed.
  external: ['bufferutil', 'utf-8-validate'],
  // import.meta.url of every bundled module is the bundle's own URL (same directory as tvirt.js),
  // computed on first use: loading node:url costs ~2 ms, and only the session daemon start needs it.
  // "use strict" first: the modules were strict ES modules, and a banner would push esbuild's own
  // directive out of the prologue.
  define: { 'import.meta': '__tvirtImportMeta' },
  banner: {
    js: '"use strict";var __tvirtImportMeta={get url(){return require("node:url").pathToFileURL(__filename).href}};',
  },
  // Smaller to read and decode at every start; identifiers are kept, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [lazyBuiltins],
  logLevel: 'warning',
});
// The launcher wraps the code in a function, where the entry's #! line would be a syntax error; and
// it reads the file as latin1, which is exact only for ASCII (esbuild escapes everything else).
const code = readFileSync(outfile, 'latin1').replace(/^#!.*\n/, '');
if (/[^\x00-\x7f]/.test(code)) {
  console.error('build-cli: the bundle is not ASCII');
  process.exit(1);
}
writeFileSync(outfile, code, 'latin1');

// One run makes the code cache (with the start-up path compiled in it).
const r = spawnSync(process.execPath, [join(cliDir, 'launch.cjs'), '-c', 'test:///default', 'version'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (r.status !== 0) {
  console.error('build-cli: the bundled CLI failed to run');
  process.exit(1);
}
