// The remote client's storage calls (the StorageConnection half of RemoteConnection), over the routes
// of routes-storage.ts. Volume content is streamed over HTTP (sparse frames with `sparse`); a long
// call given progress or a signal tags its daemon job, follows its job events and cancels it.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
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
  TvirtEvent,
  WipeAlgorithm,
} from '../drivers/connection.js';
import type { SparseChunk } from '../drivers/storage/storage-api.js';
import { VirError } from '../util/errors.js';
import { decodeSparse, encodeSparse, SPARSE_CONTENT_TYPE } from './sparse-stream.js';
import { errorFromResponse } from './wire.js';

/** What RemoteStorage needs from the connection. */
export interface StorageTransport {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  onEvent(listener: (ev: TvirtEvent) => void): () => void;
  eventsReady(): Promise<void>;
  cancelJob(id: string): Promise<unknown>;
  listJobs(opts?: { active?: boolean }): Promise<{ id: string; uuid?: string }[]>;
  /** An HTTP request to the API (path below /v1), not yet ended. */
  streamRequest(method: string, path: string, headers: Record<string, string>): ClientRequest;
}

const enc = encodeURIComponent;
const P = (pool: string) => `/storage/pools/${enc(pool)}`;
const V = (v: StorageVolRef) => `${P(v.pool)}/volumes/${enc(v.name)}`;

