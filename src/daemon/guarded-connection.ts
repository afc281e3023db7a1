// Wraps a driver's Connection for the daemon: modifying calls on one domain run as serialized jobs
// (FIFO per domain), reads go straight through, and driver events are forwarded to the event bus.
import type { Duplex } from 'node:stream';
import type {
  BlockInfo,
  Connection,
  DomainInfo,
  DomainInterfaceAddresses,
  DomainListFilter,
  DomainState,
  DomainSummary,
  DomainXMLFlags,
  InterfaceAddressSource,
  ModifyFlags,
  NodeInfo,
  TvirtEvent,
  VersionInfo,
} from '../drivers/connection.js';
import { domainVolumes } from '../drivers/domain-volumes.js';
import { NetworkForwarder } from '../drivers/network-forwarder.js';
import { isVirError, VirError } from '../util/errors.js';
import type { CloneResult, DomainCloneOptions } from '../drivers/clone/clone-api.js';
import type { EventBus } from './events.js';
import type { JobManager } from './jobs.js';
import type { StorageConnection } from '../drivers/connection.js';
import { forwardStorage } from '../drivers/storage-forwarder.js';
import { guardStorage } from './guarded-storage.js';

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: storage methods come from forwardStorage (end of file)
export class GuardedConnection extends NetworkForwarder implements Connection {
  readonly uri: string;
  private readonly unsubscribeDriver: () => void;

  constructor(
    readonly inner: Connection,
    readonly jobs: JobManager,
    readonly events: EventBus,
  ) {
    super(() => inner);
    this.uri = inner.uri;
    this.unsubscribeDriver = inner.onEvent((ev) => events.emit(ev));
  }

  /** Runs a modifying operation on a domain as a job; the domain is resolved first (a read). */
  private async domainJob<T>(ref: string, operation: string, work: () => Promise<T>): Promise<T> {
    const dom = await this.inner.domainLookup(ref);
    return this.jobs.run(
      { object: `domain:${dom.uuid}`, operation, kind: 'domain', name: dom.name, uuid: dom.uuid },
      () => work(),
    );
  }

  async close(): Promise<void> {
    this.unsubscribeDriver();
    await this.inner.close();
  }

  getVersion(): Promise<VersionInfo> {
    return this.inner.getVersion();
  }
  getHostname(): Promise<string> {
    return this.inner.getHostname();
  }
  getCapabilities(): Promise<string> {
    return this.inner.getCapabilities();
  }
  domainXMLToNative(format: string, xml: string): Promise<string> {
    return this.inner.domainXMLToNative(format, xml);
  }
  domainMemoryStats(ref: string): Promise<[string, number][]> {
    return this.inner.domainMemoryStats(ref);
  }
  domainGetBlockInfo(ref: string, disk: string): Promise<BlockInfo> {
    return this.inner.domainGetBlockInfo(ref, disk);
  }
  domainQemuMonitorCommand(ref: string, cmd: string, flags?: { hmp?: boolean }): Promise<string> {
    return this.inner.domainQemuMonitorCommand(ref, cmd, flags);
  }
  nodeGetInfo(): Promise<NodeInfo> {
    return this.inner.nodeGetInfo();
  }
  listDomains(filter?: DomainListFilter): Promise<DomainSummary[]> {
    return this.inner.listDomains(filter);
  }
  domainLookup(ref: string): Promise<DomainSummary> {
    return this.inner.domainLookup(ref);
  }
  domainGetInfo(ref: string): Promise<DomainInfo> {
    return this.inner.domainGetInfo(ref);
  }
  domainGetState(ref: string): Promise<DomainState> {
    return this.inner.domainGetState(ref);
  }
  domainInterfaceAddresses(
    ref: string,
    source?: InterfaceAddressSource,
  ): Promise<DomainInterfaceAddresses[]> {
    return this.inner.domainInterfaceAddresses(ref, source);
  }
  domainGetXMLDesc(ref: string, flags?: DomainXMLFlags): Promise<string> {
    return this.inner.domainGetXMLDesc(ref, flags);
  }
  domainGetMetadata(ref: string, type: 'title' | 'description', flags?: ModifyFlags): Promise<string> {
    return this.inner.domainGetMetadata(ref, type, flags);
  }

  // Define/create name a new object: the driver itself refuses duplicates (DOM_EXIST).
  domainDefineXML(xml: string): Promise<DomainSummary> {
    return this.inner.domainDefineXML(xml);
  }
  domainCreateXML(xml: string, flags?: { paused?: boolean }): Promise<DomainSummary> {
    return this.inner.domainCreateXML(xml, flags);
  }

