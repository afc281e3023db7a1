// The QEMU driver (libvirt's qemu_driver.c): the public Connection entry points (domains) over
// QemuDomains (qemu-domains.ts). Definitions persist in etc/qemu/NAME.xml, running domains in
// run/qemu/NAME.json; every modifying call is a job on its domain.
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import type { DomainDef } from '../../conf/domain/index.js';
import type { JobManager } from '../../daemon/jobs.js';
import type { Logger } from '../../daemon/log.js';
import { readNodeInfo } from '../../host/node-info.js';
import { processCpuTimeNs, runCapture } from '../../host/process.js';
import { statFile } from '../../host/storage-file.js';
import { qemuImgInfoCommand } from '../storage/qemu-img.js';
import { VirError } from '../../util/errors.js';
import type {
  BlockInfo,
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
import { checkStartAllowed } from '../clone/linked.js';
import { channelSocketPath } from './command.js';
import { openConsole } from './console.js';
import { type DomainObj, defOf, isActive, matchesFilter, summary } from './domain-obj.js';
import { commandToString, TVIRT_VERSION } from './log.js';
import { type DiskVolumeResolver, type InterfaceHook, pretendQemuCommand } from './process.js';
import { QemuDomains, internal, invalid, invalidArg } from './qemu-domains.js';

/** The guest agent's virtio-serial port name. */
const AGENT_CHANNEL = 'org.qemu.guest_agent.0';
/** How long the agent may take to answer guest-sync before it counts as not responding. */
const AGENT_SYNC_MS = 5000;

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
  /** The storage driver's lookup for <disk type='volume'>; without it such disks are refused. */
  resolveDiskVolume?: DiskVolumeResolver;
  /** Skip fsync on definitions (tests). */
  noSync?: boolean;
}

/** Opens the QEMU driver: loads definitions, reconnects to running QEMUs. Autostart is separate. */
export async function openQemuDriver(opts: QemuDriverOptions): Promise<QemuDriver> {
  const d = new QemuDriver(opts);
  await d.load();
  return d;
}

/**
 * The hypervisor half of a connection (domains; networks belong to the network driver, which the
 * daemon composes with this one): libvirt's qemu_driver.c entry points over {@link QemuDomains}.
 */
export class QemuDriver implements HypervisorConnection {
  readonly uri: string;
  /** The domains and the machinery behind them. */
  readonly s: QemuDomains;
  private qemuVersion: string | undefined;
  private monitorCommands = 0;

  constructor(opts: QemuDriverOptions) {
    this.uri = opts.uri ?? 'qemu:///system';
    this.s = new QemuDomains(opts);
  }

  /** Loads definitions and status files; reconnects to every QEMU still running. */
  load(): Promise<void> {
    return this.s.load();
  }

  /** Starts autostart domains that are not running (daemon start). Errors are logged, not thrown. */
  autostart(): Promise<void> {
    return this.s.autostart();
  }

  /** SIGHUP: re-reads definitions edited on disk. Running domains keep their live definition. */
  reload(): Promise<void> {
    return this.s.reload();
  }

  /**
   * Plugs in the network driver's tap backends (see tapInterfaceHook in interfaces.ts). Used by the
   * next start, and by every later stop to release taps (also of domains found again at daemon start).
   */
  setInterfaceHook(hook: InterfaceHook): void {
    this.s.interfaces = hook;
  }

  /** The pid of a running domain's QEMU (tests, benchmarks, tools), else undefined. */
  qemuPid(ref: string): number | undefined {
    return this.s.dom(ref).proc?.pid;
  }

  /** A QMP command on a running domain's monitor (virsh qemu-monitor-command; tests, diagnostics). */
  async qemuMonitorCommand<T = unknown>(
    ref: string,
    command: string,
    args?: Record<string, unknown>,
  ): Promise<T> {
    const d = this.s.dom(ref);
    return this.s.requireActive(d).mon.execute<T>(command, args);
  }

  // ------------------------------------------------------------------------------------ Connection

