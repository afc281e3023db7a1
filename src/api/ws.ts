// The one module that uses the `ws` package: server upgrades, client sockets, and byte-stream bridging.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import { VirError } from '../util/errors.js';
import { errorFromResponse } from './wire.js';

export type { WebSocket };

/** Accepts WebSocket upgrades on an existing HTTP server (noServer mode). */
export class UpgradeAcceptor {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1024 * 1024,
    perMessageDeflate: false,
  });
  private readonly heartbeat: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();

  constructor(heartbeatMs = 30_000) {
    // Drop peers that stop answering pings (a dead TCP peer would otherwise keep its subscription).
    this.heartbeat = setInterval(() => {
      for (const ws of this.wss.clients) {
        if (!this.alive.has(ws)) {
          ws.terminate();
          continue;
        }
        this.alive.delete(ws);
        ws.ping();
      }
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * Completes the upgrade. `setup` runs synchronously as the socket opens, so listeners it attaches
   * see the client's very first frame (an await in between could let it slip by).
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, setup: (ws: WebSocket) => void): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.alive.add(ws);
      ws.on('pong', () => this.alive.add(ws));
      setup(ws);
    });
  }

  /** Closes every open WebSocket. */
  close(code = 1001, reason = 'server shutting down'): void {
    clearInterval(this.heartbeat);
    for (const ws of this.wss.clients) ws.close(code, reason);
    setTimeout(() => {
      for (const ws of this.wss.clients) ws.terminate();
    }, 500).unref();
    this.wss.close();
  }
}

/** Copies bytes both ways between a WebSocket (binary frames) and a stream; closing one closes the other. */
export function bridge(ws: WebSocket, stream: Duplex): void {
  const wsStream = createWebSocketStream(ws);
  const end = () => {
    wsStream.destroy();
    stream.destroy();
  };
  wsStream.on('error', end);
  stream.on('error', end);
  wsStream.on('close', end);
  stream.on('close', end);
  stream.on('end', () => ws.close(1000, 'console closed'));
  wsStream.pipe(stream);
  stream.pipe(wsStream);
}

export interface OpenOptions {
  headers?: Record<string, string>;
  /** Connect through this UNIX socket (path is then the request path). */
  socketPath?: string;
  host?: string;
  port?: number;
  path: string;
  /** wss:// with these (PEM) credentials. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/**
 * Opens a client WebSocket; an HTTP error answer becomes the server's VirError. `onMessage` is
 * attached before the handshake completes: a frame sent right after the upgrade is not lost.
 */
export function openWebSocket(
  opts: OpenOptions,
  onMessage?: (data: Buffer, isBinary: boolean) => void,
): Promise<WebSocket> {
  const ws = newClient(opts);
  if (onMessage) ws.on('message', (data: Buffer, isBinary: boolean) => onMessage(data, isBinary));
  return handshake(ws, opts);
}

/** Opens a client WebSocket as a byte stream (binary frames); errors as openWebSocket. */
export async function openWebSocketStream(opts: OpenOptions): Promise<Duplex> {
  const ws = newClient(opts);
  // Created before 'open' so that bytes arriving with the handshake are kept.
  const stream = createWebSocketStream(ws);
  const swallow = () => {};
  stream.on('error', swallow);
  try {
    await handshake(ws, opts);
  } catch (e) {
    stream.destroy();
    throw e;
  }
  stream.off('error', swallow);
  return stream;
}

function newClient(opts: OpenOptions): WebSocket {
  const url = opts.socketPath
    ? `ws+unix:${opts.socketPath}:${opts.path}`
    : `${opts.tls ? 'wss' : 'ws'}://${opts.host?.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}${opts.path}`;
  return new WebSocket(url, { headers: opts.headers ?? {}, perMessageDeflate: false, ...(opts.tls ?? {}) });
}

function handshake(ws: WebSocket, opts: OpenOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onError = (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      reject(
        new VirError('NO_CONNECT', `cannot open WebSocket ${opts.path}: ${e.message}`, {
          domain: 'RPC',
          cause: e,
        }),
      );
    };
    ws.on('error', onError);
    ws.once('open', () => {
      settled = true;
      ws.off('error', onError);
      ws.on('error', () => {}); // later errors surface as 'close'
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => {
        if (!settled) {
          settled = true;
          reject(errorFromResponse(res.statusCode ?? 500, text));
        }
        ws.terminate();
      });
    });
  });
}
