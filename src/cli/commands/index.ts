// The command groups, in `help` order. Each group lives in its own module, loaded only when one of
// its commands is used (start-up stays small). A new group (storage, network ...) is one module
// exporting a CommandGroup plus one entry here naming its commands (a test checks they agree).
import type { CommandDef, CommandGroup } from '../command.js';

export interface GroupEntry {
  keyword: string;
  commands: readonly string[];
  load(): Promise<CommandGroup>;
}

export const groupIndex: GroupEntry[] = [
  {
    keyword: 'domain',
    commands: [
      'autostart',
      'console',
      'create',
      'define',
      'desc',
      'destroy',
      'domid',
      'domname',
      'domdisplay',
      'domuuid',
      'domxml-to-native',
      'dumpxml',
      'edit',
      'qemu-monitor-command',
      'reboot',
      'reset',
      'resume',
      'setmem',
      'setmaxmem',
      'setvcpus',
      'shutdown',
      'start',
      'suspend',
      'ttyconsole',
      'undefine',
      'vcpucount',
      'vncdisplay',
    ],
    load: async () => (await import('./domain.js')).domainGroup,
  },
  {
    keyword: 'monitor',
    commands: [
      'domblkinfo',
      'domblklist',
      'domifaddr',
      'domiflist',
      'dominfo',
      'dommemstat',
      'domstate',
      'list',
    ],
    load: async () => (await import('./monitor.js')).monitorGroup,
  },
  {
    keyword: 'events',
    commands: ['event'],
    load: async () => (await import('./events.js')).eventsGroup,
  },
  {
    keyword: 'host',
    commands: ['capabilities', 'hostname', 'host-validate', 'nodeinfo', 'uri', 'validate', 'version'],
    load: async () => (await import('./host.js')).hostGroup,
  },
  {
    keyword: 'interface',
    commands: ['iface-bridge', 'iface-list', 'iface-unbridge'],
    load: async () => (await import('./interface.js')).interfaceGroup,
  },
  {
    keyword: 'network',
    commands: [
      'net-autostart',
      'net-create',
      'net-define',
      'net-destroy',
      'net-dhcp-leases',
      'net-dumpxml',
      'net-edit',
      'net-event',
      'net-info',
      'net-list',
      'net-name',
      'net-start',
      'net-undefine',
      'net-update',
      'net-uuid',
    ],
    load: async () => (await import('./network.js')).networkGroup,
  },
  {
    keyword: 'pool',
    commands: [
      'pool-autostart',
      'pool-build',
      'pool-create-as',
      'pool-create',
      'pool-define-as',
      'pool-define',
      'pool-delete',
      'pool-destroy',
      'pool-dumpxml',
      'pool-edit',
      'pool-info',
      'pool-list',
      'pool-name',
      'pool-refresh',
      'pool-start',
      'pool-undefine',
      'pool-uuid',
      'pool-event',
      'pool-capabilities',
    ],
    load: async () => (await import('./storage.js')).poolGroup,
  },
  {
    keyword: 'volume',
    commands: [
      'vol-clone',
      'vol-create-as',
      'vol-create',
      'vol-create-from',
      'vol-delete',
      'vol-download',
      'vol-dumpxml',
      'vol-info',
      'vol-key',
      'vol-list',
      'vol-name',
      'vol-path',
      'vol-pool',
      'vol-resize',
      'vol-upload',
      'vol-wipe',
    ],
    load: async () => (await import('./storage-vol.js')).volumeGroup,
  },
  {
    keyword: 'clone',
    commands: ['clone'],
    load: async () => (await import('./clone.js')).cloneGroup,
  },
  {
    keyword: 'virsh',
    commands: ['cd', 'complete', 'echo', 'exit', 'help', 'pwd', 'quit', 'connect'],
    load: async () => (await import('./virsh.js')).virshGroup,
  },
];

const loaded = new Map<string, CommandGroup>();
const byName = new Map<string, CommandDef>();

async function loadEntry(e: GroupEntry): Promise<CommandGroup> {
  let g = loaded.get(e.keyword);
  if (!g) {
    g = await e.load();
    loaded.set(e.keyword, g);
    for (const c of g.commands) byName.set(c.name, c);
  }
  return g;
}

/** Loads the groups holding the named commands (unknown names are left for the parser to report). */
export async function loadGroupsFor(names: Iterable<string>): Promise<void> {
  const want = new Set(names);
  await Promise.all(groupIndex.filter((e) => e.commands.some((c) => want.has(c))).map(loadEntry));
}

/** Every group, in help order. */
export function loadAllGroups(): Promise<CommandGroup[]> {
  return Promise.all(groupIndex.map(loadEntry));
}

/** Finds a command among the loaded groups. */
export function findCommand(name: string): CommandDef | undefined {
  return byName.get(name);
}
