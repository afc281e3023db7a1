// The QEMU driver (libvirt's qemu_driver.c): the public Connection entry points over the process
// layer. Definitions persist in etc/qemu/NAME.xml, running domains in run/qemu/NAME.json (status),
// every modifying call is a job on its domain, QEMU's QMP events and exits drive state and events.
import { AsyncResource } from 'node:async_hooks';
import { cpus, hostname, totalmem } from 'node:os';
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { type DomainDef, domainAssignDefaults, formatDomain, parseDomain } from '../../conf/domain/index.js';
import { ConfigStore } from '../../daemon/config-store.js';
import { JobManager } from '../../daemon/jobs.js';
import { type Logger, nullLogger } from '../../daemon/log.js';
import { removeTree } from '../../host/fs-util.js';
import { kvmUsable, processCpuTimeNs, runCapture } from '../../host/process.js';
import { VirError } from '../../util/errors.js';
import type {
  DomainInfo,
  DomainListFilter,
  DomainState,
  DomainSummary,
  DomainXMLFlags,
  HypervisorConnection,
  ModifyFlags,
  NodeInfo,
  TvirtEvent,
  VersionInfo,
} from '../connection.js';
import { channelSocketPath } from './command.js';
import { openConsole } from './console.js';
import {
  DomainList,
  type DomainObj,
  defOf,
  isActive,
  jobObject,
  matchesFilter,
  summary,
} from './domain-obj.js';
import { TVIRT_VERSION, appendLogLine, domainLogPath } from './log.js';
import type { MonitorEvent } from './monitor.js';
import {
  type InterfaceHook,
  PortAllocator,
  type QemuProcess,
  reconnectQemu,
  startQemu,
  userOnlyInterfaces,
} from './process.js';
import { type DomainStatus, STATUS_VERSION, StatusStore } from './status.js';

export interface QemuDriverOptions {
  /** qemu:///system or qemu:///session */
  uri?: string;
  /** Definitions (NAME.xml) and autostart links (autostart/NAME.xml). */
  configDir: string;
  autostartDir?: string;
  /** Status files and per-run directories (monitor sockets). */
  runDir: string;
  /** Domain logs (NAME.log). */
  logDir: string;
  /** The daemon's job manager (a private one when omitted). */
  jobs?: JobManager;
  log?: Logger;
  /** The network driver's hook; default: user networking only. */
  interfaces?: InterfaceHook;
  /** Force the KVM probe result (tests). */
  kvmAvailable?: boolean;
  /** Extra environment for QEMU. */
  qemuEnv?: Record<string, string>;
  /** Skip fsync on definitions (tests). */
  noSync?: boolean;
}

const invalid = (msg: string) =>
  new VirError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { domain: 'QEMU' });
const internal = (msg: string) =>
  new VirError('INTERNAL_ERROR', `internal error: ${msg}`, { domain: 'QEMU' });
const invalidArg = (msg: string) =>
  new VirError('INVALID_ARG', `invalid argument: ${msg}`, { domain: 'QEMU' });

const RESTART_ACTIONS = ['restart', 'rename-restart', 'coredump-restart'];

/** Opens the QEMU driver: loads definitions, reconnects to running QEMUs. Autostart is separate. */
export async function openQemuDriver(opts: QemuDriverOptions): Promise<QemuDriver> {
  const d = new QemuDriver(opts);
  await d.load();
  return d;
}

export class QemuDriver implements HypervisorConnection {
  readonly uri: string;
  private readonly doms = new DomainList();
  private readonly store: ConfigStore;
  private readonly status: StatusStore;
  private readonly jobs: JobManager;
  private readonly log: Logger;
  private interfaces: InterfaceHook;
  private readonly ports = new PortAllocator();
  private readonly listeners = new Set<(ev: TvirtEvent) => void>();
  /** QEMU callbacks run here, outside the async context of the job that spawned QEMU. */
  private readonly root = new AsyncResource('tvirt-qemu-driver');
  private nextId = 1;
  private kvm: boolean | undefined;
  private closed = false;
  private qemuVersion: string | undefined;

  constructor(private readonly opts: QemuDriverOptions) {
    this.uri = opts.uri ?? 'qemu:///system';
    this.store = new ConfigStore({
      dir: opts.configDir,
      autostartDir: opts.autostartDir ?? `${opts.configDir}/autostart`,
      ...(opts.noSync ? { noSync: true } : {}),
    });
    this.status = new StatusStore(opts.runDir);
    this.jobs = opts.jobs ?? new JobManager();
    this.log = opts.log ?? nullLogger;
    this.interfaces = opts.interfaces ?? userOnlyInterfaces;
    this.kvm = opts.kvmAvailable;
  }

