// event (virsh-domain-event.c cmdEvent) and net-event (virsh-network.c cmdNetworkEvent): wait for
// domain or network events and print them as virsh does. tvirt sends lifecycle events for both
// and reboot events for domains; the other event types virsh lists are accepted and never fire.
import { CliError, type CommandDef, type CommandGroup } from '../command.js';
import { eventOptions, eventTimeout, waitForEvents } from './event-wait.js';
import { lookupDomain } from './util.js';

/** virsh's domain event types, in `event --list` order. */
const DOMAIN_EVENTS = [
  'lifecycle',
  'reboot',
  'rtc-change',
  'watchdog',
  'io-error',
  'graphics',
  'io-error-reason',
  'control-error',
  'block-job',
  'disk-change',
  'tray-change',
  'pm-wakeup',
  'pm-suspend',
  'balloon-change',
  'pm-suspend-disk',
  'device-removed',
  'block-job-2',
  'tunable',
  'agent-lifecycle',
  'device-added',
  'migration-iteration',
  'job-completed',
  'device-removal-failed',
  'metadata-change',
  'block-threshold',
  'memory-failure',
  'memory-device-size-change',
];

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** virshDomainEventToString / virshDomainEventDetailToString for tvirt's event and detail words. */
const DOMAIN_EVENT_WORD: Record<string, string> = {
  defined: 'Defined',
  undefined: 'Undefined',
  started: 'Started',
  suspended: 'Suspended',
  resumed: 'Resumed',
  stopped: 'Stopped',
  shutdown: 'Shutdown',
  pmsuspended: 'PMSuspended',
  crashed: 'Crashed',
};
const DETAIL_WORD: Record<string, string> = {
  ioerror: 'I/O Error',
  'api-error': 'API error',
  'postcopy-failed': 'Post-copy Error',
  postcopy: 'Post-copy',
  guest: 'On guest request',
  host: 'On host request',
};

export const eventCmd: CommandDef = {
  name: 'event',
  summary: 'Domain Events',
  description: 'List event types, or wait for domain events to occur',
  options: [
    { name: 'domain', type: 'string', help: 'filter by domain name, id or uuid', complete: 'domain' },
    { name: 'event', type: 'string', help: 'which event type to wait for' },
    { name: 'all', type: 'bool', help: 'wait for all events instead of just one type' },
    ...eventOptions,
  ],
  async handler(ctx) {
    if (ctx.flag('list')) {
      ctx.print(DOMAIN_EVENTS.map((t) => `${t}\n`).join(''));
      return;
    }
    const type = ctx.str('event');
    const all = ctx.flag('all');
    if (type === undefined && !all) throw new CliError('one of --list, --all, or --event <type> is required');
    if (type !== undefined && !DOMAIN_EVENTS.includes(type)) throw new CliError(`unknown event type ${type}`);
    const timeout = eventTimeout(ctx);
    const dom = ctx.str('domain') === undefined ? undefined : await lookupDomain(ctx);
    const wants = (t: string) => all || type === t;
    await waitForEvents(
      ctx,
      (ev) => {
        if (ev.kind !== 'domain-lifecycle' || (dom && ev.uuid !== dom.uuid)) return undefined;
        if (ev.event === 'rebooted' || ev.event === 'reset')
          return wants('reboot') ? `event 'reboot' for domain '${ev.name}'` : undefined;
        const word = DOMAIN_EVENT_WORD[ev.event];
        if (!word || !wants('lifecycle')) return undefined;
        const detail = ev.detail ? (DETAIL_WORD[ev.detail] ?? cap(ev.detail)) : 'Unknown';
        return `event 'lifecycle' for domain '${ev.name}': ${word} ${detail}`;
      },
      timeout,
    );
  },
};

/** virshNetworkEventToString. */
const NETWORK_EVENT_WORD: Record<string, string> = {
  defined: 'Defined',
  undefined: 'Undefined',
  started: 'Started',
  stopped: 'Stopped',
};

export const netEventCmd: CommandDef = {
  name: 'net-event',
  summary: 'Network Events',
  description: 'List event types, or wait for network events to occur',
  options: [
    { name: 'network', type: 'string', help: 'filter by network name or uuid', complete: 'network' },
    { name: 'event', type: 'string', help: 'which event type to wait for' },
    ...eventOptions,
  ],
  async handler(ctx) {
    if (ctx.flag('list')) {
      ctx.print('lifecycle\n');
      return;
    }
    const type = ctx.str('event');
    if (type === undefined) throw new CliError('either --list or --event <type> is required');
    if (type !== 'lifecycle') throw new CliError(`unknown event type ${type}`);
    const timeout = eventTimeout(ctx);
    // network.ts holds this command's group: its lookup is imported when used, not at load.
    const { lookupNetwork } = await import('./network.js');
    const net = ctx.str('network') === undefined ? undefined : await lookupNetwork(ctx);
    await waitForEvents(
      ctx,
      (ev) => {
        if (ev.kind !== 'network-lifecycle' || (net && ev.name !== net.name)) return undefined;
        const word = NETWORK_EVENT_WORD[ev.event];
        return word ? `event 'lifecycle' for network ${ev.name}: ${word}` : undefined;
      },
      timeout,
    );
  },
};

export const eventsGroup: CommandGroup = {
  keyword: 'events',
  title: 'Domain Events',
  commands: [eventCmd],
};
