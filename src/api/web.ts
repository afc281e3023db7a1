// The web UI listener of tvirtd (--web): serves the single-page app from dist/web and hands /v1/*
// (REST and WebSocket) to the ApiServer for callers it has logged in. Login is a daemon credential
// (a token of the token file, or the one-time token printed at start-up) exchanged for a session
// cookie (HttpOnly, SameSite=Strict); bearer tokens work too, for scripts.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Socket, connect as netConnect } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../daemon/log.js';
import { nullLogger } from '../daemon/log.js';
import type { Connection } from '../drivers/connection.js';
import { writeFileAtomic } from '../host/atomic-file.js';
import { VirError } from '../util/errors.js';
import { attr, child, childrenNamed, parseRoot } from '../util/xml.js';
import { type Role, type TokenEntry, authenticate, bearerToken } from './auth.js';
import type { ApiServer, TlsOptions } from './server.js';
import { errorResponse } from './wire.js';
import type { UpgradeAcceptor } from './ws.js';

export const DEFAULT_WEB_PORT = 16580;
const COOKIE = 'tvirt_session';
/** A session ends after this long without a request. */
const SESSION_IDLE_MS = 12 * 3600_000;
const LOGIN_BODY_LIMIT = 4096;

export interface WebServerOptions {
  api: ApiServer;
  /** The daemon's connection: the VNC proxy reads the live XML through it. */
  conn?: Connection;
  host: string;
  port: number;
  /** Tokens that may log in (the daemon's token file); the one-time token always may (rw). */
  tokens: TokenEntry[];
  tls?: TlsOptions;
  log?: Logger;
  /** The built app (index.html + assets/); default: dist/web of this package. */
  staticDir?: string;
  /** Where to keep the current one-time login URL (mode 0600), re-minted after each use. */
  loginUrlFile?: string;
}

interface Session {
  role: Role;
  name?: string;
  lastSeen: number;
}

interface StaticFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** $TVIRT_WEB_DIR, else dist/web next to this module, whether it runs from src/ (tsx) or dist/src/. */
export function defaultStaticDir(): string {
  if (process.env.TVIRT_WEB_DIR) return process.env.TVIRT_WEB_DIR;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, '..', '..', 'dist', 'web'), join(here, '..', '..', 'web')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  code: 'AUTH_FAILED' | 'INVALID_ARG',
  message: string,
): void {
  sendJson(res, status, errorResponse(new VirError(code, message, { domain: 'API' }), status).body);
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const code = status === 404 ? 'INVALID_ARG' : 'AUTH_FAILED';
  rejectUpgradeWith(socket, new VirError(code, message, { domain: 'API' }), status);
}

function rejectUpgradeWith(socket: Duplex, e: unknown, statusOverride?: number): void {
  const { status, body } = errorResponse(e, statusOverride);
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `Connection: close\r\n\r\n${text}`,
  );
}

const VNC_ROUTE = /^\/v1\/domains\/(?<ref>[^/]+)\/vnc$/;

/**
 * Where a running domain's VNC server listens, from its live XML (read directly: the live port
 * of an autoport display is not part of the parsed definition).
 */
export function vncTarget(xml: string, name: string): { host: string; port: number } | { path: string } {
  const devices = child(parseRoot(xml, 'domain'), 'devices');
  const g = devices && childrenNamed(devices, 'graphics').find((e) => attr(e, 'type') === 'vnc');
  if (!g)
    throw new VirError(
      'OPERATION_INVALID',
      `domain '${name}' has no VNC graphics (add <graphics type='vnc'/>)`,
      {
        domain: 'API',
      },
    );
  const listens = childrenNamed(g, 'listen');
  const sock = attr(g, 'socket') ?? listens.find((l) => attr(l, 'type') === 'socket')?.attrs.socket;
  if (sock) return { path: sock };
  const port = Number(attr(g, 'port'));
  if (!Number.isInteger(port) || port <= 0)
    throw new VirError('OPERATION_INVALID', `domain '${name}' has no VNC port yet (is it running?)`, {
      domain: 'API',
    });
  const addr =
    listens.find((l) => attr(l, 'type') === 'address')?.attrs.address ?? attr(g, 'listen') ?? '127.0.0.1';
  const host = addr === '0.0.0.0' ? '127.0.0.1' : addr === '::' ? '::1' : addr;
  return { host, port };
}

