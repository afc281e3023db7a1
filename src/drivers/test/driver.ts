// The test:///default driver: an in-memory hypervisor with libvirt's test-driver behaviour (states,
// transitions, error messages), implementing the Connection contract. State is shared by every open
// connection of the process and dropped when the last one closes, as libvirt does.
import { hostname } from 'node:os';
import { type Duplex, PassThrough } from 'node:stream';
import { VirError } from '../../util/errors.js';
import type {
  BlockInfo,
  Connection,
  DomainInfo,
  DomainListFilter,
  DomainState,
  DomainStateName,
  DomainSummary,
  DomainXMLFlags,
  ModifyFlags,
  NodeInfo,
  TvirtEvent,
  VersionInfo,
} from '../connection.js';
import {
  capabilitiesXml,
  defaultDomainXml,
  defaultNodeInfo,
  securityModel,
  testHypervisorVersion,
} from './default-config.js';
import type { DomainDef } from '../../conf/domain/index.js';
import type { CloneResult, DomainCloneOptions } from '../clone/clone-api.js';
import { NetworkForwarder } from '../network-forwarder.js';
import {
  type DomainInterfaceAddresses,
  guestNics,
  type InterfaceAddressSource,
  notRunning,
} from '../interface-addresses.js';
import { TestNetworks, testInterfaceAddresses } from './networks.js';
import { forwardStorage } from '../storage-forwarder.js';
import { TestStorage } from './storage.js';
import { protectLinkedBases } from '../clone/linked-guard.js';
import type { StorageConnection } from '../connection.js';

type Conf = typeof import('../../conf/domain/index.js');

export const TEST_URI = 'test:///default';
const LIBRARY_VERSION = '0.1.0';

/** One domain: libvirt's virDomainObj (def = live while active, newDef = persistent config). */
interface DomObj {
  /** The persistent definition (undefined for a transient domain). */
  config?: DomainDef;
  /** The running definition while active. */
  live?: DomainDef;
  id: number | null;
  state: DomainStateName;
  reason: string;
  autostart: boolean;
}

const invalid = (msg: string) =>
  new VirError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { domain: 'TEST' });
const internal = (msg: string) =>
  new VirError('INTERNAL_ERROR', `internal error: ${msg}`, { domain: 'TEST' });
const invalidArg = (msg: string) =>
  new VirError('INVALID_ARG', `invalid argument: ${msg}`, { domain: 'TEST' });

/** The in-memory hypervisor behind every test:///default connection. */
export class TestDriverState {
  private doms: DomObj[] = [];
  private nextId = 1;
  private conf: Conf | undefined;
  private loading: Promise<Conf> | undefined;
  readonly listeners = new Set<(ev: TvirtEvent) => void>();
  /** The storage pools of test:///default (pool 'default-pool' active). */
  readonly storage = new TestStorage((name, uuid, event) =>
    this.deliver({ kind: 'pool-lifecycle', name, uuid, event, timestamp: Date.now() }),
  );
  /** The networks of test:///default (network 'default' active). */
  readonly networks = new TestNetworks((name, uuid, event) =>
    this.deliver({ kind: 'network-lifecycle', name, uuid, event, timestamp: Date.now() }),
  );

  /** Loads the conf layer and the default objects on first use (keeps CLI start-up small). */
  async ready(): Promise<Conf> {
    if (this.conf) return this.conf;
    this.loading ??= import('../../conf/domain/index.js').then((conf) => {
      if (!this.conf) {
        this.conf = conf;
        const def = this.parse(defaultDomainXml);
        this.doms.push({
          config: def,
          live: clone(def),
          id: this.nextId++,
          state: 'running',
          reason: 'unknown',
          autostart: false,
        });
        // Pool 'default-pool' belongs here once the storage driver exists.
      }
      return conf;
    });
    return this.loading;
  }

