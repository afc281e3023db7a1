// The command groups, in `help` order. A new group (storage, network ...) is one module exporting a
// CommandGroup, added to this list; its handlers import heavy code lazily to keep start-up small.
import type { CommandDef, CommandGroup } from '../command.js';
import { domainGroup } from './domain.js';
import { hostGroup } from './host.js';
import { monitorGroup } from './monitor.js';
import { virshGroup } from './virsh.js';

export const groups: CommandGroup[] = [domainGroup, monitorGroup, hostGroup, virshGroup];

let byName: Map<string, CommandDef> | undefined;

/** Finds a command by name in every group. */
export function findCommand(name: string): CommandDef | undefined {
  if (!byName) {
    byName = new Map();
    for (const g of groups) for (const c of g.commands) byName.set(c.name, c);
  }
  return byName.get(name);
}
