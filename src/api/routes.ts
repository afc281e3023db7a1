// The REST routes: one entry per Connection method, with the role it needs (ro routes are reads).
import type { Connection, DomainListFilter, DomainStateName, ModifyFlags } from '../drivers/connection.js';
import type { JobManager } from '../daemon/jobs.js';
import { VirError } from '../util/errors.js';
import { openapiDocument } from './openapi.js';
import { bodyString, optBodyBool, optBodyString, queryFlag } from './route-params.js';
import { cloneRoutes } from './routes-clone.js';
import { networkRoutes } from './routes-network.js';
import { storageRoutes } from './routes-storage.js';

export interface RouteContext {
  conn: Connection;
  jobs: JobManager | undefined;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body ({} when empty); an XML body arrives as { xml }. */
  body: Record<string, unknown>;
  /** The caller's role. */
  role: 'rw' | 'ro';
}

export interface RouteResult {
  status?: number;
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  pattern: RegExp;
  /** 'ro': a read-only credential may call it. */
  access: 'ro' | 'rw';
  handler: (ctx: RouteContext) => Promise<RouteResult | unknown>;
  /** Streams the request or answer body itself (volume content); `handler` is then unused. */
  raw?: (
    ctx: RouteContext & { req: import('node:http').IncomingMessage; res: import('node:http').ServerResponse },
  ) => Promise<unknown>;
}

export { queryFlag };

function str(body: Record<string, unknown>, name: string, required = true): string | undefined {
  return required ? bodyString(body, name) : optBodyString(body, name);
}

