// Clone a shut-off guest: the plan first (which disks are copied, or overlaid when linked), then
// the clone job with its progress and Cancel; opens the clone when it is done.
import { type FormEvent, useEffect, useState } from 'react';
import { type ClonePlan, cloneApi, toApiError } from '../api';
import { kib } from '../format';
import { guestPath, navigate } from '../router';
import { CloneProgress, useCloneJob } from './clone-job';
import { Dialog } from './dialog';
import { ErrorBox } from './error-box';

export function CloneDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const [cloneName, setCloneName] = useState(`${name}-clone`);
  const [linked, setLinked] = useState(false);
  const [start, setStart] = useState(false);
  const [plan, setPlan] = useState<ClonePlan>();
  const done = (clone: string) => {
    onClose();
    navigate(guestPath(clone));
  };
  const { job, error, setError, start: startClone, cancel } = useCloneJob(done);
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
  }, [name, cloneName, linked, setError]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void startClone(name, { name: cloneName, linked, start });
  };

  return (
    <Dialog title={`Clone ${name}`} onClose={job ? () => {} : onClose}>
      <form className="form" onSubmit={submit} aria-label="Clone">
        <label>
          Name of the clone
          <input
            required
            pattern="[^\/\s]+"
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
        {job && <CloneProgress job={job} onCancel={cancel} />}
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
