// Helpers for comparing command values with libvirt's .argv fixtures (one token group per line, ' \' joins).
import type { Command } from '../../host/run.js';

/** A fixture's text with its line continuations joined: "prog a b\nprog2 c". */
export function fixtureArgv(text: string): string {
  return text.replace(/ \\\n/g, ' ').replace(/\\\n/g, '').trim();
}

/** A command rendered the way the fixtures spell it (no quoting: fixtures hold no spaces). */
export function renderFixtureStyle(cmd: Command): string {
  return [cmd.program, ...cmd.args].join(' ');
}