function num(body: Record<string, unknown>, name: string): number {
  const v = body[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new VirError('INVALID_ARG', `request body field '${name}' must be a non-negative integer`, {
      domain: 'API',
    });
  return v;
}

const bool = optBodyBool;

function modifyFlags(src: Record<string, unknown> | URLSearchParams): ModifyFlags {
  const f: ModifyFlags = {};
  for (const k of ['config', 'live', 'current'] as const) {
    const v = src instanceof URLSearchParams ? queryFlag(src, k) : bool(src, k);
    if (v !== undefined) f[k] = v;
  }
  return f;
}

function mode(body: Record<string, unknown>): { mode?: 'acpi' | 'agent' } {
  const m = str(body, 'mode', false);
  if (m === undefined) return {};
  if (m !== 'acpi' && m !== 'agent')
    throw new VirError('INVALID_ARG', `mode must be 'acpi' or 'agent', not '${m}'`, { domain: 'API' });
  return { mode: m };
}

function metadataType(t: string): 'title' | 'description' {
  if (t !== 'title' && t !== 'description')
    throw new VirError('INVALID_ARG', `metadata type must be 'title' or 'description', not '${t}'`, {
      domain: 'API',
    });
  return t;
}

const STATES: DomainStateName[] = [
  'nostate',
  'running',
  'blocked',
  'paused',
  'shutdown',
  'shutoff',
  'crashed',
  'pmsuspended',
];

function listFilter(q: URLSearchParams): DomainListFilter {
  const f: DomainListFilter = {};
  for (const k of ['active', 'inactive', 'persistent', 'transient', 'autostart', 'noAutostart'] as const) {
    const v = queryFlag(q, k);
    if (v !== undefined) f[k] = v;
  }
  const states = q
    .getAll('state')
    .flatMap((s) => s.split(','))
    .filter(Boolean);
  for (const s of states)
    if (!STATES.includes(s as DomainStateName))
      throw new VirError('INVALID_ARG', `unknown domain state '${s}'`, { domain: 'API' });
  if (states.length) f.states = states as DomainStateName[];
  return f;
}

const D = '/v1/domains/(?<ref>[^/]+)';
const r = (s: string) => new RegExp(`^${s}$`);

function jobsOf(ctx: RouteContext): JobManager {
  if (!ctx.jobs) throw new VirError('NO_SUPPORT', 'this server has no job manager', { domain: 'API' });
  return ctx.jobs;
}

/** Domain actions: POST /v1/domains/{ref}/actions/{name}. */
const actions: Record<string, (ctx: RouteContext, ref: string) => Promise<unknown>> = {
  start: async ({ conn, body }, ref) => conn.domainCreate(ref, { paused: bool(body, 'paused') ?? false }),
  shutdown: async ({ conn, body }, ref) => conn.domainShutdown(ref, mode(body)),
  reboot: async ({ conn, body }, ref) => conn.domainReboot(ref, mode(body)),
  reset: async ({ conn }, ref) => conn.domainReset(ref),
  destroy: async ({ conn, body }, ref) => {
    const graceful = bool(body, 'graceful');
    return conn.domainDestroy(ref, graceful === undefined ? {} : { graceful });
  },
  suspend: async ({ conn }, ref) => conn.domainSuspend(ref),
  resume: async ({ conn }, ref) => conn.domainResume(ref),
};

/** The names POST /v1/domains/{ref}/actions/{name} accepts (openapi.test.ts checks they are documented). */
export const domainActionNames: readonly string[] = Object.keys(actions);

export const routes: Route[] = [
  { method: 'GET', pattern: r('/v1/version'), access: 'ro', handler: ({ conn }) => conn.getVersion() },
  // The OpenAPI document of these routes (src/api/openapi.ts).
  { method: 'GET', pattern: r('/v1/openapi\\.json'), access: 'ro', handler: async () => openapiDocument },
  {
    method: 'GET',
    pattern: r('/v1/host'),
    access: 'ro',
    handler: async ({ conn }) => ({ hostname: await conn.getHostname(), nodeInfo: await conn.nodeGetInfo() }),
  },
  {
    method: 'GET',
    pattern: r('/v1/host/hostname'),
    access: 'ro',
    handler: async ({ conn }) => ({ hostname: await conn.getHostname() }),
  },
  { method: 'GET', pattern: r('/v1/host/nodeinfo'), access: 'ro', handler: ({ conn }) => conn.nodeGetInfo() },
  {
    // virsh domxml-to-native: needs rw, as libvirt's virConnectDomainXMLToNative (connect:write).
    method: 'POST',
    pattern: r('/v1/host/domain-xml-to-native'),
    access: 'rw',
    handler: async ({ conn, body }) => ({
      native: await conn.domainXMLToNative(str(body, 'format')!, str(body, 'xml')!),
    }),
  },
  {
    method: 'GET',
    pattern: r('/v1/capabilities'),
    access: 'ro',
    handler: async ({ conn }) => ({ xml: await conn.getCapabilities() }),
  },
  {
    method: 'GET',
    pattern: r('/v1/domains'),
    access: 'ro',
    handler: async ({ conn, query }) => ({ domains: await conn.listDomains(listFilter(query)) }),
  },
  {
    // Define (persistent), or with {transient: true} create and start (virsh create).
    method: 'POST',
    pattern: r('/v1/domains'),
    access: 'rw',
    handler: async ({ conn, body }) => {
      const xml = str(body, 'xml')!;
      if (bool(body, 'transient'))
        return {
          status: 201,
          body: await conn.domainCreateXML(xml, { paused: bool(body, 'paused') ?? false }),
        };
      return { status: 201, body: await conn.domainDefineXML(xml) };
    },
  },
  {
    method: 'GET',
    pattern: r(D),
    access: 'ro',
    handler: ({ conn, params }) => conn.domainLookup(params.ref!),
  },
  {
    method: 'DELETE',
    pattern: r(D),
    access: 'rw',
    handler: ({ conn, params, query }) =>
      conn.domainUndefine(params.ref!, {
        removeAllStorage: queryFlag(query, 'removeAllStorage') ?? false,
        nvram: queryFlag(query, 'nvram') ?? false,
      }),
  },
  {
    method: 'GET',
    pattern: r(`${D}/info`),
    access: 'ro',
    handler: ({ conn, params }) => conn.domainGetInfo(params.ref!),
  },
  {
    method: 'GET',
    pattern: r(`${D}/state`),
    access: 'ro',
    handler: ({ conn, params }) => conn.domainGetState(params.ref!),
  },
  {
    method: 'GET',
    pattern: r(`${D}/interface-addresses`),
    access: 'ro',
    handler: async ({ conn, params, query }) => {
      const source = query.get('source') ?? 'lease';
      if (source !== 'lease' && source !== 'agent' && source !== 'arp')
        throw new VirError('INVALID_ARG', `unknown address source '${source}': use lease, agent or arp`, {
          domain: 'API',
        });
      return { interfaces: await conn.domainInterfaceAddresses(params.ref!, source) };
    },
  },
  {
    method: 'GET',
    pattern: r(`${D}/xml`),
    access: 'ro',
    handler: async ({ conn, params, query, role }) => {
      const secure = queryFlag(query, 'secure') ?? false;
      // libvirt refuses security-sensitive XML (--security-info) to read-only connections.
      if (secure && role === 'ro')
        throw new VirError('OPERATION_DENIED', 'operation forbidden: virDomainGetXMLDesc with secure flag', {
          domain: 'API',
        });
      return {
        xml: await conn.domainGetXMLDesc(params.ref!, {
          inactive: queryFlag(query, 'inactive') ?? false,
          secure,
        }),
      };
    },
  },
  {
    method: 'POST',
    pattern: r(`${D}/actions/(?<action>[a-z-]+)`),
    access: 'rw',
    handler: async (ctx) => {
      const fn = actions[ctx.params.action!];
      if (!fn)
        throw new VirError('INVALID_ARG', `unknown domain action '${ctx.params.action}'`, { domain: 'API' });
      const result = await fn(ctx, ctx.params.ref!);
      return result === undefined ? { ok: true } : result;
    },
  },
  {
    method: 'GET',
    pattern: r(`${D}/memory-stats`),
    access: 'ro',
    handler: async ({ conn, params }) => ({ stats: await conn.domainMemoryStats(params.ref!) }),
  },
  {
    method: 'GET',
    pattern: r(`${D}/block-info`),
    access: 'ro',
    handler: ({ conn, params, query }) => {
      const disk = query.get('disk');
      if (!disk) throw new VirError('INVALID_ARG', "query parameter 'disk' is required", { domain: 'API' });
      return conn.domainGetBlockInfo(params.ref!, disk);
    },
  },
  {
    // virsh qemu-monitor-command: full control of QEMU, so read-write only (libvirt: domain:write).
    method: 'POST',
    pattern: r(`${D}/qemu-monitor-command`),
    access: 'rw',
    handler: async ({ conn, params, body }) => ({
      reply: await conn.domainQemuMonitorCommand(params.ref!, str(body, 'cmd')!, {
        hmp: bool(body, 'hmp') ?? false,
      }),
    }),
  },
  {
    method: 'PUT',
    pattern: r(`${D}/autostart`),
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      const v = bool(body, 'autostart');
      if (v === undefined)
        throw new VirError('INVALID_ARG', "request body field 'autostart' is required", { domain: 'API' });
      await conn.domainSetAutostart(params.ref!, v);
      return { ok: true };
    },
  },
  {
    method: 'PUT',
    pattern: r(`${D}/memory`),
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      await conn.domainSetMemory(params.ref!, num(body, 'kib'), modifyFlags(body));
      return { ok: true };
    },
  },
  {
    method: 'PUT',
    pattern: r(`${D}/max-memory`),
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      await conn.domainSetMaxMemory(params.ref!, num(body, 'kib'), modifyFlags(body));
      return { ok: true };
    },
  },
  {
    method: 'PUT',
    pattern: r(`${D}/vcpus`),
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      const maximum = bool(body, 'maximum');
      await conn.domainSetVcpus(params.ref!, num(body, 'count'), {
        ...modifyFlags(body),
        ...(maximum === undefined ? {} : { maximum }),
      });
      return { ok: true };
    },
  },
  {
    method: 'GET',
    pattern: r(`${D}/metadata/(?<type>[a-z]+)`),
    access: 'ro',
    handler: async ({ conn, params, query }) => ({
      text: await conn.domainGetMetadata(params.ref!, metadataType(params.type!), modifyFlags(query)),
    }),
  },
  {
    method: 'PUT',
    pattern: r(`${D}/metadata/(?<type>[a-z]+)`),
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      await conn.domainSetMetadata(
        params.ref!,
        metadataType(params.type!),
        str(body, 'text')!,
        modifyFlags(body),
      );
      return { ok: true };
    },
  },
  {
    method: 'GET',
    pattern: r('/v1/jobs'),
    access: 'ro',
    handler: async (ctx) => ({ jobs: jobsOf(ctx).list({ active: queryFlag(ctx.query, 'active') ?? false }) }),
  },
  {
    method: 'GET',
    pattern: r('/v1/jobs/(?<id>[^/]+)'),
    access: 'ro',
    handler: async (ctx) => {
      const j = jobsOf(ctx).get(ctx.params.id!);
      if (!j) throw new VirError('INVALID_ARG', `no job with id '${ctx.params.id}'`, { domain: 'API' });
      return j;
    },
  },
  {
    method: 'DELETE',
    pattern: r('/v1/jobs/(?<id>[^/]+)'),
    access: 'rw',
    handler: async (ctx) => jobsOf(ctx).cancel(ctx.params.id!),
  },
  ...networkRoutes,
  ...storageRoutes,
  ...cloneRoutes,
];

/** WebSocket routes (GET + Upgrade). The console needs rw, as in libvirt. */
export const wsRoutes = {
  events: { pattern: r('/v1/events'), access: 'ro' as const },
  console: { pattern: r(`${D}/console`), access: 'rw' as const },
};

/** Finds the route for a method and path; distinguishes 404 from 405. */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | { error: 404 | 405 } {
  let pathMatched = false;
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = decodeURIComponent(v);
    return { route, params };
  }
  return { error: pathMatched ? 405 : 404 };
}
