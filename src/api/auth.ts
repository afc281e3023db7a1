// Bearer tokens for the TCP listener: each token has a role, rw (everything) or ro (reads only).
import { createHash, timingSafeEqual } from 'node:crypto';
import { VirError } from '../util/errors.js';

export type Role = 'rw' | 'ro';

export interface TokenEntry {
  /** sha256 of the token: tokens are not kept in memory in clear. */
  hash: Buffer;
  role: Role;
  name?: string;
}

export const MIN_TOKEN_LENGTH = 16;

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Parses a token file: one token per line, `TOKEN [rw|ro] [NAME]`; '#' starts a comment. Tokens
 * shorter than 16 characters are refused (a guessable token is no authentication).
 */
export function parseTokenFile(text: string, source = 'token file'): TokenEntry[] {
  const out: TokenEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const [token, role = 'rw', name] = line.split(/\s+/);
    if (role !== 'rw' && role !== 'ro')
      throw new VirError('CONF_SYNTAX', `${source}:${i + 1}: role must be 'rw' or 'ro', not '${role}'`, {
        domain: 'DAEMON',
      });
    if (token!.length < MIN_TOKEN_LENGTH)
      throw new VirError(
        'CONF_SYNTAX',
        `${source}:${i + 1}: token is shorter than ${MIN_TOKEN_LENGTH} characters`,
        {
          domain: 'DAEMON',
        },
      );
    out.push({ hash: sha256(token!), role, ...(name ? { name } : {}) });
  });
  return out;
}

/** Builds a token table in code (tests, embedding). */
export function tokenTable(tokens: { token: string; role: Role; name?: string }[]): TokenEntry[] {
  return tokens.map((t) => ({ hash: sha256(t.token), role: t.role, ...(t.name ? { name: t.name } : {}) }));
}

/** The role of a presented token, or undefined. Compares in constant time. */
export function authenticate(table: TokenEntry[], presented: string | undefined): TokenEntry | undefined {
  if (!presented) return undefined;
  const h = sha256(presented);
  let found: TokenEntry | undefined;
  for (const e of table) if (timingSafeEqual(e.hash, h)) found ??= e;
  return found;
}

/** The bearer token of an Authorization header. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}
