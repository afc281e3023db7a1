// REST routes of the storage half of the Connection (pools, volumes, volume content streams); listed
// in src/api/README.md. Registered by routes.ts; only types come from there (no import cycle at load).
// Long volume calls accept a `tag` (body field or ?tag=): the daemon's job for the call carries it
// as its uuid, so the caller can follow the job's progress events and cancel it (DELETE /v1/jobs/ID).
import { Readable } from 'node:stream';
import type { PoolType } from '../conf/storage/index.js';
import type {
  StorageJobOptions,
  StoragePoolListFilter,
  StorageVolRef,
  StorageVolStreamFlags,
  WipeAlgorithm,
} from '../drivers/connection.js';
import { badRequest, bodyString, optBodyBool, optBodyString, queryFlag } from './route-params.js';
import type { Route, RouteContext } from './routes.js';
import { SPARSE_CONTENT_TYPE, decodeSparse, encodeSparse } from './sparse-stream.js';

const bad = badRequest;
const flag = queryFlag;
const str = bodyString;
const optStr = optBodyString;
const optBool = optBodyBool;

function nonNegInt(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw bad(`${what} must be a non-negative integer`);
  return n;
}

/** Only the flags that are set (drivers compare with `=== true`). */
function flags<K extends string>(
  body: Record<string, unknown>,
  names: readonly K[],
): Partial<Record<K, boolean>> {
  const f: Partial<Record<K, boolean>> = {};
  for (const n of names) {
    const v = optBool(body, n);
    if (v !== undefined) f[n] = v;
  }
  return f;
}

/** The caller's job tag as job options (the daemon's GuardedStorage reads `tag`, see TaggedJobOptions). */
function tagOf(ctx: RouteContext): StorageJobOptions {
  const t = ctx.query.get('tag') ?? optStr(ctx.body, 'tag');
  return (t ? { tag: t } : {}) as StorageJobOptions;
}

function poolFilter(q: URLSearchParams): StoragePoolListFilter {
  const f: StoragePoolListFilter = {};
  for (const k of ['active', 'inactive', 'persistent', 'transient', 'autostart', 'noAutostart'] as const) {
    const v = flag(q, k);
    if (v !== undefined) f[k] = v;
  }
  const types = q
    .getAll('type')
    .flatMap((t) => t.split(','))
    .filter(Boolean);
  if (types.length) f.types = types as PoolType[];
  return f;
}

function streamFlags(q: URLSearchParams): StorageVolStreamFlags {
  const f: StorageVolStreamFlags = {};
  if (q.has('offset')) f.offset = nonNegInt(q.get('offset'), "query parameter 'offset'");
  if (q.has('length')) f.length = nonNegInt(q.get('length'), "query parameter 'length'");
  if (flag(q, 'sparse')) f.sparse = true;
  return f;
}

const P = '/v1/storage/pools/(?<pool>[^/]+)';
const V = `${P}/volumes/(?<vol>[^/]+)`;
const r = (s: string) => new RegExp(`^${s}$`);
const volOf = (ctx: RouteContext): StorageVolRef => ({ pool: ctx.params.pool!, name: ctx.params.vol! });
const ok = { ok: true };

const poolActions: Record<string, (ctx: RouteContext, pool: string) => Promise<unknown>> = {
  build: ({ conn, body }, pool) =>
    conn.storagePoolBuild(pool, flags(body, ['overwrite', 'noOverwrite'] as const)),
  start: ({ conn, body }, pool) =>
    conn.storagePoolCreate(pool, flags(body, ['build', 'overwrite', 'noOverwrite'] as const)),
  destroy: ({ conn }, pool) => conn.storagePoolDestroy(pool),
  delete: ({ conn, body }, pool) => conn.storagePoolDelete(pool, flags(body, ['withVolumes'] as const)),
  refresh: ({ conn }, pool) => conn.storagePoolRefresh(pool),
};

const volActions: Record<string, (ctx: RouteContext, vol: StorageVolRef) => Promise<unknown>> = {
  wipe: (ctx, vol) =>
    ctx.conn.storageVolWipe(vol, (optStr(ctx.body, 'algorithm') ?? 'zero') as WipeAlgorithm, tagOf(ctx)),
  resize: (ctx, vol) =>
    ctx.conn.storageVolResize(
      vol,
      nonNegInt(ctx.body.capacity, "request body field 'capacity'"),
      flags(ctx.body, ['allocate', 'delta', 'shrink'] as const),
      tagOf(ctx),
    ),
};