  async domainMemoryStats(ref: string): Promise<[string, number][]> {
    this.s.check();
    const d = this.s.dom(ref);
    const proc = this.s.requireActive(d);
    const def = defOf(d);
    const out: [string, number][] = [];
    // A virtio balloon unless <memballoon model='none'/> (libvirt adds one by default).
    const hasBalloon = def.devices.others.find((e) => e.name === 'memballoon')?.attrs.model !== 'none';
    let actual = def.currentMemory || def.memory.kib;
    if (hasBalloon) {
      const b = await proc.mon.execute<{ actual: number }>('query-balloon').catch(() => undefined);
      if (b) actual = Math.floor(b.actual / 1024);
      // The guest's own figures, once a stats period is set (<memballoon><stats period>).
      const g = await proc.mon
        .execute<{ stats?: Record<string, number>; 'last-update'?: number }>('qom-get', {
          path: '/machine/peripheral/balloon0',
          property: 'guest-stats',
        })
        .catch(() => undefined);
      const kib = (v: number) => Math.floor(v / 1024);
      const map: [string, string, (v: number) => number][] = [
        ['stat-swap-in', 'swap_in', kib],
        ['stat-swap-out', 'swap_out', kib],
        ['stat-major-faults', 'major_fault', (v) => v],
        ['stat-minor-faults', 'minor_fault', (v) => v],
        ['stat-free-memory', 'unused', kib],
        ['stat-total-memory', 'available', kib],
        ['stat-available-memory', 'usable', kib],
        ['stat-disk-caches', 'disk_caches', kib],
        ['stat-htlb-pgalloc', 'hugetlb_pgalloc', (v) => v],
        ['stat-htlb-pgfail', 'hugetlb_pgfail', (v) => v],
      ];
      if (g?.stats && g['last-update']) {
        for (const [q, tag, f] of map) {
          const v = g.stats[q];
          if (typeof v === 'number' && v >= 0) out.push([tag, f(v)]);
        }
        out.push(['last_update', g['last-update']]);
      }
    }
    out.unshift(['actual', actual]);
    const rss = await readFile(`/proc/${proc.pid}/status`, 'utf8')
      .then((t) => /^VmRSS:\s+(\d+)\s+kB/m.exec(t)?.[1])
      .catch(() => undefined);
    if (rss !== undefined) out.push(['rss', Number(rss)]);
    return out;
  }

  async domainGetBlockInfo(ref: string, disk: string): Promise<BlockInfo> {
    this.s.check();
    const d = this.s.dom(ref);
    const def = defOf(d);
    const path = async (x: DomainDef['devices']['disks'][number]): Promise<string | undefined> => {
      if (x.type === 'volume' && x.source?.pool && x.source.volume && this.s.opts.resolveDiskVolume)
        return (await this.s.opts.resolveDiskVolume(x.source.pool, x.source.volume)).path;
      return x.source?.file ?? x.source?.dev;
    };
    let found: string | undefined;
    for (const x of def.devices.disks) {
      const p = await path(x).catch(() => undefined);
      if (x.target.dev === disk || (p !== undefined && p === disk)) {
        if (p === undefined)
          throw invalidArg(`disk '${x.target.dev}' does not currently have a source assigned`);
        found = p;
        break;
      }
    }
    if (found === undefined) throw invalidArg(`invalid path ${disk} not assigned to domain`);
    return blockInfo(found);
  }

