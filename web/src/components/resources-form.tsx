// Change a guest's vCPUs and memory in its persistent definition (a running guest gets them at its
// next start); raises the maximums first when the new values need it.
import { type FormEvent, useState } from 'react';
import { type ApiError, resourceApi, toApiError } from '../api';
import { ErrorBox } from './error-box';

/** Sets vCPUs and memory (those given) in the persistent definition, raising the maximums first. */
export async function applyResources(
  name: string,
  want: { vcpus?: number; memMiB?: number },
  now: { vcpus: number; memoryKiB: number; maxMemoryKiB: number },
): Promise<void> {
  const count = want.vcpus;
  if (count !== undefined && count !== now.vcpus) {
    if (count > now.vcpus) await resourceApi.setVcpus(name, count, true);
    await resourceApi.setVcpus(name, count);
  }
  if (want.memMiB !== undefined) {
    const kib = want.memMiB * 1024;
    if (kib !== now.memoryKiB) {
      if (kib > now.maxMemoryKiB) await resourceApi.setMaxMemory(name, kib);
      await resourceApi.setMemory(name, kib);
    }
  }
}

export function ResourcesForm({
  name,
  vcpus,
  memoryKiB,
  maxMemoryKiB,
  running,
  onDone,
}: {
  name: string;
  vcpus: number;
  memoryKiB: number;
  maxMemoryKiB: number;
  running: boolean;
  onDone: () => void;
}) {
  const [count, setCount] = useState(vcpus);
  const [memMiB, setMemMiB] = useState(Math.round(memoryKiB / 1024));
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await applyResources(name, { vcpus: count, memMiB }, { vcpus, memoryKiB, maxMemoryKiB });
      onDone();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" onSubmit={submit} aria-label="Change vCPUs and memory">
      <label>
        vCPUs
        <input
          type="number"
          min={1}
          max={256}
          required
          value={count}
          onChange={(e) => setCount(Number(e.target.value))}
        />
      </label>
      <label>
        Memory (MiB)
        <input
          type="number"
          min={16}
          required
          value={memMiB}
          onChange={(e) => setMemMiB(Number(e.target.value))}
        />
      </label>
      {running && <p className="hint">The guest is running: the new values apply at its next start.</p>}
      <ErrorBox error={error} />
      <div className="toolbar">
        <button type="submit" className="primary" disabled={busy}>
          Apply
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
