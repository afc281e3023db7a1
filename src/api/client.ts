// The remote client: Connection over HTTP to tvirtd (UNIX socket or TCP with a bearer token).
// Kept light for CLI start-up: node:http only; `ws` is loaded when events or a console are used.
import type { Agent, ClientRequest, request } from 'node:http';
import { createRequire } from 'node:module';
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
import type { CloneResult, DomainCloneOptions } from '../drivers/clone/clone-api.js';
import type { JobInfo } from '../daemon/jobs.js';
import { errnoText, VirError } from '../util/errors.js';
import type { RemoteStorage } from './client-storage.js';
import { forwardStorage, storageMethods } from '../drivers/storage-forwarder.js';
import type { NetworkConnection, StorageConnection } from '../drivers/connection.js';
import { RawHttpPool } from './client-http.js';
import { API_PREFIX, type EventsMessage, errorFromResponse } from './wire.js';
import type { WebSocket } from './ws.js';

/** Where and how to reach tvirtd, parsed from a URI. */
export interface RemoteTarget {
  uri: string;
  /** The driver named by the URI scheme (qemu, test). */
  driver: string;
  socketPath?: string;
  host?: string;
  port?: number;
  token?: string;
  /** qemu:///session: start the user's daemon when it is not running. */
  autostartSession: boolean;
  /** qemu+tls: CA to trust (default: the system's), client certificate and key (PEM). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

export const DEFAULT_TCP_PORT = 16510;
export const DEFAULT_TLS_PORT = 16514;

async function readParamFile(what: string, file: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(file);
  } catch (e) {
    throw new VirError('AUTH_FAILED', `cannot read ${what} ${file}: ${(e as Error).message}`, {
      domain: 'RPC',
      cause: e,
    });
  }
}

/**
 * Parses qemu:///system, qemu:///session, qemu+unix:///system?socket=PATH,
 * qemu+tcp://HOST:PORT/system (token from TVIRT_AUTH_TOKEN or ?token_file=), and the same for test.
 * @throws NO_CONNECT for URIs tvirt cannot serve remotely.
 */
export async function parseRemoteUri(
  uri: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RemoteTarget> {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new VirError('NO_CONNECT', `invalid connection URI '${uri}'`, { domain: 'RPC' });
  }
  const [driver = '', transport = 'unix'] = u.protocol.replace(/:$/, '').split('+');
  if (driver !== 'qemu' && driver !== 'test')
    throw new VirError('NO_CONNECT', `no connection driver available for URI '${uri}'`, { domain: 'RPC' });
  const path = u.pathname.replace(/\/+$/, '') || '/';
  const socketParam = u.searchParams.get('socket') ?? undefined;
  if (transport === 'unix') {
    if (u.host)
      throw new VirError('NO_CONNECT', `URI '${uri}': a unix socket URI cannot name a host`, {
        domain: 'RPC',
      });
    if (socketParam) return { uri, driver, socketPath: socketParam, autostartSession: false };
    if (path === '/system')
      return {
        uri,
        driver,
        socketPath: (await import('../daemon/paths.js')).systemPaths().socketPath,
        autostartSession: false,
      };
    if (path === '/session')
      return {
        uri,
        driver,
        socketPath: (await import('../daemon/paths.js')).sessionPaths(env).socketPath,
        autostartSession: u.protocol === `${driver}:`,
      };
    throw new VirError(
      'NO_CONNECT',
      `URI '${uri}': unknown path '${u.pathname}', expected /system or /session`,
      {
        domain: 'RPC',
      },
    );
  }
  if (transport === 'tcp' || transport === 'tls') {
    if (!u.hostname) throw new VirError('NO_CONNECT', `URI '${uri}' names no host`, { domain: 'RPC' });
    let token = env.TVIRT_AUTH_TOKEN;
    const tokenFile = u.searchParams.get('token_file');
    if (tokenFile)
      token = (await readParamFile('token file', tokenFile))
        .toString('utf8')
        .split('\n')[0]!
        .trim()
        .split(/\s+/)[0];
    let tls: RemoteTarget['tls'];
    if (transport === 'tls') {
      tls = {};
      const ca = u.searchParams.get('ca_file') ?? env.TVIRT_TLS_CA_FILE;
      const cert = u.searchParams.get('cert_file') ?? env.TVIRT_TLS_CERT_FILE;
      const key = u.searchParams.get('key_file') ?? env.TVIRT_TLS_KEY_FILE;
      if (ca) tls.ca = await readParamFile('CA file', ca);
      if (cert) tls.cert = await readParamFile('certificate file', cert);
      if (key) tls.key = await readParamFile('key file', key);
    }
    return {
      uri,
      driver,
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT,
      ...(token ? { token } : {}),
      ...(tls ? { tls } : {}),
      autostartSession: false,
    };
  }
  throw new VirError('NO_CONNECT', `transport '${transport}' of URI '${uri}' is not supported`, {
    domain: 'RPC',
  });
}

function connectError(t: RemoteTarget, e: NodeJS.ErrnoException): VirError {
  const where = t.socketPath ? `socket to '${t.socketPath}'` : `to ${t.host}:${t.port}`;
  return new VirError('NO_CONNECT', `Failed to connect ${where}: ${errnoText(e)}`, {
    domain: 'RPC',
    cause: e,
  });
}

const enc = encodeURIComponent;

/** Idle kept-alive sockets are dropped before the server's 60 s keep-alive timeout. */
const IDLE_SOCKET_MS = 30_000;

/** A Connection served by a remote tvirtd. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: storage and network methods are added at the end of the file
export class RemoteConnection implements Connection {
  readonly uri: string;
  private readonly target: RemoteTarget;
  /** node:http(s) for streams, WebSocket-less raw requests and TLS; created at first use without TLS. */
  private agentAndRequest: { agent: Agent; request: typeof request } | undefined;
  /** JSON calls without TLS: the light client of client-http.ts. */
  private readonly raw: RawHttpPool | undefined;
  private readonly listeners = new Set<(ev: TvirtEvent) => void>();
  private eventSocket: WebSocket | undefined;
  private eventsOpening: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `https` is the node:https module, needed (and loaded by connectRemote) for qemu+tls only. */
  constructor(target: RemoteTarget, https?: typeof import('node:https')) {
    this.target = target;
    this.uri = target.uri;
    if (target.tls) {
      if (!https)
        throw new VirError('INTERNAL_ERROR', 'TLS target without the https module', { domain: 'RPC' });
      this.agentAndRequest = {
        agent: new https.Agent({
          keepAlive: true,
          maxSockets: 8,
          timeout: IDLE_SOCKET_MS,
          ...target.tls,
        }) as unknown as Agent,
        request: https.request as unknown as typeof request,
      };
    } else {
      this.raw = new RawHttpPool(
        target.socketPath ? { socketPath: target.socketPath } : { host: target.host!, port: target.port! },
        8,
        IDLE_SOCKET_MS,
      );
    }
  }

