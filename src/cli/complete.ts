// Tab completion for the interactive shell and the bash script: commands, options, domain and network names.
import { splitCommands } from './batch.js';
import type { CmdContext, CommandDef, OptDef } from './command.js';

/**
 * Completions for the last word of `line`. `domains` (`networks`) is asked only when a domain
 * (network) name may come next. Returns the candidates and the word they replace.
 */
export async function completeLine(
  line: string,
  commands: CommandDef[],
  domains: () => Promise<string[]>,
  networks: () => Promise<string[]> = async () => [],
  pools: () => Promise<string[]> = async () => [],
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
      .concat(def.json && !used.has('json') ? ['--json'] : [])
      .filter((o) => o.startsWith(current));
    return [opts.map((o) => `${o} `), current];
  }
  let wants: OptDef['complete'];
  if (prevOpt && prevOpt.type !== 'bool') wants = prevOpt.complete;
  else {
    // Positional: the first value option not yet given.
    const positionals = words.slice(1).filter((w, i, a) => {
      if (w.startsWith('--')) return false;
      const before = a[i - 1];
      const o = before?.startsWith('--') ? def.options.find((x) => x.name === before.slice(2)) : undefined;
      return !(o && o.type !== 'bool');
    }).length;
    const free = def.options.filter((o) => o.type !== 'bool' && !o.namedOnly && !used.has(o.name));
    wants = free[positionals]?.complete;
  }
  const lister =
    wants === 'domain' ? domains : wants === 'network' ? networks : wants === 'pool' ? pools : undefined;
  if (!lister) return [[], current];
  const names = (await lister().catch(() => [])).filter((n) => n.startsWith(current));
  return [names.sort().map((n) => `${n} `), current];
}

/**
 * Completes a whole shell command line ("tvirt -c URI dominfo te"), for the bash script: global
 * options are skipped, a -c URI is used to list domains. Returns the candidate words.
 */
export async function completeCommandLine(ctx: CmdContext, line: string): Promise<string[]> {
  const words = line.split(/\s+/);
  const endsWithSpace = /\s$/.test(line);
  let i = words[0] && !words[0].startsWith('-') ? 1 : 0;
  let uri: string | undefined;
  while (i < words.length - (endsWithSpace ? 0 : 1)) {
    const w = words[i]!;
    if (w === '-c' || w === '--connect') {
      uri = words[i + 1];
      i += 2;
    } else if (w.startsWith('--connect=')) {
      uri = w.slice(10);
      i++;
    } else if (w.startsWith('-') && w !== '') i++;
    else break;
  }
  const rest = words.slice(i).join(' ');
  if (uri !== undefined && uri !== ctx.shell.uri) {
    ctx.shell.uri = uri;
    await ctx.shell.reconnect();
  }
  const groups = await ctx.shell.loadGroups();
  const [cands] = await completeLine(
    rest,
    groups.flatMap((g) => g.commands.filter((c) => !c.hidden)),
    async () => (await (await ctx.conn()).listDomains({})).map((d) => d.name),
    async () => (await (await ctx.conn()).listNetworks({})).map((n) => n.name),
    async () => (await (await ctx.conn()).listStoragePools({})).map((p) => p.name),
  );
  return cands.map((c) => c.trimEnd());
}
