// Virtual networks: list, start/stop, autostart, delete, DHCP leases, and create a NAT or
// isolated network with a DHCP range.
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { type ApiError, type NetworkLease, type NetworkSummary, netApi, toApiError } from '../api';
import { ConfirmDialog } from '../components/dialog';
import { ErrorBox } from '../components/error-box';
import { type NewNetwork, newNetworkXml } from '../domain-xml-net';
import { useCanWrite } from '../session';
import { guestStore } from '../store';

export function NetworksPage() {
  const canWrite = useCanWrite();
  const [nets, setNets] = useState<NetworkSummary[]>();
  const [error, setError] = useState<ApiError>();
  const [confirm, setConfirm] = useState<{ name: string; what: 'destroy' | 'delete' }>();
  const [leases, setLeases] = useState<{ name: string; leases?: NetworkLease[]; error?: ApiError }>();
  const [creating, setCreating] = useState(false);

  const load = useCallback(async () => {
    try {
      const { networks } = await netApi.list();
      setNets(networks.sort((a, b) => a.name.localeCompare(b.name)));
    } catch (e) {
      setError(toApiError(e));
    }
  }, []);

  useEffect(() => {
    void load();
    return guestStore.onEvent((e) => {
      if (e.kind === 'network-lifecycle') void load();
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
  };

  const showLeases = async (name: string) => {
    setLeases({ name });
    try {
      setLeases({ name, leases: (await netApi.leases(name)).leases });
    } catch (e) {
      setLeases({ name, error: toApiError(e) });
    }
  };

  return (
    <section aria-labelledby="networks-title">
      <h1 id="networks-title">Networks</h1>
      {canWrite && (
        <div className="toolbar">
          <button
            type="button"
            className="primary"
            aria-expanded={creating}
            onClick={() => setCreating(!creating)}
          >
            Create network
          </button>
        </div>
      )}
      {creating && (
        <CreateNetwork
          onDone={async () => {
            setCreating(false);
            await load();
          }}
        />
      )}
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
      {!nets ? (
        <p className="loading">Loading networks…</p>
      ) : (
        <table data-testid="network-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Bridge</th>
              <th scope="col">Autostart</th>
              <th scope="col">Persistent</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {nets.map((n) => (
              <tr key={n.uuid} data-name={n.name}>
                <td>{n.name}</td>
                <td>
                  <span className={`state ${n.active ? 'state-running' : ''}`}>
                    {n.active ? 'active' : 'inactive'}
                  </span>
                </td>
                <td>{n.bridge ?? ''}</td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Autostart ${n.name}`}
                    checked={n.autostart}
                    disabled={!canWrite || !n.persistent}
                    onChange={(e) => void run(() => netApi.setAutostart(n.name, e.target.checked))}
                  />
                </td>
                <td>{n.persistent ? 'yes' : 'no'}</td>
                <td className="row-actions">
                  <button type="button" onClick={() => void showLeases(n.name)} disabled={!n.active}>
                    Leases
                  </button>
                  {canWrite && !n.active && (
                    <button type="button" onClick={() => void run(() => netApi.action(n.name, 'start'))}>
                      Start
                    </button>
                  )}
                  {canWrite && n.active && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => setConfirm({ name: n.name, what: 'destroy' })}
                    >
                      Stop
                    </button>
                  )}
                  {canWrite && n.persistent && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() => setConfirm({ name: n.name, what: 'delete' })}
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
      {leases && (
        <div className="card" data-testid="leases">
          <h2>
            DHCP leases of {leases.name}
            <button type="button" className="link" onClick={() => setLeases(undefined)}>
              Close
            </button>
          </h2>
          <ErrorBox error={leases.error} />
          {leases.leases &&
            (leases.leases.length === 0 ? (
              <p>No leases.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">MAC</th>
                    <th scope="col">Address</th>
                    <th scope="col">Host name</th>
                    <th scope="col">Expires</th>
                  </tr>
                </thead>
                <tbody>
                  {leases.leases.map((l) => (
                    <tr key={`${l.mac}-${l.ipaddr}`}>
                      <td>
                        <code>{l.mac}</code>
                      </td>
                      <td>
                        {l.ipaddr}/{l.prefix}
                      </td>
                      <td>{l.hostname ?? '-'}</td>
                      <td>{l.expiryTime ? new Date(l.expiryTime * 1000).toLocaleString() : 'never'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ))}
        </div>
      )}
      {confirm && (
        <ConfirmDialog
          title={`${confirm.what === 'destroy' ? 'Stop' : 'Delete'} network ${confirm.name}?`}
          message={
            confirm.what === 'destroy'
              ? 'Guests on this network lose their connectivity until it is started again.'
              : 'The definition of the network is removed (a running network stays until it is stopped).'
          }
          confirmLabel={confirm.what === 'destroy' ? 'Stop' : 'Delete'}
          onConfirm={() =>
            void run(() =>
              confirm.what === 'destroy'
                ? netApi.action(confirm.name, 'destroy')
                : netApi.undefine(confirm.name),
            )
          }
          onClose={() => setConfirm(undefined)}
        />
      )}
    </section>
  );
}

function CreateNetwork({ onDone }: { onDone: () => void }) {
  const [n, setN] = useState<NewNetwork>({
    name: '',
    mode: 'nat',
    address: '192.168.100.1',
    prefix: 24,
    dhcpStart: '192.168.100.2',
    dhcpEnd: '192.168.100.254',
  });
  const [start, setStart] = useState(true);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof NewNetwork>(k: K, v: NewNetwork[K]) => setN((x) => ({ ...x, [k]: v }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const d = await netApi.define(newNetworkXml(n));
      if (start) await netApi.action(d.name, 'start');
      onDone();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form card" onSubmit={submit} aria-label="Create network">
      <label>
        Name
        <input required pattern="[^\/\s]+" value={n.name} onChange={(e) => set('name', e.target.value)} />
      </label>
      <label>
        Mode
        <select value={n.mode} onChange={(e) => set('mode', e.target.value as 'nat' | 'isolated')}>
          <option value="nat">NAT (guests reach the outside through the host)</option>
          <option value="isolated">isolated (guests and host only)</option>
        </select>
      </label>
      <label>
        Host address (gateway)
        <input required value={n.address} onChange={(e) => set('address', e.target.value)} />
      </label>
      <label>
        Prefix length
        <input
          type="number"
          min={8}
          max={30}
          required
          value={n.prefix}
          onChange={(e) => set('prefix', Number(e.target.value))}
        />
      </label>
      <label>
        DHCP range start (empty: no DHCP)
        <input value={n.dhcpStart} onChange={(e) => set('dhcpStart', e.target.value)} />
      </label>
      <label>
        DHCP range end
        <input value={n.dhcpEnd} onChange={(e) => set('dhcpEnd', e.target.value)} />
      </label>
      <label className="inline">
        <input type="checkbox" checked={start} onChange={(e) => setStart(e.target.checked)} /> start it now
      </label>
      <ErrorBox error={error} />
      <div className="toolbar">
        <button type="submit" className="primary" disabled={busy}>
          Create
        </button>
      </div>
    </form>
  );
}
