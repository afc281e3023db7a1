// The QEMU driver's domains (libvirt's driver state + qemu_process glue): the objects with their
// persistent and live definitions, persistence (etc/NAME.xml, run/NAME.json), starting and stopping
// QEMU, and what QEMU's QMP events and exits mean for state, events and on_* actions. The public
// entry points (QemuDriver in qemu-driver.ts) call into this; everything here runs inside jobs.
import { AsyncResource } from 'node:async_hooks';
import { type DomainDef, domainAssignDefaults, formatDomain, parseDomain } from '../../conf/domain/index.js';
import { ConfigStore } from '../../daemon/config-store.js';
import { JobManager } from '../../daemon/jobs.js';
import { type Logger, nullLogger } from '../../daemon/log.js';
import { removeTree } from '../../host/fs-util.js';
import { kvmUsable } from '../../host/process.js';
import { VirError } from '../../util/errors.js';
import type { DomainStateName, DomainXMLFlags, TvirtEvent } from '../connection.js';
import { DomainList, type DomainObj, defOf, isActive, jobObject } from './domain-obj.js';
import { appendLogLine, domainLogPath } from './log.js';
import type { MonitorEvent } from './monitor.js';
import {
  type InterfaceHook,
  killIfOurs,
  PortAllocator,
  type QemuProcess,
  reconnectQemu,
  refreshChannelStates,
  startQemu,
  userOnlyInterfaces,
} from './process.js';
import type { QemuDriverOptions } from './qemu-driver.js';
import { type DomainStatus, STATUS_VERSION, StatusStore } from './status.js';

export const invalid = (msg: string) =>
  new VirError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { domain: 'QEMU' });
export const internal = (msg: string) =>
  new VirError('INTERNAL_ERROR', `internal error: ${msg}`, { domain: 'QEMU' });
export const invalidArg = (msg: string) =>
  new VirError('INVALID_ARG', `invalid argument: ${msg}`, { domain: 'QEMU' });

const RESTART_ACTIONS = ['restart', 'rename-restart', 'coredump-restart'];

/** The driver's domains and the machinery behind them. */
export class QemuDomains {
  readonly doms = new DomainList();
  readonly store: ConfigStore;
  readonly status: StatusStore;
  readonly jobs: JobManager;
  readonly log: Logger;
  interfaces: InterfaceHook;
  readonly ports = new PortAllocator();
  readonly listeners = new Set<(ev: TvirtEvent) => void>();
  /** QEMU callbacks run here, outside the async context of the job that spawned QEMU. */
  readonly root = new AsyncResource('tvirt-qemu-driver');
  nextId = 1;
  kvm: boolean | undefined;
  closed = false;

