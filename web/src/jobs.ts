// Long operations (daemon jobs) as the event stream reports them: those still running, with their
// progress, and the last failures with their messages (GET /v1/jobs/{id} tells why).
import { useSyncExternalStore } from 'react';
import { type TvirtEvent, request } from './api';
import { guestStore } from './store';

export interface ActiveJob {
  id: string;
  /** The object's uuid, or the caller's tag of a storage job. */
  uuid?: string;
  operation: string;
  name: string;
  progress?: { processed: number; total: number };
  startedAt: number;
  cancellable: boolean;
}

export interface FailedJob {
  id: string;
  operation: string;
  name: string;
  message: string;
}

interface JobInfo {
  id: string;
  uuid?: string;
  operation: string;
  name: string;
  state: string;
  progress?: { processed: number; total: number };
  cancellable: boolean;
  startedAt?: number;
  createdAt: number;
  error?: { code: string; message: string };
}

export interface JobsState {
  active: ActiveJob[];
  failed: FailedJob[];
}

class JobStore {
  private state: JobsState = { active: [], failed: [] };
  private readonly listeners = new Set<() => void>();
  private wasLive = false;

  constructor() {
    guestStore.onEvent((e) => this.onEvent(e));
    guestStore.subscribe(() => {
      const live = guestStore.get().live;
      if (live && !this.wasLive) void this.reload();
      this.wasLive = live;
    });
  }

  get = (): JobsState => this.state;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private set(s: JobsState): void {
    this.state = s;
    for (const l of this.listeners) l();
  }

  async reload(): Promise<void> {
    try {
      const { jobs } = await request<{ jobs: JobInfo[] }>('GET', '/v1/jobs?active');
      this.set({
        ...this.state,
        active: jobs.map((j) => ({
          id: j.id,
          ...(j.uuid ? { uuid: j.uuid } : {}),
          operation: j.operation,
          name: j.name,
          ...(j.progress ? { progress: j.progress } : {}),
          startedAt: j.startedAt ?? j.createdAt,
          cancellable: j.cancellable,
        })),
      });
    } catch {
      // the guest list shows connection problems already
    }
  }

  private onEvent(e: TvirtEvent): void {
    if (e.kind !== 'job' || !e.jobId) return;
    const id = e.jobId;
    const rest = this.state.active.filter((j) => j.id !== id);
    if (e.event === 'started' || e.event === 'progress') {
      const old = this.state.active.find((j) => j.id === id);
      const job: ActiveJob = {
        id,
        ...(e.uuid ? { uuid: e.uuid } : {}),
        operation: e.detail ?? 'job',
        name: e.name,
        ...(e.progress ? { progress: e.progress } : {}),
        startedAt: old?.startedAt ?? Date.now(), // this clock, not the server's
        cancellable: old?.cancellable ?? false,
      };
      this.set({ ...this.state, active: [...rest, job] });
      // Whether it can be cancelled is not in the event: ask once, when a new job appears.
      if (!old) void this.refreshCancellable(id);
      return;
    }
    this.set({ ...this.state, active: rest });
    if (e.event === 'failed')
      request<JobInfo>('GET', `/v1/jobs/${encodeURIComponent(id)}`).then(
        (j) =>
          this.addFailure({
            id,
            operation: j.operation,
            name: j.name,
            message: j.error?.message ?? 'failed',
          }),
        () => this.addFailure({ id, operation: e.detail ?? 'job', name: e.name, message: 'failed' }),
      );
  }

  private async refreshCancellable(id: string): Promise<void> {
    try {
      const j = await request<JobInfo>('GET', `/v1/jobs/${encodeURIComponent(id)}`);
      this.set({
        ...this.state,
        active: this.state.active.map((a) => (a.id === id ? { ...a, cancellable: j.cancellable } : a)),
      });
    } catch {
      // gone already
    }
  }

  private addFailure(f: FailedJob): void {
    this.set({ ...this.state, failed: [f, ...this.state.failed].slice(0, 5) });
  }

  dismiss(id: string): void {
    this.set({ ...this.state, failed: this.state.failed.filter((f) => f.id !== id) });
  }

  async cancel(id: string): Promise<void> {
    await request('DELETE', `/v1/jobs/${encodeURIComponent(id)}`);
  }
}

export const jobStore = new JobStore();

export function useJobs(): JobsState {
  return useSyncExternalStore(jobStore.subscribe, jobStore.get);
}
