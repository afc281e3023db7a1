// The clone job shared by the Clone dialog and the Create-a-guest page: starts POST
// /v1/domains/{ref}/clone, follows its progress events, offers Cancel, and reports the end once.
import { useEffect, useRef, useState } from 'react';
import { ApiError, cloneApi, toApiError } from '../api';
import { guestStore } from '../store';

export interface CloneJob {
  id: string;
  processed: number;
  total: number;
}

/** A failed or cancelled job as a readable error, with the job id behind it. */
function jobError(id: string, state: string, message: string | undefined): ApiError {
  return new ApiError(
    message ?? `the clone was ${state}`,
    0,
    `JOB_${state.toUpperCase()}`,
    undefined,
    `job ${id}`,
  );
}

/**
 * `onDone(name)` runs once when the clone job completes (with the clone's name); a failure or a
 * cancellation ends up in `error`. `job` is set while the job runs.
 */
export function useCloneJob(onDone: (name: string) => void) {
  const [job, setJob] = useState<CloneJob>();
  const [error, setError] = useState<ApiError>();
  const jobId = useRef<string>(undefined);
  const target = useRef('');
  // The event listener lives as long as the component; it calls the latest onDone().
  const doneRef = useRef(onDone);
  doneRef.current = onDone;

  const end = (id: string, state: string, message?: string) => {
    if (jobId.current !== id) return; // already ended (an event and the first poll may both see it)
    jobId.current = undefined;
    setJob(undefined);
    if (state === 'completed') doneRef.current(target.current);
    else setError(jobError(id, state, message));
  };
  const endRef = useRef(end);
  endRef.current = end;

  useEffect(
    () =>
      guestStore.onEvent((e) => {
        if (e.kind !== 'job' || !e.jobId || e.jobId !== jobId.current) return;
        const id = e.jobId;
        if (e.progress) setJob({ id, processed: e.progress.processed, total: e.progress.total });
        if (e.event === 'completed') endRef.current(id, 'completed');
        if (e.event === 'failed' || e.event === 'cancelled')
          cloneApi.job(id).then(
            (j) => endRef.current(id, e.event, j.error?.message),
            () => endRef.current(id, e.event),
          );
      }),
    [],
  );

  const start = async (ref: string, opts: { name: string; linked: boolean; start: boolean }) => {
    setError(undefined);
    try {
      const r = await cloneApi.start(ref, opts);
      target.current = opts.name;
      jobId.current = r.jobId;
      setJob((j) => j ?? { id: r.jobId, processed: 0, total: 0 });
      // It may have finished before the first event arrived here.
      const j = await cloneApi.job(r.jobId);
      if (j.state === 'completed' || j.state === 'failed' || j.state === 'cancelled')
        end(r.jobId, j.state, j.error?.message);
    } catch (err) {
      setError(toApiError(err));
    }
  };

  const cancel = () => {
    if (job) void cloneApi.cancel(job.id).catch((e) => setError(toApiError(e)));
  };

  return { job, error, setError, start, cancel };
}

/** The progress bar of a running clone job, with its Cancel button. */
export function CloneProgress({ job, onCancel }: { job: CloneJob; onCancel: () => void }) {
  return (
    <div className="upload-progress" role="status">
      <progress value={job.processed} max={job.total || 1} aria-label="Clone progress" />{' '}
      {job.total ? `${Math.round((100 * job.processed) / job.total)}%` : 'starting…'}
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
