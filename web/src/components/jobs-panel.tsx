// The header's view of long operations: a button with the count, opening a list with progress,
// Cancel where the job allows it, and recent failures with their messages.
import { useEffect, useState } from 'react';
import { type ApiError, toApiError } from '../api';
import { jobStore, useJobs } from '../jobs';
import { useCanWrite } from '../session';
import { ErrorBox } from './error-box';

/** Jobs shorter than this are not worth a flash in the header. */
const SHOW_AFTER_MS = 500;

export function JobsPanel() {
  const { active, failed } = useJobs();
  const canWrite = useCanWrite();
  const [open, setOpen] = useState(false);
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    if (active.length === 0) return;
    const t = window.setInterval(() => setNow(Date.now()), SHOW_AFTER_MS);
    return () => window.clearInterval(t);
  }, [active.length]);
  const shown = active.filter((j) => j.progress || now - j.startedAt >= SHOW_AFTER_MS);
  if (shown.length === 0 && failed.length === 0) return null;
  return (
    <div className="jobs">
      <button type="button" aria-expanded={open} aria-controls="jobs-list" onClick={() => setOpen(!open)}>
        Jobs: {shown.length} running{failed.length ? `, ${failed.length} failed` : ''}
      </button>
      {open && (
        <div id="jobs-list" className="jobs-list" data-testid="jobs-list">
          <ErrorBox error={error} onDismiss={() => setError(undefined)} />
          <ul>
            {shown.map((j) => (
              <li key={j.id}>
                <span>
                  {j.operation} <strong>{j.name}</strong>
                </span>
                {j.progress && j.progress.total > 0 ? (
                  <progress
                    value={j.progress.processed}
                    max={j.progress.total}
                    aria-label={`${j.operation} ${j.name}`}
                  >
                    {Math.round((100 * j.progress.processed) / j.progress.total)}%
                  </progress>
                ) : (
                  <span className="muted">running…</span>
                )}
                {canWrite && j.cancellable && (
                  <button
                    type="button"
                    onClick={() => jobStore.cancel(j.id).catch((e) => setError(toApiError(e)))}
                  >
                    Cancel
                  </button>
                )}
              </li>
            ))}
            {failed.map((f) => (
              <li key={f.id} className="failed">
                <span>
                  {f.operation} <strong>{f.name}</strong> failed: {f.message}
                </span>
                <button type="button" className="link" onClick={() => jobStore.dismiss(f.id)}>
                  Dismiss
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
