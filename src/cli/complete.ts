// Tab completion for the interactive shell and the bash script: commands, options, domain names.
import { splitCommands } from './batch.js';
import type { CommandDef } from './command.js';

/**
 * Completions for the last word of `line`. `domains` is asked only when a domain name may come next.
 * Returns the candidates and the word they replace.
 */
export async function completeLine(
  line: string,
  commands: CommandDef[],
  domains: () => Promise<string[]>,
): Promise<[string[], string]> {
  // Only the text after the last ';' matters.
  const seg = line.slice(line.lastIndexOf(';') + 1);
  let words: string[];
  try {
    words = splitCommands(seg)[0] ?? [];
  } catch {
    return [[], ''];
  }
  const endsWithSpace = seg === '' || /\s$/.test(seg);
  const current = endsWithSpace ? '' : (words.pop() ?? '');
  if (words.length === 0) {
    const names = commands.map((c) => c.name).filter((n) => n.startsWith(current));
    return [names.sort().map((n) => `${n} `), current];
  }
  const def = commands.find((c) => c.name === words[0]);
  if (!def) return [[], current];
  const used = new Set(words.filter((w) => w.startsWith('--')).map((w) => w.slice(2).split('=')[0]));
  // The option whose value is being typed.
  const prev = words[words.length - 1];
  const prevOpt = prev?.startsWith('--') ? def.options.find((o) => o.name === prev.slice(2)) : undefined;
  if (current.startsWith('-')) {
    const opts = def.options
      .filter((o) => !used.has(o.name) || o.type === 'argv')
      .map((o) => `--${o.name}`)
      .filter((o) => o.startsWith(current));
    return [opts.map((o) => `${o} `), current];
  }
  let wantsDomain = false;
  if (prevOpt && prevOpt.type !== 'bool') wantsDomain = prevOpt.complete === 'domain';
  else {
    // Positional: the first value option not yet given.
    const positionals = words.slice(1).filter((w, i, a) => {
      if (w.startsWith('--')) return false;
      const before = a[i - 1];
      const o = before?.startsWith('--') ? def.options.find((x) => x.name === before.slice(2)) : undefined;
      return !(o && o.type !== 'bool');
    }).length;
    const free = def.options.filter((o) => o.type !== 'bool' && !o.namedOnly && !used.has(o.name));
    wantsDomain = free[positionals]?.complete === 'domain';
  }
  if (!wantsDomain) return [[], current];
  const names = (await domains().catch(() => [])).filter((n) => n.startsWith(current));
  return [names.sort().map((n) => `${n} `), current];
}
