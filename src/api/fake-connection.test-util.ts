// A small in-memory Connection for tests of the daemon and API (the real test driver lives in
// src/drivers/test). Operations can be slowed down with `gate` to observe job serialization.
import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import type {
  Connection,
  DomainInfo,
  DomainListFilter,
  DomainState,
  DomainSummary,
  ModifyFlags,
  NodeInfo,
  TvirtEvent,
  VersionInfo,
} from '../drivers/connection.js';
import type { CloneResult, DomainCloneOptions } from '../drivers/clone/clone-api.js';
import {
  type DomainInterfaceAddresses,
  type InterfaceAddressSource,
  leaseInterfaceAddresses,
} from '../drivers/interface-addresses.js';
import { TestNetworks } from '../drivers/test/networks.js';
import { TestStorage } from '../drivers/test/storage.js';
import { forwardStorage } from '../drivers/storage-forwarder.js';
import type { StorageConnection } from '../drivers/connection.js';
import { VirError } from '../util/errors.js';

interface FakeDomain extends DomainSummary {
  xml: string;
  memoryKiB: number;
  maxMemoryKiB: number;
  vcpus: number;
  description: string;
}

/** An echo console: what is written comes back, prefixed so tests can tell it went through. */
function echoConsole(): Duplex {
  const d: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      d.push(Buffer.concat([Buffer.from('echo:'), chunk]));
      cb();
    },
    final(cb) {
      d.push(null);
      cb();
    },
  });
  return d;
}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: storage methods come from forwardStorage (end of file)
export class FakeConnection extends TestNetworks implements Connection {
  readonly uri = 'fake:///default';
  readonly domains = new Map<string, FakeDomain>();
  private readonly listeners = new Set<(ev: TvirtEvent) => void>();
  private nextId = 1;
  /** Called at the start of every modifying call with its name; await it to hold the call. */
  gate: (op: string, name: string) => Promise<void> = async () => {};
  /** Log of modifying calls: `start:NAME`/`end:NAME`. */
  readonly trace: string[] = [];
  reloads = 0;

  constructor() {
    super();
    this.addDomain('test', true);
  }

  private addDomain(name: string, running: boolean): FakeDomain {
    const d: FakeDomain = {
      name,
      uuid: randomUUID(),
      id: running ? this.nextId++ : null,
      state: running ? 'running' : 'shutoff',
      reason: running ? 'booted' : 'unknown',
      persistent: true,
      autostart: false,
      xml: `<domain type='test'><name>${name}</name></domain>`,
      memoryKiB: 8388608,
      maxMemoryKiB: 8388608,
      vcpus: 2,
      description: '',
    };
    this.domains.set(d.uuid, d);
    return d;
  }

  private emit(d: FakeDomain, event: string, detail?: string): void {
    const ev: TvirtEvent = {
      kind: 'domain-lifecycle',
      name: d.name,
      uuid: d.uuid,
      event,
      timestamp: Date.now(),
    };
    if (detail) ev.detail = detail;
    for (const l of this.listeners) l(ev);
  }

  private find(ref: string): FakeDomain {
    for (const d of this.domains.values())
      if (d.name === ref || d.uuid === ref || (d.id !== null && String(d.id) === ref)) return d;
    throw new VirError('NO_DOMAIN', `Domain not found: no domain with matching name '${ref}'`, {
      domain: 'TEST',
    });
  }

  private summary(d: FakeDomain): DomainSummary {
    const { name, uuid, id, state, reason, persistent, autostart } = d;
    return { name, uuid, id, state, reason, persistent, autostart };
  }

  private async modify<T>(op: string, ref: string, fn: (d: FakeDomain) => T): Promise<T> {
    const d = this.find(ref);
    this.trace.push(`start:${op}`);
    await this.gate(op, d.name);
    try {
      return fn(d);
    } finally {
      this.trace.push(`end:${op}`);
    }
  }

  private active(d: FakeDomain): boolean {
    return d.id !== null;
  }