  async domainQemuMonitorCommand(ref: string, cmd: string, flags: { hmp?: boolean } = {}): Promise<string> {
    this.s.check();
    const mon = this.s.requireActive(this.s.dom(ref)).mon;
    let command: string;
    let args: Record<string, unknown> | undefined;
    if (flags.hmp) {
      command = 'human-monitor-command';
      args = { 'command-line': cmd };
    } else {
      let v: unknown;
      try {
        v = JSON.parse(cmd);
      } catch (e) {
        throw invalidArg(`the monitor command is not JSON: ${(e as Error).message}`);
      }
      const o = v as { execute?: unknown; arguments?: unknown };
      if (typeof v !== 'object' || v === null || typeof o.execute !== 'string')
        throw invalidArg('the monitor command must be a JSON object with an "execute" member');
      command = o.execute;
      if (o.arguments !== undefined) {
        if (typeof o.arguments !== 'object' || o.arguments === null || Array.isArray(o.arguments))
          throw invalidArg('"arguments" of the monitor command must be an object');
        args = o.arguments as Record<string, unknown>;
      }
    }
    const id = `tvirt-${++this.monitorCommands}`;
    try {
      const result = await mon.execute(command, args);
      // The human monitor's answer is its text, as libvirt passes it on.
      if (flags.hmp) return typeof result === 'string' ? result : JSON.stringify(result);
      return JSON.stringify({ return: result, id });
    } catch (e) {
      // QEMU's own refusal is the answer (as libvirt passes the reply through); anything else fails.
      const body = (e as { cause?: unknown }).cause as { class?: string; desc?: string } | undefined;
      if (body && typeof body.class === 'string')
        return JSON.stringify({ id, error: { class: body.class, desc: body.desc } });
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.s.closed) return;
    this.s.closed = true;
    this.s.listeners.clear();
    // Guests keep running: only let go of their monitors.
    await Promise.all(this.s.doms.all().map((d) => d.proc?.detach()));
  }

