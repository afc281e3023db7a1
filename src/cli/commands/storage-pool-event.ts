// pool-event (virsh-pool.c cmdPoolEvent): waits for storage pool lifecycle events and prints them
// as virsh does, once or in a loop, until a timeout or Ctrl+C.
import { CliError, type CommandDef } from '../command.js';
import { eventOptions, eventTimeout, waitForEvents } from './event-wait.js';
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

export const poolEventCmd: CommandDef = {
  name: 'pool-event',
  summary: 'Storage Pool Events',
  description: 'List event types, or wait for storage pool events to occur',
  options: [
    { name: 'pool', type: 'string', help: 'filter by storage pool name or uuid', complete: 'pool' },
    { name: 'event', type: 'string', help: 'which event type to wait for' },
    ...eventOptions,
  ],
  async handler(ctx) {
    if (ctx.flag('list')) {
      ctx.print(eventTypes.map((t) => `${t}\n`).join(''));
      return;
    }
    const type = ctx.str('event');
    if (type === undefined) throw new CliError('either --list or --event <type> is required');
    if (!eventTypes.includes(type)) throw new CliError(`unknown event type ${type}`);
    const timeout = eventTimeout(ctx);
    const poolRef = ctx.str('pool');
    const pool = poolRef === undefined ? undefined : await lookupPoolRef(ctx, poolRef);
    await waitForEvents(
      ctx,
      (ev) => {
        if (ev.kind !== 'pool-lifecycle' || (pool && ev.name !== pool.name)) return undefined;
        const word = lifecycleWords[ev.event];
        // tvirt's drivers send no refresh events yet.
        return type === 'lifecycle' && word
          ? `event 'lifecycle' for storage pool ${ev.name}: ${word}`
          : undefined;
      },
      timeout,
    );
  },
};
