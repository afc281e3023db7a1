// The QEMU process layer (libvirt's qemu_process.c): spawn QEMU paused with its log, connect QMP,
// wire devices (pty paths, VNC port and password, taps), stop it (gracefully, then forcibly), and
// find it again after a daemon restart. Knows nothing of jobs, events or persistence: the driver does.
import { mkdir, rm } from 'node:fs/promises';
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import type { DomainDef } from '../../conf/domain/domain-def.js';
import {
  type ProcessExit,
  type SessionChild,
  processCmdline,
  processRunning,
  runCapture,
  signalProcess,
  spawnSession,
  tcpPortFree,
} from '../../host/process.js';
import { VirError } from '../../util/errors.js';
import {
  type QemuBuildContext,
  type QemuCommand,
  type ResolvedDiskSource,
  type TapInfo,
  buildQemuCommand,
  cpuPinning,
  defaultChannelPath,
} from './command.js';
import { appendLogLine, openStartLog, readLogTail } from './log.js';
import { type Monitor, type MonitorEvent, openMonitor } from './monitor.js';

/** Where the network driver plugs in: tap devices for <interface type='network'|'bridge'|'ethernet'>. */
export interface InterfaceHook {
  /** Creates/attaches the backends of `def`'s interfaces; one entry per interface (undefined: none). */
  prepareInterfaces(def: DomainDef): Promise<(TapInfo | undefined)[]>;
  /** Releases what prepareInterfaces created (called at every stop, also after a failed start). */
  releaseInterfaces(def: DomainDef): Promise<void>;
}

/** The hook used while no network driver is plugged in: user-mode networking only. */
export const userOnlyInterfaces: InterfaceHook = {
  async prepareInterfaces(def) {
    return def.devices.interfaces.map((n, i) => {
      if (n.type === 'user') return undefined;
      const src =
        n.type === 'network'
          ? ` (network '${n.network ?? ''}')`
          : n.type === 'bridge'
            ? ` (bridge '${n.bridge ?? ''}')`
            : '';
      throw new VirError(
        'OPERATION_UNSUPPORTED',
        `Operation not supported: interface ${i} of type '${n.type}'${src} needs the network driver, which this tvirtd does not have yet; use <interface type='user'>`,
        { domain: 'QEMU' },
      );
    });
  },
  async releaseInterfaces() {},
};

/** Hands out VNC/SPICE ports from 5900 upward: never one we hold, never one someone listens on. */
export class PortAllocator {
  private readonly held = new Set<number>();
  constructor(
    readonly from = 5900,
    readonly to = 65535,
  ) {}

  async acquire(): Promise<number> {
    for (let p = this.from; p <= this.to; p++) {
      if (this.held.has(p)) continue;
      this.held.add(p);
      if (await tcpPortFree(p)) return p;
      this.held.delete(p);
    }
    throw new VirError(
      'INTERNAL_ERROR',
      `internal error: Unable to find an unused port in range 'display' (${this.from}-${this.to})`,
      {
        domain: 'QEMU',
      },
    );
  }
  /** Marks ports of a reconnected domain as taken. */
  hold(ports: number[]): void {
    for (const p of ports) this.held.add(p);
  }
  release(ports: number[]): void {
    for (const p of ports) this.held.delete(p);
  }
}

/** A running (or just ended) QEMU of one domain. */
export class QemuProcess {
  /** True once the process is gone (exited, reaped or vanished). */
  gone = false;
  exit: ProcessExit | undefined;
  /** Set by whoever stops QEMU on purpose (destroy, shutdown...): its exit is then no crash. */
  stopReason: string | undefined;
  /** An ACPI reboot was asked for: on the guest's SHUTDOWN, reset instead of stopping. */
  fakeReboot = false;
  /** The STOP that follows a SHUTDOWN under -no-shutdown is not a pause. */
  ignoreNextStop = false;
  /** A disk error paused the guest (werror=stop): the next STOP is paused (ioerror). */
  ioError = false;
  readonly goneP: Promise<void>;
  private markGone!: () => void;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly exitListeners: (() => void)[] = [];
  /** We let go of it (daemon shutdown): stop watching. */
  private detached = false;