  constructor(readonly opts: QemuDriverOptions) {
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
  parse(xml: string): DomainDef {
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

  async reconnect(st: DomainStatus): Promise<void> {
    let dom = this.doms.byUuid(st.uuid);
    const live = structuredClone(st.liveDef) as DomainDef;
    let r: Awaited<ReturnType<typeof reconnectQemu>>;
    // Set when our QEMU still runs but its monitor does not answer (reconnectQemu threw).
    let unreachable = false;
    try {
      r = await reconnectQemu({ ...st, onEvent: (proc, ev) => this.onQemuEvent(proc, ev) });
    } catch (e) {
      this.log.error('cannot reconnect to QEMU', { name: st.name, pid: st.pid, err: e });
      r = undefined;
      unreachable = true;
    }
    const startingUp = st.state === 'paused' && st.reason === 'starting up';
    if (!r) {
      // A QEMU whose start never finished, and whose monitor we cannot reach: not left behind.
      if (startingUp) await killIfOurs(st.pid, st.monitorPath);
      this.log.info('domain no longer running', { name: st.name, pid: st.pid });
      await this.status.remove(st.name).catch(() => {});
      await removeTree(st.runtimeDir).catch(() => {});
      // Its taps outlived it (they are persistent devices): remove them as a stop would, unless
      // the QEMU still runs (monitor unreachable) and would lose its network.
      if (!unreachable || startingUp)
        await this.interfaces
          .releaseInterfaces(live)
          .catch((e) => this.log.warn('releasing interfaces failed', { name: st.name, err: e }));
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
    // Channel states changed while nobody listened to VSERPORT_CHANGE.
    const channelsChanged = await refreshChannelStates(live, r.proc.mon).catch((e) => {
      this.log.warn('cannot read channel states', { name: st.name, err: e });
      return false;
    });
    this.ports.hold(st.ports);
    this.watch(dom, r.proc);
    if (startingUp) {
      // The daemon died between spawn and cont: that start failed; do not leave QEMU paused forever.
      this.log.warn('killing a QEMU whose start did not finish', { name: st.name, pid: st.pid });
      await this.kill(dom, 'failed').catch((e) => this.log.error('cannot kill QEMU', { err: e }));
      return;
    }
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
    if (dom.state !== st.state || dom.reason !== st.reason || channelsChanged) await this.saveStatus(dom);
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
            await this.job(d, 'start', async () => {
              if (!isActive(d) && d.config) await this.start(d, d.config, false);
            });
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

  // ------------------------------------------------------------------------------------ helpers

  check(): void {
    if (this.closed)
      throw new VirError('INVALID_CONN', 'invalid connection pointer in QEMU driver: connection is closed', {
        domain: 'QEMU',
      });
  }

  dom(ref: string): DomainObj {
    this.check();
    return this.doms.find(ref);
  }

  job<T>(d: DomainObj | DomainDef, operation: string, work: () => Promise<T>): Promise<T> {
    const def = 'uuid' in d ? d : defOf(d);
    return this.jobs.run(
      { object: jobObject(def), operation, kind: 'domain', name: def.name, uuid: def.uuid },
      work,
    );
  }

  emit(d: DomainObj | DomainDef, event: string, detail?: string): void {
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

  format(def: DomainDef, flags: DomainXMLFlags, id: number | null): string {
    const d = { ...def };
    if (id !== null && !flags.inactive) d.id = id;
    else delete d.id;
    return formatDomain(d, { inactive: flags.inactive ?? false, secure: flags.secure ?? false });
  }

  async saveConfig(def: DomainDef): Promise<void> {
    await this.store.save(def.name, formatDomain(def, { inactive: true, secure: true }));
  }

  /** A status record of a running QEMU (what a restarted daemon reads). */
  statusOf(
    live: DomainDef,
    id: number,
    p: QemuProcess,
    persistent: boolean,
    st: { state: DomainStateName; reason: string },
  ): DomainStatus {
    return {
      version: STATUS_VERSION,
      name: live.name,
      uuid: live.uuid,
      id,
      pid: p.pid,
      monitorPath: p.monitorPath,
      runtimeDir: p.runtimeDir,
      logPath: p.logPath,
      state: st.state,
      reason: st.reason,
      liveXml: this.format(live, { secure: true }, id),
      liveDef: live,
      persistent,
      startedAt: p.startedAt,
      ports: p.ports,
      ...(p.fakeReboot ? { fakeReboot: true } : {}),
    };
  }

  async saveStatus(d: DomainObj, as?: { state: DomainStateName; reason: string }): Promise<void> {
    const p = d.proc;
    if (!p || !d.live || d.id === null) return;
    const st = this.statusOf(
      d.live,
      d.id,
      p,
      d.config !== undefined,
      as ?? { state: d.state, reason: d.reason },
    );
    await this.status
      .save(st)
      .catch((e) => this.log.error('cannot write status file', { name: st.name, err: e }));
  }

  requireActive(d: DomainObj): QemuProcess {
    if (!isActive(d) || !d.proc) throw invalid('domain is not running');
    return d.proc;
  }

  async kvmAvailable(): Promise<boolean> {
    this.kvm ??= await kvmUsable();
    return this.kvm;
  }

  // ------------------------------------------------------------------------------------ start / stop

  /** Starts QEMU for `d` from `def` (its config, or the XML of create). Runs inside the domain's job. */
  async start(d: DomainObj, def: DomainDef, paused: boolean): Promise<void> {
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
        onSpawned: (p) =>
          this.status.save(
            this.statusOf(live, id, p, d.config !== undefined, { state: 'paused', reason: 'starting up' }),
          ),
        ...(this.opts.qemuEnv ? { ctx: { env: this.opts.qemuEnv } } : {}),
        ...(this.opts.resolveDiskVolume ? { resolveDiskVolume: this.opts.resolveDiskVolume } : {}),
      });
    } catch (e) {
      // The process layer cleaned up QEMU; the status file written at spawn is ours to remove.
      await this.status.remove(def.name).catch(() => {});
      throw e;
    } finally {
      d.starting = false;
    }
    d.live = live;
    d.id = id;
    d.proc = proc;
    // Paused (starting up) until the vCPUs run and the status file exists; both happen at once.
    const final = paused
      ? { state: 'paused' as const, reason: 'user' }
      : { state: 'running' as const, reason: 'booted' };
    d.state = 'paused';
    d.reason = 'starting up';
    this.watch(d, proc);
    try {
      await Promise.all([paused ? undefined : proc.mon.execute('cont'), this.saveStatus(d, final)]);
      d.state = final.state;
      d.reason = final.reason;
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
  detached(fn: () => void): void {
    this.root.runInAsyncScope(fn);
  }

  /** Watches the process: its end is handled as a job on the domain (a crash unless someone stopped it). */
  watch(d: DomainObj, proc: QemuProcess): void {
    proc.onGone(() =>
      this.detached(() => {
        void this.job(d, 'process-exit', async () => {
          if (d.proc !== proc) return; // whoever stopped it on purpose has cleaned up already
          const reason = proc.stopReason ?? 'crashed';
          const restartDef =
            reason === 'crashed' && RESTART_ACTIONS.includes(defOf(d).onCrash ?? '')
              ? (d.config ?? stripRuntime(d.live!, this.opts.runDir))
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
  async stopped(
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
    else if (opts.keep) d.live = live ? stripRuntime(live, this.opts.runDir) : undefined;
    else this.doms.remove(d);
    if (!opts.silent) this.emit(def, 'stopped', eventDetail ?? reason);
  }

  /** Kills QEMU on purpose and does the stop bookkeeping (inside the domain's job). */
  async kill(d: DomainObj, reason: string, opts: { graceful?: boolean } = {}): Promise<void> {
    const proc = d.proc!;
    proc.stopReason = reason;
    await proc.kill(opts);
    await this.stopped(d, reason, reason);
  }

  // ------------------------------------------------------------------------------------ QMP events

  onQemuEvent(proc: QemuProcess, ev: MonitorEvent): void {
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
      case 'RESET':
        // The guest rebooted itself (on_reboot=restart: QEMU resets in place).
        if (ev.data.guest === true) this.emit(d, 'rebooted');
        return;
      case 'BLOCK_IO_ERROR':
        if (ev.data.action === 'stop') proc.ioError = true;
        return;
      case 'VSERPORT_CHANGE': {
        // The guest opened or closed a virtio-serial port (e.g. the guest agent started or stopped).
        const m = /^channel(\d+)$/.exec(String(ev.data.id ?? ''));
        const ch = m ? d.live?.devices.channels[Number(m[1])] : undefined;
        if (!ch) return;
        ch.target = { ...ch.target, state: ev.data.open === true ? 'connected' : 'disconnected' };
        this.detached(
          () =>
            void this.job(d, 'channel-event', async () => {
              if (d.proc === proc) await this.saveStatus(d);
            }).catch(() => {}),
        );
        return;
      }
      case 'GUEST_PANICKED':
        this.detached(() => void this.job(d, 'panic-event', () => this.onPanic(d, proc)).catch(() => {}));
        return;
      default:
        return;
    }
  }

  /** The guest powered off (or we asked for an ACPI reboot): honour fake reboot and on_poweroff. */
  async onShutdown(d: DomainObj, proc: QemuProcess, ev: MonitorEvent): Promise<void> {
    if (d.proc !== proc || proc.gone || proc.stopReason) return;
    const def = defOf(d);
    const guestReset = ev.data.reason === 'guest-reset'; // guest rebooted under -no-reboot
    // libvirt stops the domain on a reboot for on_reboot destroy and preserve alike.
    const stopOnReboot = def.onReboot === 'destroy' || def.onReboot === 'preserve';
    if ((proc.fakeReboot || guestReset) && !stopOnReboot) {
      proc.fakeReboot = false;
      await proc.mon.execute('system_reset');
      await proc.mon.execute('cont');
      d.state = 'running';
      d.reason = 'booted';
      await this.saveStatus(d);
      this.emit(d, 'rebooted');
      return;
    }
    const action = proc.fakeReboot || guestReset ? 'destroy' : def.onPoweroff;
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

  async onPanic(d: DomainObj, proc: QemuProcess): Promise<void> {
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
    const restartDef = RESTART_ACTIONS.includes(action)
      ? (d.config ?? stripRuntime(d.live!, this.opts.runDir))
      : undefined;
    proc.stopReason = 'crashed';
    await proc.kill();
    await this.stopped(d, 'crashed', 'crashed', { keep: restartDef !== undefined });
    if (restartDef)
      await this.start(d, restartDef, false).catch((e) => {
        this.log.error('restart after panic failed', { err: e });
        if (!isActive(d) && !d.config) this.doms.remove(d);
      });
  }
}

/** A live definition without its runtime facts (to start a transient domain again). */
export function stripRuntime(live: DomainDef, runDir?: string): DomainDef {
  const def = structuredClone(live);
  delete def.id;
  for (const g of def.devices.graphics) if (g.autoport) delete g.port;
  for (const c of [...def.devices.serials, ...def.devices.consoles, ...def.devices.channels])
    if (c.source.type === 'pty') delete c.source.path;
  for (const c of def.devices.channels) {
    // A socket generated in the old run's directory (the next run gets its own), and the state.
    if (runDir && c.source.type === 'unix' && c.source.path?.startsWith(`${runDir}/`)) delete c.source.path;
    if (c.target) delete c.target.state;
  }
  return def;
}