  /** Parses domain XML and applies the test driver's defaults (its capabilities: i686 hvm). */
  parse(xml: string): DomainDef {
    const def = this.conf!.parseDomain(xml);
    def.os.arch ??= 'i686';
    if (def.os.bootDevs.length === 0 && !def.os.kernel) def.os.bootDevs = ['hd'];
    def.clock ??= { offset: 'utc', timers: [] };
    def.onPoweroff ??= 'destroy';
    def.onReboot ??= 'restart';
    def.onCrash ??= 'destroy';
    // Graphics without a video device get the test hypervisor's default one.
    if (def.devices.graphics.length > 0 && def.devices.videos.length === 0) {
      def.devices.videos.push({ type: 'cirrus', vram: 16384, heads: 1, primary: true, hasModel: true });
    }
    delete def.id;
    return def;
  }

  format(def: DomainDef, flags: { inactive?: boolean; secure?: boolean }, id: number | null): string {
    const d = { ...def };
    if (id !== null && !flags.inactive) d.id = id;
    else delete d.id;
    return this.conf!.formatDomain(d, { inactive: flags.inactive ?? false, secure: flags.secure ?? false });
  }

  emit(dom: DomObj | DomainDef, event: string, detail?: string): void {
    const def = 'memory' in dom ? dom : (dom.live ?? dom.config!);
    const ev: TvirtEvent = {
      kind: 'domain-lifecycle',
      name: def.name,
      uuid: def.uuid,
      event,
      timestamp: Date.now(),
    };
    if (detail !== undefined) ev.detail = detail;
    this.deliver(ev);
  }

  deliver(ev: TvirtEvent): void {
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch {
        // A failing listener must not break the operation that emitted the event.
      }
    }
  }

  all(): DomObj[] {
    return this.doms;
  }

  /** Finds a domain by id, then UUID, then name, as virsh resolves a domain argument. */
  find(ref: string): DomObj {
    if (/^\d+$/.test(ref)) {
      const id = Number(ref);
      const d = this.doms.find((x) => x.id === id);
      if (d) return d;
    }
    const norm = ref.toLowerCase().replace(/-/g, '');
    if (/^[0-9a-f]{32}$/.test(norm)) {
      const d = this.doms.find((x) => defOf(x).uuid.replace(/-/g, '') === norm);
      if (d) return d;
    }
    const d = this.doms.find((x) => defOf(x).name === ref);
    if (d) return d;
    throw new VirError('NO_DOMAIN', `Domain not found: no domain with matching name '${ref}'`, {
      domain: 'TEST',
    });
  }

  add(dom: DomObj): void {
    this.doms.push(dom);
  }
  remove(dom: DomObj): void {
    this.doms = this.doms.filter((d) => d !== dom);
  }
  allocId(): number {
    return this.nextId++;
  }
}

function clone<T>(v: T): T {
  return structuredClone(v);
}
function defOf(d: DomObj): DomainDef {
  return d.live ?? d.config!;
}
function isActive(d: DomObj): boolean {
  return d.id !== null;
}
function summary(d: DomObj): DomainSummary {
  const def = defOf(d);
  const s: DomainSummary = {
    id: d.id,
    name: def.name,
    uuid: def.uuid,
    state: d.state,
    reason: d.reason,
    persistent: d.config !== undefined,
    autostart: d.autostart,
  };
  if (def.title !== undefined) s.title = def.title;
  return s;
}

let shared: { state: TestDriverState; refs: number } | undefined;

/** How a test connection is opened. */
export interface TestConnectionOptions {
  /**
   * Leave out the linked-clone guard (src/drivers/clone/linked-guard.ts). Only for a caller that
   * applies it itself over a composed connection, as tvirtd does.
   */
  unguarded?: boolean;
}

/**
 * Opens a connection to test:///default; all open connections share one state. Linked clones'
 * base images are protected exactly as tvirtd protects them (start, create, vol-delete, wipe,
 * upload, resize, undefine with storage).
 */