/** Serves the web UI and the API behind a login. */
export class WebServer {
  private readonly opts: WebServerOptions;
  private readonly log: Logger;
  private readonly staticDir: string;
  private readonly sessions = new Map<string, Session>();
  private readonly files = new Map<string, StaticFile>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private acceptor: UpgradeAcceptor | undefined;
  private bridge: typeof import('./ws.js').bridge | undefined;
  private readonly vncSockets = new Set<Socket>();
  private oneTimeToken = '';

  constructor(opts: WebServerOptions) {
    if (!isLoopback(opts.host) && !opts.tls)
      throw new VirError(
        'AUTH_UNAVAILABLE',
        `refusing to serve the web UI on ${opts.host} without TLS: give --tls-cert and --tls-key, or listen on 127.0.0.1`,
        { domain: 'API' },
      );
    this.opts = opts;
    this.log = opts.log ?? nullLogger;
    this.staticDir = resolve(opts.staticDir ?? defaultStaticDir());
  }

  async start(): Promise<void> {
    const ws = await import('./ws.js');
    this.acceptor = new ws.UpgradeAcceptor();
    this.bridge = ws.bridge;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((e) => {
        this.log.error('web request failed', { path: req.url?.split('?')[0], err: e });
        if (!res.headersSent) sendJson(res, 500, errorResponse(e).body);
        else res.destroy();
      });
    };
    // Volume uploads (ISO images) stream through here: allow long request bodies.
    const base = { requestTimeout: 3_600_000, headersTimeout: 30_000 };
    let server: Server;
    if (this.opts.tls) {
      const https = await import('node:https');
      server = https.createServer(
        { ...base, cert: this.opts.tls.cert, key: this.opts.tls.key, minVersion: 'TLSv1.2' },
        handler,
      );
    } else {
      server = createServer(base, handler);
    }
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((ok, fail) => {
      const onError = (e: NodeJS.ErrnoException) => fail(listenError(this.opts.host, this.opts.port, e));
      server.once('error', onError);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', onError);
        ok();
      });
    });
    this.server = server;
    await this.mintLoginToken();
    this.log.info('web UI listening', { url: this.url, static: this.staticDir });
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.port;
  }

  /** Open browser connections (HTTP keep-alive and WebSockets), for the daemon's idle timeout. */
  get clientCount(): number {
    return this.sockets.size;
  }

  /** The base URL of the UI. */
  get url(): string {
    const h = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    return `${this.opts.tls ? 'https' : 'http'}://${h}:${this.port}/`;
  }

  /** The URL that logs in once with read-write rights (the token is in the fragment: never sent in logs). */
  get loginUrl(): string {
    return `${this.url}#token=${this.oneTimeToken}`;
  }

  private async mintLoginToken(): Promise<void> {
    this.oneTimeToken = randomBytes(32).toString('base64url');
    if (this.opts.loginUrlFile)
      await writeFileAtomic(this.opts.loginUrlFile, `${this.loginUrl}\n`, { mode: 0o600 }).catch((e) =>
        this.log.warn('cannot write the web login URL file', { file: this.opts.loginUrlFile, err: e }),
      );
  }

  /** The caller's role from the session cookie or a bearer token; undefined when not logged in. */
  private identify(
    req: IncomingMessage,
    allowQueryToken: boolean,
  ): { role: Role; name?: string; cookie: boolean } | undefined {
    const sid = parseCookies(req.headers.cookie)[COOKIE];
    if (sid) {
      const s = this.sessions.get(sid);
      if (s && Date.now() - s.lastSeen < SESSION_IDLE_MS) {
        s.lastSeen = Date.now();
        return { role: s.role, ...(s.name ? { name: s.name } : {}), cookie: true };
      }
      if (s) this.sessions.delete(sid);
    }
    let token = bearerToken(req.headers.authorization);
    if (!token && allowQueryToken)
      token = new URL(req.url ?? '/', 'http://x').searchParams.get('access_token') ?? undefined;
    const entry = authenticate(this.opts.tokens, token);
    if (entry) return { role: entry.role, ...(entry.name ? { name: entry.name } : {}), cookie: false };
    return undefined;
  }

  /** Cookie-authenticated changes must come from our own pages (defence in depth beside SameSite). */
  private sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/login' && req.method === 'POST') return this.login(req, res);
    if (path === '/logout' && req.method === 'POST') {
      const sid = parseCookies(req.headers.cookie)[COOKIE];
      if (sid && this.sameOrigin(req)) this.sessions.delete(sid);
      return sendJson(res, 200, { ok: true }, { 'set-cookie': this.cookie('', 0) });
    }
    if (path === '/v1' || path.startsWith('/v1/')) {
      const who = this.identify(req, false);
      if (!who) {
        res.setHeader('www-authenticate', 'Bearer realm="tvirt"');
        return sendError(res, 401, 'AUTH_FAILED', 'not logged in: log in with a tvirtd token');
      }
      if (who.cookie && req.method !== 'GET' && req.method !== 'HEAD' && !this.sameOrigin(req))
        return sendError(res, 403, 'AUTH_FAILED', 'cross-origin request refused');
      if (path === '/v1/session' && req.method === 'GET')
        return sendJson(res, 200, { role: who.role, ...(who.name ? { name: who.name } : {}) });
      this.opts.api.serve(req, res, who.role, who.name ?? 'web');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendError(res, 405, 'INVALID_ARG', `method ${req.method} not allowed`);
    return this.serveStatic(path, req, res);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const who = this.identify(req, true);
    if (!path.startsWith('/v1/')) rejectUpgrade(socket, 404, `no WebSocket route ${path}`);
    // Browsers send cookies on cross-site WebSocket handshakes: check the origin.
    else if (!this.sameOrigin(req)) rejectUpgrade(socket, 403, 'cross-origin WebSocket refused');
    else if (!who) rejectUpgrade(socket, 401, 'not logged in: log in with a tvirtd token');
    else if (VNC_ROUTE.test(path) && this.opts.conn) {
      if (who.role !== 'rw')
        rejectUpgradeWith(
          socket,
          new VirError('OPERATION_DENIED', 'operation forbidden: read only access prevents this operation', {
            domain: 'API',
          }),
        );
      else
        this.vnc(req, socket, head, VNC_ROUTE.exec(path)!.groups!.ref!).catch((e) =>
          rejectUpgradeWith(socket, e),
        );
    } else this.opts.api.serveUpgrade(req, socket, head, who.role, who.name ?? 'web');
  }

  /** WebSocket <-> the guest's VNC server (TCP or UNIX socket); one connection per viewer. */
  private async vnc(req: IncomingMessage, socket: Duplex, head: Buffer, rawRef: string): Promise<void> {
    let ref: string;
    try {
      ref = decodeURIComponent(rawRef);
    } catch {
      throw new VirError('INVALID_ARG', 'malformed percent-encoding in the request path', { domain: 'API' });
    }
    const conn = this.opts.conn!;
    const { state } = await conn.domainGetState(ref);
    if (state !== 'running' && state !== 'paused' && state !== 'blocked')
      throw new VirError(
        'OPERATION_INVALID',
        `Requested operation is not valid: domain '${ref}' is not running`,
        {
          domain: 'API',
        },
      );
    const target = vncTarget(await conn.domainGetXMLDesc(ref), ref);
    const tcp = await new Promise<Socket>((ok, fail) => {
      const s = 'path' in target ? netConnect(target.path) : netConnect(target.port, target.host);
      s.once('connect', () => {
        s.off('error', fail);
        ok(s);
      });
      s.once('error', (e) =>
        fail(
          new VirError(
            'OPERATION_FAILED',
            `cannot connect to the VNC server of '${ref}' at ${'path' in target ? target.path : `${target.host}:${target.port}`}: ${e.message}`,
            { domain: 'API', cause: e },
          ),
        ),
      );
    });
    this.vncSockets.add(tcp);
    tcp.once('close', () => this.vncSockets.delete(tcp));
    if (socket.destroyed) {
      tcp.destroy();
      return;
    }
    this.acceptor!.accept(req, socket, head, (ws) => this.bridge!(ws, tcp));
  }

  private cookie(value: string, maxAgeS: number): string {
    return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${this.opts.tls ? '; Secure' : ''}`;
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.sameOrigin(req)) return sendError(res, 403, 'AUTH_FAILED', 'cross-origin login refused');
    let token: unknown;
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > LOGIN_BODY_LIMIT) throw new Error('body too large');
        chunks.push(c);
      }
      token = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token?: unknown }).token;
    } catch {
      return sendError(res, 400, 'INVALID_ARG', 'login wants a JSON body {"token": "..."}');
    }
    if (typeof token !== 'string' || token === '')
      return sendError(res, 400, 'INVALID_ARG', 'login wants a JSON body {"token": "..."}');
    let who: { role: Role; name?: string } | undefined;
    const once = Buffer.from(this.oneTimeToken);
    const given = Buffer.from(token);
    if (once.length === given.length && timingSafeEqual(once, given)) {
      who = { role: 'rw', name: 'local' };
      await this.mintLoginToken(); // used up
    } else {
      const e = authenticate(this.opts.tokens, token);
      if (e) who = { role: e.role, ...(e.name ? { name: e.name } : {}) };
    }
    if (!who) {
      this.log.info('web login refused', { remote: req.socket.remoteAddress });
      // A small delay makes guessing slower still.
      await new Promise((r) => setTimeout(r, 250));
      return sendError(
        res,
        401,
        'AUTH_FAILED',
        'login failed: the token is not valid (one-time links work once; see the URL tvirtd printed or its web-login-url file)',
      );
    }
    const now = Date.now();
    for (const [id, old] of this.sessions)
      if (now - old.lastSeen >= SESSION_IDLE_MS) this.sessions.delete(id);
    const sid = randomBytes(32).toString('base64url');
    this.sessions.set(sid, { ...who, lastSeen: Date.now() });
    this.log.info('web login', { role: who.role, name: who.name, remote: req.socket.remoteAddress });
    sendJson(res, 200, who, { 'set-cookie': this.cookie(sid, SESSION_IDLE_MS / 1000) });
  }

  private async loadFile(rel: string): Promise<StaticFile | undefined> {
    const cached = this.files.get(rel);
    if (cached) return cached;
    const full = resolve(this.staticDir, `.${sep}${rel}`);
    if (full !== this.staticDir && !full.startsWith(this.staticDir + sep)) return undefined;
    const st = await stat(full).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    const body = await readFile(full);
    const type = TYPES[extname(full)] ?? 'application/octet-stream';
    const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 1024;
    const f: StaticFile = { body, gzip: compressible ? gzipSync(body, { level: 9 }) : undefined, type };
    this.files.set(rel, f);
    return f;
  }

  private async serveStatic(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let rel: string;
    try {
      rel = decodeURIComponent(path);
    } catch {
      return sendError(res, 400, 'INVALID_ARG', 'malformed percent-encoding in the request path');
    }
    if (rel.includes('\0')) return sendError(res, 400, 'INVALID_ARG', 'bad path');
    rel = normalize(rel).replace(/^[/\\]+/, '');
    if (rel.split(/[/\\]/).includes('..')) return sendError(res, 400, 'INVALID_ARG', 'bad path');
    let f = rel === '' ? undefined : await this.loadFile(rel);
    let isIndex = rel === '' || rel === 'index.html';
    // Client-side routes (no file extension) get the app shell.
    if (!f && (rel === '' || !extname(rel))) {
      f = await this.loadFile('index.html');
      isIndex = true;
    }
    if (!f) {
      if (isIndex || !existsSync(join(this.staticDir, 'index.html')))
        return sendJson(res, 503, {
          error: {
            code: 'OPERATION_FAILED',
            number: 9,
            domain: 'API',
            message: `the web UI is not built (no ${join(this.staticDir, 'index.html')}): run 'npm run build:web'`,
          },
        });
      return sendError(res, 404, 'INVALID_ARG', `no such file: /${rel}`);
    }
    const gz = f.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gz ? f.gzip! : f.body;
    res.writeHead(200, {
      'content-type': f.type,
      'content-length': body.length,
      // Vite puts a content hash in every asset name: those never change.
      'cache-control':
        !isIndex && rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'accept-encoding',
      ...(gz ? { 'content-encoding': 'gzip' } : {}),
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async close(): Promise<void> {
    this.acceptor?.close();
    for (const t of this.vncSockets) t.destroy();
    const s = this.server;
    if (!s) return;
    await new Promise<void>((ok) => {
      s.close(() => ok());
      s.closeAllConnections();
      for (const sock of this.sockets) sock.destroy();
    });
  }
}

/** A failed bind of the web listener, said so that the user knows what to change. */
export function listenError(host: string, port: number, e: NodeJS.ErrnoException): VirError {
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const advice =
    e.code === 'EADDRINUSE'
      ? `the port is in use: stop what holds it, or give --web-listen HOST:PORT`
      : e.code === 'EADDRNOTAVAIL'
        ? `no interface has that address (in a new network namespace, bring loopback up: ip link set lo up)`
        : e.code === 'EACCES'
          ? 'ports below 1024 need root'
          : e.message;
  return new VirError('SYSTEM_ERROR', `cannot serve the web UI on ${at}: ${advice}`, { cause: e });
}