  // ------------------------------------------------------------------------------------ loading

  /** Parses stored or user XML with the QEMU driver's defaults (x86_64, machine pc). */
  private parse(xml: string): DomainDef {
    const def = parseDomain(xml);
    domainAssignDefaults(def, { arch: 'x86_64', machine: 'pc' });
    def.onPoweroff ??= 'destroy';
    def.onReboot ??= 'restart';
    def.onCrash ??= 'destroy';
    delete def.id;
    return def;
  }

  /** Loads definitions and status files; reconnects to every QEMU still running. */
  async load(): Promise<void> {
    const auto = new Set(await this.store.listAutostart());
    for (const { name, xml } of await this.store.loadAll()) {
      try {
        const def = this.parse(xml);
        if (this.doms.byUuid(def.uuid) || this.doms.byName(def.name))
          throw new Error('duplicate name or uuid');
        this.doms.add({
          config: def,
          id: null,
          state: 'shutoff',
          reason: 'unknown',
          autostart: auto.has(name),
        });
      } catch (e) {
        this.log.error('cannot load domain definition', { name, err: e });
      }
    }
    const statuses = await this.status.loadAll((file, err) =>
      this.log.error('bad status file', { file, err }),
    );
    await Promise.all(statuses.map((st) => this.reconnect(st)));
    this.nextId = Math.max(this.nextId, this.doms.maxId() + 1);
  }

  private async reconnect(st: DomainStatus): Promise<void> {
    let dom = this.doms.byUuid(st.uuid);
    const live = structuredClone(st.liveDef) as DomainDef;
    let r: Awaited<ReturnType<typeof reconnectQemu>>;
    try {
      r = await reconnectQemu({ ...st, onEvent: (proc, ev) => this.onQemuEvent(proc, ev) });
    } catch (e) {
      this.log.error('cannot reconnect to QEMU', { name: st.name, pid: st.pid, err: e });
      r = undefined;
    }
    if (!r) {
      this.log.info('domain no longer running', { name: st.name, pid: st.pid });
      await this.status.remove(st.name).catch(() => {});
      await removeTree(st.runtimeDir).catch(() => {});
      await appendLogLine(st.logPath, 'shutting down, reason=crashed');
      if (dom) {
        dom.state = 'shutoff';
        dom.reason = 'crashed';
      }
      return;
    }
    if (!dom) {
      dom = { id: null, state: 'shutoff', reason: 'unknown', autostart: false };
      this.doms.add(dom);
    }
    dom.live = live;
    dom.id = st.id;
    dom.proc = r.proc;
    if (r.running) {
      dom.state = 'running';
      dom.reason = st.state === 'running' ? st.reason : 'unpaused';
    } else {
      dom.state = st.state === 'running' ? 'paused' : st.state;
      dom.reason = st.state === 'running' ? 'unknown' : st.reason;
    }
    r.proc.fakeReboot = st.fakeReboot ?? false;
    this.ports.hold(st.ports);
    this.watch(dom, r.proc);
    // What happened while no daemon listened: the events are lost, QEMU's status tells.
    const proc = r.proc;
    const d = dom;
    if (r.reason === 'shutdown') {
      proc.ignoreNextStop = false;
      this.detached(
        () =>
          void this.job(d, 'shutdown-event', () =>
            this.onShutdown(d, proc, {
              event: 'SHUTDOWN',
              data: { guest: true, reason: 'guest-shutdown' },
              timestamp: { seconds: 0, microseconds: 0 },
            }),
          ).catch((e) => this.log.error('handling SHUTDOWN failed', { err: e })),
      );
    } else if (r.reason === 'guest-panicked') {
      this.detached(() => void this.job(d, 'panic-event', () => this.onPanic(d, proc)).catch(() => {}));
    } else if (r.reason === 'io-error' && dom.state === 'paused') {
      dom.reason = 'ioerror';
    }
    this.log.info('reconnected to QEMU', { name: st.name, pid: st.pid, state: dom.state });
    if (dom.state !== st.state || dom.reason !== st.reason) await this.saveStatus(dom);
  }

  /** Starts autostart domains that are not running (daemon start). Errors are logged, not thrown. */
  async autostart(): Promise<void> {
    await Promise.all(
      this.doms
        .all()
        .filter((d) => d.autostart && !isActive(d) && d.config)
        .map(async (d) => {
          const name = d.config!.name;
          try {
            await this.domainCreate(d.config!.uuid);
            this.log.info('autostarted domain', { name });
          } catch (e) {
            this.log.error('autostart failed', { name, err: e });
          }
        }),
    );
  }