  async getVersion(): Promise<VersionInfo> {
    this.s.check();
    if (!this.qemuVersion) {
      const out = await runCapture('qemu-system-x86_64', ['--version']).catch(() => '');
      this.qemuVersion = /version (\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '0.0.0';
    }
    return { library: TVIRT_VERSION, hypervisorType: 'QEMU', hypervisor: this.qemuVersion };
  }

  async getHostname(): Promise<string> {
    this.s.check();
    return hostname();
  }

  /**
   * virsh domxml-to-native qemu-argv: the QEMU command line the definition would start with (see
   * pretendQemuCommand), environment first, on one line. Nothing is defined or started.
   */
  async domainXMLToNative(format: string, xml: string): Promise<string> {
    this.s.check();
    if (format !== 'qemu-argv') throw invalidArg(`unsupported config type ${format}`);
    const def = this.s.parse(xml);
    const o = this.s.opts;
    const cmd = await pretendQemuCommand(def, {
      runDir: o.runDir,
      kvmAvailable: await this.s.kvmAvailable(),
      ...(o.qemuEnv ? { ctx: { env: o.qemuEnv } } : {}),
      ...(o.resolveDiskVolume ? { resolveDiskVolume: o.resolveDiskVolume } : {}),
    });
    return commandToString(cmd);
  }

  async getCapabilities(): Promise<string> {
    this.s.check();
    const kvm = await this.s.kvmAvailable();
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
    this.s.check();
    return readNodeInfo();
  }

  async listDomains(filter: DomainListFilter = {}): Promise<DomainSummary[]> {
    this.s.check();
    return this.s.doms
      .all()
      .filter((d) => matchesFilter(d, filter))
      .map(summary);
  }

  async domainLookup(ref: string): Promise<DomainSummary> {
    return summary(this.s.dom(ref));
  }

  async domainGetInfo(ref: string): Promise<DomainInfo> {
    const d = this.s.dom(ref);
    const def = defOf(d);
    return {
      ...summary(d),
      osType: def.os.type,
      maxMemoryKiB: def.memory.kib,
      memoryKiB: def.currentMemory ?? def.memory.kib,
      vcpus: def.vcpu?.current ?? def.vcpu?.max ?? 1,
      cpuTimeNs: d.proc ? await processCpuTimeNs(d.proc.pid) : 0,
      managedSave: false,
      // No security driver (SELinux/AppArmor labelling) yet: libvirt's 'none' driver reports this.
      securityModel: 'none',
      securityDoi: '0',
    };
  }

  async domainGetState(ref: string): Promise<DomainState> {
    const d = this.s.dom(ref);
    return { state: d.state, reason: d.reason };
  }

  async domainGetXMLDesc(ref: string, flags: DomainXMLFlags = {}): Promise<string> {
    const d = this.s.dom(ref);
    const def = flags.inactive && d.config ? d.config : defOf(d);
    return this.s.format(def, flags, d.id);
  }

  async domainDefineXML(xml: string): Promise<DomainSummary> {
    this.s.check();
    const def = this.s.parse(xml);
    const old = this.s.doms.existing(def);
    if (old) {
      return this.s.job(old, 'define', async () => {
        const wasPersistent = old.config !== undefined;
        await this.s.saveConfig(def);
        old.config = def;
        this.s.emit(old, 'defined', wasPersistent ? 'updated' : 'added');
        if (isActive(old)) await this.s.saveStatus(old);
        return summary(old);
      });
    }
    await this.s.saveConfig(def);
    // Another define of the same name may have raced us while the file was written.
    const again = this.s.doms.existing(def);
    if (again) {
      again.config = def;
      this.s.emit(again, 'defined', 'updated');
      return summary(again);
    }
    const d: DomainObj = { config: def, id: null, state: 'shutoff', reason: 'unknown', autostart: false };
    this.s.doms.add(d);
    this.s.emit(d, 'defined', 'added');
    return summary(d);
  }

  async domainUndefine(ref: string): Promise<{ becameTransient: boolean }> {
    const d = this.s.dom(ref);
    return this.s.job(d, 'undefine', async () => {
      if (!d.config) throw invalid('cannot undefine transient domain');
      const name = d.config.name;
      await this.s.store.remove(name);
      d.autostart = false;
      const def = d.config;
      d.config = undefined;
      if (isActive(d) || d.starting) {
        await this.s.saveStatus(d);
        this.s.emit(def, 'undefined', 'removed');
        return { becameTransient: true };
      }
      this.s.doms.remove(d);
      this.s.emit(def, 'undefined', 'removed');
      return { becameTransient: false };
    });
  }

  async domainCreateXML(xml: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    this.s.check();
    const def = this.s.parse(xml);
    const old = this.s.doms.existing(def);
    if (old) {
      return this.s.job(old, 'start', async () => {
        if (isActive(old) || old.starting) throw invalid(`domain '${def.name}' is already active`);
        await this.s.start(old, def, flags.paused ?? false);
        return summary(old);
      });
    }
    const d: DomainObj = { id: null, state: 'shutoff', reason: 'unknown', autostart: false, starting: true };
    d.live = def; // names the object while it starts; replaced by the real live definition
    this.s.doms.add(d);
    return this.s.job(def, 'start', async () => {
      d.starting = false;
      try {
        await this.s.start(d, def, flags.paused ?? false);
      } catch (e) {
        if (!isActive(d)) this.s.doms.remove(d);
        throw e;
      }
      return summary(d);
    });
  }

  async domainCreate(ref: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    const d = this.s.dom(ref);
    return this.s.job(d, 'start', async () => {
      if (isActive(d)) throw invalid('domain is already running');
      if (!d.config) throw internal(`domain '${defOf(d).name}' has no persistent definition`);
      // A base image of linked clones must not be written (src/drivers/clone/linked.ts).
      checkStartAllowed(
        d.config,
        this.s.doms.all().map((x) => x.config ?? defOf(x)),
      );
      await this.s.start(d, d.config, flags.paused ?? false);
      return summary(d);
    });
  }

  async domainShutdown(ref: string, flags: { mode?: 'acpi' | 'agent' } = {}): Promise<void> {
    const d = this.s.dom(ref);
    await this.s.job(d, 'shutdown', async () => {
      const proc = this.s.requireActive(d);
      proc.fakeReboot = false;
      if (await this.viaAgent(d, flags.mode, 'powerdown')) return;
      await proc.mon.execute('system_powerdown');
    });
  }

  async domainReboot(ref: string, flags: { mode?: 'acpi' | 'agent' } = {}): Promise<void> {
    const d = this.s.dom(ref);
    await this.s.job(d, 'reboot', async () => {
      const proc = this.s.requireActive(d);
      if (await this.viaAgent(d, flags.mode, 'reboot')) return;
      // libvirt's fake reboot: power the guest off over ACPI, then reset and continue it on SHUTDOWN.
      proc.fakeReboot = true;
      await this.s.saveStatus(d);
      await proc.mon.execute('system_powerdown');
    });
  }

  /**
   * libvirt's choice between the guest agent and ACPI for shutdown/reboot: mode 'agent' must use
   * the agent (errors when it is not configured, not connected or does not answer); no mode uses
   * it when its channel is connected and falls back to ACPI when it fails; 'acpi' never uses it.
   * Returns true when the agent took the request.
   */
  private async viaAgent(
    d: DomainObj,
    mode: 'acpi' | 'agent' | undefined,
    what: 'powerdown' | 'reboot',
  ): Promise<boolean> {
    if (mode === 'acpi') return false;
    const ch = d.live?.devices.channels.find((c) => c.target?.name === AGENT_CHANNEL);
    if (mode === undefined && ch?.target?.state !== 'connected') return false;
    try {
      await this.agentCommand(d, 'guest-shutdown', { mode: what });
      return true;
    } catch (e) {
      if (mode === 'agent') throw e;
      this.s.log.warn('guest agent shutdown failed, using ACPI', { name: defOf(d).name, err: e });
      return false;
    }
  }

  /**
   * Sends a command the agent does not answer when it works (guest-shutdown) over its virtio channel,
   * after a guest-sync it must answer within AGENT_SYNC_MS (libvirt's qemuAgentGuestSync): an agent
   * that is not running is an error, never a silent no-op.
   */
  private async agentCommand(d: DomainObj, command: string, args: Record<string, unknown>): Promise<void> {
    const live = d.live!;
    const ch = live.devices.channels.find((c) => c.target?.name === AGENT_CHANNEL);
    if (!ch)
      throw new VirError('ARGUMENT_UNSUPPORTED', 'argument unsupported: QEMU guest agent is not configured', {
        domain: 'QEMU',
      });
    const unresponsive = (why: string) =>
      new VirError('AGENT_UNRESPONSIVE', `Guest agent is not responding: ${why}`, { domain: 'QEMU' });
    // The guest side of the port is closed: no agent runs (VSERPORT_CHANGE / query-chardev).
    if (ch.target?.state !== 'connected') throw unresponsive('QEMU guest agent is not connected');
    const path = ch.source.path ?? channelSocketPath(d.proc!.runtimeDir, AGENT_CHANNEL);
    const id = Math.floor(Math.random() * 1e9);
    await new Promise<void>((resolve, reject) => {
      const s = createConnection(path);
      let buf = '';
      const fail = (e: VirError) => {
        clearTimeout(timer);
        s.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(unresponsive('Guest agent not available for now')), AGENT_SYNC_MS);
      s.setEncoding('utf8');
      s.once('error', (e) => fail(unresponsive(e.message)));
      s.once('close', () => fail(unresponsive('Guest agent not available for now')));
      // A leading 0xFF byte resets the agent's JSON parser should an earlier client have left half a
      // command behind (the QGA protocol's advice before guest-sync).
      s.once('connect', () =>
        s.write(
          Buffer.concat([
            Buffer.from([0xff]),
            Buffer.from(`${JSON.stringify({ execute: 'guest-sync', arguments: { id } })}\n`),
          ]),
        ),
      );
      s.on('data', (chunk: string) => {
        buf += chunk;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          let msg: { return?: unknown } | undefined;
          try {
            msg = JSON.parse(line) as { return?: unknown };
          } catch {
            continue;
          }
          if (msg?.return !== id) continue;
          clearTimeout(timer);
          s.removeAllListeners('close');
          s.end(`${JSON.stringify({ execute: command, arguments: args })}\n`, () => resolve());
          return;
        }
      });
    });
  }

