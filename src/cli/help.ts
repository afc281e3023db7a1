// `help` text in virsh's layout (vshCmddefHelp, vshCmdGrpHelp).
import type { CommandDef, CommandGroup } from './command.js';

/** The SYNOPSIS line of a command. */
export function synopsis(def: CommandDef): string {
  let s = def.name;
  let hasData = false;
  for (const o of def.options) {
    let f: string;
    switch (o.type) {
      case 'bool':
        f = `[--${o.name}]`;
        break;
      case 'int':
        f = o.required ? `<${o.name}>` : `[--${o.name} <number>]`;
        break;
      case 'string':
        f = o.required && !o.namedOnly ? `<${o.name}>` : `[--${o.name} <string>]`;
        break;
      case 'data':
        f = o.required ? `<${o.name}>` : `[<${o.name}>]`;
        hasData = true;
        break;
      case 'argv':
        f = hasData
          ? o.required
            ? `{[--${o.name}] <string>}...`
            : `[[--${o.name}] <string>]...`
          : o.required
            ? `<${o.name}>...`
            : `[<${o.name}>]...`;
        break;
    }
    s += ` ${f}`;
  }
  return s;
}

/** `help CMD`. */
export function commandHelp(def: CommandDef): string {
  let out = `  NAME\n    ${def.name} - ${def.summary}\n\n  SYNOPSIS\n    ${synopsis(def)}\n\n`;
  if (def.description) {
    out += `  DESCRIPTION\n${def.description
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n\n`;
  }
  if (def.options.length > 0) {
    out += '  OPTIONS\n';
    const hasData = def.options.some((o) => o.type === 'data');
    for (const o of def.options) {
      let b: string;
      switch (o.type) {
        case 'bool':
          b = `--${o.name}`;
          break;
        case 'int':
          b = o.required ? `[--${o.name}] <number>` : `--${o.name} <number>`;
          break;
        case 'string':
          b = o.required && !o.namedOnly ? `[--${o.name}] <string>` : `--${o.name} <string>`;
          break;
        case 'data':
          b = `[--${o.name}] <string>`;
          break;
        case 'argv':
          b = hasData ? `[--${o.name}] <string>` : `<${o.name}>`;
          break;
      }
      out += `    ${b.padEnd(15)}  ${o.help}\n`;
    }
    out += '\n';
  }
  return out;
}

/** One group's listing, as in `help` and `help KEYWORD`. */
export function groupHelp(g: CommandGroup): string {
  let out = ` ${g.title} (help keyword '${g.keyword}'):\n`;
  for (const c of g.commands) if (!c.hidden) out += `    ${c.name.padEnd(30)} ${c.summary}\n`;
  return `${out}\n`;
}

/** `help` without arguments. */
export function allHelp(groups: CommandGroup[]): string {
  return `Grouped commands:\n\n${groups.map(groupHelp).join('')}`;
}