  /** SIGHUP: re-reads definitions edited on disk. Running domains keep their live definition. */
  async reload(): Promise<void> {
    const auto = new Set(await this.store.listAutostart());
    const seen = new Set<DomainObj>();
    for (const { name, xml } of await this.store.loadAll()) {
      try {
        const def = this.parse(xml);
        const old = this.doms.existing(def);
        if (old) {
          old.config = def;
          old.autostart = auto.has(name);
          seen.add(old);
        } else {
          const d: DomainObj = {
            config: def,
            id: null,
            state: 'shutoff',
            reason: 'unknown',
            autostart: auto.has(name),
          };
          this.doms.add(d);
          seen.add(d);
          this.emit(d, 'defined', 'added');
        }
      } catch (e) {
        this.log.error('cannot reload domain definition', { name, err: e });
      }
    }
    for (const d of [...this.doms.all()]) {
      if (!d.config || seen.has(d)) continue;
      if (isActive(d)) d.config = undefined;
      else this.doms.remove(d);
      this.emit(d, 'undefined', 'removed');
    }
  }

  /**
   * Plugs in the network driver's tap backends (see tapInterfaceHook in interfaces.ts). Used by the
   * next start, and by every later stop to release taps (also of domains found again at daemon start).
   */
  setInterfaceHook(hook: InterfaceHook): void {
    this.interfaces = hook;
  }

  // ------------------------------------------------------------------------------------ helpers

  private check(): void {
    if (this.closed)
      throw new VirError('INVALID_CONN', 'invalid connection pointer in QEMU driver: connection is closed', {
        domain: 'QEMU',
      });
  }

  private dom(ref: string): DomainObj {
    this.check();
    return this.doms.find(ref);
  }

  private job<T>(d: DomainObj | DomainDef, operation: string, work: () => Promise<T>): Promise<T> {
    const def = 'uuid' in d ? d : defOf(d);
    return this.jobs.run(
      { object: jobObject(def), operation, kind: 'domain', name: def.name, uuid: def.uuid },
      work,
    );
  }

  private emit(d: DomainObj | DomainDef, event: string, detail?: string): void {
    const def = 'uuid' in d ? d : defOf(d);
    const ev: TvirtEvent = {
      kind: 'domain-lifecycle',
      name: def.name,
      uuid: def.uuid,
      event,
      timestamp: Date.now(),
    };
    if (detail !== undefined) ev.detail = detail;
    for (const l of [...this.listeners]) {
      try {
        l(ev);
      } catch (e) {
        this.log.warn('event listener failed', { err: e });
      }
    }
  }

  private format(def: DomainDef, flags: DomainXMLFlags, id: number | null): string {
    const d = { ...def };
    if (id !== null && !flags.inactive) d.id = id;
    else delete d.id;
    return formatDomain(d, { inactive: flags.inactive ?? false, secure: flags.secure ?? false });
  }

  private async saveConfig(def: DomainDef): Promise<void> {
    await this.store.save(def.name, formatDomain(def, { inactive: true, secure: true }));
  }

  private async saveStatus(d: DomainObj): Promise<void> {
    const p = d.proc;
    if (!p || !d.live || d.id === null) return;
    const st: DomainStatus = {
      version: STATUS_VERSION,
      name: d.live.name,
      uuid: d.live.uuid,
      id: d.id,
      pid: p.pid,
      monitorPath: p.monitorPath,
      runtimeDir: p.runtimeDir,
      logPath: p.logPath,
      state: d.state,
      reason: d.reason,
      liveXml: this.format(d.live, { secure: true }, d.id),
      liveDef: d.live,
      persistent: d.config !== undefined,
      startedAt: p.startedAt,
      ports: p.ports,
      ...(p.fakeReboot ? { fakeReboot: true } : {}),
    };
    await this.status
      .save(st)
      .catch((e) => this.log.error('cannot write status file', { name: st.name, err: e }));
  }

  private requireActive(d: DomainObj): QemuProcess {
    if (!isActive(d) || !d.proc) throw invalid('domain is not running');
    return d.proc;
  }

  private async kvmAvailable(): Promise<boolean> {
    this.kvm ??= await kvmUsable();
    return this.kvm;
  }

  // ------------------------------------------------------------------------------------ start / stop