  async domainReset(ref: string): Promise<void> {
    const d = this.s.dom(ref);
    await this.s.job(d, 'reset', async () => {
      await this.s.requireActive(d).mon.execute('system_reset');
      this.s.emit(d, 'reset');
    });
  }

  async domainDestroy(ref: string, flags: { graceful?: boolean } = {}): Promise<void> {
    const d = this.s.dom(ref);
    await this.s.job(d, 'destroy', async () => {
      this.s.requireActive(d);
      await this.s.kill(d, 'destroyed', flags);
    });
  }

  async domainSuspend(ref: string): Promise<void> {
    const d = this.s.dom(ref);
    await this.s.job(d, 'suspend', async () => {
      const proc = this.s.requireActive(d);
      if (d.state === 'paused') return;
      if (d.state !== 'running') throw invalid(`domain '${defOf(d).name}' is not running`);
      await proc.mon.execute('stop');
      d.state = 'paused';
      d.reason = 'user';
      await this.s.saveStatus(d);
      this.s.emit(d, 'suspended', 'paused');
    });
  }

  async domainResume(ref: string): Promise<void> {
    const d = this.s.dom(ref);
    await this.s.job(d, 'resume', async () => {
      const proc = this.s.requireActive(d);
      if (d.state !== 'paused' && !(d.state === 'crashed' && d.reason === 'panicked'))
        throw internal(`domain '${defOf(d).name}' not paused`);
      await proc.mon.execute('cont');
      d.state = 'running';
      d.reason = 'unpaused';
      await this.s.saveStatus(d);
      this.s.emit(d, 'resumed', 'unpaused');
    });
  }

