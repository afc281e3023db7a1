// A minimal HTTP/1.1 client for the remote client's JSON calls over a UNIX socket or plain TCP:
// kept-alive sockets, one request at a time per socket, Content-Length or chunked answers. It spares
// the CLI node:http's load (~5 ms of every cold start) and a share of every round trip; streams,
// WebSockets and TLS keep using node:http/https.
import { connect, type Socket } from 'node:net';

export interface RawTarget {
  socketPath?: string;
  host?: string;
  port?: number;
}

export interface RawResponse {
  status: number;
  body: Buffer;
}

/** A socket error that happened before any byte of the answer (the request may be replayed). */
export interface RawError extends NodeJS.ErrnoException {
  /** True when the socket had served an earlier request. */
  reusedSocket?: boolean;
}

interface Pending {
  resolve(r: RawResponse): void;
  reject(e: RawError): void;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** One kept-alive socket and the parse state of the answer it is reading. */
class RawSocket {
  readonly socket: Socket;
  used = false;
  private pending: Pending | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private gotBytes = false;
  private closed = false;
  // Parsed head of the current answer.
  private status = 0;
  private bodyStart = -1;
  private length = -1;
  private chunked = false;
  private keepAlive = true;

  constructor(
    target: RawTarget,
    private readonly release: (s: RawSocket, reusable: boolean) => void,
  ) {
    this.socket = target.socketPath
      ? connect(target.socketPath)
      : connect({ host: target.host!, port: target.port!, noDelay: true });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e: RawError) => this.fail(e));
    this.socket.on('close', () => {
      this.closed = true;
      if (this.pending && this.length < 0 && !this.chunked && this.bodyStart >= 0) {
        // No length: the answer ends with the connection.
        this.finish(this.buf.subarray(this.bodyStart), false);
        return;
      }
      const e: RawError = new Error('socket hang up');
      e.code = 'ECONNRESET';
      this.fail(e);
    });
  }

  get alive(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  send(head: string, body: Buffer | undefined, p: Pending): void {
    this.pending = p;
    this.buf = Buffer.alloc(0);
    this.gotBytes = false;
    this.bodyStart = -1;
    this.length = -1;
    this.chunked = false;
    this.keepAlive = true;
    this.socket.ref();
    if (body) this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    else this.socket.write(head, 'latin1');
  }

  private fail(e: RawError): void {
    const p = this.pending;
    this.pending = undefined;
    this.socket.destroy();
    if (!p) return;
    if (!this.gotBytes) e.reusedSocket = this.used;
    p.reject(e);
  }

  private onData(d: Buffer): void {
    if (!this.pending) {
      // Nothing asked: a server that talks out of turn cannot be trusted with the next request.
      this.socket.destroy();
      return;
    }
    this.gotBytes = true;
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (this.bodyStart < 0) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      if (!this.parseHead(this.buf.toString('latin1', 0, end))) return;
      this.bodyStart = end + 4;
    }
    if (this.chunked) {
      const body = this.dechunk();
      if (body) this.finish(body, this.keepAlive);
    } else if (this.length >= 0 && this.buf.length - this.bodyStart >= this.length) {
      this.finish(this.buf.subarray(this.bodyStart, this.bodyStart + this.length), this.keepAlive);
    }
  }

  private parseHead(head: string): boolean {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) {
      const e: RawError = new Error('Parse Error: Invalid response status');
      e.code = 'HPE_INVALID_STATUS';
      this.fail(e);
      return false;
    }
    this.status = Number(m[1]);
    if (lines[0]!.startsWith('HTTP/1.0')) this.keepAlive = false;
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i]!;
      const c = l.indexOf(':');
      if (c < 0) continue;
      const name = l.slice(0, c).trim().toLowerCase();
      const value = l.slice(c + 1).trim();
      if (name === 'content-length') this.length = Number(value);
      else if (name === 'transfer-encoding') this.chunked = /\bchunked\b/i.test(value);
      else if (name === 'connection') {
        if (/\bclose\b/i.test(value)) this.keepAlive = false;
        else if (/\bkeep-alive\b/i.test(value)) this.keepAlive = true;
      }
    }
    if (this.chunked) this.length = -1;
    if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200))
      this.length = 0;
    if (this.length < 0 && !this.chunked) this.keepAlive = false;
    return true;
  }

  /** The whole body once the last chunk is in, else undefined. */
  private dechunk(): Buffer | undefined {
    const parts: Buffer[] = [];
    let p = this.bodyStart;
    for (;;) {
      const eol = this.buf.indexOf('\r\n', p, 'latin1');
      if (eol < 0) return undefined;
      const size = Number.parseInt(this.buf.toString('latin1', p, eol).split(';')[0]!.trim(), 16);
      if (Number.isNaN(size)) {
        const e: RawError = new Error('Parse Error: Invalid character in chunk size');
        e.code = 'HPE_INVALID_CHUNK_SIZE';
        this.fail(e);
        return undefined;
      }
      if (size === 0) {
        // Trailers end with an empty line.
        return this.buf.indexOf(CRLF2, eol) >= 0 ? Buffer.concat(parts) : undefined;
      }
      if (this.buf.length < eol + 2 + size + 2) return undefined;
      parts.push(this.buf.subarray(eol + 2, eol + 2 + size));
      p = eol + 2 + size + 2;
    }
  }

  private finish(body: Buffer, reusable: boolean): void {
    const p = this.pending!;
    this.pending = undefined;
    this.used = true;
    this.buf = Buffer.alloc(0);
    if (!reusable) this.socket.destroy();
    else this.socket.unref();
    this.release(this, reusable && this.alive);
    p.resolve({ status: this.status, body });
  }
}