export function openTestConnection(opts: TestConnectionOptions = {}): Connection {
  if (!shared) shared = { state: new TestDriverState(), refs: 0 };
  shared.refs++;
  const c = new TestConnection(shared.state);
  return opts.unguarded ? c : protectLinkedBases(c);
}

/** A connection with its own, unshared state (for tests), guarded as openTestConnection's. */
export function openIsolatedTestConnection(): Connection {
  return protectLinkedBases(new TestConnection(new TestDriverState(), false));
}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: storage methods come from forwardStorage (end of file)
class TestConnection extends NetworkForwarder implements Connection {
  readonly uri = TEST_URI;
  private closed = false;
  private subs = new Set<(ev: TvirtEvent) => void>();
  constructor(
    private readonly s: TestDriverState,
    private readonly isShared = true,
  ) {
    super(() => s.networks);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.subs) this.s.listeners.delete(l);
    if (this.isShared && shared && shared.state === this.s && --shared.refs <= 0) shared = undefined;
  }

  private check(): void {
    if (this.closed)
      throw new VirError('INVALID_CONN', 'invalid connection pointer in test driver: connection is closed');
  }

  async getVersion(): Promise<VersionInfo> {
    this.check();
    return { library: LIBRARY_VERSION, hypervisorType: 'TEST', hypervisor: testHypervisorVersion };
  }
  async getHostname(): Promise<string> {
    this.check();
    return hostname();
  }
  /** libvirt's test driver answers fixed figures for a running domain. */
  async domainMemoryStats(ref: string): Promise<[string, number][]> {
    const d = await this.dom(ref);
    if (!isActive(d))
      throw new VirError('OPERATION_INVALID', 'Requested operation is not valid: domain is not running');
    return [
      ['actual', 2097152],
      ['swap_in', 0],
      ['swap_out', 0],
      ['major_fault', 0],
      ['minor_fault', 0],
      ['unused', 1048576],
      ['available', 2097152],
      ['usable', 1048576],
      ['last_update', 627319920],
      ['disk_caches', 262144],
      ['hugetlb_pgalloc', 0],
      ['hugetlb_pgfail', 0],
      ['rss', 1048576],
    ];
  }
  /** libvirt's test driver answers fixed sizes for any disk of the domain. */
  async domainGetBlockInfo(ref: string, disk: string): Promise<BlockInfo> {
    const d = await this.dom(ref);
    const def = d.live ?? d.config!;
    const hit = def.devices.disks.find(
      (x) => x.target.dev === disk || (x.source?.file ?? x.source?.dev ?? x.source?.volume) === disk,
    );
    if (!hit) throw invalidArg(`invalid path ${disk} not assigned to domain`);
    return { capacity: 1099506450432, allocation: 1099511627776, physical: 1099511627776 };
  }
  async domainQemuMonitorCommand(): Promise<string> {
    this.check();
    throw new VirError(
      'NO_SUPPORT',
      'this function is not supported by the connection driver: virDomainQemuMonitorCommand',
    );
  }
  async domainXMLToNative(): Promise<string> {
    this.check();
    // As libvirt's test driver: it has no native format.
    throw new VirError(
      'NO_SUPPORT',
      'this function is not supported by the connection driver: virConnectDomainXMLToNative',
    );
  }
  async getCapabilities(): Promise<string> {
    this.check();
    return capabilitiesXml;
  }
  async nodeGetInfo(): Promise<NodeInfo> {
    this.check();
    return { ...defaultNodeInfo };
  }

  private async dom(ref: string): Promise<DomObj> {
    this.check();
    await this.s.ready();
    return this.s.find(ref);
  }

  async listDomains(filter: DomainListFilter = {}): Promise<DomainSummary[]> {
    this.check();
    await this.s.ready();
    return this.s
      .all()
      .filter((d) => {
        const active = isActive(d);
        if (filter.active && !filter.inactive && !active) return false;
        if (filter.inactive && !filter.active && active) return false;
        if (filter.persistent && !filter.transient && !d.config) return false;
        if (filter.transient && !filter.persistent && d.config) return false;
        if (filter.autostart && !filter.noAutostart && !d.autostart) return false;
        if (filter.noAutostart && !filter.autostart && d.autostart) return false;
        if (filter.states && filter.states.length > 0 && !filter.states.includes(d.state)) return false;
        return true;
      })
      .map(summary);
  }

  async domainLookup(ref: string): Promise<DomainSummary> {
    return summary(await this.dom(ref));
  }

  async domainGetInfo(ref: string): Promise<DomainInfo> {
    const d = await this.dom(ref);
    const def = defOf(d);
    const info: DomainInfo = {
      ...summary(d),
      osType: def.os.type === 'hvm' ? 'linux' : def.os.type,
      maxMemoryKiB: def.memory.kib,
      memoryKiB: def.currentMemory ?? def.memory.kib,
      vcpus: def.vcpu?.current ?? def.vcpu?.max ?? 1,
      // libvirt's test driver reports the time of day as CPU time.
      cpuTimeNs: Date.now() * 1e6,
      managedSave: false,
      securityModel: securityModel.model,
      securityDoi: securityModel.doi,
    };
    if (isActive(d)) info.securityLabel = { label: securityModel.label, enforcing: securityModel.enforcing };
    return info;
  }

  async domainGetState(ref: string): Promise<DomainState> {
    const d = await this.dom(ref);
    return { state: d.state, reason: d.reason };
  }

  /** libvirt's test driver makes the addresses up, the same whatever the source (testInterfaceAddresses). */
  async domainInterfaceAddresses(
    ref: string,
    _source?: InterfaceAddressSource,
  ): Promise<DomainInterfaceAddresses[]> {
    const d = await this.dom(ref);
    if (!isActive(d) || d.id === null) throw notRunning();
    const nics = guestNics(await this.domainGetXMLDesc(ref));
    return testInterfaceAddresses(this.s.networks, d.id, nics);
  }

  async domainGetXMLDesc(ref: string, flags: DomainXMLFlags = {}): Promise<string> {
    const d = await this.dom(ref);
    const def = flags.inactive && d.config ? d.config : defOf(d);
    return this.s.format(def, flags, d.id);
  }

  /** Finds a domain clashing with `def` (libvirt's virDomainObjListAdd checks). */
  private existing(def: DomainDef): DomObj | undefined {
    const byUuid = this.s.all().find((d) => defOf(d).uuid === def.uuid);
    if (byUuid) {
      if (defOf(byUuid).name !== def.name) {
        throw new VirError(
          'DOM_EXIST',
          `operation failed: domain '${defOf(byUuid).name}' is already defined with uuid ${def.uuid}`,
          { domain: 'TEST' },
        );
      }
      return byUuid;
    }
    const byName = this.s.all().find((d) => defOf(d).name === def.name);
    if (byName) {
      throw new VirError(
        'DOM_EXIST',
        `operation failed: domain '${def.name}' already exists with uuid ${defOf(byName).uuid}`,
        { domain: 'TEST' },
      );
    }
    return undefined;
  }

  async domainDefineXML(xml: string): Promise<DomainSummary> {
    this.check();
    await this.s.ready();
    const def = this.s.parse(xml);
    const old = this.existing(def);
    if (old) {
      const wasPersistent = old.config !== undefined;
      old.config = def;
      if (!isActive(old)) old.live = undefined;
      this.s.emit(old, 'defined', wasPersistent ? 'updated' : 'added');
      return summary(old);
    }
    const dom: DomObj = { config: def, id: null, state: 'shutoff', reason: 'unknown', autostart: false };
    this.s.add(dom);
    this.s.emit(dom, 'defined', 'added');
    return summary(dom);
  }

  async domainUndefine(ref: string): Promise<{ becameTransient: boolean }> {
    const d = await this.dom(ref);
    if (isActive(d)) {
      d.config = undefined;
      this.s.emit(d, 'undefined', 'removed');
      return { becameTransient: true };
    }
    this.s.emit(d, 'undefined', 'removed');
    this.s.remove(d);
    return { becameTransient: false };
  }

  private startObj(d: DomObj, def: DomainDef, paused: boolean): void {
    d.live = clone(def);
    d.id = this.s.allocId();
    d.state = paused ? 'paused' : 'running';
    d.reason = paused ? 'user' : 'booted';
    this.s.emit(d, 'started', 'booted');
    if (paused) this.s.emit(d, 'suspended', 'paused');
  }

  async domainCreateXML(xml: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    this.check();
    await this.s.ready();
    const def = this.s.parse(xml);
    const old = this.existing(def);
    if (old) {
      if (isActive(old)) throw invalid(`domain '${def.name}' is already active`);
      this.startObj(old, def, flags.paused ?? false);
      return summary(old);
    }
    const dom: DomObj = { id: null, state: 'shutoff', reason: 'unknown', autostart: false };
    this.s.add(dom);
    this.startObj(dom, def, flags.paused ?? false);
    return summary(dom);
  }

  async domainCreate(ref: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    const d = await this.dom(ref);
    if (isActive(d)) throw invalid('domain is already running');
    // Base images of linked clones are refused by the guard around every connection (openTestConnection).
    this.startObj(d, d.config!, flags.paused ?? false);
    return summary(d);
  }

  /** Stops a domain; a transient one disappears. */
  private stop(d: DomObj, reason: string, event: string): void {
    const def = defOf(d);
    d.id = null;
    d.live = undefined;
    d.state = 'shutoff';
    d.reason = reason;
    this.s.emit(def, 'stopped', event);
    if (!d.config) this.s.remove(d);
  }

  async domainShutdown(ref: string): Promise<void> {
    const d = await this.dom(ref);
    if (d.state === 'shutoff') throw internal(`domain '${defOf(d).name}' not running`);
    this.stop(d, 'shutdown', 'shutdown');
  }

  async domainReboot(ref: string): Promise<void> {
    const d = await this.dom(ref);
    if (!isActive(d)) throw invalid('domain is not running');
    d.state = 'running';
    d.reason = 'booted';
    this.s.emit(d, 'rebooted');
  }

  async domainReset(ref: string): Promise<void> {
    const d = await this.dom(ref);
    if (!isActive(d)) throw invalid('domain is not running');
    this.s.emit(d, 'reset');
  }

  async domainDestroy(ref: string): Promise<void> {
    const d = await this.dom(ref);
    if (!isActive(d)) throw invalid('domain is not running');
    this.stop(d, 'destroyed', 'destroyed');
  }

  async domainSuspend(ref: string): Promise<void> {
    const d = await this.dom(ref);
    if (d.state !== 'running') throw internal(`domain '${defOf(d).name}' not running`);
    d.state = 'paused';
    d.reason = 'user';
    this.s.emit(d, 'suspended', 'paused');
  }

  async domainResume(ref: string): Promise<void> {
    const d = await this.dom(ref);
    if (d.state !== 'paused') throw internal(`domain '${defOf(d).name}' not paused`);
    d.state = 'running';
    d.reason = 'unpaused';
    this.s.emit(d, 'resumed', 'unpaused');
  }

  async domainSetAutostart(ref: string, autostart: boolean): Promise<void> {
    const d = await this.dom(ref);
    d.autostart = autostart;
  }

  /** The definitions a change applies to (libvirt's virDomainObjUpdateModificationImpact). */
  private targets(d: DomObj, flags: ModifyFlags = {}): DomainDef[] {
    let live = flags.live ?? false;
    let config = flags.config ?? false;
    if (!live && !config) {
      if (isActive(d)) live = true;
      else config = true;
    }
    if (live && !isActive(d)) throw invalid('domain is not running');
    if (config && !d.config) throw invalid('transient domains do not have any persistent config');
    const out: DomainDef[] = [];
    if (live) out.push(d.live!);
    if (config) out.push(d.config!);
    return out;
  }

  async domainSetMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void> {
    const d = await this.dom(ref);
    const defs = this.targets(d, flags);
    for (const def of defs) {
      if (kib > def.memory.kib) throw invalidArg('cannot set memory higher than max memory');
    }
    for (const def of defs) def.currentMemory = kib;
  }

  async domainSetMaxMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void> {
    const d = await this.dom(ref);
    let live = flags?.live ?? false;
    if (!live && !flags?.config && isActive(d)) live = true;
    if (live && isActive(d)) throw invalid('cannot resize the maximum memory on an active domain');
    for (const def of this.targets(d, flags)) {
      def.memory.kib = kib;
      if ((def.currentMemory ?? kib) > kib) def.currentMemory = kib;
    }
  }

  async domainSetVcpus(
    ref: string,
    count: number,
    flags: ModifyFlags & { maximum?: boolean } = {},
  ): Promise<void> {
    const d = await this.dom(ref);
    if (count < 1) throw invalidArg("Can't set 0 processors for a VM");
    if (flags.maximum && flags.live)
      throw invalidArg('cannot change the maximum vcpu count of a running domain');
    const defs = this.targets(d, flags);
    for (const def of defs) {
      const max = def.vcpu?.max ?? 1;
      if (!flags.maximum && count > max) {
        throw invalidArg(`requested cpu amount exceeds maximum (${count} > ${max})`);
      }
    }
    for (const def of defs) {
      const v = (def.vcpu ??= { max: 1, placement: 'static' });
      if (flags.maximum) {
        const cur = v.current ?? v.max;
        v.max = count;
        if (cur < count) v.current = cur;
        else delete v.current;
      } else if (count === v.max) delete v.current;
      else v.current = count;
    }
  }

  async domainSetMetadata(
    ref: string,
    type: 'title' | 'description',
    text: string,
    flags?: ModifyFlags,
  ): Promise<void> {
    const d = await this.dom(ref);
    if (type === 'title' && text.includes('\n')) throw invalidArg("title can't contain newlines");
    for (const def of this.targets(d, flags)) {
      if (text === '') delete def[type];
      else def[type] = text;
    }
  }

  async domainGetMetadata(ref: string, type: 'title' | 'description', flags?: ModifyFlags): Promise<string> {
    const d = await this.dom(ref);
    // libvirt's test driver answers a --live query of an inactive domain from its definition.
    if (!isActive(d)) return d.config?.[type] ?? '';
    const [def] = this.targets(d, flags?.live && flags.config ? { live: true } : flags);
    return def![type] ?? '';
  }

  async domainOpenConsole(ref: string): Promise<Duplex> {
    const d = await this.dom(ref);
    if (!isActive(d)) throw invalid('domain is not running');
    // The test hypervisor's serial line is a loopback: what is typed comes back.
    return new PassThrough();
  }

  /** virt-clone (src/drivers/clone); disks that are not on this machine are simulated files. */
  async domainClone(ref: string, opts?: DomainCloneOptions): Promise<CloneResult> {
    this.check();
    const { cloneDomain } = await import('../clone/clone.js');
    const { simulatedCloneHost } = await import('../clone/simulated-host.js');
    return cloneDomain(this, simulatedCloneHost(this.s, this), ref, opts);
  }

  onEvent(listener: (ev: TvirtEvent) => void): () => void {
    this.check();
    this.s.listeners.add(listener);
    this.subs.add(listener);
    return () => {
      this.s.listeners.delete(listener);
      this.subs.delete(listener);
    };
  }
}

// Storage calls go to the shared state's pools (src/drivers/test/storage.ts).
// biome-ignore lint/correctness/noUnusedVariables: merged with the class above
interface TestConnection extends StorageConnection {}
forwardStorage(TestConnection, (c) => (c as unknown as { s: TestDriverState }).s.storage);