function qs(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === false) continue;
    q.set(k, v === true ? '1' : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function onlySet<T extends object>(f: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(f ?? {})) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Reads a whole answer body. */
function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

export class RemoteStorage implements StorageConnection {
  constructor(private readonly t: StorageTransport) {}

  /**
   * Runs `work(tag)` for a daemon job tagged `tag`: job events with that tag report progress, and
   * an abort of `job.signal` cancels the job (also when the abort comes before its first event).
   */
  private async tracked<T>(
    job: StorageJobOptions | undefined,
    work: (tag: string) => Promise<T>,
  ): Promise<T> {
    // The global Web Crypto: importing node:crypto here would slow every CLI start-up.
    const tag = globalThis.crypto.randomUUID();
    if (!job?.progress && !job?.signal) return work(tag);
    if (job.signal?.aborted) throw aborted();
    let jobId: string | undefined;
    let cancelWanted = false;
    const cancel = () => {
      cancelWanted = true;
      if (jobId) {
        void this.t.cancelJob(jobId).catch(() => {});
        return;
      }
      // No event named the job yet (or there is no event stream): look it up by its tag.
      void this.t
        .listJobs({ active: true })
        .then((jobs) => {
          const j = jobs.find((x) => x.uuid === tag);
          if (j && !jobId) {
            jobId = j.id;
            return this.t.cancelJob(j.id);
          }
          return undefined;
        })
        .catch(() => {});
    };
    const off = this.t.onEvent((ev) => {
      if (ev.kind !== 'job' || ev.uuid !== tag) return;
      if (!jobId && ev.jobId) {
        jobId = ev.jobId;
        if (cancelWanted) cancel();
      }
      if (ev.progress) job.progress?.(ev.progress.processed, ev.progress.total);
    });
    job.signal?.addEventListener('abort', cancel, { once: true });
    try {
      await this.t.eventsReady().catch(() => {}); // without events the call still works, untracked
      return await work(tag);
    } finally {
      job.signal?.removeEventListener('abort', cancel);
      off();
    }
  }

  async storagePoolGetCapabilities(): Promise<string> {
    return (await this.t.call<{ xml: string }>('GET', '/storage/capabilities')).xml;
  }

  async listStoragePools(filter: StoragePoolListFilter = {}): Promise<StoragePoolSummary[]> {
    const { types, ...rest } = filter;
    const path = `/storage/pools${qs({ ...rest, type: types?.length ? types.join(',') : undefined })}`;
    return (await this.t.call<{ pools: StoragePoolSummary[] }>('GET', path)).pools;
  }
  storagePoolLookup(ref: string): Promise<StoragePoolSummary> {
    return this.t.call('GET', P(ref));
  }
  storagePoolLookupByVolume(pathOrKey: string): Promise<StoragePoolSummary> {
    return this.t.call('GET', `/storage/volume-pool${qs({ volume: pathOrKey })}`);
  }
  storagePoolDefineXML(xml: string): Promise<StoragePoolSummary> {
    return this.t.call('POST', '/storage/pools', { xml });
  }
  storagePoolCreateXML(xml: string, flags?: StoragePoolCreateFlags): Promise<StoragePoolSummary> {
    return this.t.call('POST', '/storage/pools', { xml, transient: true, ...onlySet(flags) });
  }
  async storagePoolBuild(ref: string, flags?: StoragePoolBuildFlags): Promise<void> {
    await this.t.call('POST', `${P(ref)}/actions/build`, onlySet(flags));
  }
  async storagePoolCreate(ref: string, flags?: StoragePoolCreateFlags): Promise<void> {
    await this.t.call('POST', `${P(ref)}/actions/start`, onlySet(flags));
  }
  async storagePoolDestroy(ref: string): Promise<void> {
    await this.t.call('POST', `${P(ref)}/actions/destroy`, {});
  }
  async storagePoolDelete(ref: string, flags?: StoragePoolDeleteFlags): Promise<void> {
    await this.t.call('POST', `${P(ref)}/actions/delete`, onlySet(flags));
  }
  async storagePoolUndefine(ref: string): Promise<void> {
    await this.t.call('DELETE', P(ref));
  }
  async storagePoolSetAutostart(ref: string, autostart: boolean): Promise<void> {
    await this.t.call('PUT', `${P(ref)}/autostart`, { autostart });
  }
  async storagePoolRefresh(ref: string): Promise<void> {
    await this.t.call('POST', `${P(ref)}/actions/refresh`, {});
  }
  storagePoolGetInfo(ref: string): Promise<StoragePoolInfo> {
    return this.t.call('GET', `${P(ref)}/info`);
  }
  async storagePoolGetXMLDesc(ref: string, flags: { inactive?: boolean } = {}): Promise<string> {
    return (await this.t.call<{ xml: string }>('GET', `${P(ref)}/xml${qs({ inactive: flags.inactive })}`))
      .xml;
  }

  async listStorageVols(pool: string): Promise<StorageVolInfo[]> {
    return (await this.t.call<{ volumes: StorageVolInfo[] }>('GET', `${P(pool)}/volumes`)).volumes;
  }
  storageVolLookupByName(pool: string, name: string): Promise<StorageVolSummary> {
    return this.t.call('GET', V({ pool, name }));
  }
  storageVolLookupByPath(path: string): Promise<StorageVolSummary> {
    return this.t.call('GET', `/storage/volumes${qs({ path })}`);
  }
  storageVolLookupByKey(key: string): Promise<StorageVolSummary> {
    return this.t.call('GET', `/storage/volumes${qs({ key })}`);
  }
  storageVolCreateXML(
    pool: string,
    xml: string,
    flags?: StorageVolCreateFlags,
    job?: StorageJobOptions,
  ): Promise<StorageVolSummary> {
    return this.tracked(job, (tag) =>
      this.t.call('POST', `${P(pool)}/volumes`, { xml, ...onlySet(flags), tag }),
    );
  }
  storageVolCreateXMLFrom(
    pool: string,
    xml: string,
    source: StorageVolRef,
    flags?: StorageVolCreateFlags,
    job?: StorageJobOptions,
  ): Promise<StorageVolSummary> {
    return this.tracked(job, (tag) =>
      this.t.call('POST', `${P(pool)}/volumes`, {
        xml,
        from: { pool: source.pool, name: source.name },
        ...onlySet(flags),
        tag,
      }),
    );
  }
  async storageVolDelete(vol: StorageVolRef): Promise<void> {
    await this.t.call('DELETE', V(vol));
  }
  async storageVolWipe(
    vol: StorageVolRef,
    algorithm?: WipeAlgorithm,
    job?: StorageJobOptions,
  ): Promise<void> {
    await this.tracked(job, (tag) =>
      this.t.call('POST', `${V(vol)}/actions/wipe`, { ...(algorithm ? { algorithm } : {}), tag }),
    );
  }
  async storageVolResize(
    vol: StorageVolRef,
    capacity: number,
    flags?: StorageVolResizeFlags,
    job?: StorageJobOptions,
  ): Promise<void> {
    await this.tracked(job, (tag) =>
      this.t.call('POST', `${V(vol)}/actions/resize`, { capacity, ...onlySet(flags), tag }),
    );
  }
  storageVolGetInfo(vol: StorageVolRef): Promise<StorageVolInfo> {
    return this.t.call('GET', `${V(vol)}/info`);
  }
  async storageVolGetXMLDesc(vol: StorageVolRef): Promise<string> {
    return (await this.t.call<{ xml: string }>('GET', `${V(vol)}/xml`)).xml;
  }
  async storageVolGetPath(vol: StorageVolRef): Promise<string> {
    return (await this.t.call<{ path: string }>('GET', `${V(vol)}/path`)).path;
  }

  /** Streams `source` as the request body (chunked); resolves when the daemon has written it all. */
  async storageVolUpload(
    vol: StorageVolRef,
    source: Readable | AsyncIterable<SparseChunk | Uint8Array>,
    flags: StorageVolStreamFlags = {},
    job?: StorageJobOptions,
  ): Promise<void> {
    await this.tracked(job, async (tag) => {
      const path = `${V(vol)}/content${qs({ offset: flags.offset, length: flags.length, sparse: flags.sparse, tag })}`;
      const req = this.t.streamRequest('PUT', path, {
        'content-type': flags.sparse ? SPARSE_CONTENT_TYPE : 'application/octet-stream',
      });
      const answer = new Promise<IncomingMessage>((resolve, reject) => {
        req.once('response', resolve);
        req.once('error', reject);
      });
      const onAbort = () => req.destroy(aborted());
      job?.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const body: AsyncIterable<Buffer | Uint8Array | string> = flags.sparse
          ? encodeSparse(source as AsyncIterable<SparseChunk | Uint8Array>)
          : (source as AsyncIterable<Buffer>);
        const sending = (async () => {
          for await (const c of body) {
            if (!req.write(c)) await new Promise((resolve) => req.once('drain', resolve));
          }
          req.end();
        })();
        // The daemon may refuse before reading everything: its answer wins over our sending.
        const res = await Promise.race([answer, sending.then(() => answer)]);
        sending.catch(() => {});
        const text = await readAll(res);
        if ((res.statusCode ?? 500) >= 400) throw errorFromResponse(res.statusCode ?? 500, text);
      } catch (e) {
        req.destroy();
        throw job?.signal?.aborted ? aborted() : e;
      } finally {
        job?.signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  /** The content as a stream (object mode with { hole } chunks when `sparse`). */
  async storageVolDownload(
    vol: StorageVolRef,
    flags: StorageVolStreamFlags = {},
    job?: StorageJobOptions,
  ): Promise<Readable> {
    const path = `${V(vol)}/content${qs({ offset: flags.offset, length: flags.length, sparse: flags.sparse })}`;
    const req = this.t.streamRequest('GET', path, {});
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
      req.end();
    });
    if ((res.statusCode ?? 500) >= 400) throw errorFromResponse(res.statusCode ?? 500, await readAll(res));
    job?.signal?.addEventListener('abort', () => res.destroy(aborted()), { once: true });
    if (!flags.sparse) return res;
    return Readable.from(decodeSparse(res), { objectMode: true });
  }
}

function aborted(): VirError {
  return new VirError('OPERATION_ABORTED', 'operation aborted: the job was cancelled', { domain: 'RPC' });
}
