// Locates libvirt's fixtures (../shared/libvirt-testdata beside the checkout) and validates XML
// against its RelaxNG schemas with xmllint. Tests skip with one line when either is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/support/ or test/support/). */
export const repoRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    d = up;
  }
  return d;
})();

/** Absolute path of the fixtures folder, or undefined when absent (TVIRT_TESTDATA overrides). */
export const testdataDir: string | undefined = (() => {
  const p = process.env.TVIRT_TESTDATA ?? resolve(repoRoot, '..', 'shared', 'libvirt-testdata');
  return existsSync(join(p, 'README.md')) ? p : undefined;
})();

/** Why fixture tests are skipped, or false when they can run (pass as node:test's `skip`). */
export const skipNoTestdata: string | false = testdataDir
  ? false
  : 'libvirt-testdata not found at ../shared/libvirt-testdata (set TVIRT_TESTDATA)';

/** Reads a file relative to the fixtures folder. */
export function readTestdata(rel: string): string {
  if (!testdataDir) throw new Error('no testdata');
  return readFileSync(join(testdataDir, rel), 'utf8');
}

/** Loads a category manifest (e.g. 'network') as parsed JSON. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form JSON
export function manifest(category: string): any {
  return JSON.parse(readTestdata(join(category, 'manifest.json')));
}

export const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

/**
 * Validates files against a schema in libvirt-testdata/schemas with xmllint (one process for many
 * files). Returns the set of files that failed, with xmllint's messages.
 */
export function relaxngInvalid(schema: string, files: string[]): Map<string, string> {
  const bad = new Map<string, string>();
  if (files.length === 0) return bad;
  const r = spawnSync('xmllint', ['--noout', '--relaxng', join(testdataDir!, 'schemas', schema), ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const line of r.stderr.split('\n')) {
    const m = /^(.*?) fails to validate$/.exec(line);
    if (m) bad.set(m[1]!, (bad.get(m[1]!) ?? '') + line + '\n');
    else {
      const f = files.find((x) => line.startsWith(x + ':'));
      if (f) bad.set(f, (bad.get(f) ?? '') + line + '\n');
    }
  }
  for (const f of [...bad.keys()]) if (!r.stderr.includes(f + ' fails to validate')) bad.delete(f);
  return bad;
}

/** Compares XML text ignoring whitespace between tags and at line ends. */
export function sameXmlText(a: string, b: string): boolean {
  const norm = (s: string) =>
    s
      .replace(/<\?xml[^>]*\?>/, '')
      .replace(/>\s+</g, '><')
      .replace(/\s+/g, ' ')
      .trim();
  return norm(a) === norm(b);
}