/** Kept-alive sockets to one server; at most `maxSockets` requests in flight, the rest wait. */
export class RawHttpPool {
  private readonly idle: RawSocket[] = [];
  private readonly busy = new Set<RawSocket>();
  private readonly waiting: (() => void)[] = [];
  private destroyed = false;

  constructor(
    private readonly target: RawTarget,
    private readonly maxSockets = 8,
    private readonly idleMs = 30_000,
  ) {}

  /** Sends one request; rejects with the socket error (code ENOENT, ECONNREFUSED, ECONNRESET ...). */
  async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<RawResponse> {
    while (this.busy.size >= this.maxSockets) await new Promise<void>((r) => this.waiting.push(r));
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.target.socketPath ? 'localhost' : hostHeader(this.target)}\r\n`;
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    if (body) head += `Content-Length: ${body.length}\r\n`;
    head += '\r\n';
    let s: RawSocket | undefined;
    while ((s = this.idle.pop()) && !s.alive);
    if (!s) s = this.open();
    this.busy.add(s);
    const sock = s;
    return new Promise<RawResponse>((resolve, reject) => {
      sock.send(head, body, {
        resolve,
        reject: (e) => {
          this.release(sock, false);
          reject(e);
        },
      });
    });
  }

  /**
   * Opens a socket and keeps it for the next request: a cheap "is the server there" check.
   * Rejects with the socket error (ENOENT, ECONNREFUSED ...).
   */
  connect(): Promise<void> {
    const s = this.open();
    return new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      s.socket.once('error', onError);
      s.socket.once('connect', () => {
        s.socket.off('error', onError);
        if (this.destroyed || !s.alive) {
          s.socket.destroy();
          resolve();
          return;
        }
        s.socket.unref();
        this.idle.push(s);
        resolve();
      });
    });
  }

  private open(): RawSocket {
    const s = new RawSocket(this.target, (x, reusable) => this.release(x, reusable));
    s.socket.setTimeout(this.idleMs, () => {
      if (this.idle.includes(s)) s.socket.destroy();
    });
    s.socket.on('close', () => {
      const i = this.idle.indexOf(s);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return s;
  }

  private release(s: RawSocket, reusable: boolean): void {
    if (!this.busy.delete(s)) return;
    if (reusable && !this.destroyed) this.idle.push(s);
    else s.socket.destroy();
    this.waiting.shift()?.();
  }

  destroy(): void {
    this.destroyed = true;
    for (const s of this.idle) s.socket.destroy();
    for (const s of this.busy) s.socket.destroy();
    this.idle.length = 0;
  }
}

function hostHeader(t: RawTarget): string {
  const h = t.host!.includes(':') ? `[${t.host}]` : t.host!;
  return t.port === 80 ? h : `${h}:${t.port}`;
}
