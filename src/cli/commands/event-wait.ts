// The event commands (virsh's event, net-event, pool-event): wait for events of one kind, print each
// as virsh does, once or in a loop, until a timeout or Ctrl+C; then "events received: N".
import type { TvirtEvent } from '../../drivers/connection.js';
import { libvirtTimestamp } from '../../util/units.js';
import { CliError, type CmdContext } from '../command.js';

/** The options every event command has, after its object filter. */
export const eventOptions = [
  { name: 'loop', type: 'bool', help: 'loop until timeout or interrupt, rather than one-shot' },
  { name: 'timeout', type: 'int', help: 'timeout seconds' },
  { name: 'list', type: 'bool', help: 'list valid event types' },
  { name: 'timestamp', type: 'bool', help: 'show timestamp for each printed event' },
] as const;

/** Checks --timeout; --list is handled by the caller. */
export function eventTimeout(ctx: CmdContext): number | undefined {
  const timeout = ctx.int('timeout');
  if (timeout !== undefined && timeout < 1)
    throw new CliError(`Numeric value '${timeout}' for <timeout> option is malformed or out of range`);
  return timeout;
}

/**
 * Waits for events: `line` gives the text virsh prints for an event (without the timestamp), or
 * undefined for one that does not count. @throws CliError (no message) when the timeout ended it.
 */
export async function waitForEvents(
  ctx: CmdContext,
  line: (ev: TvirtEvent) => string | undefined,
  timeout: number | undefined,
): Promise<void> {
  const conn = await ctx.conn();
  const loop = ctx.flag('loop');
  const stamp = ctx.flag('timestamp');
  let count = 0;
  let timedOut = false;
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      off();
      if (timer) clearTimeout(timer);
      process.off('SIGINT', done);
      resolve();
    };
    const off = conn.onEvent((ev: TvirtEvent) => {
      const text = line(ev);
      if (text === undefined) return;
      count++;
      ctx.print(`${stamp ? `${libvirtTimestamp(ev.timestamp)}: ` : ''}${text}\n`);
      if (!loop) done();
    });
    if (timeout !== undefined)
      timer = setTimeout(() => {
        timedOut = true;
        done();
      }, timeout * 1000);
    process.on('SIGINT', done);
  });
  if (timedOut) ctx.print('event loop timed out\n');
  ctx.print(`events received: ${count}\n`);
  // As virsh: a wait that ended by its timeout is a failure (exit 1), with nothing more to say.
  if (timedOut) throw new CliError();
}
