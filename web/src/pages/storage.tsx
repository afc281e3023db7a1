// Storage: pools (start/stop, autostart-free basics, delete, create a dir pool) and the volumes of
// the chosen pool (create, upload a file such as an ISO with progress and Cancel, delete).
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import {
  type ApiError,
  type StoragePoolInfo,
  type StorageVolInfo,
  storageApi,
  toApiError,
  uploadVolume,
} from '../api';
import { ConfirmDialog } from '../components/dialog';
import { ErrorBox } from '../components/error-box';
import { newDirPoolXml, newVolumeXml } from '../domain-xml-net';
import { kib } from '../format';
import { jobStore } from '../jobs';
import { href, navigate } from '../router';
import { useCanWrite } from '../session';
import { guestStore } from '../store';

const bytes = (n: number | undefined) => (n === undefined ? '-' : n < 1024 ? `${n} B` : kib(n / 1024));

type Confirm =
  | { kind: 'pool-destroy' | 'pool-delete'; pool: string }
  | { kind: 'vol-delete'; pool: string; vol: string };

export function StoragePage({ selected }: { selected: string | undefined }) {
  const canWrite = useCanWrite();
  const [pools, setPools] = useState<StoragePoolInfo[]>();
  const [error, setError] = useState<ApiError>();
  const [confirm, setConfirm] = useState<Confirm>();
  const [creating, setCreating] = useState(false);
  const [volReload, setVolReload] = useState(0);

  const load = useCallback(async () => {
    try {
      const { pools: list } = await storageApi.pools();
      const infos = await Promise.all(list.map((p) => storageApi.poolInfo(p.name).catch(() => p)));
      setPools(infos.sort((a, b) => a.name.localeCompare(b.name)));
    } catch (e) {
      setError(toApiError(e));
    }
  }, []);

  useEffect(() => {
    void load();
    return guestStore.onEvent((e) => {
      if (e.kind === 'pool-lifecycle') void load();
      if (e.kind === 'job' && e.event !== 'progress' && e.event !== 'started' && /\//.test(e.name)) {
        void load();
        setVolReload((n) => n + 1);
      }
    });
  }, [load]);

  const run = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(toApiError(e));
    }
    await load();
    setVolReload((n) => n + 1);
  };

  const current = pools?.find((p) => p.name === selected);

  return (
    <section aria-labelledby="storage-title">
      <h1 id="storage-title">Storage</h1>
      {canWrite && (
        <div className="toolbar">
          <button
            type="button"
            className="primary"
            aria-expanded={creating}
            onClick={() => setCreating(!creating)}
          >
            Create directory pool
          </button>
        </div>
      )}
      {creating && (
        <CreatePool
          onDone={async (name) => {
            setCreating(false);
            await load();
            navigate(`/storage/${encodeURIComponent(name)}`);
          }}
        />
      )}
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
      {!pools ? (
        <p className="loading">Loading pools…</p>
      ) : (
        <table data-testid="pool-table">
          <thead>
            <tr>
              <th scope="col">Pool</th>
              <th scope="col">Type</th>
              <th scope="col">State</th>
              <th scope="col">Capacity</th>
              <th scope="col">Allocation</th>
              <th scope="col">Available</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {pools.map((p) => (
              <tr key={p.uuid} data-name={p.name} aria-selected={p.name === selected}>
                <td>
                  <a href={href(`/storage/${encodeURIComponent(p.name)}`)}>{p.name}</a>
                </td>
                <td>{p.type}</td>
                <td>
                  <span className={`state ${p.active ? 'state-running' : ''}`}>
                    {p.active ? 'active' : 'inactive'}
                  </span>
                </td>
                <td>{bytes(p.capacity)}</td>
                <td>{bytes(p.allocation)}</td>
                <td>{bytes(p.available)}</td>
                <td className="row-actions">
                  {canWrite && !p.active && (
                    <button
                      type="button"
                      onClick={() => void run(() => storageApi.poolAction(p.name, 'start'))}
                    >
                      Start
                    </button>
                  )}
                  {canWrite && p.active && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => setConfirm({ kind: 'pool-destroy', pool: p.name })}
                    >
                      Stop
                    </button>
                  )}
                  {canWrite && p.persistent && !p.active && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => setConfirm({ kind: 'pool-delete', pool: p.name })}
                    >
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {current && (
        <Volumes
          pool={current}
          reload={volReload}
          onDelete={(vol) => setConfirm({ kind: 'vol-delete', pool: current.name, vol })}
          onChanged={() => void load()}
        />
      )}
      {selected && pools && !current && <p>No pool named {selected}.</p>}
      {confirm && (
        <ConfirmDialog
          title={
            confirm.kind === 'vol-delete'
              ? `Delete volume ${confirm.vol}?`
              : `${confirm.kind === 'pool-destroy' ? 'Stop' : 'Delete'} pool ${confirm.pool}?`
          }
          message={
            confirm.kind === 'vol-delete'
              ? 'The volume and its data are deleted for good.'
              : confirm.kind === 'pool-destroy'
                ? 'Its volumes are unavailable until the pool is started again (their data stays).'
                : 'The definition of the pool is removed (the directory and its files stay).'
          }
          confirmLabel={confirm.kind === 'pool-destroy' ? 'Stop' : 'Delete'}
          onConfirm={() =>
            void run(() =>
              confirm.kind === 'vol-delete'
                ? storageApi.deleteVolume(confirm.pool, confirm.vol)
                : confirm.kind === 'pool-destroy'
                  ? storageApi.poolAction(confirm.pool, 'destroy')
                  : storageApi.undefinePool(confirm.pool),
            )
          }
          onClose={() => setConfirm(undefined)}
        />
      )}
    </section>
  );
}

function Volumes({
  pool,
  reload,
  onDelete,
  onChanged,
}: {
  pool: StoragePoolInfo;
  reload: number;
  onDelete: (vol: string) => void;
  onChanged: () => void;
}) {
  const canWrite = useCanWrite();
  const [vols, setVols] = useState<StorageVolInfo[]>();
  const [error, setError] = useState<ApiError>();

  // biome-ignore lint/correctness/useExhaustiveDependencies: `reload` asks for a fresh list
  const load = useCallback(async () => {
    if (!pool.active) {
      setVols([]);
      return;
    }
    try {
      const { volumes } = await storageApi.volumes(pool.name);
      setVols(volumes.sort((a, b) => a.name.localeCompare(b.name)));
      setError(undefined);
    } catch (e) {
      setError(toApiError(e));
    }
  }, [pool.name, pool.active, reload]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="card wide volumes" data-testid="volumes">
      <h2>Volumes in {pool.name}</h2>
      {!pool.active && <p>The pool is not active: start it to see and change its volumes.</p>}
      <ErrorBox error={error} />
      {vols && vols.length > 0 && (
        <table data-testid="volume-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Format</th>
              <th scope="col">Capacity</th>
              <th scope="col">Allocation</th>
              <th scope="col">Path</th>
              {canWrite && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {vols.map((v) => (
              <tr key={v.key} data-name={v.name}>
                <td>{v.name}</td>
                <td>{v.format ?? v.type}</td>
                <td>{bytes(v.capacity)}</td>
                <td>{bytes(v.allocation)}</td>
                <td>
                  <code>{v.path}</code>
                </td>
                {canWrite && (
                  <td>
                    <button type="button" className="danger" onClick={() => onDelete(v.name)}>
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {vols && vols.length === 0 && pool.active && <p>No volumes.</p>}
      {canWrite && pool.active && (
        <div className="volume-forms">
          <CreateVolume
            pool={pool.name}
            onDone={() => {
              void load();
              onChanged();
            }}
          />
          <UploadVolume
            pool={pool.name}
            onDone={() => {
              void load();
              onChanged();
            }}
          />
        </div>
      )}
    </div>
  );
}

function CreatePool({ onDone }: { onDone: (name: string) => void }) {
  const [name, setName] = useState('');
  const [path, setPath] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const p = await storageApi.definePool(newDirPoolXml(name, path));
      await storageApi.poolAction(p.name, 'build');
      await storageApi.poolAction(p.name, 'start');
      onDone(p.name);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form card" onSubmit={submit} aria-label="Create directory pool">
      <label>
        Pool name
        <input required pattern="[^\/\s]+" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Directory (on the host; created if missing)
        <input
          required
          value={path}
          onChange={(e) => setPath(e.target.value)}
          placeholder="/var/lib/tvirt/images2"
        />
      </label>
      <ErrorBox error={error} />
      <div className="toolbar">
        <button type="submit" className="primary" disabled={busy}>
          Create and start
        </button>
      </div>
    </form>
  );
}

function CreateVolume({ pool, onDone }: { pool: string; onDone: () => void }) {
  const [name, setName] = useState('');
  const [sizeMiB, setSizeMiB] = useState(1024);
  const [format, setFormat] = useState('qcow2');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await storageApi.createVolume(pool, newVolumeXml(name, sizeMiB * 1024 * 1024, format));
      setName('');
      onDone();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" onSubmit={submit} aria-label="Create volume">
      <h3>New volume</h3>
      <label>
        Volume name
        <input required pattern="[^\/\s]+" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Size (MiB)
        <input
          type="number"
          min={1}
          required
          value={sizeMiB}
          onChange={(e) => setSizeMiB(Number(e.target.value))}
        />
      </label>
      <label>
        Format
        <select value={format} onChange={(e) => setFormat(e.target.value)}>
          <option value="qcow2">qcow2</option>
          <option value="raw">raw</option>
        </select>
      </label>
      <ErrorBox error={error} />
      <div className="toolbar">
        <button type="submit" disabled={busy}>
          Create volume
        </button>
      </div>
    </form>
  );
}

function UploadVolume({ pool, onDone }: { pool: string; onDone: () => void }) {
  const fileRef = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState<{ sent: number; total: number }>();
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  const upload = useRef<{ abort: () => void; tag: string }>(undefined);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const file = fileRef.current?.files?.[0];
    if (!file) return;
    const vol = name || file.name;
    setError(undefined);
    setDone(undefined);
    setProgress({ sent: 0, total: file.size });
    const tag = `web-upload-${crypto.randomUUID()}`;
    let created = false;
    try {
      await storageApi.createVolume(pool, newVolumeXml(vol, Math.max(file.size, 1), 'raw'));
      created = true;
      const u = uploadVolume(pool, vol, file, tag, (sent, total) => setProgress({ sent, total }));
      upload.current = { abort: u.abort, tag };
      await u.done;
      setDone(`${vol}: ${bytes(file.size)} uploaded`);
      setName('');
      if (fileRef.current) fileRef.current.value = '';
    } catch (err) {
      const e = toApiError(err);
      // Cancelled or failed: the volume made for the upload goes again (it holds no whole file).
      if (created)
        await storageApi.deleteVolume(pool, vol).catch((d) => {
          e.message += `; the volume ${vol} could not be removed: ${toApiError(d).message}`;
        });
      setError(e);
    } finally {
      upload.current = undefined;
      setProgress(undefined);
      onDone();
    }
  };

  const cancel = () => {
    const u = upload.current;
    if (!u) return;
    // Cancel the daemon's job (it removes what was written); stop sending either way.
    const job = jobStore.get().active.find((j) => j.uuid === u.tag);
    if (job) void jobStore.cancel(job.id).catch(() => {});
    u.abort();
  };

  return (
    <form className="form" onSubmit={submit} aria-label="Upload volume">
      <h3>Upload a file (an ISO image, a disk image)</h3>
      <label>
        File
        <input ref={fileRef} type="file" required />
      </label>
      <label>
        Volume name (default: the file's name)
        <input pattern="[^\/\s]*" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      {progress && (
        <div className="upload-progress">
          <progress value={progress.sent} max={progress.total || 1} aria-label="Upload progress" />{' '}
          {Math.round((100 * progress.sent) / (progress.total || 1))}%
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        </div>
      )}
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      <ErrorBox error={error} />
      <div className="toolbar">
        <button type="submit" disabled={progress !== undefined}>
          Upload
        </button>
      </div>
    </form>
  );
}