  /**
   * With removeAllStorage (the API's and web UI's "delete the disks too"), the volumes behind the
   * domain's disks are found first, the domain is undefined (the driver and the linked-clone guard
   * see the flag and may refuse), then the volumes are deleted, as virsh does it on the client
   * side. A running domain is refused: its disks are in use, and nothing is changed.
   */
  domainUndefine(
    ref: string,
    flags?: { removeAllStorage?: boolean; nvram?: boolean },
  ): Promise<{ becameTransient: boolean }> {
    if (!flags?.removeAllStorage)
      return this.domainJob(ref, 'undefine', () => this.inner.domainUndefine(ref, flags));
    return this.domainJob(ref, 'undefine', async () => {
      const dom = await this.inner.domainLookup(ref);
      if (dom.id !== null)
        throw new VirError(
          'OPERATION_INVALID',
          `Requested operation is not valid: domain '${dom.name}' is running: its storage cannot be removed; destroy it first`,
        );
      const { volumes } = await domainVolumes(this.inner, await this.inner.domainGetXMLDesc(dom.uuid));
      const r = await this.inner.domainUndefine(dom.uuid, flags);
      const failed: string[] = [];
      for (const { vol } of volumes) {
        try {
          await this.storageVolDelete({ pool: vol.pool, name: vol.name });
        } catch (e) {
          if (!isVirError(e, 'NO_STORAGE_VOL')) failed.push(`${vol.path}: ${(e as Error).message}`);
        }
      }
      if (failed.length)
        throw new VirError(
          'OPERATION_FAILED',
          `operation failed: domain '${dom.name}' was undefined, but removing its storage failed: ${failed.join('; ')}`,
        );
      return r;
    });
  }
  domainCreate(ref: string, flags?: { paused?: boolean }): Promise<DomainSummary> {
    return this.domainJob(ref, 'start', () => this.inner.domainCreate(ref, flags));
  }
  domainShutdown(ref: string, flags?: { mode?: 'acpi' | 'agent' }): Promise<void> {
    return this.domainJob(ref, 'shutdown', () => this.inner.domainShutdown(ref, flags));
  }
  domainReboot(ref: string, flags?: { mode?: 'acpi' | 'agent' }): Promise<void> {
    return this.domainJob(ref, 'reboot', () => this.inner.domainReboot(ref, flags));
  }
  domainReset(ref: string): Promise<void> {
    return this.domainJob(ref, 'reset', () => this.inner.domainReset(ref));
  }
  async domainDestroy(ref: string, flags?: { graceful?: boolean }): Promise<void> {
    // Like libvirt, destroy interrupts a cancellable running job instead of waiting behind it.
    const dom = await this.inner.domainLookup(ref);
    this.jobs.abortRunning(`domain:${dom.uuid}`);
    return this.domainJob(ref, 'destroy', () => this.inner.domainDestroy(ref, flags));
  }
  domainSuspend(ref: string): Promise<void> {
    return this.domainJob(ref, 'suspend', () => this.inner.domainSuspend(ref));
  }
  domainResume(ref: string): Promise<void> {
    return this.domainJob(ref, 'resume', () => this.inner.domainResume(ref));
  }
  domainSetAutostart(ref: string, autostart: boolean): Promise<void> {
    return this.domainJob(ref, 'autostart', () => this.inner.domainSetAutostart(ref, autostart));
  }
  domainSetMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void> {
    return this.domainJob(ref, 'setmem', () => this.inner.domainSetMemory(ref, kib, flags));
  }
  domainSetMaxMemory(ref: string, kib: number, flags?: ModifyFlags): Promise<void> {
    return this.domainJob(ref, 'setmaxmem', () => this.inner.domainSetMaxMemory(ref, kib, flags));
  }
  domainSetVcpus(ref: string, count: number, flags?: ModifyFlags & { maximum?: boolean }): Promise<void> {
    return this.domainJob(ref, 'setvcpus', () => this.inner.domainSetVcpus(ref, count, flags));
  }
  domainSetMetadata(
    ref: string,
    type: 'title' | 'description',
    text: string,
    flags?: ModifyFlags,
  ): Promise<void> {
    return this.domainJob(ref, 'metadata', () => this.inner.domainSetMetadata(ref, type, text, flags));
  }
  domainOpenConsole(ref: string, dev?: string): Promise<Duplex> {
    return this.inner.domainOpenConsole(ref, dev);
  }

  /** virt-clone as a cancellable job on the original (src/drivers/clone/daemon-clone.ts). */
  async domainClone(ref: string, opts?: DomainCloneOptions): Promise<CloneResult> {
    const { daemonClone } = await import('../drivers/clone/daemon-clone.js');
    return daemonClone(this, this.inner, this.jobs, ref, opts);
  }

  onEvent(listener: (ev: TvirtEvent) => void): () => void {
    return this.events.subscribe(listener);
  }
}

// Storage calls: pool lifecycle and long volume operations as jobs (src/daemon/guarded-storage.ts).
export interface GuardedConnection extends StorageConnection {}
forwardStorage(GuardedConnection, (g) => guardStorage(g, g.inner, g.jobs));
