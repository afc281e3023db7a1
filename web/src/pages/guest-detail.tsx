// One guest: CPU, memory, devices, autostart, actions (destructive ones confirmed), and its XML.
import { useCallback, useEffect, useState } from 'react';
import {
  ApiError,
  type DomainAction,
  type DomainInfo,
  type StorageVolInfo,
  api,
  storageApi,
  toApiError,
} from '../api';
import { useGuestAddresses } from '../addresses';
import { CloneDialog } from '../components/clone-dialog';
import { ConfirmDialog } from '../components/dialog';
import { ResourcesForm } from '../components/resources-form';
import { ErrorBox } from '../components/error-box';
import { ACTION_LABELS, DESTRUCTIVE, StateBadge, allowed, isActive } from '../components/state';
import { type GuestDevices, parseDevices } from '../domain-xml';
import { kib } from '../format';
import { guestPath, href, navigate } from '../router';
import { useCanWrite } from '../session';
import { guestStore } from '../store';
import { XmlEditor } from './xml-editor';

/** The pool volumes behind a guest's disks (not CD-ROMs), and the disk paths no pool holds. */
async function diskVolumes(name: string): Promise<{ found: StorageVolInfo[]; kept: string[] }> {
  const { xml } = await api.xml(name, true);
  const found: StorageVolInfo[] = [];
  const kept: string[] = [];
  for (const d of parseDevices(xml).disks) {
    if (d.device !== 'disk' || d.source === '(none)') continue;
    try {
      if (d.type === 'volume') {
        const [pool, vol] = d.source.split('/');
        found.push({ pool: pool!, name: vol! } as StorageVolInfo);
      } else found.push(await storageApi.volumeByPath(d.source));
    } catch {
      kept.push(d.source);
    }
  }
  return { found, kept };
}

/** A NIC's addresses, one a line, or a dash when the guest is stopped or none is known. */
function NicAddresses({ addrs }: { addrs: string[] | undefined }) {
  if (!addrs?.length)
    return (
      <span className="muted" title="none known (the guest is stopped or has no DHCP lease yet)">
        —
      </span>
    );
  return (
    <>
      {addrs.map((a) => (
        <code key={a} className="addr">
          {a}
        </code>
      ))}
    </>
  );
}

const ACTIONS: DomainAction[] = ['start', 'shutdown', 'reboot', 'suspend', 'resume', 'reset', 'destroy'];