  /** Starts QEMU for `d` from `def` (its config, or the XML of create). Runs inside the domain's job. */
  private async start(d: DomainObj, def: DomainDef, paused: boolean): Promise<void> {
    if (isActive(d)) throw invalid('domain is already running');
    if (!d.config && !d.live) d.live = def;
    const live = structuredClone(def);
    const id = this.nextId++;
    live.id = id;
    d.starting = true;
    let proc: QemuProcess;
    try {
      proc = await startQemu({
        live,
        id,
        runDir: this.opts.runDir,
        logPath: domainLogPath(this.opts.logDir, def.name),
        kvmAvailable: await this.kvmAvailable(),
        interfaces: this.interfaces,
        ports: this.ports,
        onEvent: (p, ev) => this.onQemuEvent(p, ev),
        ...(this.opts.qemuEnv ? { ctx: { env: this.opts.qemuEnv } } : {}),
      });
    } finally {
      d.starting = false;
    }
    d.live = live;
    d.id = id;
    d.proc = proc;
    d.state = paused ? 'paused' : 'running';
    d.reason = paused ? 'user' : 'booted';
    this.watch(d, proc);
    try {
      await Promise.all([paused ? undefined : proc.mon.execute('cont'), this.saveStatus(d)]);
    } catch (e) {
      proc.stopReason = 'failed';
      await proc.kill({ graceMs: 2000 }).catch(() => {});
      await this.stopped(d, 'failed', undefined, { silent: true });
      throw e;
    }
    this.emit(d, 'started', 'booted');
    if (paused) this.emit(d, 'suspended', 'paused');
  }

  /** Runs a callback outside any job's async context (so it queues as its own job). */
  private detached(fn: () => void): void {
    this.root.runInAsyncScope(fn);
  }

  /** Watches the process: its end is handled as a job on the domain (a crash unless someone stopped it). */
  private watch(d: DomainObj, proc: QemuProcess): void {
    proc.onGone(() =>
      this.detached(() => {
        void this.job(d, 'process-exit', async () => {
          if (d.proc !== proc) return; // whoever stopped it on purpose has cleaned up already
          const reason = proc.stopReason ?? 'crashed';
          const restartDef =
            reason === 'crashed' && RESTART_ACTIONS.includes(defOf(d).onCrash ?? '')
              ? (d.config ?? stripRuntime(d.live!))
              : undefined;
          this.log.warn('QEMU exited', { name: defOf(d).name, pid: proc.pid, reason, exit: proc.exit });
          await this.stopped(d, reason, reason, { keep: restartDef !== undefined });
          if (restartDef) {
            this.log.info('restarting domain after crash (on_crash)', { name: restartDef.name });
            await this.start(d, restartDef, false).catch((e) => this.log.error('restart failed', { err: e }));
            if (!isActive(d) && !d.config) this.doms.remove(d);
          }
        }).catch((e) => this.log.error('handling QEMU exit failed', { err: e }));
      }),
    );
  }

  /**
   * Bookkeeping after QEMU is gone (libvirt's qemuProcessStop): release ports, taps, runtime dir and
   * status file, log line, state shutoff with `reason`, 'stopped' event; a transient domain vanishes.
   */
  private async stopped(
    d: DomainObj,
    reason: string,
    eventDetail: string | undefined,
    opts: { keep?: boolean; silent?: boolean } = {},
  ): Promise<void> {
    const proc = d.proc;
    const live = d.live;
    const def = defOf(d);
    // Nothing else may act on this QEMU now; the state changes once the host side is released,
    // so a reader never sees shutoff while the status file or runtime dir still exist.
    d.proc = undefined;
    if (proc) {
      await proc.cleanup();
      this.ports.release(proc.ports);
      await appendLogLine(proc.logPath, `shutting down, reason=${reason}`);
    }
    if (live)
      await this.interfaces
        .releaseInterfaces(live)
        .catch((e) => this.log.warn('releasing interfaces failed', { err: e }));
    await this.status.remove(def.name).catch(() => {});
    d.id = null;
    d.state = 'shutoff';
    d.reason = reason;
    // The object must always name itself: a transient one leaves the list now, or (about to be
    // restarted) keeps its definition without runtime facts.
    if (d.config) d.live = undefined;
    else if (opts.keep) d.live = live ? stripRuntime(live) : undefined;
    else this.doms.remove(d);
    if (!opts.silent) this.emit(def, 'stopped', eventDetail ?? reason);
  }

  /** Kills QEMU on purpose and does the stop bookkeeping (inside the domain's job). */
  private async kill(d: DomainObj, reason: string, opts: { graceful?: boolean } = {}): Promise<void> {
    const proc = d.proc!;
    proc.stopReason = reason;
    await proc.kill(opts);
    await this.stopped(d, reason, reason);
  }

  // ------------------------------------------------------------------------------------ QMP events

