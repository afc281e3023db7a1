// domainClone inside tvirtd: a cancellable job on the original whose progress events carry the bytes
// copied; the hypervisor driver's own domainClone when it has one (test driver), else cloneDomain
// over the daemon's connection with local files and the storage driver's volumes.
import type { JobManager } from '../../daemon/jobs.js';
import type { Connection } from '../connection.js';
import type { CloneResult, DomainCloneOptions } from './clone-api.js';

/** Whether `c` really has a method (a composed connection may only claim it in its type). */
function has(c: object, name: string): boolean {
  return typeof (c as Record<string, unknown>)[name] === 'function';
}

/**
 * Runs a clone of `ref` as a job. `outer` is the daemon's connection (defines and starts go through
 * its jobs), `inner` the driver's.
 */
export async function daemonClone(
  outer: Connection,
  inner: Connection,
  jobs: JobManager,
  ref: string,
  opts: DomainCloneOptions = {},
): Promise<CloneResult> {
  const run = async (o: DomainCloneOptions): Promise<CloneResult> => {
    if (has(inner, 'domainClone')) return inner.domainClone(ref, o);
    const [{ cloneDomain }, { localCloneHost }] = await Promise.all([
      import('./clone.js'),
      import('./clone-host.js'),
    ]);
    const storage = has(inner, 'listStorageVols') ? inner : undefined;
    return cloneDomain(outer, localCloneHost(storage ? { storage } : {}), ref, o);
  };
  if (opts.dryRun) return run(opts);
  const dom = opts.originalXml === undefined ? await outer.domainLookup(ref) : undefined;
  return jobs.run(
    {
      object: dom ? `domain:${dom.uuid}` : `clone:${Date.now()}:${Math.random()}`,
      operation: 'clone',
      kind: 'domain',
      name: dom?.name ?? opts.name ?? 'clone',
      ...(dom ? { uuid: dom.uuid } : {}),
      cancellable: true,
    },
    (ctx) => {
      opts.onJob?.(ctx.id);
      const signal = opts.signal ? AbortSignal.any([opts.signal, ctx.signal]) : ctx.signal;
      return run({
        ...opts,
        signal,
        progress: (p, t) => {
          ctx.progress(p, t);
          opts.progress?.(p, t);
        },
      });
    },
  );
}