  private get agent(): Agent {
    return this.http().agent;
  }
  private get request(): typeof request {
    return this.http().request;
  }
  private http(): { agent: Agent; request: typeof request } {
    if (!this.agentAndRequest) {
      const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
      this.agentAndRequest = {
        agent: new http.Agent({ keepAlive: true, maxSockets: 8, timeout: IDLE_SOCKET_MS }),
        request: http.request,
      };
    }
    return this.agentAndRequest;
  }

  /** One API call through the light client: the same answers and errors as through node:http. */
  private async rawCall<T>(
    raw: RawHttpPool,
    method: string,
    path: string,
    payload: string | undefined,
    retried: boolean,
  ): Promise<T> {
    const t = this.target;
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers() };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let res: { status: number; body: Buffer };
    try {
      res = await raw.request(
        method,
        API_PREFIX + path,
        headers,
        payload === undefined ? undefined : Buffer.from(payload, 'utf8'),
      );
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { reusedSocket?: boolean };
      // A kept-alive socket the server closed meanwhile: replay a read once on a fresh socket.
      if (err.reusedSocket && err.code === 'ECONNRESET' && method === 'GET' && !retried)
        return this.rawCall<T>(raw, method, path, payload, true);
      throw connectError(t, err);
    }
    const text = res.body.toString('utf8');
    if (res.status >= 400) throw errorFromResponse(res.status, text);
    try {
      return (text ? JSON.parse(text) : null) as T;
    } catch (e) {
      throw new VirError('RPC', `tvirtd sent invalid JSON: ${(e as Error).message}`, { domain: 'RPC' });
    }
  }

  private headers(): Record<string, string> {
    return this.target.token ? { authorization: `Bearer ${this.target.token}` } : {};
  }

  /** One API call. Non-2xx answers become the server's VirError. */
  call<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    if (this.closed)
      return Promise.reject(new VirError('INVALID_CONN', 'the connection is closed', { domain: 'RPC' }));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (this.raw) return this.rawCall<T>(this.raw, method, path, payload, retried);
    const t = this.target;
    return new Promise<T>((resolve, reject) => {
      const req = this.request(
        {
          agent: this.agent,
          method,
          path: API_PREFIX + path,
          // An empty servername spares Node's agent an isIP() on 'localhost' for UNIX sockets,
          // whose first call compiles a large IPv6 regex: ~4 ms of every CLI cold start.
          ...(t.socketPath ? { socketPath: t.socketPath, servername: '' } : { host: t.host, port: t.port }),
          headers: {
            accept: 'application/json',
            ...this.headers(),
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) =>
            reject(new VirError('RPC', `reading the answer failed: ${e.message}`, { domain: 'RPC' })),
          );
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 500;
            if (status >= 400) return reject(errorFromResponse(status, text));
            try {
              resolve((text ? JSON.parse(text) : null) as T);
            } catch (e) {
              reject(
                new VirError('RPC', `tvirtd sent invalid JSON: ${(e as Error).message}`, { domain: 'RPC' }),
              );
            }
          });
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed meanwhile: replay a read once on a fresh socket.
        if (req.reusedSocket && e.code === 'ECONNRESET' && method === 'GET' && !retried)
          resolve(this.call<T>(method, path, body, true));
        else reject(connectError(t, e));
      });
      req.end(payload);
    });
  }

  /**
   * Checks that tvirtd can be reached. Over a UNIX socket, connecting is the check (the socket is
   * kept for the first call: no extra round trip); over TCP, the version call also checks the token.
   */
  async check(): Promise<void> {
    if (this.raw && this.target.socketPath) {
      try {
        await this.raw.connect();
      } catch (e) {
        throw connectError(this.target, e as NodeJS.ErrnoException);
      }
      return;
    }
    await this.getVersion();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stopEvents();
    this.raw?.destroy();
    this.agentAndRequest?.agent.destroy();
  }

  getVersion(): Promise<VersionInfo> {
    return this.call('GET', '/version');
  }
  async getHostname(): Promise<string> {
    return (await this.call<{ hostname: string }>('GET', '/host/hostname')).hostname;
  }
  async domainMemoryStats(ref: string): Promise<[string, number][]> {
    return (await this.call<{ stats: [string, number][] }>('GET', `/domains/${enc(ref)}/memory-stats`)).stats;
  }
  domainGetBlockInfo(ref: string, disk: string): Promise<BlockInfo> {
    return this.call('GET', `/domains/${enc(ref)}/block-info?disk=${enc(disk)}`);
  }
  async domainQemuMonitorCommand(ref: string, cmd: string, flags: { hmp?: boolean } = {}): Promise<string> {
    return (
      await this.call<{ reply: string }>('POST', `/domains/${enc(ref)}/qemu-monitor-command`, {
        cmd,
        hmp: flags.hmp ?? false,
      })
    ).reply;
  }
  async domainXMLToNative(format: string, xml: string): Promise<string> {
    return (await this.call<{ native: string }>('POST', '/host/domain-xml-to-native', { format, xml }))
      .native;
  }
  async getCapabilities(): Promise<string> {
    return (await this.call<{ xml: string }>('GET', '/capabilities')).xml;
  }
  nodeGetInfo(): Promise<NodeInfo> {
    return this.call('GET', '/host/nodeinfo');
  }

  async listDomains(filter: DomainListFilter = {}): Promise<DomainSummary[]> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) {
      if (k === 'states') {
        if ((v as string[]).length) q.set('state', (v as string[]).join(','));
      } else if (v !== undefined) q.set(k, v ? '1' : '0');
    }
    const qs = q.toString();
    return (await this.call<{ domains: DomainSummary[] }>('GET', `/domains${qs ? `?${qs}` : ''}`)).domains;
  }
  domainLookup(ref: string): Promise<DomainSummary> {
    return this.call('GET', `/domains/${enc(ref)}`);
  }
  domainGetInfo(ref: string): Promise<DomainInfo> {
    return this.call('GET', `/domains/${enc(ref)}/info`);
  }
  domainGetState(ref: string): Promise<DomainState> {
    return this.call('GET', `/domains/${enc(ref)}/state`);
  }
  async domainGetXMLDesc(ref: string, flags: DomainXMLFlags = {}): Promise<string> {
    const q = new URLSearchParams();
    if (flags.inactive) q.set('inactive', '1');
    if (flags.secure) q.set('secure', '1');
    const qs = q.toString();
    return (await this.call<{ xml: string }>('GET', `/domains/${enc(ref)}/xml${qs ? `?${qs}` : ''}`)).xml;
  }
  domainDefineXML(xml: string): Promise<DomainSummary> {
    return this.call('POST', '/domains', { xml });
  }
  async domainInterfaceAddresses(
    ref: string,
    source: InterfaceAddressSource = 'lease',
  ): Promise<DomainInterfaceAddresses[]> {
    return (
      await this.call<{ interfaces: DomainInterfaceAddresses[] }>(
        'GET',
        `/domains/${enc(ref)}/interface-addresses?source=${enc(source)}`,
      )
    ).interfaces;
  }
  domainUndefine(
    ref: string,
    flags: { removeAllStorage?: boolean; nvram?: boolean } = {},
  ): Promise<{ becameTransient: boolean }> {
    const q = new URLSearchParams();
    if (flags.removeAllStorage) q.set('removeAllStorage', '1');
    if (flags.nvram) q.set('nvram', '1');
    const qs = q.toString();
    return this.call('DELETE', `/domains/${enc(ref)}${qs ? `?${qs}` : ''}`);
  }
  domainCreateXML(xml: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    return this.call('POST', '/domains', { xml, transient: true, paused: flags.paused ?? false });
  }
  private action<T = void>(ref: string, name: string, body: object = {}): Promise<T> {
    return this.call<T>('POST', `/domains/${enc(ref)}/actions/${name}`, body);
  }
  domainCreate(ref: string, flags: { paused?: boolean } = {}): Promise<DomainSummary> {
    return this.action<DomainSummary>(ref, 'start', flags);
  }
  async domainShutdown(ref: string, flags: { mode?: 'acpi' | 'agent' } = {}): Promise<void> {
    await this.action(ref, 'shutdown', flags);
  }
  async domainReboot(ref: string, flags: { mode?: 'acpi' | 'agent' } = {}): Promise<void> {
    await this.action(ref, 'reboot', flags);
  }
  async domainReset(ref: string): Promise<void> {
    await this.action(ref, 'reset');
  }
  async domainDestroy(ref: string, flags: { graceful?: boolean } = {}): Promise<void> {
    await this.action(ref, 'destroy', flags);
  }
  async domainSuspend(ref: string): Promise<void> {
    await this.action(ref, 'suspend');
  }
  async domainResume(ref: string): Promise<void> {
    await this.action(ref, 'resume');
  }
  async domainSetAutostart(ref: string, autostart: boolean): Promise<void> {
    await this.call('PUT', `/domains/${enc(ref)}/autostart`, { autostart });
  }
  async domainSetMemory(ref: string, kib: number, flags: ModifyFlags = {}): Promise<void> {
    await this.call('PUT', `/domains/${enc(ref)}/memory`, { kib, ...flags });
  }
  async domainSetMaxMemory(ref: string, kib: number, flags: ModifyFlags = {}): Promise<void> {
    await this.call('PUT', `/domains/${enc(ref)}/max-memory`, { kib, ...flags });
  }
  async domainSetVcpus(
    ref: string,
    count: number,
    flags: ModifyFlags & { maximum?: boolean } = {},
  ): Promise<void> {
    await this.call('PUT', `/domains/${enc(ref)}/vcpus`, { count, ...flags });
  }
  async domainSetMetadata(
    ref: string,
    type: 'title' | 'description',
    text: string,
    flags: ModifyFlags = {},
  ): Promise<void> {
    await this.call('PUT', `/domains/${enc(ref)}/metadata/${type}`, { text, ...flags });
  }
  async domainGetMetadata(
    ref: string,
    type: 'title' | 'description',
    flags: ModifyFlags = {},
  ): Promise<string> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(flags)) if (v !== undefined) q.set(k, v ? '1' : '0');
    const qs = q.toString();
    return (
      await this.call<{ text: string }>('GET', `/domains/${enc(ref)}/metadata/${type}${qs ? `?${qs}` : ''}`)
    ).text;
  }

  /** Jobs known to the daemon (not part of Connection: daemon-only). */
  async listJobs(opts: { active?: boolean } = {}): Promise<JobInfo[]> {
    return (await this.call<{ jobs: JobInfo[] }>('GET', `/jobs${opts.active ? '?active=1' : ''}`)).jobs;
  }
  /** A raw HTTP request to the API (volume content streams), chunked, not yet ended. */
  streamRequest(method: string, path: string, headers: Record<string, string>): ClientRequest {
    const t = this.target;
    return this.request({
      agent: this.agent,
      method,
      path: API_PREFIX + path,
      ...(t.socketPath ? { socketPath: t.socketPath } : { host: t.host, port: t.port }),
      headers: { ...this.headers(), ...headers },
    });
  }
  cancelJob(id: string): Promise<JobInfo> {
    return this.call('DELETE', `/jobs/${enc(id)}`);
  }

  /** virt-clone through tvirtd: a job followed by its events (src/api/client-clone.ts). */
  async domainClone(ref: string, opts?: DomainCloneOptions): Promise<CloneResult> {
    const { remoteDomainClone } = await import('./client-clone.js');
    return remoteDomainClone(this, ref, opts);
  }

  private wsTarget(path: string) {
    const t = this.target;
    return {
      path: API_PREFIX + path,
      headers: this.headers(),
      ...(t.socketPath ? { socketPath: t.socketPath } : { host: t.host!, port: t.port! }),
      ...(t.tls ? { tls: t.tls } : {}),
    };
  }

  async domainOpenConsole(ref: string, dev?: string): Promise<Duplex> {
    const { openWebSocketStream } = await import('./ws.js');
    return openWebSocketStream(this.wsTarget(`/domains/${enc(ref)}/console${dev ? `?dev=${enc(dev)}` : ''}`));
  }

  onEvent(listener: (ev: TvirtEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) void this.eventsReady().catch(() => {});
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopEvents();
    };
  }

  /** Resolves once the event stream is subscribed on the server (events after this are delivered). */
  eventsReady(): Promise<void> {
    if (this.eventsOpening) return this.eventsOpening;
    if (this.eventSocket) return Promise.resolve();
    this.eventsOpening ??= this.openEvents().finally(() => {
      this.eventsOpening = undefined;
    });
    return this.eventsOpening;
  }

  private async openEvents(): Promise<void> {
    const { openWebSocket } = await import('./ws.js');
    let ready!: () => void;
    let failed!: (e: unknown) => void;
    const readyPromise = new Promise<void>((res, rej) => {
      ready = res;
      failed = rej;
    });
    readyPromise.catch(() => {});
    // Attached before the handshake ends: the ready frame may come with the upgrade answer.
    const onMessage = (data: Buffer) => {
      let msg: EventsMessage;
      try {
        msg = JSON.parse(String(data)) as EventsMessage;
      } catch {
        return;
      }
      if (msg.type === 'ready') ready();
      else if (msg.type === 'event') for (const l of [...this.listeners]) l(msg.event);
    };
    let ws: WebSocket;
    try {
      ws = await openWebSocket(this.wsTarget('/events'), onMessage);
    } catch (e) {
      this.scheduleReconnect();
      throw e;
    }
    ws.on('close', () => {
      if (this.eventSocket === ws) this.eventSocket = undefined;
      failed(new VirError('RPC', 'event stream closed', { domain: 'RPC' }));
      this.scheduleReconnect();
    });
    if (this.listeners.size === 0 || this.closed) {
      ws.close();
      return;
    }
    this.eventSocket = ws;
    await readyPromise;
  }

  /** The daemon may restart: keep the subscription alive while someone listens. */
  private scheduleReconnect(): void {
    if (this.closed || this.listeners.size === 0 || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.eventSocket && this.listeners.size > 0) void this.eventsReady().catch(() => {});
    }, 1000);
    this.reconnectTimer.unref();
  }

  private stopEvents(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const ws = this.eventSocket;
    this.eventSocket = undefined;
    ws?.close(1000);
  }
}