  constructor(
    readonly pid: number,
    readonly monitorPath: string,
    readonly runtimeDir: string,
    readonly logPath: string,
    readonly startedAt: number,
    readonly ports: number[],
    readonly child?: SessionChild,
  ) {
    this.goneP = new Promise((r) => {
      this.markGone = r;
    });
    if (child) {
      void child.exited.then((x) => {
        this.exit = x;
        this.setGone();
      });
    } else {
      // Not our child (daemon restarted): poll, and check at once when the monitor closes.
      this.pollTimer = setInterval(() => void this.check(), 500);
      this.pollTimer.unref();
    }
  }

  mon!: Monitor;

  /** Registers the handler for the process going away (called once). */
  onGone(listener: () => void): void {
    if (this.gone) queueMicrotask(listener);
    else this.exitListeners.push(listener);
  }

  /** Re-checks liveness of a process that is not our child. */
  async check(): Promise<void> {
    if (this.gone || this.child || this.detached) return;
    if (!(await processRunning(this.pid))) this.setGone();
  }

  /** The monitor closed: QEMU is most likely exiting; look every 20 ms for a while, not every 500. */
  async checkSoon(): Promise<void> {
    for (let i = 0; i < 150 && !this.gone && !this.child && !this.detached; i++) {
      await this.check();
      if (!this.gone) await new Promise((r) => setTimeout(r, 20));
    }
  }

  private setGone(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.markGone();
    for (const l of this.exitListeners.splice(0)) l();
  }

  /** Waits up to `ms` for the process to go away; true when it did. */
  async waitGone(ms: number): Promise<boolean> {
    if (this.gone) return true;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => {
      t = setTimeout(() => r(false), ms);
    });
    // Without a child handle nobody tells us: poll /proc quickly while we wait.
    const fast = this.child ? undefined : setInterval(() => void this.check(), 20);
    try {
      return await Promise.race([this.goneP.then(() => true as const), timeout]);
    } finally {
      clearTimeout(t);
      if (fast) clearInterval(fast);
    }
  }

  /**
   * Stops QEMU: SIGTERM (QEMU flushes its disks and quits), then SIGKILL when it is still there
   * after `graceMs`. With `graceful`, never SIGKILL: fails with OPERATION_FAILED instead.
   */
  async kill(opts: { graceful?: boolean; graceMs?: number } = {}): Promise<void> {
    if (this.gone) return;
    signalProcess(this.pid, 'SIGTERM');
    if (await this.waitGone(opts.graceMs ?? 10_000)) return;
    if (opts.graceful)
      throw new VirError(
        'OPERATION_FAILED',
        `operation failed: failed to terminate process ${this.pid} with SIGTERM: Device or resource busy`,
        { domain: 'QEMU' },
      );
    signalProcess(this.pid, 'SIGKILL');
    if (!(await this.waitGone(5000)))
      throw new VirError(
        'OPERATION_FAILED',
        `operation failed: failed to kill process ${this.pid} with SIGKILL`,
        {
          domain: 'QEMU',
        },
      );
  }

  /** Frees what the run used on the host (runtime dir). Call once the process is gone. */
  async cleanup(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.mon?.close().catch(() => {});
    await rm(this.runtimeDir, { recursive: true, force: true }).catch(() => {});
  }

  /** Detaches from a QEMU that keeps running (daemon shutdown): monitor closed, nothing stopped. */
  async detach(): Promise<void> {
    this.detached = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.exitListeners.length = 0;
    await this.mon?.close().catch(() => {});
  }
}

export interface StartParams {
  /** The definition to run; gets the runtime facts (id, VNC port, pty paths, tap names). */
  live: DomainDef;
  id: number;
  /** Directory for per-run dirs (run/qemu). */
  runDir: string;
  /** The domain log file. */
  logPath: string;
  kvmAvailable: boolean;
  interfaces: InterfaceHook;
  ports: PortAllocator;
  /** Called right after the spawn (the driver writes a 'starting up' status file). */
  onSpawned?: (proc: QemuProcess) => Promise<void>;
  /** QMP events of this QEMU. */
  onEvent: (proc: QemuProcess, ev: MonitorEvent) => void;
  /** Overrides for the build context (emulator, env). */
  ctx?: Partial<QemuBuildContext>;
  /** The storage driver's lookup for <disk type='volume'> (absent: such disks are refused). */
  resolveDiskVolume?: DiskVolumeResolver;
  /** QMP connect timeout (ms). */
  monitorTimeoutMs?: number;
}

