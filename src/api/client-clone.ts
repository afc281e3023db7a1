// The remote client's domainClone: a dry run for the plan, then the clone job, followed through the
// event stream (progress) until it ends; the caller's AbortSignal cancels the job.
import type { CloneResult, DomainCloneOptions, TvirtEvent } from '../drivers/connection.js';
import type { JobInfo } from '../daemon/jobs.js';
import { type ErrorCode, VirError } from '../util/errors.js';
import { cloneOptionsToBody } from './routes-clone.js';

/** What the clone call needs of the RemoteConnection. */
export interface CloneClientCalls {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  onEvent(listener: (ev: TvirtEvent) => void): () => void;
  eventsReady(): Promise<void>;
  domainGetXMLDesc(ref: string, flags?: { inactive?: boolean; secure?: boolean }): Promise<string>;
}

const POLL_MS = 1000;

function jobError(j: JobInfo): VirError {
  if (j.state === 'cancelled')
    return new VirError(
      'OPERATION_ABORTED',
      j.error?.message ?? `operation aborted: clone of '${j.name}' was cancelled; nothing was left behind`,
      { domain: 'DOMAIN' },
    );
  return new VirError((j.error?.code ?? 'INTERNAL_ERROR') as ErrorCode, j.error?.message ?? 'clone failed', {
    domain: 'DOMAIN',
  });
}

export async function remoteDomainClone(
  c: CloneClientCalls,
  ref: string,
  opts: DomainCloneOptions = {},
): Promise<CloneResult> {
  const path = `/domains/${encodeURIComponent(ref)}/clone`;
  const plan = await c.call<CloneResult>('POST', path, { ...cloneOptionsToBody(opts), dryRun: true });
  if (opts.dryRun) return plan;
  opts.signal?.throwIfAborted?.();
  // Pin what the plan chose at random, so the result describes the clone that is made.
  const body = { ...cloneOptionsToBody(opts), name: plan.name, uuid: plan.uuid, dryRun: false };
  let jobId: string | undefined;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const early: TvirtEvent[] = [];
  const onJobEvent = (ev: TvirtEvent) => {
    if (ev.kind !== 'job') return;
    if (jobId === undefined) {
      early.push(ev);
      return;
    }
    if (ev.jobId !== jobId) return;
    if (ev.event === 'progress' && ev.progress) opts.progress?.(ev.progress.processed, ev.progress.total);
    else if (ev.event === 'completed') settle.resolve();
    else if (ev.event === 'failed' || ev.event === 'cancelled') void check();
  };
  const check = async () => {
    if (!jobId) return;
    try {
      const j = await c.call<JobInfo>('GET', `/jobs/${encodeURIComponent(jobId)}`);
      if (j.state === 'completed') settle.resolve();
      else if (j.state === 'failed' || j.state === 'cancelled') settle.reject(jobError(j));
    } catch {
      // the next poll tries again
    }
  };
  const off = c.onEvent(onJobEvent);
  const onAbort = () => {
    if (jobId) void c.call('DELETE', `/jobs/${encodeURIComponent(jobId)}`).catch(() => {});
  };
  const timer = setInterval(() => void check(), POLL_MS);
  try {
    await c.eventsReady().catch(() => {});
    const started = await c.call<{ jobId: string }>('POST', path, body);
    jobId = started.jobId;
    opts.onJob?.(jobId);
    for (const ev of early.splice(0)) onJobEvent(ev);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    await done;
  } finally {
    clearInterval(timer);
    off();
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const xml = await c.domainGetXMLDesc(plan.uuid, { inactive: true }).catch(() => plan.xml);
  return { ...plan, xml, dryRun: false, started: !!opts.start };
}
