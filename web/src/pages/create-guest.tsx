// Create a guest: name, memory, vCPUs; boot from a kernel (+ initrd), an existing disk image or an
// ISO volume; optionally a new disk in a storage pool; network; VNC display; then start it.
// Or a clone of a template (a shut-off guest): the clone job with progress and Cancel, then the
// memory and vCPUs asked for, then start it and open its console.
import { type FormEvent, useEffect, useState } from 'react';
import {
  type ApiError,
  type NetworkSummary,
  type StorageVolInfo,
  api,
  netApi,
  storageApi,
  toApiError,
} from '../api';
import { CloneProgress, useCloneJob } from '../components/clone-job';
import { ErrorBox } from '../components/error-box';
import { applyResources } from '../components/resources-form';
import { type NewGuest, checkDomainXml, newGuestXml, pickDomainType, volumeFormat } from '../domain-xml';
import { newVolumeXml } from '../domain-xml-net';
import { guestPath, navigate } from '../router';
import { useGuests } from '../store';

/** Opens a guest just created: its console (graphical when it has VNC) after starting it, or its page. */
async function openNew(name: string, start: boolean, vnc?: boolean): Promise<void> {
  if (start) {
    await api.action(name, 'start');
    const graphical = vnc ?? /<graphics\s[^>]*type=['"]vnc['"]/.test((await api.xml(name)).xml);
    navigate(guestPath(name, graphical ? 'display' : 'console'));
  } else navigate(guestPath(name));
}

/** A volume name not in use in the pool: NAME.qcow2, NAME-1.qcow2, ... (as virt-manager picks one). */
export function freeVolumeName(base: string, taken: Set<string>, ext = '.qcow2'): string {
  for (let n = 0; ; n++) {
    const name = `${base}${n ? `-${n}` : ''}${ext}`;
    if (!taken.has(name)) return name;
  }
}

/** The format of the disk image at `path` when a pool holds it (its volume's XML says), or undefined. */
async function diskFormat(path: string): Promise<string | undefined> {
  try {
    const vol = await storageApi.volumeByPath(path);
    return volumeFormat((await storageApi.volumeXml(vol.pool, vol.name)).xml) ?? vol.format;
  } catch {
    return undefined; // not a pool volume: guessed from the name
  }
}

export function CreateGuestPage() {
  const [g, setG] = useState<NewGuest>({
    name: '',
    memoryMiB: 512,
    vcpus: 1,
    boot: 'kernel',
    kernel: '',
    initrd: '',
    cmdline: 'console=ttyS0',
    disk: '',
    cdrom: '',
    vnc: false,
    network: 'user',
    networkName: '',
    domainType: 'qemu',
    arch: 'x86_64',
  });
  const [volumes, setVolumes] = useState<StorageVolInfo[]>([]);
  const [networks, setNetworks] = useState<NetworkSummary[]>([]);
  const [activePools, setActivePools] = useState<string[]>([]);
  const [newDisk, setNewDisk] = useState({ enabled: false, pool: '', sizeGiB: 8 });
  const [start, setStart] = useState(true);
  const [error, setError] = useState<ApiError>();
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  // A clone of a template instead of a new definition; memory and vCPUs empty: as the template.
  const [fromTemplate, setFromTemplate] = useState(false);
  const [tpl, setTpl] = useState({ template: '', memoryMiB: '', vcpus: '', linked: false });
  const { guests } = useGuests();
  const templates = guests.filter((x) => x.state === 'shutoff').map((x) => x.name);
  const afterClone = async (name: string) => {
    setBusy(true);
    try {
      const memMiB = tpl.memoryMiB === '' ? undefined : Number(tpl.memoryMiB);
      const vcpus = tpl.vcpus === '' ? undefined : Number(tpl.vcpus);
      if (memMiB !== undefined || vcpus !== undefined) {
        const info = await api.info(name);
        await applyResources(name, { memMiB, vcpus }, info);
      }
      await openNew(name, start);
    } catch (err) {
      const e = toApiError(err);
      setProblem(`${name} was cloned from ${tpl.template}, but a later step failed:`);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const clone = useCloneJob((name) => void afterClone(name));

  useEffect(() => {
    api.capabilities().then(
      (c) => setG((x) => ({ ...x, ...pickDomainType(c.xml) })),
      (e) => setError(toApiError(e)),
    );
    // The host's virtual networks; `default` is chosen when it is active (as virt-manager does).
    // No network driver (or an error) leaves user-mode and none.
    netApi
      .list()
      .then(({ networks: list }) => {
        setNetworks(list.sort((a, b) => a.name.localeCompare(b.name)));
        if (list.some((n) => n.name === 'default' && n.active))
          setG((x) => ({ ...x, network: 'network', networkName: 'default' }));
      })
      .catch(() => {});
    // Volumes to choose from; no storage (or an error) just means typing paths.
    storageApi
      .pools()
      .then(async ({ pools }) => {
        const active = pools.filter((p) => p.active).map((p) => p.name);
        setActivePools(active);
        setNewDisk((d) => ({ ...d, pool: active[0] ?? '' }));
        const lists = await Promise.all(
          active.map((p) => storageApi.volumes(p).catch(() => ({ volumes: [] }))),
        );
        setVolumes(lists.flatMap((l) => l.volumes));
      })
      .catch(() => {});
  }, []);

  const set = <K extends keyof NewGuest>(k: K, v: NewGuest[K]) => setG((x) => ({ ...x, [k]: v }));
  const isos = volumes.filter((v) => /\.iso$/i.test(v.name) || v.format === 'iso');
  const wantNewDisk = newDisk.enabled && g.boot !== 'disk';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setProblem(undefined);
    if (fromTemplate) {
      await clone.start(tpl.template, { name: g.name, linked: tpl.linked, start: false });
      return;
    }
    const p = checkDomainXml(newGuestXml(g));
    setProblem(p);
    if (p) return;
    setBusy(true);
    // The volume made for this guest: removed again when the guest cannot be defined.
    let made: StorageVolInfo | undefined;
    let defined: string | undefined;
    try {
      let guest = g;
      if (wantNewDisk) {
        const { volumes: inPool } = await storageApi.volumes(newDisk.pool);
        const volName = freeVolumeName(g.name, new Set(inPool.map((v) => v.name)));
        made = await storageApi.createVolume(
          newDisk.pool,
          newVolumeXml(volName, Math.round(newDisk.sizeGiB * 1024 ** 3), 'qcow2'),
        );
        guest = { ...g, disk: made.path, diskFormat: 'qcow2' };
      } else if (g.disk) {
        guest = { ...g, diskFormat: await diskFormat(g.disk) };
      }
      defined = (await api.define(newGuestXml(guest))).name;
      await openNew(defined, start, g.vnc);
    } catch (err) {
      if (defined) setProblem(`${defined} was created, but starting it failed:`);
      else if (made) {
        const vol = made;
        await storageApi.deleteVolume(vol.pool, vol.name).catch((e) => {
          setProblem(`The new disk ${vol.pool}/${vol.name} could not be removed: ${toApiError(e).message}`);
        });
      }
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="create-title">
      <h1 id="create-title">Create a guest</h1>
      <form className="form" onSubmit={submit}>
        <label>
          Name
          <input
            name="name"
            required
            pattern="[^\/\s]+"
            title="no spaces or slashes"
            value={g.name}
            onChange={(e) => set('name', e.target.value)}
          />
        </label>
        {fromTemplate ? (
          <>
            <label>
              Memory (MiB)
              <input
                name="memory"
                type="number"
                min={16}
                placeholder="as the template"
                value={tpl.memoryMiB}
                onChange={(e) => setTpl((t) => ({ ...t, memoryMiB: e.target.value }))}
              />
            </label>
            <label>
              vCPUs
              <input
                name="vcpus"
                type="number"
                min={1}
                max={256}
                placeholder="as the template"
                value={tpl.vcpus}
                onChange={(e) => setTpl((t) => ({ ...t, vcpus: e.target.value }))}
              />
            </label>
          </>
        ) : (
          <>
            <label>
              Memory (MiB)
              <input
                name="memory"
                type="number"
                min={16}
                required
                value={g.memoryMiB}
                onChange={(e) => set('memoryMiB', Number(e.target.value))}
              />
            </label>
            <label>
              vCPUs
              <input
                name="vcpus"
                type="number"
                min={1}
                max={256}
                required
                value={g.vcpus}
                onChange={(e) => set('vcpus', Number(e.target.value))}
              />
            </label>
          </>
        )}
        <fieldset>
          <legend>Boot from</legend>
          <label className="inline">
            <input
              type="radio"
              name="boot"
              checked={!fromTemplate && g.boot === 'kernel'}
              onChange={() => {
                setFromTemplate(false);
                set('boot', 'kernel');
              }}
            />{' '}
            a kernel and initrd
          </label>
          <label className="inline">
            <input
              type="radio"
              name="boot"
              checked={!fromTemplate && g.boot === 'disk'}
              onChange={() => {
                setFromTemplate(false);
                set('boot', 'disk');
              }}
            />{' '}
            an existing disk image
          </label>
          <label className="inline">
            <input
              type="radio"
              name="boot"
              checked={!fromTemplate && g.boot === 'cdrom'}
              onChange={() => {
                setFromTemplate(false);
                setG((x) => ({ ...x, boot: 'cdrom', vnc: true }));
              }}
            />{' '}
            an ISO image (install)
          </label>
          <label className="inline">
            <input type="radio" name="boot" checked={fromTemplate} onChange={() => setFromTemplate(true)} /> a
            clone of a template (a shut-off guest)
          </label>
        </fieldset>
        {fromTemplate && (
          <>
            <label>
              Template
              <select
                name="template"
                required
                value={tpl.template}
                onChange={(e) => setTpl((t) => ({ ...t, template: e.target.value }))}
              >
                <option value="">
                  {templates.length ? 'choose a guest…' : 'no shut-off guest to clone'}
                </option>
                {templates.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <label className="inline">
              <input
                type="checkbox"
                checked={tpl.linked}
                onChange={(e) => setTpl((t) => ({ ...t, linked: e.target.checked }))}
              />{' '}
              linked clone (qcow2 overlays on the template's disks: fast and small; the template must stay)
            </label>
            <p className="hint">Its disks are copied (or overlaid), its network and display kept.</p>
          </>
        )}
        {!fromTemplate && (
          <>
            {g.boot === 'kernel' && (
              <>
                <label>
                  Kernel path (on the host)
                  <input
                    name="kernel"
                    required
                    value={g.kernel}
                    onChange={(e) => set('kernel', e.target.value)}
                  />
                </label>
                <label>
                  Initrd path
                  <input name="initrd" value={g.initrd} onChange={(e) => set('initrd', e.target.value)} />
                </label>
                <label>
                  Kernel command line
                  <input name="cmdline" value={g.cmdline} onChange={(e) => set('cmdline', e.target.value)} />
                </label>
              </>
            )}
            {g.boot === 'cdrom' && (
              <label>
                ISO image
                <select name="cdrom" required value={g.cdrom} onChange={(e) => set('cdrom', e.target.value)}>
                  <option value="">
                    {isos.length ? 'choose a volume…' : 'no ISO volumes: upload one on the Storage page'}
                  </option>
                  {isos.map((v) => (
                    <option key={v.key} value={v.path}>
                      {v.pool}/{v.name}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {(g.boot === 'disk' || !wantNewDisk) && (
              <label>
                {g.boot === 'disk' ? 'Disk image path (on the host)' : 'Existing disk image path (optional)'}
                <input
                  name="disk"
                  list="volume-paths"
                  required={g.boot === 'disk'}
                  value={g.disk}
                  onChange={(e) => set('disk', e.target.value)}
                />
                <datalist id="volume-paths">
                  {volumes.map((v) => (
                    <option key={v.key} value={v.path}>
                      {v.pool}/{v.name}
                    </option>
                  ))}
                </datalist>
              </label>
            )}
            {g.boot !== 'disk' && activePools.length > 0 && (
              <fieldset className="stack">
                <legend>New disk</legend>
                <label className="inline">
                  <input
                    type="checkbox"
                    checked={newDisk.enabled}
                    onChange={(e) => setNewDisk((d) => ({ ...d, enabled: e.target.checked }))}
                  />{' '}
                  create a new disk (qcow2) for the guest
                </label>
                {newDisk.enabled && (
                  <>
                    <label>
                      Pool
                      <select
                        value={newDisk.pool}
                        onChange={(e) => setNewDisk((d) => ({ ...d, pool: e.target.value }))}
                      >
                        {activePools.map((p) => (
                          <option key={p} value={p}>
                            {p}
                          </option>
                        ))}
                      </select>
                    </label>
                    <label>
                      Size (GiB)
                      <input
                        type="number"
                        min={1}
                        required
                        value={newDisk.sizeGiB}
                        onChange={(e) => setNewDisk((d) => ({ ...d, sizeGiB: Number(e.target.value) }))}
                      />
                    </label>
                  </>
                )}
              </fieldset>
            )}
            <label>
              Network
              <select
                name="network"
                value={g.network === 'network' ? `net:${g.networkName}` : g.network}
                onChange={(e) => {
                  const v = e.target.value;
                  setG((x) =>
                    v.startsWith('net:')
                      ? { ...x, network: 'network', networkName: v.slice(4) }
                      : { ...x, network: v as 'none' | 'user', networkName: '' },
                  );
                }}
              >
                {networks.map((n) => (
                  <option key={n.uuid} value={`net:${n.name}`}>
                    virtual network '{n.name}'{n.active ? '' : ' (inactive)'}
                  </option>
                ))}
                <option value="user">user-mode (NAT by QEMU)</option>
                <option value="none">none</option>
              </select>
            </label>
            <label className="inline">
              <input type="checkbox" checked={g.vnc} onChange={(e) => set('vnc', e.target.checked)} />{' '}
              graphical display (VNC)
            </label>
          </>
        )}
        <label className="inline">
          <input type="checkbox" checked={start} onChange={(e) => setStart(e.target.checked)} /> start it and
          open its console
        </label>
        {!fromTemplate && (
          <p className="hint">
            Domain type {g.domainType}, architecture {g.arch} (from the host's capabilities).
          </p>
        )}
        {problem && (
          <div className="error" role="alert">
            <div className="error-message">{problem}</div>
          </div>
        )}
        <ErrorBox error={error ?? clone.error} />
        {clone.job && <CloneProgress job={clone.job} onCancel={clone.cancel} />}
        <div className="toolbar">
          <button type="submit" className="primary" disabled={busy || clone.job !== undefined}>
            Create
          </button>
        </div>
      </form>
    </section>
  );
}