  async domainSetAutostart(ref: string, autostart: boolean): Promise<void> {
    const d = this.s.dom(ref);
    await this.s.job(d, 'autostart', async () => {
      if (!d.config) throw invalid('cannot set autostart for transient domain');
      await this.s.store.setAutostart(d.config.name, autostart);
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
    if (t.config) await this.s.saveConfig(t.config);
    if (t.live) await this.s.saveStatus(d);
  }

  async domainSetMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void> {
    const d = this.s.dom(ref);
    await this.s.job(d, 'setmem', async () => {
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
    const d = this.s.dom(ref);
    await this.s.job(d, 'setmaxmem', async () => {
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
    const d = this.s.dom(ref);
    await this.s.job(d, 'setvcpus', async () => {
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
    const d = this.s.dom(ref);
    await this.s.job(d, 'metadata', async () => {
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
    const d = this.s.dom(ref);
    const t = this.targets(d, flags?.live && flags.config ? { live: true } : flags);
    const def = t.live ?? t.config!;
    return def[type] ?? '';
  }

  async domainOpenConsole(ref: string, dev?: string): Promise<Duplex> {
    const d = this.s.dom(ref);
    if (!isActive(d) || !d.live) throw invalid('domain is not running');
    return openConsole(d.live, dev);
  }

  onEvent(listener: (ev: TvirtEvent) => void): () => void {
    this.s.check();
    this.s.listeners.add(listener);
    return () => {
      this.s.listeners.delete(listener);
    };
  }
}

/**
 * A disk image's sizes as libvirt's qemuDomainGetBlockInfo reports them for a local file or device:
 * capacity from `qemu-img info -U` (the guest's size), allocation the bytes it occupies, physical the
 * file's size (a block device's size).
 */
async function blockInfo(path: string): Promise<BlockInfo> {
  let info: { 'virtual-size'?: number; 'actual-size'?: number };
  try {
    const cmd = qemuImgInfoCommand(path);
    info = JSON.parse(await runCapture(cmd.program, cmd.args, 30_000));
  } catch (e) {
    throw new VirError(
      'OPERATION_FAILED',
      `operation failed: cannot read the image ${path}: ${(e as Error).message}`,
      {
        domain: 'QEMU',
        cause: e,
      },
    );
  }
  const st = await statFile(path);
  const capacity = info['virtual-size'] ?? st.size;
  const physical = st.kind === 'block' ? capacity : st.size;
  return { capacity, allocation: st.kind === 'block' ? physical : st.allocated, physical };
}
