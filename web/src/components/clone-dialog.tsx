// Clone a shut-off guest: the plan first (which disks are copied, or overlaid when linked), then
// the clone job with its progress and Cancel; opens the clone when it is done.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type ApiError, type ClonePlan, cloneApi, toApiError } from '../api';
import { kib } from '../format';
import { guestPath, navigate } from '../router';
import { guestStore } from '../store';
import { Dialog } from './dialog';
import { ErrorBox } from './error-box';

export function CloneDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const [cloneName, setCloneName] = useState(`${name}-clone`);
  const [linked, setLinked] = useState(false);
  const [start, setStart] = useState(false);
  const [plan, setPlan] = useState<ClonePlan>();
  const [error, setError] = useState<ApiError>();
  const [job, setJob] = useState<{ id: string; processed: number; total: number }>();
  const jobId = useRef<string>(undefined);
  const done = () => {
    onClose();
    navigate(guestPath(cloneName));
  };
  // The event listener lives as long as the dialog; it calls the latest done().
  const doneRef = useRef(done);
  doneRef.current = done;

  useEffect(() => {
    const t = window.setTimeout(() => {
      cloneApi.plan(name, { name: cloneName, linked }).then(
        (p) => {
          setPlan(p);
          setError(undefined);
        },
        (e) => {
          setPlan(undefined);
          setError(toApiError(e));
        },
      );
    }, 250);
    return () => window.clearTimeout(t);
  }, [name, cloneName, linked]);

  useEffect(
    () =>
      guestStore.onEvent((e) => {
        if (e.kind !== 'job' || !jobId.current || e.jobId !== jobId.current) return;
        if (e.progress) setJob({ id: e.jobId, processed: e.progress.processed, total: e.progress.total });
        if (e.event === 'completed') doneRef.current();
        if (e.event === 'failed' || e.event === 'cancelled')
          cloneApi.job(e.jobId).then(
            (j) => {
              setError(toApiError(new Error(j.error?.message ?? `the clone was ${e.event}`)));
              setJob(undefined);
              jobId.current = undefined;
            },
            () => setJob(undefined),
          );
      }),
    [],
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const r = await cloneApi.start(name, { name: cloneName, linked, start });
      jobId.current = r.jobId;
      setJob((j) => j ?? { id: r.jobId, processed: 0, total: 0 });
      // It may have finished before the first event arrived here.
      const j = await cloneApi.job(r.jobId);
      if (j.state === 'completed') done();
      else if (j.state === 'failed') {
        setError(toApiError(new Error(j.error?.message ?? 'the clone failed')));
        setJob(undefined);
      }
    } catch (err) {
      setError(toApiError(err));
    }
  };

  return (
    <Dialog title={`Clone ${name}`} onClose={job ? () => {} : onClose}>
      <form className="form" onSubmit={submit} aria-label="Clone">
        <label>
          Name of the clone
          <input
            required
            pattern="[^/\s]+"
            value={cloneName}
            onChange={(e) => setCloneName(e.target.value)}
          />
        </label>
        <label className="inline">
          <input type="checkbox" checked={linked} onChange={(e) => setLinked(e.target.checked)} /> linked
          clone (qcow2 overlays on the original's disks: fast, small, the original must then stay)
        </label>
        <label className="inline">
          <input type="checkbox" checked={start} onChange={(e) => setStart(e.target.checked)} /> start the
          clone
        </label>
        {plan && (
          <div className="plan" data-testid="clone-plan">
            {plan.disks.length === 0 && <p>No disk to copy.</p>}
            <ul>
              {plan.disks.map((d) => (
                <li key={d.target}>
                  {d.target}: {d.kind === 'overlay' ? 'overlay on' : `copy (${kib(d.bytes / 1024)}) of`}{' '}
                  <code>{d.source}</code> to <code>{d.dest}</code>
                </li>
              ))}
              {plan.kept.map((k) => (
                <li key={k.target}>
                  {k.target}: kept as it is ({k.reason})
                </li>
              ))}
              {plan.warnings.map((w) => (
                <li key={w} className="warning">
                  {w}
                </li>
              ))}
            </ul>
          </div>
        )}
        {job && (
          <div className="upload-progress" role="status">
            <progress value={job.processed} max={job.total || 1} aria-label="Clone progress" />{' '}
            {job.total ? `${Math.round((100 * job.processed) / job.total)}%` : 'starting…'}
            <button
              type="button"
              onClick={() => void cloneApi.cancel(job.id).catch((e) => setError(toApiError(e)))}
            >
              Cancel
            </button>
          </div>
        )}
        <ErrorBox error={error} />
        <div className="dialog-buttons">
          <button type="button" onClick={onClose} disabled={job !== undefined}>
            Close
          </button>
          <button type="submit" className="primary" disabled={job !== undefined}>
            Clone
          </button>
        </div>
      </form>
    </Dialog>
  );
}
