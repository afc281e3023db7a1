#!/usr/bin/env node
// The installed `tvirt` command. It runs the CLI from one CommonJS bundle, tvirt.bundle.cjs beside
// this file (built by scripts/build-cli.mjs from the compiled ES modules), through V8's code cache:
// start-up then skips both Node's ES-module loader (~10 ms on Node 20) and parsing the bundle,
// which is what keeps `tvirt` within 30% of `node -e 0` (bench/api, "CLI cold start").
//
// The cache (tvirt.bundle.cjs.cache) starts with one JSON line naming the bundle's size and mtime
// and the Node version it was made for; a cache that does not match, or that V8 rejects, is made
// again when the command ends (atomically; silently skipped where the directory is read-only).
// Without a bundle, or with one older than the compiled modules (tsc run alone after an edit), the
// ES-module entry tvirt.js runs instead.
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

const bundle = join(__dirname, 'tvirt.bundle.cjs');
const cacheFile = `${bundle}.cache`;

type Wrapped = (
  exports: object,
  req: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;

/**
 * The cache's first line: what it was made from. Undefined when there is no bundle, or when the
 * modules were compiled after it (tsc alone after an edit): a stale bundle never runs.
 */
function cacheKey(): string | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(bundle);
  } catch {
    return undefined;
  }
  const esm = statSync(join(__dirname, 'tvirt.js'), { throwIfNoEntry: false });
  if (esm && esm.mtimeMs > st.mtimeMs) return undefined;
  return JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, node: process.version });
}

/** The cached code for `key`, or undefined when there is none that matches. */
function readCache(key: string): Buffer | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const nl = buf.indexOf(10);
  if (nl < 0 || buf.toString('utf8', 0, nl) !== key) return undefined;
  return buf.subarray(nl + 1);
}

/** Writes the cache for `key` (temp file, then rename); any failure only costs the next start-up. */
function writeCache(key: string, data: Buffer): void {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, `${key}\n`);
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, cacheFile);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
  }
}

function launch(): void {
  const key = cacheKey();
  if (key === undefined) {
    void import('./tvirt.js');
    return;
  }
  // ASCII only (scripts/build-cli.mjs checks), so latin1 reads it exactly, and faster than utf8.
  const source = readFileSync(bundle, 'latin1');
  const cachedData = readCache(key);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    // Made at exit, so that the functions this run compiled are in it too.
    process.once('exit', () => writeCache(key, script.createCachedData()));
  }
  const module = { exports: {} };
  (script.runInThisContext() as Wrapped)(module.exports, createRequire(bundle), module, bundle, __dirname);
}

launch();