export function GuestDetailPage({ name, tab }: { name: string; tab: string }) {
  const canWrite = useCanWrite();
  const [info, setInfo] = useState<DomainInfo>();
  const [devices, setDevices] = useState<GuestDevices>();
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [confirm, setConfirm] = useState<DomainAction | 'delete'>();
  const [removeStorage, setRemoveStorage] = useState(false);
  const [cloning, setCloning] = useState(false);
  const [editing, setEditing] = useState(false);
  const addresses = useGuestAddresses(name, info !== undefined && isActive(info.state), devices);

  const load = useCallback(async () => {
    try {
      const [i, x] = await Promise.all([api.info(name), api.xml(name)]);
      setInfo(i);
      setDevices(parseDevices(x.xml));
    } catch (e) {
      setError(toApiError(e));
    }
  }, [name]);

  useEffect(() => {
    setInfo(undefined);
    setError(undefined);
    setNotice(undefined);
    void load();
    return guestStore.onEvent((ev) => {
      if (ev.kind === 'domain-lifecycle' && ev.name === name && ev.event !== 'undefined') void load();
    });
  }, [name, load]);

  const act = async (action: DomainAction) => {
    setBusy(action);
    setError(undefined);
    setNotice(undefined);
    try {
      await api.action(name, action);
      setNotice(`${ACTION_LABELS[action]}: done`);
      await load();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(undefined);
    }
  };

  const remove = async () => {
    setBusy('delete');
    setError(undefined);
    setNotice(undefined);
    try {
      // As virsh undefine --remove-all-storage does on the client: find the disks' volumes first,
      // delete them after the undefine. CD-ROM images (install media) are kept.
      const volumes = removeStorage ? await diskVolumes(name) : { found: [], kept: [] };
      // A running guest's disks are in use: as virt-manager does, force it off first.
      if (removeStorage && info && isActive(info.state)) await api.action(name, 'destroy');
      const r = await api.undefine(name, false);
      const failed: string[] = [];
      for (const v of volumes.found)
        await storageApi.deleteVolume(v.pool, v.name).catch((e) => {
          failed.push(`${v.pool}/${v.name}: ${toApiError(e).message}`);
        });
      const kept = volumes.kept.length ? ` Not in a storage pool, so kept: ${volumes.kept.join(', ')}.` : '';
      if (failed.length)
        setError(
          new ApiError(
            `${name} was deleted, but not all of its disks: ${failed.join('; ')}`,
            0,
            'OPERATION_FAILED',
          ),
        );
      if (r.becameTransient || failed.length || kept) {
        setNotice(
          `${r.becameTransient ? `${name} is no longer defined; it disappears when it stops.` : `${name} was deleted.`}${kept}`,
        );
        if (r.becameTransient) await load();
      } else navigate('/guests');
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(undefined);
    }
  };

  const toggleAutostart = async (v: boolean) => {
    setError(undefined);
    try {
      await api.setAutostart(name, v);
      await load();
      void guestStore.refresh(name); // no lifecycle event tells the guest list
    } catch (e) {
      setError(toApiError(e));
    }
  };

  return (
    <section aria-labelledby="guest-title">
      <p className="crumbs">
        <a href={href('/guests')}>Guests</a> /
      </p>
      <h1 id="guest-title">
        {name} {info && <StateBadge state={info.state} reason={info.reason} />}
      </h1>
      {canWrite && info && (
        <div className="toolbar" role="toolbar" aria-label="Guest actions">
          {ACTIONS.filter((a) => allowed(a, info.state)).map((a) => (
            <button
              key={a}
              type="button"
              className={DESTRUCTIVE.includes(a) ? 'danger' : a === 'start' ? 'primary' : ''}
              disabled={busy !== undefined}
              onClick={() => (DESTRUCTIVE.includes(a) ? setConfirm(a) : void act(a))}
            >
              {ACTION_LABELS[a]}
            </button>
          ))}
          {isActive(info.state) && <a href={href(guestPath(name, 'console'))}>Serial console</a>}
          {isActive(info.state) && devices?.graphics.some((g) => g.type === 'vnc') && (
            <a href={href(guestPath(name, 'display'))}>Graphical console</a>
          )}
          {(info.state === 'shutoff' || info.state === 'paused') && (
            <button type="button" disabled={busy !== undefined} onClick={() => setCloning(true)}>
              Clone
            </button>
          )}
          {info.persistent && (
            <button
              type="button"
              className="danger"
              disabled={busy !== undefined}
              onClick={() => setConfirm('delete')}
            >
              Delete
            </button>
          )}
        </div>
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
      <nav className="tabs" aria-label="Guest pages">
        <a href={href(guestPath(name))} aria-current={tab === 'overview' ? 'page' : undefined}>
          Overview
        </a>
        <a href={href(guestPath(name, 'xml'))} aria-current={tab === 'xml' ? 'page' : undefined}>
          XML
        </a>
      </nav>
      {tab === 'xml' ? (
        <XmlEditor name={name} canWrite={canWrite} onSaved={load} />
      ) : (
        info &&
        devices && (
          <div className="cards">
            <div className="card">
              <h2>General</h2>
              <dl>
                <dt>UUID</dt>
                <dd>{info.uuid}</dd>
                <dt>Id</dt>
                <dd>{info.id ?? '-'}</dd>
                <dt>State</dt>
                <dd>
                  {info.state} ({info.reason})
                </dd>
                <dt>OS type</dt>
                <dd>{info.osType}</dd>
                <dt>Boot</dt>
                <dd>{devices.boot}</dd>
                <dt>Persistent</dt>
                <dd>{info.persistent ? 'yes' : 'no'}</dd>
                <dt>Autostart</dt>
                <dd>
                  <label>
                    <input
                      type="checkbox"
                      checked={info.autostart}
                      disabled={!canWrite || !info.persistent}
                      onChange={(e) => void toggleAutostart(e.target.checked)}
                    />{' '}
                    start with the host
                  </label>
                </dd>
              </dl>
            </div>
            <div className="card">
              <h2>
                CPU and memory
                {canWrite && info.persistent && !editing && (
                  <button type="button" className="link" onClick={() => setEditing(true)}>
                    Change
                  </button>
                )}
              </h2>
              {editing && (
                <ResourcesForm
                  name={name}
                  vcpus={info.vcpus}
                  memoryKiB={info.memoryKiB}
                  maxMemoryKiB={info.maxMemoryKiB}
                  running={isActive(info.state)}
                  onDone={() => {
                    setEditing(false);
                    void load();
                  }}
                />
              )}
              <dl>
                <dt>vCPUs</dt>
                <dd>{info.vcpus}</dd>
                <dt>CPU time</dt>
                <dd>{(info.cpuTimeNs / 1e9).toFixed(1)} s</dd>
                <dt>Memory</dt>
                <dd>{kib(info.memoryKiB)}</dd>
                <dt>Maximum memory</dt>
                <dd>{kib(info.maxMemoryKiB)}</dd>
              </dl>
            </div>
            <div className="card wide">
              <h2>Disks</h2>
              {devices.disks.length === 0 ? (
                <p>none</p>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Target</th>
                      <th scope="col">Device</th>
                      <th scope="col">Bus</th>
                      <th scope="col">Source</th>
                    </tr>
                  </thead>
                  <tbody>
                    {devices.disks.map((d) => (
                      <tr key={d.target || d.source}>
                        <td>{d.target}</td>
                        <td>{d.device}</td>
                        <td>{d.bus}</td>
                        <td>
                          <code>{d.source}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
            <div className="card wide">
              <h2>Network interfaces</h2>
              {devices.interfaces.length === 0 ? (
                <p>none</p>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Type</th>
                      <th scope="col">Source</th>
                      <th scope="col">MAC</th>
                      <th scope="col">IP address</th>
                      <th scope="col">Model</th>
                    </tr>
                  </thead>
                  <tbody>
                    {devices.interfaces.map((i, n) => (
                      <tr key={i.mac || n}>
                        <td>{i.type}</td>
                        <td>{i.source}</td>
                        <td>
                          <code>{i.mac}</code>
                        </td>
                        <td data-testid="nic-addresses">
                          <NicAddresses addrs={addresses?.get(i.mac.toLowerCase())} />
                        </td>
                        <td>{i.model}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
            <div className="card wide">
              <h2>Graphics</h2>
              {devices.graphics.length === 0 ? (
                <p>none</p>
              ) : (
                <ul>
                  {devices.graphics.map((g, n) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: graphics have no identity of their own
                    <li key={n}>
                      {g.type} {g.listen && `on ${g.listen}`} {g.port && `port ${g.port}`}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        )
      )}
      {cloning && <CloneDialog name={name} onClose={() => setCloning(false)} />}
      {confirm === 'delete' && (
        <ConfirmDialog
          title={`Delete ${name}?`}
          message={
            info && isActive(info.state)
              ? removeStorage
                ? `${name} is running: it will be forced off first (like pulling the power plug: unsaved data in it is lost), then its definition and disks are removed.`
                : `${name} is running: its definition is removed now and it disappears when it stops.`
              : `The definition of ${name} is removed.`
          }
          confirmLabel="Delete"
          onConfirm={() => void remove()}
          onClose={() => setConfirm(undefined)}
        >
          <label>
            <input
              type="checkbox"
              checked={removeStorage}
              onChange={(e) => setRemoveStorage(e.target.checked)}
            />{' '}
            also delete its disks' volumes (CD-ROM images are kept)
          </label>
        </ConfirmDialog>
      )}
      {confirm && confirm !== 'delete' && (
        <ConfirmDialog
          title={`${ACTION_LABELS[confirm]} ${name}?`}
          message={
            confirm === 'destroy'
              ? 'Force off stops the guest at once, like pulling the power plug: unsaved data in it is lost.'
              : 'Reset restarts the guest at once, like the reset button: unsaved data in it is lost.'
          }
          confirmLabel={ACTION_LABELS[confirm]}
          onConfirm={() => void act(confirm)}
          onClose={() => setConfirm(undefined)}
        />
      )}
    </section>
  );
}
