// The REST + WebSocket API of tvirtd over HTTP/1.1: a UNIX socket (trusted as its owner) and an
// optional TCP listener that requires a bearer token. Every error leaves through errorResponse().
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { JobManager } from '../daemon/jobs.js';
import type { Logger } from '../daemon/log.js';
import { nullLogger } from '../daemon/log.js';
import type { Connection } from '../drivers/connection.js';
import { chmod } from 'node:fs/promises';
import { removeIfExists } from '../host/fs-util.js';
import { chgrp } from '../host/process.js';
import { VirError } from '../util/errors.js';
import { type Role, type TokenEntry, authenticate, bearerToken } from './auth.js';
import { matchRoute, wsRoutes } from './routes.js';
import { type EventsMessage, MAX_BODY_BYTES, errorResponse } from './wire.js';
import type { UpgradeAcceptor } from './ws.js';

export interface ApiServerOptions {
  conn: Connection;
  jobs?: JobManager;
  log?: Logger;
  /** UNIX socket to listen on. */
  socketPath?: string;
  /** Socket mode: 0o600 by default, 0o660 when a group is given. */
  socketGid?: number;
  /** TCP listener; needs at least one token (an unauthenticated TCP listener is refused). */
  tcp?: { host: string; port: number; tokens: TokenEntry[]; tls?: TlsOptions };
  maxBodyBytes?: number;
}

/** TLS for the TCP listener. With `clientCa`, a client certificate signed by it authenticates (rw). */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  clientCa?: string | Buffer;
}

interface Caller {
  role: Role;
  transport: 'unix' | 'tcp';
  name?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly vir: VirError,
  ) {
    super(vir.message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/** An {xml: string} answer, the only kind that can also leave as XML itself. */
function xmlOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const keys = Object.keys(body);
  const xml = (body as { xml?: unknown }).xml;
  return keys.length === 1 && typeof xml === 'string' ? xml : undefined;
}

/**
 * True when the Accept header prefers XML: application/xml or text/xml listed with a q above 0 and
 * not below application/json's (the earlier one wins a tie). Wildcards never select XML.
 */
export function acceptsXml(accept: string | undefined): boolean {
  if (!accept) return false;
  let best: { xml: boolean; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type = '', ...paramList] = part.split(';').map((x) => x.trim().toLowerCase());
    const xml = type === 'application/xml' || type === 'text/xml';
    if (!xml && type !== 'application/json') continue;
    let q = 1;
    for (const p of paramList) {
      const m = /^q\s*=\s*([0-9.]+)$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!(q > 0)) continue;
    if (!best || q > best.q) best = { xml, q };
  }
  return best?.xml === true;
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, {
    'content-type': 'application/xml; charset=utf-8',
    'content-length': Buffer.byteLength(xml),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    vary: 'accept',
  });
  res.end(xml);
}

/** Writes an HTTP error on a raw socket (refused WebSocket upgrades). */
function rejectUpgrade(socket: Duplex, e: unknown, statusOverride?: number): void {
  const { status, body } = errorResponse(e, statusOverride);
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `Connection: close\r\n\r\n${text}`,
  );
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(tooLarge(limit));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    new VirError('INVALID_ARG', `request body is larger than the limit of ${limit} bytes`, { domain: 'API' }),
  );
}

function parseBody(text: string, contentType: string | undefined): Record<string, unknown> {
  if (text.trim() === '') return {};
  // Raw XML bodies are accepted for curl convenience: they become { xml }.
  if (contentType && /\b(application|text)\/xml\b/.test(contentType)) return { xml: text };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new VirError('INVALID_ARG', `request body is not valid JSON: ${(e as Error).message}`, {
      domain: 'API',
    });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new VirError('INVALID_ARG', 'request body must be a JSON object', { domain: 'API' });
  return v as Record<string, unknown>;
}

function denied(): VirError {
  return new VirError('OPERATION_DENIED', 'operation forbidden: read only access prevents this operation', {
    domain: 'API',
  });
}

