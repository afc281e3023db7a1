// findProgram: where a program lives on $PATH (like `command -v`), without spawning anything.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

/** The full path of `name` on PATH (or `name` itself when it holds a slash and is executable), else undefined. */
export async function findProgram(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = name.includes('/')
    ? [name]
    : path
        .split(':')
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}
