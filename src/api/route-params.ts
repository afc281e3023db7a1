// Reading route parameters: query flags and typed JSON body fields, with one wording for every
// INVALID_ARG the REST routes return. Shared by routes.ts and its per-half route files.
import { VirError } from '../util/errors.js';

/** An INVALID_ARG error of the API domain (HTTP 400). */
export const badRequest = (msg: string) => new VirError('INVALID_ARG', msg, { domain: 'API' });

/** `?flag`, `?flag=1|true|yes` are true; `=0|false|no` false; absent undefined. */
export function queryFlag(q: URLSearchParams, name: string): boolean | undefined {
  if (!q.has(name)) return undefined;
  const v = (q.get(name) ?? '').toLowerCase();
  if (v === '' || v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no') return false;
  throw badRequest(`query parameter '${name}' must be a boolean, not '${v}'`);
}

/** A required string field of a JSON body. */
export function bodyString(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string') throw badRequest(`request body field '${name}' must be a string`);
  return v;
}

/** An optional string field of a JSON body. */
export function optBodyString(body: Record<string, unknown>, name: string): string | undefined {
  return body[name] === undefined ? undefined : bodyString(body, name);
}

/** An optional boolean field of a JSON body. */
export function optBodyBool(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`request body field '${name}' must be true or false`);
  return v;
}
