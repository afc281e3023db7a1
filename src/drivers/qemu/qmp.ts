// QMP (QEMU Machine Protocol) client over a UNIX socket: greeting, capabilities negotiation,
// id-matched commands with timeouts, asynchronous events. Node built-ins only.
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { VirError } from '../../util/errors.js';

/** The banner QEMU sends first on a new monitor connection. */
export interface QmpGreeting {
  QMP: {
    version: { qemu: { major: number; minor: number; micro: number }; package: string };
    capabilities: string[];
  };
}

/** An asynchronous QMP event (STOP, RESUME, SHUTDOWN, POWERDOWN, ...). */
export interface QmpEvent {
  event: string;
  /** The event's `data` member; `{}` when QEMU sent none. */
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** The `error` member of a failed QMP reply. */
export interface QmpErrorBody {
  class: string;
  desc: string;
}

export interface QmpConnectOptions {
  /** Limit for connecting, reading the greeting and negotiating (default 10 s). */
  timeoutMs?: number;
  /**
   * Keep retrying while the socket does not exist yet or refuses connections (ENOENT,
   * ECONNREFUSED), until `timeoutMs`: for a QEMU that was just spawned. Default false.
   */
  waitForSocket?: boolean;
  /** Default reply timeout for `execute` (default 30 s). */
  commandTimeoutMs?: number;
}

export interface QmpExecuteOptions {
  /** Reply timeout for this command; overrides the connection's default. */
  timeoutMs?: number;
}

/** Events of a QmpClient: `event` for each QMP event, `close` once when the connection ends. */
export interface QmpClientEvents {
  event: [QmpEvent];
  /** `error` is set when the connection ended abnormally (socket error, protocol error). */
  close: [error: Error | undefined];
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
/** A monitor line longer than this is a protocol error (query-qmp-schema is ~250 KiB). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

function qemuError(
  code: 'OPERATION_FAILED' | 'OPERATION_TIMEOUT' | 'INTERNAL_ERROR',
  message: string,
  cause?: unknown,
) {
  return new VirError(code, message, { domain: 'QEMU', cause });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One QMP monitor connection. Obtain it with {@link QmpClient.connect} (or {@link qmpConnect}); it
 * is ready for commands when the promise resolves. A connection is not reused after `close`:
 * reconnecting is a new `connect` to the same socket.
 */
export class QmpClient extends EventEmitter<QmpClientEvents> {
  readonly path: string;
  /** Set once the greeting has been read (always set on a client returned by `connect`). */
  greeting: QmpGreeting | undefined;
  private readonly socket: Socket;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private buffer = '';
  private closedWith: { error: Error | undefined } | undefined;
  private readonly commandTimeoutMs: number;
  private greetingWaiter: ((g: QmpGreeting) => void) | undefined;

  private constructor(path: string, socket: Socket, commandTimeoutMs: number) {
    super();
    this.path = path;
    this.socket = socket;
    this.commandTimeoutMs = commandTimeoutMs;
    socket.setEncoding('utf8'); // a StringDecoder: multi-byte characters split across chunks are safe
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // QEMU resets the connection when it exits (e.g. after 'quit'): that is a hang-up, not a fault.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.finish(undefined);
      else this.finish(qemuError('OPERATION_FAILED', `QEMU monitor ${path}: ${err.message}`, err));
    });
    socket.on('close', () => this.finish(undefined));
  }

  /**
   * Connects to the QMP socket at `path`, reads the greeting and negotiates capabilities
   * (`qmp_capabilities`). Rejects with OPERATION_TIMEOUT when that takes longer than `timeoutMs`,
   * OPERATION_FAILED when the socket cannot be reached or the peer is not QMP.
   */
  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const timeoutError = () =>
      qemuError(
        'OPERATION_TIMEOUT',
        `timed out after ${timeoutMs} ms connecting to the QEMU monitor at ${path}`,
      );