/** Resolves a pool volume to what QEMU opens (src/daemon/host-storage.ts provides one). */
export type DiskVolumeResolver = (
  pool: string,
  volume: string,
) => Promise<{ diskType: string; path: string; format?: string }>;

/** Paths of the type='volume' disks of `def`, by disk index (libvirt's qemuDomainPrepareDiskSource). */
async function resolveVolumes(
  def: DomainDef,
  resolve: DiskVolumeResolver | undefined,
): Promise<(ResolvedDiskSource | undefined)[] | undefined> {
  if (!def.devices.disks.some((d) => d.type === 'volume')) return undefined;
  return Promise.all(
    def.devices.disks.map(async (d) => {
      if (d.type !== 'volume') return undefined;
      const pool = d.source?.pool ?? '';
      const vol = d.source?.volume ?? '';
      if (!resolve)
        throw new VirError(
          'OPERATION_UNSUPPORTED',
          `Operation not supported: disk ${d.target.dev} uses storage pool '${pool}' volume '${vol}', but this tvirtd has no storage driver`,
          { domain: 'QEMU' },
        );
      const r = await resolve(pool, vol);
      if (r.diskType !== 'file' && r.diskType !== 'block')
        throw new VirError(
          'CONFIG_UNSUPPORTED',
          `unsupported configuration: disk ${d.target.dev}: volume '${vol}' of pool '${pool}' is of type '${r.diskType}', which tvirt cannot attach yet`,
          { domain: 'QEMU' },
        );
      return { path: r.path, kind: r.diskType, ...(r.format ? { format: r.format } : {}) };
    }),
  );
}

