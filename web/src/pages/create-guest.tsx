// Create a guest: name, memory, vCPUs, boot from a kernel (+ initrd) or an existing disk, network.
import { type FormEvent, useEffect, useState } from 'react';
import { type ApiError, api, toApiError } from '../api';
import { ErrorBox } from '../components/error-box';
import { type NewGuest, checkDomainXml, newGuestXml, pickDomainType } from '../domain-xml';
import { guestPath, navigate } from '../router';

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
    network: 'user',
    domainType: 'qemu',
    arch: 'x86_64',
  });
  const [start, setStart] = useState(true);
  const [error, setError] = useState<ApiError>();
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.capabilities().then(
      (c) => setG((x) => ({ ...x, ...pickDomainType(c.xml) })),
      (e) => setError(toApiError(e)),
    );
  }, []);

  const set = <K extends keyof NewGuest>(k: K, v: NewGuest[K]) => setG((x) => ({ ...x, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const xml = newGuestXml(g);
    const p = checkDomainXml(xml);
    setProblem(p);
    if (p) return;
    setBusy(true);
    try {
      const d = await api.define(xml);
      if (start) await api.action(d.name, 'start');
      navigate(guestPath(d.name, start ? 'console' : undefined));
    } catch (err) {
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
            pattern="[^/\s]+"
            title="no spaces or slashes"
            value={g.name}
            onChange={(e) => set('name', e.target.value)}
          />
        </label>
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
        <fieldset>
          <legend>Boot from</legend>
          <label className="inline">
            <input
              type="radio"
              name="boot"
              checked={g.boot === 'kernel'}
              onChange={() => set('boot', 'kernel')}
            />{' '}
            a kernel and initrd
          </label>
          <label className="inline">
            <input
              type="radio"
              name="boot"
              checked={g.boot === 'disk'}
              onChange={() => set('boot', 'disk')}
            />{' '}
            an existing disk image
          </label>
        </fieldset>
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
        <label>
          {g.boot === 'disk' ? 'Disk image path (on the host)' : 'Disk image path (optional)'}
          <input
            name="disk"
            required={g.boot === 'disk'}
            value={g.disk}
            onChange={(e) => set('disk', e.target.value)}
          />
        </label>
        <label>
          Network
          <select
            name="network"
            value={g.network}
            onChange={(e) => set('network', e.target.value as 'none' | 'user')}
          >
            <option value="user">user-mode (NAT by QEMU)</option>
            <option value="none">none</option>
          </select>
        </label>
        <label className="inline">
          <input type="checkbox" checked={start} onChange={(e) => setStart(e.target.checked)} /> start it and
          open its console
        </label>
        <p className="hint">
          Domain type {g.domainType}, architecture {g.arch} (from the host's capabilities).
        </p>
        {problem && (
          <div className="error" role="alert">
            <div className="error-message">{problem}</div>
          </div>
        )}
        <ErrorBox error={error} />
        <div className="toolbar">
          <button type="submit" className="primary" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </section>
  );
}
