// The daemon's storage guard: pool lifecycle calls run as jobs on `pool:UUID` (FIFO per pool) and
// long volume calls (create-from, wipe, resize, upload, download) as cancellable jobs on the
// volume, whose progress becomes job events (processed/total); reads go straight through.
import type { Readable } from 'node:stream';
import type {
  StorageConnection,
  StorageJobOptions,
  StoragePoolBuildFlags,
  StoragePoolCreateFlags,
  StoragePoolDeleteFlags,
  StoragePoolInfo,
  StoragePoolListFilter,
  StoragePoolSummary,
  StorageVolCreateFlags,
  StorageVolInfo,
  StorageVolRef,
  StorageVolResizeFlags,
  StorageVolStreamFlags,
  StorageVolSummary,
  WipeAlgorithm,
} from '../drivers/connection.js';
import type { SparseChunk } from '../drivers/storage/storage-api.js';
import type { JobContext, JobManager } from './jobs.js';

/**
 * Job options a caller may pass through the API: `tag` names the job (it becomes the job's uuid
 * field, so a remote caller finds its job's events and id); signal and progress are chained.
 */
export interface TaggedJobOptions extends StorageJobOptions {
  tag?: string;
}

/** Job progress events at most this often (the last one, processed === total, always goes out). */
const PROGRESS_EVERY_MS = 100;

function merge(ctx: JobContext, job: StorageJobOptions | undefined): StorageJobOptions {
  const signals = [ctx.signal, job?.signal].filter((s): s is AbortSignal => s !== undefined);
  let last = 0;
  return {
    signal: signals.length === 1 ? signals[0]! : AbortSignal.any(signals),
    progress: (processed, total) => {
      job?.progress?.(processed, total);
      const now = Date.now();
      if (processed < total && now - last < PROGRESS_EVERY_MS) return;
      last = now;
      ctx.progress(processed, total);
    },
  };
}

export class GuardedStorage implements StorageConnection {
  constructor(
    private readonly inner: StorageConnection,
    private readonly jobs: JobManager,
  ) {}

  private async poolJob<T>(ref: string, operation: string, work: () => Promise<T>): Promise<T> {
    const p = await this.inner.storagePoolLookup(ref);
    return this.jobs.run(
      { object: `pool:${p.uuid}`, operation, kind: 'pool', name: p.name, uuid: p.uuid },
      () => work(),
    );
  }

  /** A cancellable job on one volume; `name` is POOL/VOLUME in job events. */
  private async volJob<T>(
    pool: string,
    vol: string,
    operation: string,
    job: TaggedJobOptions | undefined,
    work: (job: StorageJobOptions) => Promise<T>,
  ): Promise<T> {
    const p = await this.inner.storagePoolLookup(pool);
    return this.jobs.run(
      {
        object: `volume:${p.uuid}/${vol}`,
        operation,
        kind: 'volume',
        name: `${p.name}/${vol}`,
        ...(job?.tag ? { uuid: job.tag } : {}),
        cancellable: true,
      },
      (ctx) => work(merge(ctx, job)),
    );
  }

  // ---- reads ----
  storagePoolGetCapabilities(): Promise<string> {
    return this.inner.storagePoolGetCapabilities();
  }
  listStoragePools(filter?: StoragePoolListFilter): Promise<StoragePoolSummary[]> {
    return this.inner.listStoragePools(filter);
  }
  storagePoolLookup(ref: string): Promise<StoragePoolSummary> {
    return this.inner.storagePoolLookup(ref);
  }
  storagePoolLookupByVolume(pathOrKey: string): Promise<StoragePoolSummary> {
    return this.inner.storagePoolLookupByVolume(pathOrKey);
  }
  storagePoolGetInfo(ref: string): Promise<StoragePoolInfo> {
    return this.inner.storagePoolGetInfo(ref);
  }
  storagePoolGetXMLDesc(ref: string, flags?: { inactive?: boolean }): Promise<string> {
    return this.inner.storagePoolGetXMLDesc(ref, flags);
  }
  listStorageVols(pool: string): Promise<StorageVolInfo[]> {
    return this.inner.listStorageVols(pool);
  }
  storageVolLookupByName(pool: string, name: string): Promise<StorageVolSummary> {
    return this.inner.storageVolLookupByName(pool, name);
  }
  storageVolLookupByPath(path: string): Promise<StorageVolSummary> {
    return this.inner.storageVolLookupByPath(path);
  }
  storageVolLookupByKey(key: string): Promise<StorageVolSummary> {
    return this.inner.storageVolLookupByKey(key);
  }
  storageVolGetInfo(vol: StorageVolRef): Promise<StorageVolInfo> {
    return this.inner.storageVolGetInfo(vol);
  }
  storageVolGetXMLDesc(vol: StorageVolRef): Promise<string> {
    return this.inner.storageVolGetXMLDesc(vol);
  }
  storageVolGetPath(vol: StorageVolRef): Promise<string> {
    return this.inner.storageVolGetPath(vol);
  }