    let socket: Socket;
    for (;;) {
      try {
        socket = await openSocket(path, deadline - Date.now(), timeoutError);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const retryable = options.waitForSocket && (code === 'ENOENT' || code === 'ECONNREFUSED');
        if (err instanceof VirError) throw err;
        if (!retryable) {
          throw qemuError(
            'OPERATION_FAILED',
            `cannot connect to the QEMU monitor at ${path}: ${(err as Error).message}`,
            err,
          );
        }
        if (Date.now() + 20 >= deadline) throw timeoutError();
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    const client = new QmpClient(path, socket, options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    try {
      await client.readGreeting(deadline - Date.now(), timeoutError);
      await client.execute('qmp_capabilities', undefined, { timeoutMs: Math.max(1, deadline - Date.now()) });
    } catch (err) {
      client.socket.destroy();
      if (err instanceof VirError && err.code === 'OPERATION_TIMEOUT') throw timeoutError();
      throw err;
    }
    return client;
  }

  /** True once the connection has ended (by `close()`, by QEMU, or by an error). */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /**
   * Runs a QMP command and resolves with its `return` value. Legal only while connected.
   * Rejects with VirError OPERATION_FAILED (domain QEMU) for an `error` reply or when the
   * connection ends first, OPERATION_TIMEOUT when no reply arrives in time (the command may still
   * run in QEMU; a late reply is ignored).
   */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    options: QmpExecuteOptions = {},
  ): Promise<T> {
    if (this.closedWith) {
      const why = this.closedWith.error ? ` (${this.closedWith.error.message})` : '';
      return Promise.reject(
        qemuError(
          'OPERATION_FAILED',
          `cannot run QMP command '${command}': the QEMU monitor connection at ${this.path} is closed${why}`,
          this.closedWith.error,
        ),
      );
    }
    const id = `tvirt-${this.nextId++}`;
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          qemuError(
            'OPERATION_TIMEOUT',
            `timed out after ${timeoutMs} ms waiting for QEMU to reply to '${command}'`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      const message: Record<string, unknown> = { execute: command, id };
      if (args !== undefined) message.arguments = args;
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /**
   * Resolves with the next event named `name` (and matching `predicate`, if given). Call it
   * BEFORE the command that causes the event, so the event cannot slip past. Rejects with
   * OPERATION_TIMEOUT after `timeoutMs` (default 30 s), OPERATION_FAILED if the connection ends.
   */
  waitForEvent(
    name: string,
    options: { timeoutMs?: number; predicate?: (e: QmpEvent) => boolean } = {},
  ): Promise<QmpEvent> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise<QmpEvent>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
      };
      const onEvent = (e: QmpEvent) => {
        if (e.event === name && (!options.predicate || options.predicate(e))) {
          cleanup();
          resolve(e);
        }
      };
      const onClose = (error: Error | undefined) => {
        cleanup();
        reject(
          qemuError(
            'OPERATION_FAILED',
            `QEMU monitor at ${this.path} closed while waiting for event ${name}`,
            error,
          ),
        );
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          qemuError('OPERATION_TIMEOUT', `timed out after ${timeoutMs} ms waiting for QMP event ${name}`),
        );
      }, timeoutMs);
      if (this.closedWith) return onClose(this.closedWith.error);
      this.on('event', onEvent);
      this.on('close', onClose);
    });
  }

  /** Closes the connection; pending commands are rejected. Resolves when the socket is closed. */
  async close(): Promise<void> {
    if (this.closedWith) return;
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    this.failPending(`the client closed the QEMU monitor connection at ${this.path}`, undefined);
    this.socket.end();
    const force = setTimeout(() => this.socket.destroy(), 1000);
    await closed;
    clearTimeout(force);
  }

  private readGreeting(timeoutMs: number, timeoutError: () => VirError): Promise<QmpGreeting> {
    if (this.greeting) return Promise.resolve(this.greeting);
    return new Promise<QmpGreeting>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.off('close', onClose);
          reject(timeoutError());
        },
        Math.max(1, timeoutMs),
      );
      const onClose = (error: Error | undefined) => {
        clearTimeout(timer);
        reject(
          qemuError(
            'OPERATION_FAILED',
            `the QEMU monitor at ${this.path} closed before sending its QMP greeting${error ? `: ${error.message}` : ''}`,
            error,
          ),
        );
      };
      this.once('close', onClose);
      this.greetingWaiter = (g) => {
        clearTimeout(timer);
        this.off('close', onClose);
        resolve(g);
      };
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== '') this.onLine(line);
      if (this.closedWith) return;
      nl = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.protocolError(`a QMP message exceeds ${MAX_LINE_BYTES} bytes`);
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.protocolError(`malformed QMP message: ${line.slice(0, 200)}`);
      return;
    }
    if (!isObject(msg)) {
      this.protocolError(`unexpected QMP message: ${line.slice(0, 200)}`);
      return;
    }
    if (!this.greeting) {
      if (!isObject(msg.QMP)) {
        this.protocolError(`expected a QMP greeting from ${this.path}, got: ${line.slice(0, 200)}`);
        return;
      }
      this.greeting = msg as unknown as QmpGreeting;
      this.greetingWaiter?.(this.greeting);
      this.greetingWaiter = undefined;
      return;
    }
    if (typeof msg.event === 'string') {
      const ts = isObject(msg.timestamp) ? msg.timestamp : {};
      this.emit('event', {
        event: msg.event,
        data: isObject(msg.data) ? msg.data : {},
        timestamp: {
          seconds: typeof ts.seconds === 'number' ? ts.seconds : 0,
          microseconds: typeof ts.microseconds === 'number' ? ts.microseconds : 0,
        },
      });
      return;
    }
    // A reply. Without a known id (QEMU could not parse a command, or it timed out) it is dropped.
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('return' in msg) {
      p.resolve(msg.return);
    } else if (isObject(msg.error)) {
      const body = msg.error as unknown as QmpErrorBody;
      p.reject(
        new VirError('OPERATION_FAILED', `QMP command '${p.command}' failed: ${body.desc}`, {
          domain: 'QEMU',
          cause: body,
        }),
      );
    } else {
      p.reject(qemuError('INTERNAL_ERROR', `unexpected QMP reply to '${p.command}': ${line.slice(0, 200)}`));
    }
  }

  private protocolError(message: string): void {
    const err = qemuError('INTERNAL_ERROR', `QEMU monitor ${this.path}: ${message}`);
    this.finish(err);
    this.socket.destroy();
  }

  private failPending(reason: string, error: Error | undefined): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(
        qemuError(
          'OPERATION_FAILED',
          `QMP command '${p.command}' got no reply: ${reason}${error ? ` (${error.message})` : ''}`,
          error,
        ),
      );
    }
  }

  private finish(error: Error | undefined): void {
    if (this.closedWith) {
      // 'error' then 'close' both arrive from the socket: the first one wins.
      return;
    }
    this.closedWith = { error };
    this.failPending(`the QEMU monitor connection at ${this.path} closed (did QEMU exit?)`, error);
    this.emit('close', error);
  }
}

/** Shorthand for {@link QmpClient.connect}. */
export function qmpConnect(path: string, options?: QmpConnectOptions): Promise<QmpClient> {
  return QmpClient.connect(path, options);
}

function openSocket(path: string, timeoutMs: number, timeoutError: () => VirError): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = createConnection({ path });
    const timer = setTimeout(
      () => {
        socket.destroy();
        reject(timeoutError());
      },
      Math.max(1, timeoutMs),
    );
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}
