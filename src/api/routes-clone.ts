// REST route of domainClone: POST /v1/domains/{ref}/clone. With {dryRun: true} it answers the plan
// (200); otherwise it answers 202 {jobId} once the clone job runs, and the job's events carry the
// progress (processed/total bytes); cancel it with DELETE /v1/jobs/{id}. Registered by routes.ts.
import type { DomainCloneOptions } from '../drivers/connection.js';
import { VirError } from '../util/errors.js';
import type { Route } from './routes.js';

const bad = (msg: string) => new VirError('INVALID_ARG', msg, { domain: 'API' });

const STRINGS = ['name', 'uuid', 'nvram', 'originalXml'] as const;
const BOOLS = ['reflink', 'preserveData', 'nonsparse', 'replace', 'linked', 'start', 'dryRun'] as const;
const LISTS = ['files', 'macs', 'skipCopy'] as const;

/** The wire form of DomainCloneOptions (callbacks and signals stay on the caller's side). */
export function cloneOptionsFromBody(body: Record<string, unknown>): DomainCloneOptions {
  const o: DomainCloneOptions = {};
  for (const k of STRINGS) {
    const v = body[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw bad(`request body field '${k}' must be a string`);
    o[k] = v;
  }
  for (const k of BOOLS) {
    const v = body[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw bad(`request body field '${k}' must be true or false`);
    o[k] = v;
  }
  for (const k of LISTS) {
    const v = body[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw bad(`request body field '${k}' must be a list of strings`);
    o[k] = v as string[];
  }
  if (body.check !== undefined) {
    const c = body.check;
    if (typeof c !== 'object' || c === null || Object.values(c).some((x) => typeof x !== 'boolean'))
      throw bad("request body field 'check' must map check names to true or false");
    o.check = c as Record<string, boolean>;
  }
  return o;
}

/** What the wire carries of DomainCloneOptions. */
export function cloneOptionsToBody(o: DomainCloneOptions): Record<string, unknown> {
  const { signal: _s, progress: _p, onJob: _j, ...rest } = o;
  return rest;
}

export const cloneRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/domains\/(?<ref>[^/]+)\/clone$/,
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      const opts = cloneOptionsFromBody(body);
      if (opts.dryRun) return conn.domainClone(params.ref!, opts);
      // Answer once the job runs; the clone goes on in the background (its outcome is the job's).
      return new Promise((resolve, reject) => {
        let answered = false;
        conn
          .domainClone(params.ref!, {
            ...opts,
            onJob: (jobId) => {
              answered = true;
              resolve({ status: 202, body: { jobId } });
            },
          })
          .catch((e: unknown) => {
            if (!answered) reject(e);
          });
      });
    },
  },
];