  private onQemuEvent(proc: QemuProcess, ev: MonitorEvent): void {
    const d = this.doms.all().find((x) => x.proc === proc);
    // Events during start arrive before the object holds the process; start handles its own state.
    if (!d) return;
    const name = defOf(d).name;
    this.log.debug('QMP event', { name, event: ev.event, data: ev.data });
    switch (ev.event) {
      case 'SHUTDOWN': {
        // With -no-shutdown QEMU stops the vCPUs and waits for us; a STOP event follows: not a pause.
        proc.ignoreNextStop = true;
        if (proc.stopReason) return; // we are stopping it (SIGTERM -> host-signal)
        if (ev.data.reason === 'host-signal') {
          proc.stopReason = 'destroyed'; // someone else sent SIGTERM/SIGINT: QEMU quits now
          return;
        }
        this.detached(
          () =>
            void this.job(d, 'shutdown-event', () => this.onShutdown(d, proc, ev)).catch((e) =>
              this.log.error('handling SHUTDOWN failed', { name, err: e }),
            ),
        );
        return;
      }
      case 'STOP':
        if (proc.ignoreNextStop) {
          proc.ignoreNextStop = false;
          return;
        }
        this.detached(
          () =>
            void this.job(d, 'stop-event', async () => {
              if (d.proc !== proc || d.state !== 'running') return;
              d.state = 'paused';
              d.reason = proc.ioError ? 'ioerror' : 'unknown';
              proc.ioError = false;
              await this.saveStatus(d);
              this.emit(d, 'suspended', d.reason === 'ioerror' ? 'ioerror' : 'paused');
            }).catch(() => {}),
        );
        return;
      case 'RESUME':
        this.detached(
          () =>
            void this.job(d, 'resume-event', async () => {
              if (d.proc !== proc || d.state !== 'paused') return;
              d.state = 'running';
              d.reason = 'unpaused';
              await this.saveStatus(d);
              this.emit(d, 'resumed', 'unpaused');
            }).catch(() => {}),
        );
        return;
      case 'BLOCK_IO_ERROR':
        if (ev.data.action === 'stop') proc.ioError = true;
        return;
      case 'GUEST_PANICKED':
        this.detached(() => void this.job(d, 'panic-event', () => this.onPanic(d, proc)).catch(() => {}));
        return;
      default:
        return;
    }
  }

  /** The guest powered off (or we asked for an ACPI reboot): honour fake reboot and on_poweroff. */
  private async onShutdown(d: DomainObj, proc: QemuProcess, ev: MonitorEvent): Promise<void> {
    if (d.proc !== proc || proc.gone || proc.stopReason) return;
    const def = defOf(d);
    const guestReset = ev.data.reason === 'guest-reset'; // guest rebooted under -no-reboot
    if ((proc.fakeReboot || guestReset) && def.onReboot !== 'destroy') {
      proc.fakeReboot = false;
      await proc.mon.execute('system_reset');
      await proc.mon.execute('cont');
      d.state = 'running';
      d.reason = 'booted';
      await this.saveStatus(d);
      this.emit(d, 'rebooted');
      return;
    }
    const action = proc.fakeReboot || guestReset ? def.onReboot : def.onPoweroff;
    proc.fakeReboot = false;
    this.emit(d, 'shutdown', 'finished');
    if (action === 'restart' || action === 'rename-restart') {
      await proc.mon.execute('system_reset');
      await proc.mon.execute('cont');
      d.state = 'running';
      d.reason = 'booted';
      await this.saveStatus(d);
      this.emit(d, 'rebooted');
      return;
    }
    if (action === 'preserve') {
      // libvirt leaves the domain 'in shutdown' with QEMU kept (vCPUs stopped) for inspection.
      d.state = 'shutdown';
      d.reason = 'unknown';
      await this.saveStatus(d);
      return;
    }
    await this.kill(d, 'shutdown');
  }

  private async onPanic(d: DomainObj, proc: QemuProcess): Promise<void> {
    if (d.proc !== proc || proc.gone) return;
    const def = defOf(d);
    this.emit(d, 'crashed', 'panicked');
    const action = def.onCrash ?? 'destroy';
    if (action === 'preserve') {
      d.state = 'crashed';
      d.reason = 'panicked';
      await this.saveStatus(d);
      return;
    }
    const restartDef = RESTART_ACTIONS.includes(action) ? (d.config ?? stripRuntime(d.live!)) : undefined;
    proc.stopReason = 'crashed';
    await proc.kill();
    await this.stopped(d, 'crashed', 'crashed', { keep: restartDef !== undefined });
    if (restartDef)
      await this.start(d, restartDef, false).catch((e) => {
        this.log.error('restart after panic failed', { err: e });
        if (!isActive(d) && !d.config) this.doms.remove(d);
      });
  }

