// REST routes of the network half of the Connection (networks, DHCP leases, host bridges); listed
// in src/api/README.md. Registered by routes.ts; only types come from there (no import cycle at load).
import type {
  Connection,
  NetworkListFilter,
  NetworkUpdateCommand,
  NetworkUpdateSection,
} from '../drivers/connection.js';
import { networkUpdateSections } from '../drivers/network/net-update.js';
import { badRequest, bodyString, optBodyBool, queryFlag } from './route-params.js';
import type { Route } from './routes.js';

const bad = badRequest;
const flag = queryFlag;
const str = bodyString;
const optBool = optBodyBool;

function optInt(body: Record<string, unknown>, name: string, min: number): number | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw bad(`request body field '${name}' must be an integer >= ${min}`);
  return v;
}

const COMMANDS: NetworkUpdateCommand[] = ['add-first', 'add-last', 'delete', 'modify'];

const N = '/v1/networks/(?<ref>[^/]+)';
const r = (s: string) => new RegExp(`^${s}$`);

/** Network actions: POST /v1/networks/{ref}/actions/{start|destroy}. */
const actions: Record<string, (conn: Connection, ref: string) => Promise<unknown>> = {
  start: (conn, ref) => conn.networkCreate(ref),
  destroy: async (conn, ref) => {
    await conn.networkDestroy(ref);
    return { ok: true };
  },
};

/** The names POST /v1/networks/{ref}/actions/{name} accepts. */
export const networkActionNames: readonly string[] = Object.keys(actions);

export const networkRoutes: Route[] = [
  {
    method: 'GET',
    pattern: r('/v1/networks'),
    access: 'ro',
    handler: async ({ conn, query }) => {
      const f: NetworkListFilter = {};
      for (const k of ['active', 'persistent', 'autostart'] as const) {
        const v = flag(query, k);
        if (v !== undefined) f[k] = v;
      }
      return { networks: await conn.listNetworks(f) };
    },
  },
  {
    // Define (persistent), or with {transient: true} create and start (virsh net-create).
    method: 'POST',
    pattern: r('/v1/networks'),
    access: 'rw',
    handler: async ({ conn, body }) => {
      const xml = str(body, 'xml');
      const net = optBool(body, 'transient')
        ? await conn.networkCreateXML(xml)
        : await conn.networkDefineXML(xml);
      return { status: 201, body: net };
    },
  },
  {
    method: 'GET',
    pattern: r(N),
    access: 'ro',
    handler: ({ conn, params }) => conn.networkLookup(params.ref!),
  },
  {
    method: 'DELETE',
    pattern: r(N),
    access: 'rw',
    handler: async ({ conn, params }) => {
      await conn.networkUndefine(params.ref!);
      return { ok: true };
    },
  },
  {
    method: 'GET',
    pattern: r(`${N}/info`),
    access: 'ro',
    handler: ({ conn, params }) => conn.networkGetInfo(params.ref!),
  },
  {
    method: 'GET',
    pattern: r(`${N}/xml`),
    access: 'ro',
    handler: async ({ conn, params, query }) => ({
      xml: await conn.networkGetXMLDesc(params.ref!, flag(query, 'inactive') ? { inactive: true } : {}),
    }),
  },
  {
    method: 'POST',
    pattern: r(`${N}/actions/(?<action>[a-z-]+)`),
    access: 'rw',
    handler: async ({ conn, params }) => {
      const fn = actions[params.action!];
      if (!fn) throw bad(`unknown network action '${params.action}'`);
      return fn(conn, params.ref!);
    },
  },
  {
    method: 'PUT',
    pattern: r(`${N}/autostart`),
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      const v = optBool(body, 'autostart');
      if (v === undefined) throw bad("request body field 'autostart' is required");
      await conn.networkSetAutostart(params.ref!, v);
      return { ok: true };
    },
  },
  {
    method: 'POST',
    pattern: r(`${N}/update`),
    access: 'rw',
    handler: async ({ conn, params, body }) => {
      const command = str(body, 'command') as NetworkUpdateCommand;
      if (!COMMANDS.includes(command)) throw bad(`unknown net-update command '${command}'`);
      const section = str(body, 'section') as NetworkUpdateSection;
      if (!networkUpdateSections.includes(section)) throw bad(`unknown net-update section '${section}'`);
      const live = optBool(body, 'live');
      const config = optBool(body, 'config');
      await conn.networkUpdate(
        params.ref!,
        command,
        section,
        str(body, 'xml'),
        optInt(body, 'parentIndex', -1) ?? -1,
        {
          ...(live !== undefined ? { live } : {}),
          ...(config !== undefined ? { config } : {}),
        },
      );
      return { ok: true };
    },
  },
  {
    method: 'GET',
    pattern: r(`${N}/leases`),
    access: 'ro',
    handler: async ({ conn, params, query }) => ({
      leases: await conn.networkGetDHCPLeases(params.ref!, query.get('mac') ?? undefined),
    }),
  },
  {
    method: 'GET',
    pattern: r('/v1/interfaces'),
    access: 'ro',
    handler: async ({ conn }) => ({ interfaces: await conn.ifaceList() }),
  },
  {
    method: 'POST',
    pattern: r('/v1/interfaces/bridges'),
    access: 'rw',
    handler: async ({ conn, body }) => {
      const stp = optBool(body, 'stp');
      const delay = optInt(body, 'delay', 0);
      await conn.ifaceBridge(str(body, 'iface'), str(body, 'bridge'), {
        ...(stp !== undefined ? { stp } : {}),
        ...(delay !== undefined ? { delay } : {}),
      });
      return { status: 201, body: { ok: true } };
    },
  },
  {
    method: 'DELETE',
    pattern: r('/v1/interfaces/bridges/(?<bridge>[^/]+)'),
    access: 'rw',
    handler: async ({ conn, params }) => ({ iface: await conn.ifaceUnbridge(params.bridge!) }),
  },
];