// Storage calls over routes-storage.ts (src/api/client-storage.ts), network calls over
// routes-network.ts (src/api/client-network.ts).
export interface RemoteConnection extends StorageConnection, NetworkConnection {}

/** Every method of NetworkConnection (a compile-time check below keeps the list complete). */
const networkMethods = [
  'listNetworks',
  'networkLookup',
  'networkGetInfo',
  'networkGetXMLDesc',
  'networkDefineXML',
  'networkCreateXML',
  'networkCreate',
  'networkDestroy',
  'networkUndefine',
  'networkSetAutostart',
  'networkUpdate',
  'networkGetDHCPLeases',
  'ifaceList',
  'ifaceBridge',
  'ifaceUnbridge',
] as const satisfies readonly (keyof NetworkConnection)[];
type MissingNetworkMethod = Exclude<keyof NetworkConnection, (typeof networkMethods)[number]>;
const networkComplete: [MissingNetworkMethod] extends [never] ? true : MissingNetworkMethod = true;
void networkComplete;

// The network half loads at the first network call. Its methods only use this.call(), so they
// run with the connection as `this`.
let networkCalls: Promise<Record<string, (...args: unknown[]) => Promise<unknown>>> | undefined;
for (const m of networkMethods) {
  Object.defineProperty(RemoteConnection.prototype, m, {
    configurable: true,
    writable: true,
    value(this: RemoteConnection, ...args: unknown[]) {
      networkCalls ??= import('./client-network.js').then(
        (mod) =>
          mod.RemoteNetworkCalls.prototype as unknown as Record<
            string,
            (...a: unknown[]) => Promise<unknown>
          >,
      );
      return networkCalls.then((proto) => proto[m]!.apply(this, args));
    },
  });
}
// The storage half (and its sparse stream codec) loads at the first storage call: CLI start-up
// for domain commands does not pay for it. Every StorageConnection method returns a promise.
const lazyStorage = new WeakMap<RemoteConnection, StorageConnection>();
forwardStorage(RemoteConnection, (c) => {
  let lazy = lazyStorage.get(c);
  if (!lazy) {
    let loaded: Promise<RemoteStorage> | undefined;
    const storage = () => (loaded ??= import('./client-storage.js').then((m) => new m.RemoteStorage(c)));
    const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const m of storageMethods)
      methods[m] = (...args) =>
        storage().then((s) => (s[m] as (...a: unknown[]) => Promise<unknown>).apply(s, args));
    lazy = methods as unknown as StorageConnection;
    lazyStorage.set(c, lazy);
  }
  return lazy;
});

