// Per-object jobs (libvirt's domain jobs): one modifying job per object at a time, FIFO; reads never wait.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { VirError } from '../util/errors.js';
import type { EventBus } from './events.js';

export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** What a job says about itself (API: GET /v1/jobs). */
export interface JobInfo {
  id: string;
  /** The serialization key, e.g. domain:UUID. */
  object: string;
  /** Operation: start, shutdown, destroy, define... */
  operation: string;
  /** Object kind for events. */
  kind: 'domain' | 'network' | 'pool' | 'volume' | 'other';
  name: string;
  uuid?: string;
  state: JobState;
  progress?: { processed: number; total: number };
  cancellable: boolean;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  error?: { code: string; message: string };
}

/** Handed to the job's work function. */
export interface JobContext {
  readonly id: string;
  /** Aborted when someone cancels the job; long work should check it. */
  readonly signal: AbortSignal;
  /** Reports progress; emits a job progress event. */
  progress(processed: number, total: number): void;
}

export interface JobSpec {
  object: string;
  operation: string;
  kind?: JobInfo['kind'];
  name: string;
  uuid?: string;
  /** Whether cancel() may abort it while running (queued jobs can always be cancelled). */
  cancellable?: boolean;
}

interface JobRecord {
  info: JobInfo;
  controller: AbortController;
  ctx?: JobContext;
}

export class JobManager {
  private readonly jobs = new Map<string, JobRecord>();
  /** The last promise queued per object: the next job chains after it. */
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly history: string[] = [];
  private readonly events: EventBus | undefined;
  private readonly historySize: number;
  /** The job whose work is executing in the current async context. */
  private readonly als = new AsyncLocalStorage<JobRecord>();

  constructor(opts: { events?: EventBus; historySize?: number } = {}) {
    this.events = opts.events;
    this.historySize = opts.historySize ?? 100;
  }

  /**
   * Runs `work` as a job on `spec.object` once every earlier job on that object has finished.
   * Resolves with its result; rejects with its error, or OPERATION_ABORTED when cancelled.
   */
  run<T>(spec: JobSpec, work: (ctx: JobContext) => Promise<T>): Promise<T> {
    // Re-entrant: work already running inside a job on this object (the daemon wraps driver calls
    // in jobs; a driver may use jobs too) continues inside that job instead of queueing behind it.
    const outer = this.als.getStore();
    if (outer?.ctx && outer.info.object === spec.object && outer.info.state === 'running')
      return work(outer.ctx);
    const controller = new AbortController();
    const info: JobInfo = {
      id: randomUUID(),
      object: spec.object,
      operation: spec.operation,
      kind: spec.kind ?? 'other',
      name: spec.name,
      uuid: spec.uuid,
      state: 'queued',
      cancellable: spec.cancellable ?? false,
      createdAt: Date.now(),
    };
    const rec: JobRecord = { info, controller };
    this.jobs.set(info.id, rec);
    const prev = this.tails.get(spec.object) ?? Promise.resolve();
    const result = prev.then(() => this.execute(rec, work));
    const tail = result.catch(() => {});
    this.tails.set(spec.object, tail);
    void tail.then(() => {
      if (this.tails.get(spec.object) === tail) this.tails.delete(spec.object);
    });
    return result;
  }

  private async execute<T>(rec: JobRecord, work: (ctx: JobContext) => Promise<T>): Promise<T> {
    const { info, controller } = rec;
    if (controller.signal.aborted) {
      this.finish(rec, 'cancelled');
      throw this.abortedError(info);
    }
    info.state = 'running';
    info.startedAt = Date.now();
    this.emit(info, 'started');
    const ctx: JobContext = {
      id: info.id,
      signal: controller.signal,
      progress: (processed, total) => {
        info.progress = { processed, total };
        this.emit(info, 'progress');
      },
    };
    rec.ctx = ctx;
    try {
      const value = await this.als.run(rec, () => work(ctx));
      this.finish(rec, 'completed');
      return value;
    } catch (e) {
      if (controller.signal.aborted) {
        this.finish(rec, 'cancelled');
        throw e instanceof VirError ? e : this.abortedError(info, e);
      }
      info.error = {
        code: e instanceof VirError ? e.code : 'INTERNAL_ERROR',
        message: e instanceof Error ? e.message : String(e),
      };
      this.finish(rec, 'failed');
      throw e;
    }
  }

  private abortedError(info: JobInfo, cause?: unknown): VirError {
    return new VirError(
      'OPERATION_ABORTED',
      `operation aborted: job '${info.operation}' on '${info.name}' was cancelled`,
      {
        domain: 'DAEMON',
        cause,
      },
    );
  }

  private finish(rec: JobRecord, state: JobState): void {
    rec.info.state = state;
    rec.info.endedAt = Date.now();
    this.emit(rec.info, state);
    this.history.push(rec.info.id);
    while (this.history.length > this.historySize) this.jobs.delete(this.history.shift()!);
  }

  private emit(info: JobInfo, event: string): void {
    this.events?.emit({
      kind: 'job',
      name: info.name,
      uuid: info.uuid,
      event,
      detail: info.operation,
      jobId: info.id,
      ...(info.progress ? { progress: { ...info.progress } } : {}),
    });
  }

  /**
   * Cancels a job: a queued one never starts; a running one gets its signal aborted if it is
   * cancellable. @throws NO_SUPPORT / OPERATION_INVALID when it cannot be cancelled.
   */
  cancel(id: string): JobInfo {
    const rec = this.jobs.get(id);
    if (!rec) throw new VirError('INVALID_ARG', `no job with id '${id}'`, { domain: 'DAEMON' });
    const { info } = rec;
    if (info.state === 'queued') {
      rec.controller.abort();
    } else if (info.state === 'running') {
      if (!info.cancellable)
        throw new VirError(
          'OPERATION_INVALID',
          `job '${info.operation}' on '${info.name}' cannot be cancelled`,
          {
            domain: 'DAEMON',
          },
        );
      rec.controller.abort();
    } else {
      throw new VirError('OPERATION_INVALID', `job '${id}' has already finished (${info.state})`, {
        domain: 'DAEMON',
      });
    }
    return { ...info };
  }

  /** Aborts the running job on an object if it is cancellable (destroy does this before it queues). */
  abortRunning(object: string): void {
    for (const rec of this.jobs.values()) {
      if (rec.info.object === object && rec.info.state === 'running' && rec.info.cancellable)
        rec.controller.abort();
    }
  }

  get(id: string): JobInfo | undefined {
    const rec = this.jobs.get(id);
    return rec ? { ...rec.info } : undefined;
  }

  /** Jobs, newest last; `active` limits to queued and running ones. */
  list(opts: { active?: boolean; object?: string } = {}): JobInfo[] {
    return [...this.jobs.values()]
      .map((r) => ({ ...r.info }))
      .filter((j) => !opts.active || j.state === 'queued' || j.state === 'running')
      .filter((j) => !opts.object || j.object === opts.object)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * The job the calling code runs in, if any: a driver reports progress and watches the abort
   * signal of the job the daemon opened around its call.
   */
  currentJob(): JobContext | undefined {
    return this.als.getStore()?.ctx;
  }

  /** The running job on an object, if any. */
  current(object: string): JobInfo | undefined {
    return this.list({ active: true, object }).find((j) => j.state === 'running');
  }
}
