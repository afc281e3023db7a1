// Per-domain status files (libvirt's /run/libvirt/qemu/NAME.xml): what a restarted tvirtd needs to
// find a running QEMU again and control it: pid, QMP socket, live XML, state. Written atomically.
import { join } from 'node:path';
import { writeFileAtomic } from '../../host/atomic-file.js';
import { listDir, mkdirp, readFileIfExists, removeIfExists } from '../../host/fs-util.js';
import type { DomainStateName } from '../connection.js';

export const STATUS_VERSION = 1;

/** The status of one running domain. */
export interface DomainStatus {
  version: number;
  name: string;
  uuid: string;
  id: number;
  pid: number;
  /** QMP monitor UNIX socket. */
  monitorPath: string;
  /** Per-run directory (monitor, channel sockets). */
  runtimeDir: string;
  logPath: string;
  state: DomainStateName;
  reason: string;
  /** Live XML (formatDomain, secure): runtime facts included, for people and tools. */
  liveXml: string;
  /** The live definition itself (exact: the XML parser drops autoport ports, as libvirt's does). */
  liveDef: unknown;
  /** Whether the domain had a persistent definition when this was written. */
  persistent: boolean;
  /** Epoch ms of the start. */
  startedAt: number;
  /** VNC/SPICE ports this run holds (released at stop). */
  ports: number[];
  /** Pending fake reboot (ACPI reboot requested, guest not yet powered off). */
  fakeReboot?: boolean;
}

/** Reads and writes DIR/NAME.json. */
export class StatusStore {
  constructor(readonly dir: string) {}

  pathOf(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  async save(st: DomainStatus): Promise<void> {
    await mkdirp(this.dir, 0o755);
    // noSync: runtime state lives in a tmpfs-like run dir; a host crash ends the guests anyway.
    await writeFileAtomic(this.pathOf(st.name), `${JSON.stringify(st, null, 1)}\n`, {
      mode: 0o600,
      noSync: true,
    });
  }

  async remove(name: string): Promise<void> {
    await removeIfExists(this.pathOf(name));
  }

  /** Every readable status file; unreadable ones are reported through `onBad` and skipped. */
  async loadAll(onBad: (file: string, err: unknown) => void): Promise<DomainStatus[]> {
    const out: DomainStatus[] = [];
    for (const f of await listDir(this.dir)) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      const path = join(this.dir, f);
      try {
        const text = await readFileIfExists(path);
        if (text === undefined) continue;
        const st = JSON.parse(text) as DomainStatus;
        if (st.version !== STATUS_VERSION || typeof st.pid !== 'number' || !st.monitorPath)
          throw new Error(`unsupported status file version or content`);
        out.push(st);
      } catch (e) {
        onBad(path, e);
      }
    }
    return out;
  }
}