  // ------------------------------------------------------------------------------------ Connection

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    // Guests keep running: only let go of their monitors.
    await Promise.all(this.doms.all().map((d) => d.proc?.detach()));
  }

  async getVersion(): Promise<VersionInfo> {
    this.check();
    if (!this.qemuVersion) {
      const out = await runCapture('qemu-system-x86_64', ['--version']).catch(() => '');
      this.qemuVersion = /version (\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '0.0.0';
    }
    return { library: TVIRT_VERSION, hypervisorType: 'QEMU', hypervisor: this.qemuVersion };
  }

  async getHostname(): Promise<string> {
    this.check();
    return hostname();
  }

  async getCapabilities(): Promise<string> {
    this.check();
    const kvm = await this.kvmAvailable();
    return `<capabilities>
  <host>
    <cpu>
      <arch>x86_64</arch>
    </cpu>
  </host>
  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'>
      <wordsize>64</wordsize>
      <emulator>/usr/bin/qemu-system-x86_64</emulator>
      <machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
      <machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>
      <domain type='qemu'/>${kvm ? "\n      <domain type='kvm'/>" : ''}
    </arch>
  </guest>
</capabilities>
`;
  }

  async nodeGetInfo(): Promise<NodeInfo> {
    this.check();
    const c = cpus();
    return {
      model: 'x86_64',
      memoryKiB: Math.floor(totalmem() / 1024),
      cpus: c.length,
      mhz: c[0]?.speed ?? 0,
      nodes: 1,
      sockets: 1,
      cores: c.length,
      threads: 1,
    };
  }

  async listDomains(filter: DomainListFilter = {}): Promise<DomainSummary[]> {
    this.check();
    return this.doms
      .all()
      .filter((d) => matchesFilter(d, filter))
      .map(summary);
  }

  async domainLookup(ref: string): Promise<DomainSummary> {
    return summary(this.dom(ref));
  }

  async domainGetInfo(ref: string): Promise<DomainInfo> {
    const d = this.dom(ref);
    const def = defOf(d);
    return {
      ...summary(d),
      osType: def.os.type,
      maxMemoryKiB: def.memory.kib,
      memoryKiB: def.currentMemory ?? def.memory.kib,
      vcpus: def.vcpu?.current ?? def.vcpu?.max ?? 1,
      cpuTimeNs: d.proc ? await processCpuTimeNs(d.proc.pid) : 0,
      managedSave: false,
    };
  }

  async domainGetState(ref: string): Promise<DomainState> {
    const d = this.dom(ref);
    return { state: d.state, reason: d.reason };
  }

  async domainGetXMLDesc(ref: string, flags: DomainXMLFlags = {}): Promise<string> {
    const d = this.dom(ref);
    const def = flags.inactive && d.config ? d.config : defOf(d);
    return this.format(def, flags, d.id);
  }

  async domainDefineXML(xml: string): Promise<DomainSummary> {
    this.check();
    const def = this.parse(xml);
    const old = this.doms.existing(def);
    if (old) {
      return this.job(old, 'define', async () => {
        const wasPersistent = old.config !== undefined;
        await this.saveConfig(def);
        old.config = def;
        this.emit(old, 'defined', wasPersistent ? 'updated' : 'added');
        if (isActive(old)) await this.saveStatus(old);
        return summary(old);
      });
    }
    await this.saveConfig(def);
    // Another define of the same name may have raced us while the file was written.
    const again = this.doms.existing(def);
    if (again) {
      again.config = def;
      this.emit(again, 'defined', 'updated');
      return summary(again);
    }
    const d: DomainObj = { config: def, id: null, state: 'shutoff', reason: 'unknown', autostart: false };
    this.doms.add(d);
    this.emit(d, 'defined', 'added');
    return summary(d);
  }

  async domainUndefine(ref: string): Promise<{ becameTransient: boolean }> {
    const d = this.dom(ref);
    return this.job(d, 'undefine', async () => {
      if (!d.config) throw invalid('cannot undefine transient domain');
      const name = d.config.name;
      await this.store.remove(name);
      d.autostart = false;
      const def = d.config;
      d.config = undefined;
      if (isActive(d) || d.starting) {
        await this.saveStatus(d);
        this.emit(def, 'undefined', 'removed');
        return { becameTransient: true };
      }
      this.doms.remove(d);
      this.emit(def, 'undefined', 'removed');
      return { becameTransient: false };
    });
  }

  async domainCreateXML(xml: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    this.check();
    const def = this.parse(xml);
    const old = this.doms.existing(def);
    if (old) {
      return this.job(old, 'start', async () => {
        if (isActive(old) || old.starting) throw invalid(`domain '${def.name}' is already active`);
        await this.start(old, def, flags.paused ?? false);
        return summary(old);
      });
    }
    const d: DomainObj = { id: null, state: 'shutoff', reason: 'unknown', autostart: false, starting: true };
    d.live = def; // names the object while it starts; replaced by the real live definition
    this.doms.add(d);
    return this.job(def, 'start', async () => {
      d.starting = false;
      try {
        await this.start(d, def, flags.paused ?? false);
      } catch (e) {
        if (!isActive(d)) this.doms.remove(d);
        throw e;
      }
      return summary(d);
    });
  }

  async domainCreate(ref: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    const d = this.dom(ref);
    return this.job(d, 'start', async () => {
      if (isActive(d)) throw invalid('domain is already running');
      if (!d.config) throw internal(`domain '${defOf(d).name}' has no persistent definition`);
      await this.start(d, d.config, flags.paused ?? false);
      return summary(d);
    });
  }

  async domainShutdown(ref: string, flags: { mode?: 'acpi' | 'agent' } = {}): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'shutdown', async () => {
      const proc = this.requireActive(d);
      proc.fakeReboot = false;
      if (flags.mode === 'agent') await this.agentCommand(d, 'guest-shutdown', { mode: 'powerdown' });
      else await proc.mon.execute('system_powerdown');
    });
  }

  async domainReboot(ref: string, flags: { mode?: 'acpi' | 'agent' } = {}): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'reboot', async () => {
      const proc = this.requireActive(d);
      if (flags.mode === 'agent') {
        await this.agentCommand(d, 'guest-shutdown', { mode: 'reboot' });
        return;
      }
      // libvirt's fake reboot: power the guest off over ACPI, then reset and continue it on SHUTDOWN.
      proc.fakeReboot = true;
      await this.saveStatus(d);
      await proc.mon.execute('system_powerdown');
    });
  }

  /** Sends a command to the guest agent over its virtio channel (fire and forget, like guest-shutdown). */
  private async agentCommand(d: DomainObj, command: string, args: Record<string, unknown>): Promise<void> {
    const live = d.live!;
    const ch = live.devices.channels.find((c) => c.target?.name === 'org.qemu.guest_agent.0');
    if (!ch)
      throw new VirError('ARGUMENT_UNSUPPORTED', 'argument unsupported: QEMU guest agent is not configured', {
        domain: 'QEMU',
      });
    const path = ch.source.path ?? channelSocketPath(d.proc!.runtimeDir, 'org.qemu.guest_agent.0');
    await new Promise<void>((resolve, reject) => {
      const s = createConnection(path);
      s.once('error', (e) =>
        reject(
          new VirError('AGENT_UNRESPONSIVE', `Guest agent is not responding: ${e.message}`, {
            domain: 'QEMU',
          }),
        ),
      );
      s.once('connect', () =>
        s.end(`${JSON.stringify({ execute: command, arguments: args })}\n`, () => resolve()),
      );
    });
  }

  async domainReset(ref: string): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'reset', async () => {
      await this.requireActive(d).mon.execute('system_reset');
      this.emit(d, 'reset');
    });
  }

  async domainDestroy(ref: string, flags: { graceful?: boolean } = {}): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'destroy', async () => {
      this.requireActive(d);
      await this.kill(d, 'destroyed', flags);
    });
  }

  async domainSuspend(ref: string): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'suspend', async () => {
      const proc = this.requireActive(d);
      if (d.state === 'paused') return;
      if (d.state !== 'running') throw invalid(`domain '${defOf(d).name}' is not running`);
      await proc.mon.execute('stop');
      d.state = 'paused';
      d.reason = 'user';
      await this.saveStatus(d);
      this.emit(d, 'suspended', 'paused');
    });
  }

  async domainResume(ref: string): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'resume', async () => {
      const proc = this.requireActive(d);
      if (d.state !== 'paused' && !(d.state === 'crashed' && d.reason === 'panicked'))
        throw internal(`domain '${defOf(d).name}' not paused`);
      await proc.mon.execute('cont');
      d.state = 'running';
      d.reason = 'unpaused';
      await this.saveStatus(d);
      this.emit(d, 'resumed', 'unpaused');
    });
  }

  async domainSetAutostart(ref: string, autostart: boolean): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'autostart', async () => {
      if (!d.config) throw invalid('cannot set autostart for transient domain');
      await this.store.setAutostart(d.config.name, autostart);
      d.autostart = autostart;
    });
  }

  /** The definitions a change applies to (libvirt's virDomainObjUpdateModificationImpact). */
  private targets(d: DomainObj, flags: ModifyFlags = {}): { live?: DomainDef; config?: DomainDef } {
    let live = flags.live ?? false;
    let config = flags.config ?? false;
    if (!live && !config) {
      if (isActive(d)) live = true;
      else config = true;
    }
    if (live && !isActive(d)) throw invalid('domain is not running');
    if (config && !d.config) throw invalid('transient domains do not have any persistent config');
    return { ...(live ? { live: d.live! } : {}), ...(config ? { config: d.config! } : {}) };
  }

  private async commit(d: DomainObj, t: { live?: DomainDef; config?: DomainDef }): Promise<void> {
    if (t.config) await this.saveConfig(t.config);
    if (t.live) await this.saveStatus(d);
  }

  async domainSetMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'setmem', async () => {
      const t = this.targets(d, flags);
      for (const def of [t.live, t.config]) {
        if (def && kib > def.memory.kib) throw invalidArg('cannot set memory higher than max memory');
      }
      if (t.live) {
        if (!t.live.devices.memballoon || t.live.devices.memballoon.model === 'none')
          throw new VirError(
            'OPERATION_INVALID',
            'Requested operation is not valid: Unable to change memory of active domain without the balloon device',
            { domain: 'QEMU' },
          );
        await d.proc!.mon.execute('balloon', { value: kib * 1024 });
        t.live.currentMemory = kib;
      }
      if (t.config) t.config.currentMemory = kib;
      await this.commit(d, t);
    });
  }

  async domainSetMaxMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'setmaxmem', async () => {
      const t = this.targets(d, flags);
      if (t.live) throw invalid('cannot resize the maximum memory on an active domain');
      const def = t.config!;
      def.memory.kib = kib;
      if ((def.currentMemory ?? kib) > kib) def.currentMemory = kib;
      await this.commit(d, t);
    });
  }

  async domainSetVcpus(
    ref: string,
    count: number,
    flags: ModifyFlags & { maximum?: boolean } = {},
  ): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'setvcpus', async () => {
      if (count < 1) throw invalidArg("Can't set 0 processors for a VM");
      const t = this.targets(d, flags);
      if (t.live)
        throw new VirError(
          'OPERATION_UNSUPPORTED',
          'Operation not supported: changing the vCPUs of a running domain is not supported by tvirt yet',
          {
            domain: 'QEMU',
          },
        );
      const def = t.config!;
      const v = (def.vcpu ??= { max: 1, placement: 'static' });
      if (flags.maximum) {
        const cur = v.current ?? v.max;
        v.max = count;
        if (cur < count) v.current = cur;
        else delete v.current;
      } else {
        if (count > v.max)
          throw invalidArg(
            `requested vcpus is greater than max allowable vcpus for the persistent domain: ${count} > ${v.max}`,
          );
        if (count === v.max) delete v.current;
        else v.current = count;
      }
      await this.commit(d, t);
    });
  }

  async domainSetMetadata(
    ref: string,
    type: 'title' | 'description',
    text: string,
    flags?: ModifyFlags,
  ): Promise<void> {
    const d = this.dom(ref);
    await this.job(d, 'metadata', async () => {
      if (type === 'title' && text.includes('\n')) throw invalidArg("title can't contain newlines");
      const t = this.targets(d, flags);
      for (const def of [t.live, t.config]) {
        if (!def) continue;
        if (text === '') delete def[type];
        else def[type] = text;
      }
      await this.commit(d, t);
    });
  }

  async domainGetMetadata(ref: string, type: 'title' | 'description', flags?: ModifyFlags): Promise<string> {
    const d = this.dom(ref);
    const t = this.targets(d, flags?.live && flags.config ? { live: true } : flags);
    const def = t.live ?? t.config!;
    return def[type] ?? '';
  }

  async domainOpenConsole(ref: string, dev?: string): Promise<Duplex> {
    const d = this.dom(ref);
    if (!isActive(d) || !d.live) throw invalid('domain is not running');
    return openConsole(d.live, dev);
  }

  onEvent(listener: (ev: TvirtEvent) => void): () => void {
    this.check();
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

/** A live definition without its runtime facts (to start a transient domain again). */
function stripRuntime(live: DomainDef): DomainDef {
  const def = structuredClone(live);
  delete def.id;
  for (const g of def.devices.graphics) if (g.autoport) delete g.port;
  for (const c of [...def.devices.serials, ...def.devices.consoles, ...def.devices.channels])
    if (c.source.type === 'pty') delete c.source.path;
  return def;
}
