// Monitor glue: connects the QMP client (qmp.ts) to a QEMU that is still starting, racing its
// socket against the process's death, and gives the process layer a small monitor interface.
import { VirError } from '../../util/errors.js';
import { QmpClient, type QmpEvent } from './qmp.js';

export type MonitorEvent = QmpEvent;

/** What the process layer and the driver use of a QMP connection. */
export interface Monitor {
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts?: { timeoutMs?: number },
  ): Promise<T>;
  /** Subscribes to QMP events; returns the unsubscribe function. */
  onEvent(listener: (ev: MonitorEvent) => void): () => void;
  /** Called once when the connection ends (QEMU exited, or close()). */
  onClose(listener: (err: Error | undefined) => void): void;
  readonly closed: boolean;
  close(): Promise<void>;
}

class QmpMonitor implements Monitor {
  constructor(private readonly c: QmpClient) {}
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts?: { timeoutMs?: number },
  ): Promise<T> {
    return this.c.execute<T>(command, args, opts);
  }
  onEvent(listener: (ev: MonitorEvent) => void): () => void {
    this.c.on('event', listener);
    return () => this.c.off('event', listener);
  }
  onClose(listener: (err: Error | undefined) => void): void {
    if (this.c.closed) queueMicrotask(() => listener(undefined));
    else this.c.once('close', listener);
  }
  get closed(): boolean {
    return this.c.closed;
  }
  close(): Promise<void> {
    return this.c.close();
  }
}

/** ENOENT/ECONNREFUSED: the socket is not there (or not listening) yet. */
function notYetListening(e: unknown): boolean {
  const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
  const code = cause?.code ?? (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/**
 * Connects to the QMP socket at `path` and negotiates capabilities, retrying every few ms while the
 * socket does not exist yet (QEMU still initialising). Gives up when `abort` settles (QEMU died) or
 * after `timeoutMs`. Polls faster than qmp.ts's own wait, which matters for start latency.
 */
export async function openMonitor(
  path: string,
  opts: { timeoutMs: number; abort?: Promise<unknown> },
): Promise<Monitor> {
  const deadline = Date.now() + opts.timeoutMs;
  let aborted = false;
  void opts.abort?.then(() => {
    aborted = true;
  });
  let delay = 1;
  for (;;) {
    if (aborted)
      throw new VirError('OPERATION_FAILED', `QEMU exited before its monitor at ${path} was ready`, {
        domain: 'QEMU',
      });
    try {
      const c = await QmpClient.connect(path, { timeoutMs: Math.max(1, deadline - Date.now()) });
      return new QmpMonitor(c);
    } catch (e) {
      if (!notYetListening(e)) throw e;
    }
    if (Date.now() >= deadline)
      throw new VirError(
        'OPERATION_TIMEOUT',
        `timed out after ${opts.timeoutMs} ms waiting for the QEMU monitor at ${path}`,
        {
          domain: 'QEMU',
        },
      );
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10);
  }
}