/** The names POST .../pools/{pool}/actions/{name} and .../volumes/{vol}/actions/{name} accept. */
export const poolActionNames: readonly string[] = Object.keys(poolActions);
export const volumeActionNames: readonly string[] = Object.keys(volActions);

export const storageRoutes: Route[] = [
  {
    method: 'GET',
    pattern: r('/v1/storage/capabilities'),
    access: 'ro',
    handler: async ({ conn }) => ({ xml: await conn.storagePoolGetCapabilities() }),
  },
  {
    method: 'GET',
    pattern: r('/v1/storage/pools'),
    access: 'ro',
    handler: async ({ conn, query }) => ({ pools: await conn.listStoragePools(poolFilter(query)) }),
  },
  {
    // Define (persistent; {build: true} builds it too), or with {transient: true} create and start
    // (pool-create).
    method: 'POST',
    pattern: r('/v1/storage/pools'),
    access: 'rw',
    handler: async ({ conn, body }) => {
      const xml = str(body, 'xml');
      if (optBool(body, 'transient'))
        return {
          status: 201,
          body: await conn.storagePoolCreateXML(
            xml,
            flags(body, ['build', 'overwrite', 'noOverwrite'] as const),
          ),
        };
      const pool = await conn.storagePoolDefineXML(xml);
      // {build: true} on a define builds it too (virt-manager's "define and build"); a failed
      // build leaves no pool behind.
      const f = flags(body, ['build', 'overwrite', 'noOverwrite'] as const);
      if (f.build) {
        try {
          await conn.storagePoolBuild(pool.uuid, {
            ...(f.overwrite ? { overwrite: true } : {}),
            ...(f.noOverwrite ? { noOverwrite: true } : {}),
          });
        } catch (e) {
          await conn.storagePoolUndefine(pool.uuid).catch(() => {});
          throw e;
        }
      }
      return { status: 201, body: pool };
    },
  },
  {
    // The pool holding a volume, by the volume's path or key (vol-pool).
    method: 'GET',
    pattern: r('/v1/storage/volume-pool'),
    access: 'ro',
    handler: ({ conn, query }) => conn.storagePoolLookupByVolume(query.get('volume') ?? ''),
  },
  {
    // A volume by ?path= or ?key= (in any active pool).
    method: 'GET',
    pattern: r('/v1/storage/volumes'),
    access: 'ro',
    handler: ({ conn, query }) => {
      if (query.has('path')) return conn.storageVolLookupByPath(query.get('path')!);
      if (query.has('key')) return conn.storageVolLookupByKey(query.get('key')!);
      throw bad('give ?path= or ?key=');
    },
  },
  {
    method: 'GET',
    pattern: r(P),
    access: 'ro',
    handler: ({ conn, params }) => conn.storagePoolLookup(params.pool!),
  },
  {
    method: 'DELETE',
    pattern: r(P),
    access: 'rw',
    handler: async ({ conn, params }) => {
      await conn.storagePoolUndefine(params.pool!);
      return ok;
    },
  },
  {
    method: 'GET',
    pattern: r(`${P}/info`),
    access: 'ro',
    handler: ({ conn, params }) => conn.storagePoolGetInfo(params.pool!),
  },
  {
    method: 'GET',
    pattern: r(`${P}/xml`),
    access: 'ro',
    handler: async ({ conn, params, query }) => ({
      xml: await conn.storagePoolGetXMLDesc(params.pool!, flag(query, 'inactive') ? { inactive: true } : {}),
    }),
  },
  {
    method: 'POST',
    pattern: r(`${P}/actions/(?<action>[a-z-]+)`),
    access: 'rw',
    handler: async (ctx) => {
      const fn = poolActions[ctx.params.action!];
      if (!fn) throw bad(`unknown storage pool action '${ctx.params.action}'`);
      await fn(ctx, ctx.params.pool!);
      return ok;
    },
  },
  {
    method: 'PUT',
    pattern: r(`${P}/autostart`),
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      const v = optBool(body, 'autostart');
      if (v === undefined) throw bad("request body field 'autostart' is required");
      await conn.storagePoolSetAutostart(params.pool!, v);
      return ok;
    },
  },
  {
    method: 'GET',
    pattern: r(`${P}/volumes`),
    access: 'ro',
    handler: async ({ conn, params }) => ({ volumes: await conn.listStorageVols(params.pool!) }),
  },
  {
    // vol-create, or with {from: {pool, name}} vol-create-from / vol-clone.
    method: 'POST',
    pattern: r(`${P}/volumes`),
    access: 'rw',
    handler: async (ctx) => {
      const { conn, params, body } = ctx;
      const xml = str(body, 'xml');
      const f = flags(body, ['preallocMetadata', 'reflink'] as const);
      const from = body.from as Record<string, unknown> | undefined;
      if (from !== undefined) {
        if (typeof from !== 'object' || from === null)
          throw bad("request body field 'from' must be an object");
        const src = { pool: str(from, 'pool'), name: str(from, 'name') };
        return {
          status: 201,
          body: await conn.storageVolCreateXMLFrom(params.pool!, xml, src, f, tagOf(ctx)),
        };
      }
      return { status: 201, body: await conn.storageVolCreateXML(params.pool!, xml, f, tagOf(ctx)) };
    },
  },
  {
    method: 'GET',
    pattern: r(V),
    access: 'ro',
    handler: (ctx) => ctx.conn.storageVolLookupByName(ctx.params.pool!, ctx.params.vol!),
  },
  {
    method: 'DELETE',
    pattern: r(V),
    access: 'rw',
    handler: async (ctx) => {
      await ctx.conn.storageVolDelete(volOf(ctx));
      return ok;
    },
  },
  {
    method: 'GET',
    pattern: r(`${V}/info`),
    access: 'ro',
    handler: (ctx) => ctx.conn.storageVolGetInfo(volOf(ctx)),
  },
  {
    method: 'GET',
    pattern: r(`${V}/xml`),
    access: 'ro',
    handler: async (ctx) => ({ xml: await ctx.conn.storageVolGetXMLDesc(volOf(ctx)) }),
  },
  {
    method: 'GET',
    pattern: r(`${V}/path`),
    access: 'ro',
    handler: async (ctx) => ({ path: await ctx.conn.storageVolGetPath(volOf(ctx)) }),
  },
  {
    method: 'POST',
    pattern: r(`${V}/actions/(?<action>[a-z-]+)`),
    access: 'rw',
    handler: async (ctx) => {
      const fn = volActions[ctx.params.action!];
      if (!fn) throw bad(`unknown storage volume action '${ctx.params.action}'`);
      await fn(ctx, volOf(ctx));
      return ok;
    },
  },
  {
    // vol-upload: the request body is the content (raw bytes, or sparse frames with ?sparse).
    method: 'PUT',
    pattern: r(`${V}/content`),
    access: 'rw',
    handler: async () => {
      throw bad('volume content is streamed (raw route)');
    },
    raw: async (ctx) => {
      const f = streamFlags(ctx.query);
      const body: AsyncIterable<Buffer> = ctx.req;
      const source = f.sparse ? decodeSparse(body) : body;
      await ctx.conn.storageVolUpload(
        volOf(ctx),
        Readable.from(source, { objectMode: f.sparse === true }),
        f,
        tagOf(ctx),
      );
      return ok;
    },
  },
  {
    // vol-download: the answer body is the content (raw bytes, or sparse frames with ?sparse).
    // Read-write only: a disk image holds the guest's secrets (libvirt refuses read-only callers).
    method: 'GET',
    pattern: r(`${V}/content`),
    access: 'rw',
    handler: async () => {
      throw bad('volume content is streamed (raw route)');
    },
    raw: async (ctx) => {
      const f = streamFlags(ctx.query);
      const stream = await ctx.conn.storageVolDownload(volOf(ctx), f, tagOf(ctx));
      const { res } = ctx;
      res.writeHead(200, {
        'content-type': f.sparse ? SPARSE_CONTENT_TYPE : 'application/octet-stream',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      const out = f.sparse ? Readable.from(encodeSparse(stream)) : stream;
      res.once('close', () => {
        if (!res.writableFinished) out.destroy();
      });
      try {
        for await (const chunk of out) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        }
        res.end();
      } catch (e) {
        res.destroy(e as Error); // the client sees a truncated answer, never a short "complete" one
      }
      return undefined;
    },
  },
];