/** How long to wait for a freshly started session daemon's socket. */
const SESSION_START_TIMEOUT_MS = 10_000;

/** Starts the user's session daemon (like libvirt's auto-started session libvirtd). */
async function startSessionDaemon(): Promise<void> {
  const { spawnDetached } = await import('../host/process.js');
  const { fileURLToPath } = await import('node:url');
  const fromTs = import.meta.url.endsWith('.ts');
  const daemon =
    process.env.TVIRTD_PATH ??
    fileURLToPath(new URL(`../daemon/tvirtd.${fromTs ? 'ts' : 'js'}`, import.meta.url));
  const args = [
    ...(fromTs && !process.env.TVIRTD_PATH ? ['--import', 'tsx'] : []),
    daemon,
    '--session',
    '--timeout',
    '120',
  ];
  spawnDetached(process.execPath, args);
}

/** Opens a connection to tvirtd and checks that it answers. */
export async function connectRemote(uri: string): Promise<Connection> {
  const target = await parseRemoteUri(uri);
  const conn = new RemoteConnection(target, target.tls ? await import('node:https') : undefined);
  try {
    await conn.check();
    return conn;
  } catch (e) {
    if (!(target.autostartSession && e instanceof VirError && e.code === 'NO_CONNECT')) {
      await conn.close();
      throw e;
    }
  }
  await startSessionDaemon();
  const deadline = Date.now() + SESSION_START_TIMEOUT_MS;
  for (;;) {
    try {
      await conn.check();
      return conn;
    } catch (e) {
      if (!(e instanceof VirError && e.code === 'NO_CONNECT') || Date.now() > deadline) {
        await conn.close();
        throw e;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