/** libvirt's per-run directory name: domain-ID-NAME (name cut to 20 chars for socket path length). */
export function runtimeDirName(id: number, name: string): string {
  return `domain-${id}-${name.slice(0, 20).replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

function startFailed(msg: string, cause?: unknown): VirError {
  return new VirError('OPERATION_FAILED', `operation failed: ${msg}`, { domain: 'QEMU', cause });
}

/**
 * The command line `def` would start with, without starting anything (virsh domxml-to-native
 * qemu-argv; libvirt's qemuProcessCreatePretendCmd): runtime paths as for id -1, VNC/SPICE autoport
 * as port 5900, each tap-backed interface as its <target dev> or vnetN, volumes resolved.
 */
export async function pretendQemuCommand(
  def: DomainDef,
  p: Pick<StartParams, 'runDir' | 'kvmAvailable' | 'resolveDiskVolume' | 'ctx'>,
): Promise<QemuCommand> {
  const d = structuredClone(def);
  const runtimeDir = join(p.runDir, runtimeDirName(-1, d.name));
  for (const g of d.devices.graphics) {
    if ((g.type === 'vnc' || g.type === 'spice') && (g.autoport || g.port === undefined || g.port < 0)) {
      g.port = 5900;
      g.autoport = true;
    }
  }
  const taps = d.devices.interfaces.map((nic, i) =>
    nic.type === 'network' || nic.type === 'bridge' || nic.type === 'ethernet'
      ? { ifname: nic.targetDev ?? `vnet${i}` }
      : undefined,
  );
  const diskSources = await resolveVolumes(d, p.resolveDiskVolume);
  return buildQemuCommand(
    d,
    startContext(d, p, join(runtimeDir, 'monitor.sock'), runtimeDir, taps, diskSources),
  );
}

/** The build context of a start (or a pretend one): paths, taps, volumes, the chosen ports. */
function startContext(
  def: DomainDef,
  p: Pick<StartParams, 'kvmAvailable' | 'ctx'>,
  monitorPath: string,
  runtimeDir: string,
  taps: (TapInfo | undefined)[],
  diskSources: (ResolvedDiskSource | undefined)[] | undefined,
): QemuBuildContext {
  const vnc = def.devices.graphics.find((g) => g.type === 'vnc');
  const spice = def.devices.graphics.find((g) => g.type === 'spice');
  return {
    monitorPath,
    runtimeDir,
    kvmAvailable: p.kvmAvailable,
    taps,
    ...(diskSources ? { diskSources } : {}),
    ...(vnc?.port !== undefined ? { vncPort: vnc.port } : {}),
    ...(spice?.port !== undefined ? { spicePort: spice.port } : {}),
    now: Date.now(),
    ...p.ctx,
  };
}

/**
 * Starts QEMU for `p.live`, paused (-S), and returns once QMP is negotiated and devices are wired
 * (pty paths read back, VNC password set). The caller sends `cont`. On any failure QEMU is killed,
 * what was prepared is released, and the error quotes the tail of the domain log.
 */
export async function startQemu(p: StartParams): Promise<QemuProcess> {
  const def = p.live;
  const runtimeDir = join(p.runDir, runtimeDirName(p.id, def.name));
  const monitorPath = join(runtimeDir, 'monitor.sock');
  // sun_path holds 107 bytes: say so instead of letting QEMU fail obscurely.
  if (Buffer.byteLength(monitorPath) > 107)
    throw startFailed(
      `the monitor socket path ${monitorPath} is longer than 107 bytes; use a shorter run directory (tvirtd --root)`,
    );
  await rm(runtimeDir, { recursive: true, force: true });
  await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
  const ports: number[] = [];
  let taps: (TapInfo | undefined)[] | undefined;
  let proc: QemuProcess | undefined;
  let logOffset = 0;
  try {
    for (const g of def.devices.graphics) {
      if ((g.type === 'vnc' || g.type === 'spice') && (g.autoport || g.port === undefined || g.port < 0)) {
        g.port = await p.ports.acquire();
        g.autoport = true;
        ports.push(g.port);
      }
    }
    const diskSources = await resolveVolumes(def, p.resolveDiskVolume);
    taps = await p.interfaces.prepareInterfaces(def);
    taps.forEach((t, i) => {
      if (t?.ifname) def.devices.interfaces[i]!.targetDev = t.ifname;
    });
    const cmd = buildQemuCommand(def, startContext(def, p, monitorPath, runtimeDir, taps, diskSources));
    // The live XML names the socket of a channel without a path, as libvirt's does.
    const paths = def.devices.channels.map((_, i) => defaultChannelPath(runtimeDir, def, i));
    paths.forEach((path, i) => {
      const src = def.devices.channels[i]!.source;
      if (path) Object.assign(src, { path, mode: 'bind' });
    });
    const log = await openStartLog(p.logPath, cmd);
    logOffset = log.offset;
    let child: SessionChild;
    try {
      child = await spawnSession(cmd.program, cmd.args, {
        env: { ...minimalEnv(), ...cmd.env },
        outFd: log.fd,
        cwd: '/',
      });
    } catch (e) {
      throw startFailed(`cannot execute binary ${cmd.program}: ${(e as Error).message}`, e);
    } finally {
      closeSync(log.fd);
    }
    proc = new QemuProcess(child.pid, monitorPath, runtimeDir, p.logPath, Date.now(), ports, child);
    const early = proc;
    // Recorded at once (while QEMU initialises) so that a daemon killed now finds this QEMU again.
    const recorded = p.onSpawned?.(proc).catch((e: unknown) => e);
    proc.mon = await openMonitor(monitorPath, {
      timeoutMs: p.monitorTimeoutMs ?? 30_000,
      abort: early.goneP,
    }).catch(async (e) => {
      await early.waitGone(200);
      const tail = await readLogTail(p.logPath, logOffset);
      if (early.gone) {
        const how = early.exit?.signal
          ? `killed by ${early.exit.signal}`
          : `exit code ${early.exit?.code ?? '?'}`;
        throw startFailed(
          `QEMU for domain '${def.name}' exited during start (${how}): ${tail || '(no output)'}; see ${p.logPath}`,
        );
      }
      throw startFailed(
        `cannot connect to the QMP monitor of '${def.name}' at ${monitorPath}: ${(e as Error).message}`,
        e,
      );
    });
    const notRecorded = await recorded;
    if (notRecorded) throw notRecorded;
    const running = proc;
    proc.mon.onEvent((ev) => p.onEvent(running, ev));
    await wireDevices(def, proc.mon);
    await applyCpuPinning(def, proc.pid, proc.mon);
    return proc;
  } catch (e) {
    if (proc) {
      await proc.kill({ graceMs: 2000 }).catch(() => {});
      await proc.cleanup();
    } else {
      await rm(runtimeDir, { recursive: true, force: true }).catch(() => {});
    }
    p.ports.release(ports);
    if (taps) await p.interfaces.releaseInterfaces(def).catch(() => {});
    await appendLogLine(p.logPath, 'shutting down, reason=failed');
    if (e instanceof VirError) throw e;
    const tail = await readLogTail(p.logPath, logOffset);
    throw startFailed(`${(e as Error).message}${tail ? `: ${tail}` : ''}`, e);
  }
}

/** QEMU gets a small, known environment (libvirt's virCommandAddEnvPassCommon). */
function minimalEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const k of ['HOME', 'USER', 'LOGNAME', 'TMPDIR', 'XDG_RUNTIME_DIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** Reads back pty paths and sets graphics passwords (libvirt's qemuProcessWaitForMonitor + graphics setup). */
async function wireDevices(def: DomainDef, mon: Monitor): Promise<void> {
  const d = def.devices;
  const jobs: Promise<unknown>[] = [];
  const hasPty = [...d.serials, ...d.consoles, ...d.channels].some((c) => c.source.type === 'pty');
  if (hasPty || d.channels.length) {
    jobs.push(
      mon.execute<ChardevInfo[]>('query-chardev').then((list) => {
        setChannelStates(def, list);
        for (const c of list) {
          if (!c.filename.startsWith('pty:')) continue;
          const path = c.filename.slice(4);
          const m = /^char(serial|console|channel)(\d+)$/.exec(c.label);
          if (!m) continue;
          const listOf = m[1] === 'serial' ? d.serials : m[1] === 'console' ? d.consoles : d.channels;
          const chr = listOf[Number(m[2])];
          if (chr) chr.source.path = path;
          // <console type='serial'> is serial0 under another name: it shows the same pty.
          if (m[1] === 'serial' && m[2] === '0') {
            const con = d.consoles[0];
            if (con && (con.target?.type ?? 'serial') === 'serial' && con.source.type === 'pty')
              con.source.path = path;
          }
        }
      }),
    );
  }
  for (const g of d.graphics) {
    if ((g.type === 'vnc' || g.type === 'spice') && g.passwd !== undefined) {
      jobs.push(mon.execute('set_password', { protocol: g.type, password: g.passwd, connected: 'keep' }));
    }
  }
  // <link state='down'/>: QEMU has no device property for it; libvirt's qemuProcessSetLinkStates.
  d.interfaces.forEach((n, i) => {
    if (n.linkState === 'down') jobs.push(mon.execute('set_link', { name: `net${i}`, up: false }));
  });
  // <memballoon><stats period='N'/>: libvirt's qemuMonitorSetMemoryStatsPeriod.
  const mb = d.memballoon;
  if (mb && mb.model !== 'none' && mb.period !== undefined && mb.period > 0)
    jobs.push(
      mon.execute('qom-set', {
        path: BALLOON_PATH,
        property: 'guest-stats-polling-interval',
        value: mb.period,
      }),
    );
  await Promise.all(jobs);
}

interface ChardevInfo {
  label: string;
  filename: string;
  'frontend-open'?: boolean;
}

/**
 * Sets <target state='connected'|'disconnected'> of the virtio channels from query-chardev (is the
 * guest side of the port open?), libvirt's qemuProcessRefreshChannelVirtioState. Returns true when
 * a state changed. VSERPORT_CHANGE events keep it current afterwards (qemu-domains.ts).
 */
export function setChannelStates(def: DomainDef, list: ChardevInfo[]): boolean {
  let changed = false;
  for (const c of list) {
    const m = /^charchannel(\d+)$/.exec(c.label);
    const ch = m ? def.devices.channels[Number(m[1])] : undefined;
    if (!ch || c['frontend-open'] === undefined || (ch.target?.type ?? 'virtio') !== 'virtio') continue;
    const state = c['frontend-open'] ? 'connected' : 'disconnected';
    if (ch.target?.state === state) continue;
    ch.target = { ...ch.target, state };
    changed = true;
  }
  return changed;
}

/** Re-reads the channel states of a running QEMU (daemon restart: events were missed). */
export async function refreshChannelStates(def: DomainDef, mon: Monitor): Promise<boolean> {
  if (!def.devices.channels.length) return false;
  return setChannelStates(def, await mon.execute<ChardevInfo[]>('query-chardev'));
}

/** QOM path of the memory balloon (its device id is balloon0). */
export const BALLOON_PATH = '/machine/peripheral/balloon0';

/**
 * Pins QEMU's threads as <cputune><vcpupin>/<emulatorpin> and <vcpu cpuset> ask (libvirt does it
 * with sched_setaffinity, and cgroups when it has them; Node cannot call sched_setaffinity, so
 * util-linux taskset does): first every thread of the process to the emulator set, then each vCPU
 * thread (from query-cpus-fast) to its own set. Runs before the vCPUs start. Threads QEMU creates
 * later inherit the affinity of the thread creating them.
 */
async function applyCpuPinning(def: DomainDef, pid: number, mon: Monitor): Promise<void> {
  const plan = cpuPinning(def);
  if (!plan) return;
  const taskset = async (args: string[]) => {
    try {
      await runCapture('taskset', args);
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw startFailed(
        `cannot set CPU affinity (taskset ${args.join(' ')}): ${(err.stderr || err.message).trim()}`,
      );
    }
  };
  if (plan.emulator !== undefined) await taskset(['-a', '-p', '-c', plan.emulator, String(pid)]);
  if (plan.vcpus.every((v) => v === undefined)) return;
  const cpus = await mon.execute<{ 'cpu-index': number; 'thread-id': number }[]>('query-cpus-fast');
  const byThread = new Map<number, string>();
  for (const c of cpus) {
    const set = plan.vcpus[c['cpu-index']];
    if (set === undefined) continue;
    const other = byThread.get(c['thread-id']);
    // Single-threaded TCG runs every vCPU on one thread: it cannot follow different pins.
    if (other !== undefined && other !== set)
      throw startFailed(
        `vCPUs pinned to different host CPUs share QEMU thread ${c['thread-id']} (single-threaded TCG); pin them alike`,
      );
    byThread.set(c['thread-id'], set);
  }
  for (const [tid, set] of byThread) await taskset(['-p', '-c', set, String(tid)]);
}

/**
 * Finds a QEMU again from its status (daemon restart): the pid must be alive and be the QEMU we
 * started (its argv names the guest and the monitor socket). Returns undefined when it is gone.
 */
export async function reconnectQemu(st: {
  pid: number;
  name: string;
  monitorPath: string;
  runtimeDir: string;
  logPath: string;
  startedAt: number;
  ports: number[];
  onEvent: (proc: QemuProcess, ev: MonitorEvent) => void;
}): Promise<{ proc: QemuProcess; running: boolean; reason: string } | undefined> {
  if (!(await processRunning(st.pid))) return undefined;
  const argv = await processCmdline(st.pid);
  if (!argv) return undefined;
  const nameArg = argv[argv.indexOf('-name') + 1] ?? '';
  if (
    !nameArg.startsWith(`guest=${st.name.replace(/,/g, ',,')}`) ||
    !argv.some((a) => a.includes(st.monitorPath))
  )
    return undefined;
  const proc = new QemuProcess(st.pid, st.monitorPath, st.runtimeDir, st.logPath, st.startedAt, st.ports);
  try {
    proc.mon = await openMonitor(st.monitorPath, { timeoutMs: 5000, abort: proc.goneP });
  } catch (e) {
    await proc.detach();
    throw new VirError(
      'OPERATION_FAILED',
      `operation failed: cannot reconnect to the QMP monitor of '${st.name}': ${(e as Error).message}`,
      {
        domain: 'QEMU',
        cause: e,
      },
    );
  }
  proc.mon.onEvent((ev) => st.onEvent(proc, ev));
  proc.mon.onClose(() => void proc.checkSoon());
  const s = await proc.mon.execute<{ running: boolean; status: string }>('query-status');
  return { proc, running: s.running, reason: s.status };
}

/** SIGKILLs `pid` when it still is the QEMU with this monitor socket (never someone else's process). */
export async function killIfOurs(pid: number, monitorPath: string): Promise<void> {
  const argv = await processCmdline(pid);
  if (argv?.some((a) => a.includes(monitorPath))) signalProcess(pid, 'SIGKILL');
}