/** True when something accepts connections on the UNIX socket. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class ApiServer {
  private readonly opts: ApiServerOptions;
  private readonly log: Logger;
  private readonly servers: Server[] = [];
  private acceptor: UpgradeAcceptor | undefined;
  private bridge: typeof import('./ws.js').bridge | undefined;
  private tcpServer: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<Duplex>();
  private readonly unsubscribers = new Set<() => void>();
  /** When the last client connection closed (for the session daemon's idle timeout). */
  lastActivity = Date.now();

  constructor(opts: ApiServerOptions) {
    if (opts.tcp && opts.tcp.tokens.length === 0 && !opts.tcp.tls?.clientCa)
      throw new VirError(
        'AUTH_UNAVAILABLE',
        'refusing to listen on TCP without authentication: give --tcp-auth-token-file with at least one token, or TLS with a client CA',
        { domain: 'API' },
      );
    this.opts = opts;
    this.log = opts.log ?? nullLogger;
  }

  /** Opens the listeners. The UNIX socket is created with its final mode (no window with a wider one). */
  async start(): Promise<void> {
    const { UpgradeAcceptor, bridge } = await import('./ws.js');
    this.bridge = bridge;
    this.acceptor = new UpgradeAcceptor();
    if (this.opts.socketPath) {
      const path = this.opts.socketPath;
      if (await socketInUse(path))
        throw new VirError('OPERATION_FAILED', `another daemon is already listening on ${path}`, {
          domain: 'DAEMON',
        });
      await removeIfExists(path);
      const mode = this.opts.socketGid === undefined ? 0o600 : 0o660;
      const server = await this.makeServer('unix', () => ({ role: 'rw', transport: 'unix' }));
      const oldMask = process.umask(0o177);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(path, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } finally {
        process.umask(oldMask);
      }
      if (this.opts.socketGid !== undefined) await chgrp(path, this.opts.socketGid);
      await chmod(path, mode);
      this.servers.push(server);
      this.log.info('listening', { socket: path, mode: mode.toString(8) });
    }
    if (this.opts.tcp) {
      const { host, port, tokens, tls } = this.opts.tcp;
      const server = await this.makeServer(
        'tcp',
        (req) => {
          const sock = req.socket as TLSSocket;
          if (tls?.clientCa && sock.encrypted && sock.authorized) {
            const cn = sock.getPeerCertificate()?.subject?.CN;
            return { role: 'rw', transport: 'tcp', ...(cn ? { name: String(cn) } : {}) };
          }
          const entry = authenticate(
            tokens,
            bearerToken(req.headers.authorization) ?? this.wsQueryToken(req),
          );
          if (!entry) return undefined;
          return { role: entry.role, transport: 'tcp', ...(entry.name ? { name: entry.name } : {}) };
        },
        tls,
      );
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.tcpServer = server;
      this.servers.push(server);
      this.log.info('listening', { tcp: `${host}:${this.tcpPort}`, tls: tls !== undefined });
    }
  }

  /** Open client connections (HTTP keep-alive and WebSockets). */
  get clientCount(): number {
    return this.sockets.size;
  }

  /** The TCP port actually bound (useful with port 0). */
  get tcpPort(): number | undefined {
    return (this.tcpServer?.address() as AddressInfo | null)?.port;
  }

  /** Serves one request for a caller another listener authenticated (the web UI, web.ts). After start(). */
  serve(req: IncomingMessage, res: ServerResponse, role: Role, name?: string): void {
    void this.handle(req, res, { role, transport: 'tcp', ...(name ? { name } : {}) });
  }

  /** The WebSocket counterpart of serve(). */
  serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, role: Role, name?: string): void {
    void this.handleUpgrade(req, socket, head, { role, transport: 'tcp', ...(name ? { name } : {}) });
  }

  /** Browsers cannot set headers on a WebSocket: allow ?access_token= on upgrades only. */
  private wsQueryToken(req: IncomingMessage): string | undefined {
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') return undefined;
    return new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') ?? undefined;
  }

  private async makeServer(
    transport: 'unix' | 'tcp',
    identify: (req: IncomingMessage) => Caller | undefined,
    tls?: TlsOptions,
  ): Promise<Server> {
    const base = { requestTimeout: 300_000, headersTimeout: 30_000 };
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res, identify(req));
    };
    let server: Server;
    if (tls) {
      const https = await import('node:https');
      server = https.createServer(
        {
          ...base,
          cert: tls.cert,
          key: tls.key,
          minVersion: 'TLSv1.2',
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        },
        handler,
      );
    } else {
      server = createServer(base, handler);
    }
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => {
        this.sockets.delete(s);
        this.lastActivity = Date.now();
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.handleUpgrade(req, socket, head, identify(req));
    });
    server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    this.log.debug('server created', { transport });
    return server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, caller: Caller | undefined): Promise<void> {
    const started = Date.now();
    let status = 500;
    try {
      if (!caller) {
        res.setHeader('www-authenticate', 'Bearer realm="tvirt"');
        throw new HttpError(
          401,
          new VirError('AUTH_FAILED', 'authentication failed: a valid bearer token is required', {
            domain: 'API',
          }),
        );
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      let m: ReturnType<typeof matchRoute>;
      try {
        m = matchRoute(req.method ?? 'GET', url.pathname);
      } catch {
        throw new VirError('INVALID_ARG', 'malformed percent-encoding in the request path', {
          domain: 'API',
        });
      }
      if ('error' in m)
        throw new HttpError(
          m.error,
          new VirError(
            'INVALID_ARG',
            m.error === 404
              ? `no API route ${url.pathname}`
              : `method ${req.method} not allowed on ${url.pathname}`,
            { domain: 'API' },
          ),
        );
      if (m.route.access === 'rw' && caller.role !== 'rw') throw denied();
      if (m.route.raw) {
        // Streaming routes read the request body or write the answer themselves.
        const ctx = { conn: this.opts.conn, jobs: this.opts.jobs, params: m.params, query: url.searchParams };
        const out = await m.route.raw({ ...ctx, body: {}, role: caller.role, req, res });
        status = res.headersSent ? res.statusCode : 200;
        if (!res.headersSent) sendJson(res, 200, out ?? null);
        return;
      }
      const text =
        m.route.method === 'GET' ? '' : await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY_BYTES);
      const result = await m.route.handler({
        conn: this.opts.conn,
        jobs: this.opts.jobs,
        params: m.params,
        query: url.searchParams,
        body: parseBody(text, req.headers['content-type']),
        role: caller.role,
      });
      const r =
        result &&
        typeof result === 'object' &&
        'body' in result &&
        Object.keys(result).every((k) => k === 'status' || k === 'body')
          ? (result as { status?: number; body: unknown })
          : { body: result };
      status = r.status ?? 200;
      // {xml} answers leave as the XML itself when the caller asks for it (errors stay JSON).
      const xml = xmlOf(r.body);
      if (xml !== undefined && acceptsXml(req.headers.accept)) sendXml(res, status, xml);
      else sendJson(res, status, r.body ?? null);
    } catch (e) {
      const { status: st, body } = e instanceof HttpError ? errorResponse(e.vir, e.status) : errorResponse(e);
      status = st;
      if (!(e instanceof VirError) && !(e instanceof HttpError))
        this.log.error('request failed', { method: req.method, path: req.url?.split('?')[0], err: e });
      if (!res.headersSent) sendJson(res, status, body);
      else res.destroy();
    } finally {
      this.log.debug('request', {
        method: req.method,
        path: req.url?.split('?')[0], // never log query strings: they may carry tokens
        status,
        ms: Date.now() - started,
        transport: caller?.transport,
      });
    }
  }

  private async handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    caller: Caller | undefined,
  ): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      if (!caller)
        throw new HttpError(
          401,
          new VirError('AUTH_FAILED', 'authentication failed: a valid bearer token is required', {
            domain: 'API',
          }),
        );
      if (req.headers.upgrade?.toLowerCase() !== 'websocket')
        throw new HttpError(
          400,
          new VirError('INVALID_ARG', 'only WebSocket upgrades are supported', { domain: 'API' }),
        );
      const url = new URL(req.url ?? '/', 'http://localhost');
      const acceptor = this.acceptor!;
      const bridge = this.bridge!;
      if (wsRoutes.events.pattern.test(url.pathname)) {
        // Optional filters: ?kind=job,domain-lifecycle&name=vm1
        const kinds = url.searchParams
          .getAll('kind')
          .flatMap((k) => k.split(','))
          .filter(Boolean);
        const names = url.searchParams.getAll('name');
        acceptor.accept(req, socket, head, (ws) => {
          const unsubscribe = this.opts.conn.onEvent((event) => {
            if (ws.readyState !== ws.OPEN) return;
            if (kinds.length && !kinds.includes(event.kind)) return;
            if (names.length && !names.includes(event.name)) return;
            // A consumer that stops reading must not make the daemon buffer without bound.
            if (ws.bufferedAmount > 8 * 1024 * 1024) {
              ws.close(1008, 'event consumer too slow');
              return;
            }
            ws.send(JSON.stringify({ type: 'event', event } satisfies EventsMessage));
          });
          this.unsubscribers.add(unsubscribe);
          ws.on('close', () => {
            unsubscribe();
            this.unsubscribers.delete(unsubscribe);
          });
          ws.on('message', () => {}); // clients have nothing to say on this channel
          ws.send(JSON.stringify({ type: 'ready' } satisfies EventsMessage));
        });
        return;
      }
      const cm = wsRoutes.console.pattern.exec(url.pathname);
      if (cm) {
        if (caller.role !== 'rw') throw denied();
        let ref: string;
        try {
          ref = decodeURIComponent(cm.groups!.ref!);
        } catch {
          throw new VirError('INVALID_ARG', 'malformed percent-encoding in the request path', {
            domain: 'API',
          });
        }
        const dev = url.searchParams.get('dev') ?? undefined;
        // Open first so a domain that is missing or not running gets a proper HTTP error.
        const stream = await this.opts.conn.domainOpenConsole(ref, dev);
        this.streams.add(stream);
        stream.once('close', () => this.streams.delete(stream));
        if (socket.destroyed) {
          stream.destroy(); // the client went away while the console opened
          return;
        }
        acceptor.accept(req, socket, head, (ws) => bridge(ws, stream));
        return;
      }
      throw new HttpError(
        404,
        new VirError('INVALID_ARG', `no WebSocket route ${url.pathname}`, { domain: 'API' }),
      );
    } catch (e) {
      if (e instanceof HttpError) rejectUpgrade(socket, e.vir, e.status);
      else rejectUpgrade(socket, e);
    }
  }

  /** Stops listening, closes every client connection and WebSocket; removes the UNIX socket. */
  async close(): Promise<void> {
    this.acceptor?.close();
    for (const u of this.unsubscribers) u();
    this.unsubscribers.clear();
    for (const s of this.streams) s.destroy();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    for (const s of this.sockets) s.destroy();
    if (this.opts.socketPath) await removeIfExists(this.opts.socketPath).catch(() => false);
  }
}