  async close(): Promise<void> {}
  async reload(): Promise<void> {
    this.reloads++;
  }
  async getVersion(): Promise<VersionInfo> {
    return { library: '0.1.0', hypervisorType: 'Test', hypervisor: '2.0.0' };
  }
  async getHostname(): Promise<string> {
    return 'fakehost';
  }
  async domainMemoryStats(): Promise<[string, number][]> {
    return [['actual', 1]];
  }
  async domainGetBlockInfo(): Promise<{ capacity: number; allocation: number; physical: number }> {
    return { capacity: 1, allocation: 1, physical: 1 };
  }
  async domainQemuMonitorCommand(): Promise<string> {
    return '{"return":{},"id":"fake"}';
  }
  async domainXMLToNative(format: string): Promise<string> {
    return `${format}: fake`;
  }
  async getCapabilities(): Promise<string> {
    return '<capabilities/>';
  }
  async nodeGetInfo(): Promise<NodeInfo> {
    return {
      model: 'i686',
      memoryKiB: 3145728,
      cpus: 16,
      mhz: 1400,
      nodes: 2,
      sockets: 2,
      cores: 2,
      threads: 2,
    };
  }
  async listDomains(filter: DomainListFilter = {}): Promise<DomainSummary[]> {
    return [...this.domains.values()]
      .filter((d) => !filter.active || this.active(d))
      .filter((d) => !filter.inactive || !this.active(d))
      .filter((d) => !filter.states || filter.states.includes(d.state))
      .map((d) => this.summary(d));
  }
  async domainLookup(ref: string): Promise<DomainSummary> {
    return this.summary(this.find(ref));
  }
  async domainGetInfo(ref: string): Promise<DomainInfo> {
    const d = this.find(ref);
    return {
      ...this.summary(d),
      osType: 'hvm',
      maxMemoryKiB: d.maxMemoryKiB,
      memoryKiB: d.memoryKiB,
      vcpus: d.vcpus,
      cpuTimeNs: 0,
      managedSave: false,
    };
  }
  async domainGetState(ref: string): Promise<DomainState> {
    const d = this.find(ref);
    return { state: d.state, reason: d.reason };
  }
  /** Interfaces of a running domain from its network's leases, as tvirtd's composite reads them. */
  domainInterfaceAddresses(
    ref: string,
    source?: InterfaceAddressSource,
  ): Promise<DomainInterfaceAddresses[]> {
    return leaseInterfaceAddresses(this, ref, source);
  }
  async domainGetXMLDesc(ref: string, flags: { secure?: boolean } = {}): Promise<string> {
    const d = this.find(ref);
    return flags.secure ? d.xml.replace('</domain>', "<secret passwd='x'/></domain>") : d.xml;
  }
  async domainDefineXML(xml: string): Promise<DomainSummary> {
    const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1];
    if (!name) throw new VirError('XML_ERROR', 'XML error: missing domain name', { domain: 'CONF' });
    for (const d of this.domains.values())
      if (d.name === name) throw new VirError('DOM_EXIST', `domain '${name}' already exists`);
    const d = this.addDomain(name, false);
    d.xml = xml;
    this.emit(d, 'defined', 'added');
    return this.summary(d);
  }
  async domainUndefine(ref: string): Promise<{ becameTransient: boolean }> {
    return this.modify('undefine', ref, (d) => {
      if (this.active(d)) {
        d.persistent = false;
        return { becameTransient: true };
      }
      this.domains.delete(d.uuid);
      this.emit(d, 'undefined', 'removed');
      return { becameTransient: false };
    });
  }
  async domainCreateXML(xml: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    const s = await this.domainDefineXML(xml);
    const d = this.find(s.uuid);
    d.persistent = false;
    d.id = this.nextId++;
    d.state = flags.paused ? 'paused' : 'running';
    return this.summary(d);
  }
  async domainCreate(ref: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    return this.modify('start', ref, (d) => {
      if (this.active(d))
        throw new VirError(
          'OPERATION_INVALID',
          'Requested operation is not valid: domain is already running',
        );
      d.id = this.nextId++;
      d.state = flags.paused ? 'paused' : 'running';
      d.reason = 'booted';
      this.emit(d, 'started', 'booted');
      return this.summary(d);
    });
  }
  private needActive(d: FakeDomain): void {
    if (!this.active(d))
      throw new VirError('OPERATION_INVALID', 'Requested operation is not valid: domain is not running');
  }
  private stop(d: FakeDomain, reason: string): void {
    d.id = null;
    d.state = 'shutoff';
    d.reason = reason;
    this.emit(d, 'stopped', reason);
    if (!d.persistent) this.domains.delete(d.uuid);
  }
  async domainShutdown(ref: string): Promise<void> {
    await this.modify('shutdown', ref, (d) => {
      this.needActive(d);
      this.stop(d, 'shutdown');
    });
  }
  async domainReboot(ref: string): Promise<void> {
    await this.modify('reboot', ref, (d) => this.needActive(d));
  }
  async domainReset(ref: string): Promise<void> {
    await this.modify('reset', ref, (d) => this.needActive(d));
  }
  async domainDestroy(ref: string): Promise<void> {
    await this.modify('destroy', ref, (d) => {
      this.needActive(d);
      this.stop(d, 'destroyed');
    });
  }
  async domainSuspend(ref: string): Promise<void> {
    await this.modify('suspend', ref, (d) => {
      this.needActive(d);
      d.state = 'paused';
      d.reason = 'user';
      this.emit(d, 'suspended', 'paused');
    });
  }
  async domainResume(ref: string): Promise<void> {
    await this.modify('resume', ref, (d) => {
      if (d.state !== 'paused')
        throw new VirError('OPERATION_INVALID', 'Requested operation is not valid: domain is not paused');
      d.state = 'running';
      d.reason = 'unpaused';
      this.emit(d, 'resumed', 'unpaused');
    });
  }
  async domainSetAutostart(ref: string, autostart: boolean): Promise<void> {
    await this.modify('autostart', ref, (d) => {
      d.autostart = autostart;
    });
  }
  async domainSetMemory(ref: string, kib: number): Promise<void> {
    await this.modify('setmem', ref, (d) => {
      d.memoryKiB = kib;
    });
  }
  async domainSetMaxMemory(ref: string, kib: number): Promise<void> {
    await this.modify('setmaxmem', ref, (d) => {
      d.maxMemoryKiB = kib;
    });
  }
  async domainSetVcpus(ref: string, count: number): Promise<void> {
    await this.modify('setvcpus', ref, (d) => {
      d.vcpus = count;
    });
  }
  async domainSetMetadata(
    ref: string,
    type: 'title' | 'description',
    text: string,
    _f?: ModifyFlags,
  ): Promise<void> {
    await this.modify('metadata', ref, (d) => {
      if (type === 'title') d.title = text;
      else d.description = text;
    });
  }
  async domainGetMetadata(ref: string, type: 'title' | 'description'): Promise<string> {
    const d = this.find(ref);
    const v = type === 'title' ? d.title : d.description;
    if (!v) throw new VirError('NO_DOMAIN', `metadata not found: Requested metadata element is not present`);
    return v;
  }
  async domainOpenConsole(ref: string): Promise<Duplex> {
    const d = this.find(ref);
    this.needActive(d);
    return echoConsole();
  }
  onEvent(listener: (ev: TvirtEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Clones with simulated disks (src/drivers/clone/simulated-host.ts). */
  async domainClone(ref: string, opts?: DomainCloneOptions): Promise<CloneResult> {
    const { cloneDomain } = await import('../drivers/clone/clone.js');
    const { simulatedCloneHost } = await import('../drivers/clone/simulated-host.js');
    return cloneDomain(this, simulatedCloneHost(this, this), ref, opts);
  }
}

// Storage: the in-memory pools of test:///default (default-pool), one set per fake.
export interface FakeConnection extends StorageConnection {}
const fakeStorage = new WeakMap<FakeConnection, TestStorage>();
forwardStorage(FakeConnection, (c) => {
  let s = fakeStorage.get(c);
  if (!s) {
    s = new TestStorage();
    fakeStorage.set(c, s);
  }
  return s;
});
