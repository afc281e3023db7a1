// The guest list: live state, a filter, and bulk start / shut down / force off with a result per guest.
import { useMemo, useState } from 'react';
import { type DomainAction, type DomainStateName, api, toApiError } from '../api';
import { ConfirmDialog } from '../components/dialog';
import { ACTION_LABELS, StateBadge, allowed } from '../components/state';
import { guestPath, href } from '../router';
import { useCanWrite } from '../session';
import { useGuests } from '../store';

const BULK: DomainAction[] = ['start', 'shutdown', 'destroy'];

interface BulkResult {
  name: string;
  outcome: 'done' | 'failed' | 'skipped';
  message: string;
}

/** "Start: 3 done, 1 skipped": done always, failed and skipped when there are any. */
function summary(items: BulkResult[]): string {
  const n = (o: BulkResult['outcome']) => items.filter((i) => i.outcome === o).length;
  const failed = n('failed');
  const skipped = n('skipped');
  return `${n('done')} done${failed ? `, ${failed} failed` : ''}${skipped ? `, ${skipped} skipped` : ''}`;
}

export function GuestsPage() {
  const { guests, loaded } = useGuests();
  const canWrite = useCanWrite();
  const [filter, setFilter] = useState('');
  const [stateFilter, setStateFilter] = useState<'' | DomainStateName>('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [results, setResults] = useState<{ action: DomainAction; items: BulkResult[] }>();
  const [confirm, setConfirm] = useState<DomainAction>();
  const [busy, setBusy] = useState(false);

  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return guests.filter(
      (g) =>
        (!f || g.name.toLowerCase().includes(f) || g.uuid.includes(f)) &&
        (!stateFilter || g.state === stateFilter),
    );
  }, [guests, filter, stateFilter]);
  const chosen = shown.filter((g) => selected.has(g.name));
  const allChosen = shown.length > 0 && chosen.length === shown.length;

  const toggle = (name: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(name)) n.delete(name);
      else n.add(name);
      return n;
    });

  const run = async (action: DomainAction) => {
    setBusy(true);
    const targets = chosen.filter((g) => allowed(action, g.state));
    const skipped = chosen.filter((g) => !allowed(action, g.state));
    const items: BulkResult[] = skipped.map((g) => ({
      name: g.name,
      outcome: 'skipped',
      message: `skipped: the guest is ${g.state}`,
    }));
    setResults({ action, items: [...items] });
    // Several at a time, not 500 at once.
    const queue = [...targets];
    const worker = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        try {
          await api.action(g.name, action);
          items.push({ name: g.name, outcome: 'done', message: 'done' });
        } catch (e) {
          items.push({ name: g.name, outcome: 'failed', message: toApiError(e).message });
        }
        setResults({ action, items: [...items] });
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    setBusy(false);
  };

  return (
    <section aria-labelledby="guests-title">
      <h1 id="guests-title">Guests</h1>
      <div className="toolbar">
        <label>
          Filter
          <input
            type="search"
            value={filter}
            placeholder="name or UUID"
            onChange={(e) => setFilter(e.target.value)}
          />
        </label>
        <label>
          State
          <select
            value={stateFilter}
            onChange={(e) => setStateFilter(e.target.value as DomainStateName | '')}
          >
            <option value="">any</option>
            <option value="running">running</option>
            <option value="paused">paused</option>
            <option value="shutoff">shut off</option>
            <option value="crashed">crashed</option>
          </select>
        </label>
        {canWrite && (
          <fieldset className="bulk">
            <legend className="sr-only">Bulk actions on the selected guests</legend>
            {BULK.map((a) => (
              <button
                key={a}
                type="button"
                className={a === 'destroy' ? 'danger' : ''}
                disabled={busy || chosen.length === 0}
                onClick={() => (a === 'destroy' ? setConfirm(a) : void run(a))}
              >
                {ACTION_LABELS[a]} {chosen.length > 0 ? `(${chosen.length})` : ''}
              </button>
            ))}
          </fieldset>
        )}
      </div>
      {results && (
        <div className="results" aria-live="polite" data-testid="bulk-results">
          <h2>
            {ACTION_LABELS[results.action]}: {summary(results.items)}
            <button type="button" className="link" onClick={() => setResults(undefined)}>
              Close
            </button>
          </h2>
          <ul>
            {results.items.map((i) => (
              <li key={i.name} className={i.outcome === 'done' ? 'ok' : i.outcome}>
                <strong>{i.name}</strong>: {i.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {!loaded ? (
        <p className="loading">Loading guests…</p>
      ) : (
        <table className="guests" data-testid="guest-table">
          <caption className="sr-only">Guests ({shown.length})</caption>
          <thead>
            <tr>
              {canWrite && (
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all shown guests"
                    checked={allChosen}
                    onChange={() => setSelected(allChosen ? new Set() : new Set(shown.map((g) => g.name)))}
                  />
                </th>
              )}
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Id</th>
              <th scope="col">Autostart</th>
              <th scope="col">Persistent</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((g) => (
              <tr key={g.uuid} data-name={g.name}>
                {canWrite && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${g.name}`}
                      checked={selected.has(g.name)}
                      onChange={() => toggle(g.name)}
                    />
                  </td>
                )}
                <td>
                  <a href={href(guestPath(g.name))}>{g.name}</a>
                </td>
                <td>
                  <StateBadge state={g.state} reason={g.reason} />
                </td>
                <td>{g.id ?? '-'}</td>
                <td>{g.autostart ? 'yes' : 'no'}</td>
                <td>{g.persistent ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loaded && shown.length === 0 && <p>No guests match.</p>}
      {confirm && (
        <ConfirmDialog
          title={`Force off ${chosen.length} guest(s)?`}
          message="Force off stops the guests at once, like pulling the power plug: unsaved data in them is lost."
          confirmLabel="Force off"
          onConfirm={() => void run(confirm)}
          onClose={() => setConfirm(undefined)}
        />
      )}
    </section>
  );
}