  // ---- pools: new objects go straight to the driver (it refuses duplicates) ----
  storagePoolDefineXML(xml: string): Promise<StoragePoolSummary> {
    return this.inner.storagePoolDefineXML(xml);
  }
  storagePoolCreateXML(xml: string, flags?: StoragePoolCreateFlags): Promise<StoragePoolSummary> {
    return this.inner.storagePoolCreateXML(xml, flags);
  }
  storagePoolBuild(ref: string, flags?: StoragePoolBuildFlags): Promise<void> {
    return this.poolJob(ref, 'pool-build', () => this.inner.storagePoolBuild(ref, flags));
  }
  storagePoolCreate(ref: string, flags?: StoragePoolCreateFlags): Promise<void> {
    return this.poolJob(ref, 'pool-start', () => this.inner.storagePoolCreate(ref, flags));
  }
  storagePoolDestroy(ref: string): Promise<void> {
    return this.poolJob(ref, 'pool-destroy', () => this.inner.storagePoolDestroy(ref));
  }
  storagePoolDelete(ref: string, flags?: StoragePoolDeleteFlags): Promise<void> {
    return this.poolJob(ref, 'pool-delete', () => this.inner.storagePoolDelete(ref, flags));
  }
  storagePoolUndefine(ref: string): Promise<void> {
    return this.poolJob(ref, 'pool-undefine', () => this.inner.storagePoolUndefine(ref));
  }
  storagePoolSetAutostart(ref: string, autostart: boolean): Promise<void> {
    return this.poolJob(ref, 'pool-autostart', () => this.inner.storagePoolSetAutostart(ref, autostart));
  }
  storagePoolRefresh(ref: string): Promise<void> {
    return this.poolJob(ref, 'pool-refresh', () => this.inner.storagePoolRefresh(ref));
  }

  // ---- volumes ----
  storageVolCreateXML(
    pool: string,
    xml: string,
    flags?: StorageVolCreateFlags,
    job?: TaggedJobOptions,
  ): Promise<StorageVolSummary> {
    return this.volJob(pool, volName(xml), 'vol-create', job, (j) =>
      this.inner.storageVolCreateXML(pool, xml, flags, j),
    );
  }
  storageVolCreateXMLFrom(
    pool: string,
    xml: string,
    source: StorageVolRef,
    flags?: StorageVolCreateFlags,
    job?: TaggedJobOptions,
  ): Promise<StorageVolSummary> {
    return this.volJob(pool, volName(xml), 'vol-create-from', job, (j) =>
      this.inner.storageVolCreateXMLFrom(pool, xml, source, flags, j),
    );
  }
  storageVolDelete(vol: StorageVolRef): Promise<void> {
    return this.volJob(vol.pool, vol.name, 'vol-delete', undefined, () => this.inner.storageVolDelete(vol));
  }
  storageVolWipe(vol: StorageVolRef, algorithm?: WipeAlgorithm, job?: TaggedJobOptions): Promise<void> {
    return this.volJob(vol.pool, vol.name, 'vol-wipe', job, (j) =>
      this.inner.storageVolWipe(vol, algorithm, j),
    );
  }
  storageVolResize(
    vol: StorageVolRef,
    capacity: number,
    flags?: StorageVolResizeFlags,
    job?: TaggedJobOptions,
  ): Promise<void> {
    return this.volJob(vol.pool, vol.name, 'vol-resize', job, (j) =>
      this.inner.storageVolResize(vol, capacity, flags, j),
    );
  }
  storageVolUpload(
    vol: StorageVolRef,
    source: Readable | AsyncIterable<SparseChunk | Uint8Array>,
    flags?: StorageVolStreamFlags,
    job?: TaggedJobOptions,
  ): Promise<void> {
    return this.volJob(vol.pool, vol.name, 'vol-upload', job, (j) =>
      this.inner.storageVolUpload(vol, source, flags, j),
    );
  }
  /** The job lasts until the stream is read to its end (or destroyed). */
  async storageVolDownload(
    vol: StorageVolRef,
    flags?: StorageVolStreamFlags,
    job?: TaggedJobOptions,
  ): Promise<Readable> {
    let opened!: (r: Readable) => void;
    let failed!: (e: unknown) => void;
    const ready = new Promise<Readable>((res, rej) => {
      opened = res;
      failed = rej;
    });
    const done = this.volJob(vol.pool, vol.name, 'vol-download', job, async (j) => {
      const stream = await this.inner.storageVolDownload(vol, flags, j);
      opened(stream);
      await new Promise<void>((resolve, reject) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', reject);
        j.signal?.addEventListener('abort', () => stream.destroy(j.signal?.reason), { once: true });
      });
    });
    done.catch(failed);
    return ready;
  }
}

/** The <name> of a volume XML (for the job's name), or '?' when it cannot be seen. */
function volName(xml: string): string {
  return /<name>\s*([^<]*?)\s*<\/name>/.exec(xml)?.[1] ?? '?';
}

const guards = new WeakMap<object, GuardedStorage>();

/** The guard of `owner` around `inner` (one per owner, made at first use). */
export function guardStorage(owner: object, inner: StorageConnection, jobs: JobManager): GuardedStorage {
  let g = guards.get(owner);
  if (!g) {
    g = new GuardedStorage(inner, jobs);
    guards.set(owner, g);
  }
  return g;
}
