// pool-event (virsh-pool.c cmdPoolEvent): waits for storage pool lifecycle events and prints them
// as virsh does, once or in a loop, until a timeout or Ctrl+C.
import type { TvirtEvent } from '../../drivers/connection.js';
import { CliError, type CommandDef } from '../command.js';
import { lookupPoolRef } from './storage-util.js';

const eventTypes = ['lifecycle', 'refresh'];

/** virshPoolEventToString: the lifecycle word of each event. */
const lifecycleWords: Record<string, string> = {
  defined: 'Defined',
  undefined: 'Undefined',
  started: 'Started',
  stopped: 'Stopped',
  created: 'Created',
  deleted: 'Deleted',
};

/** virTimeStringNowRaw: "2026-11-26 00:05:00.123+0000". */
function timestamp(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}+0000`;
}

export const poolEventCmd: CommandDef = {
  name: 'pool-event',
  summary: 'Storage Pool Events',
  description: 'List event types, or wait for storage pool events to occur',
  options: [
    { name: 'pool', type: 'string', help: 'filter by storage pool name or uuid', complete: 'pool' },
    { name: 'event', type: 'string', help: 'which event type to wait for' },
    { name: 'loop', type: 'bool', help: 'loop until timeout or interrupt, rather than one-shot' },
    { name: 'timeout', type: 'int', help: 'timeout seconds' },
    { name: 'list', type: 'bool', help: 'list valid event types' },
    { name: 'timestamp', type: 'bool', help: 'show timestamp for each printed event' },
  ],
  async handler(ctx) {
    if (ctx.flag('list')) {
      ctx.print(eventTypes.map((t) => `${t}\n`).join(''));
      return;
    }
    const type = ctx.str('event');
    if (type === undefined) throw new CliError('either --list or --event <type> is required');
    if (!eventTypes.includes(type)) throw new CliError(`unknown event type ${type}`);
    const timeout = ctx.int('timeout');
    if (timeout !== undefined && timeout < 1)
      throw new CliError(`Numeric value '${timeout}' for <timeout> option is malformed or out of range`);
    const poolRef = ctx.str('pool');
    const pool = poolRef === undefined ? undefined : await lookupPoolRef(ctx, poolRef);
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
        if (ev.kind !== 'pool-lifecycle') return;
        if (pool && ev.name !== pool.name) return;
        const word = lifecycleWords[ev.event];
        if (type !== 'lifecycle' || !word) return; // tvirt's drivers send no refresh events yet
        count++;
        ctx.print(
          `${stamp ? `${timestamp(ev.timestamp)}: ` : ''}event 'lifecycle' for storage pool ${ev.name}: ${word}\n`,
        );
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
  },
};
