// Argument parsing with virsh's semantics (vshCommandParse): --opt value, --opt=value, positional
// words filling the value options in table order, `--` ending options, virsh's error messages.
import { CliError, type CommandDef, type OptValues } from './command.js';

/**
 * `--json`, accepted after any command whose table entry says `json: true` (as well as before the
 * command, as a global option); stored in the command's options as a flag of this name.
 */
export const JSON_OPT = 'json';

export interface ParsedCommand {
  def: CommandDef;
  opts: OptValues;
}

/**
 * Parses one command's words. `find` looks a command up by name.
 * @throws CliError with virsh's message: unknown command, unsupported option, option already
 *   seen, missing value, '=' after a flag, unexpected data, missing required option.
 */
export function parseCommand(words: string[], find: (name: string) => CommandDef | undefined): ParsedCommand {
  const [name, ...rest] = words;
  if (name === undefined) throw new CliError('empty command');
  const def = find(name);
  if (!def) throw new CliError(`unknown command: '${name}'`);
  const isHelp = def.name === 'help';
  const opts: OptValues = new Map();
  const seen = new Set<string>();
  // Options a positional word may still fill, in table order (virsh's opts_need_arg).
  const needArg = def.options.filter((o) => o.type !== 'bool' && !o.namedOnly);
  const takeNeed = (o: { name: string; type: string }) => {
    if (o.type === 'argv') return;
    const i = needArg.findIndex((x) => x.name === o.name);
    if (i >= 0) needArg.splice(i, 1);
  };
  const store = (optName: string, type: string, value: string | true) => {
    if (type === 'argv') {
      const prev = opts.get(optName);
      const arr = Array.isArray(prev) ? prev : [];
      arr.push(value as string);
      opts.set(optName, arr);
    } else {
      opts.set(optName, value);
    }
  };
  let dataOnly = false;
  for (let i = 0; i < rest.length; i++) {
    let w = rest[i]!;
    // `-X` for an option with a one-letter alias (`-Xvalue` is not accepted, as virsh has none).
    if (!dataOnly && /^-[A-Za-z]$/.test(w)) {
      const long = def.options.find((o) => o.short === w[1]);
      if (long) w = `--${long.name}`;
    }
    if (!dataOnly && w.startsWith('--') && /^[A-Za-z0-9]/.test(w.slice(2))) {
      const eq = w.indexOf('=');
      const optName = eq >= 0 ? w.slice(2, eq) : w.slice(2);
      const inline = eq >= 0 ? w.slice(eq + 1) : undefined;
      const opt = def.options.find((o) => o.name === optName);
      if (!opt) {
        if (isHelp) continue;
        // --json after a listing/info command: the global flag, for this command only.
        if (optName === JSON_OPT && def.json) {
          if (inline !== undefined) throw new CliError(`invalid '=' after option --${JSON_OPT}`);
          if (seen.has(JSON_OPT)) throw new CliError(`option --${JSON_OPT} already seen`);
          seen.add(JSON_OPT);
          store(JSON_OPT, 'bool', true);
          continue;
        }
        throw new CliError(`command '${def.name}' doesn't support option --${optName}`);
      }
      if (seen.has(opt.name) && opt.type !== 'argv') throw new CliError(`option --${optName} already seen`);
      seen.add(opt.name);
      if (opt.type === 'bool') {
        if (inline !== undefined) throw new CliError(`invalid '=' after option --${opt.name}`);
        store(opt.name, 'bool', true);
        continue;
      }
      let value = inline;
      if (value === undefined) {
        if (i + 1 >= rest.length) {
          throw new CliError(`expected syntax: --${opt.name} <${opt.type === 'int' ? 'number' : 'string'}>`);
        }
        value = rest[++i]!;
      }
      takeNeed(opt);
      store(opt.name, opt.type, value);
      continue;
    }
    if (!dataOnly && w === '--') {
      dataOnly = true;
      continue;
    }
    const opt = needArg[0];
    if (!opt) {
      if (isHelp) continue;
      throw new CliError(`unexpected data '${w}'`);
    }
    seen.add(opt.name);
    takeNeed(opt);
    store(opt.name, opt.type, w);
  }
  for (const o of def.options) {
    if (o.required && !seen.has(o.name)) {
      throw new CliError(
        o.type === 'data' || o.type === 'argv'
          ? `command '${def.name}' requires <${o.name}> option`
          : `command '${def.name}' requires --${o.name} option`,
      );
    }
  }
  return { def, opts };
}

/** Parses an integer the way virsh's vshCommandOptInt accepts it. */
export function parseIntOpt(value: string, optName: string): number {
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new CliError(`Numeric value '${value}' for <${optName}> option is malformed or out of range`);
  }
  return Number(value);
}

const suffixes: Record<string, number> = {
  '': 0,
  b: 0,
  byte: 0,
  bytes: 0,
  k: 1,
  kb: 1,
  kib: 1,
  m: 2,
  mb: 2,
  mib: 2,
  g: 3,
  gb: 3,
  gib: 3,
  t: 4,
  tb: 4,
  tib: 4,
  p: 5,
  pb: 5,
  pib: 5,
  e: 6,
  eb: 6,
  eib: 6,
};

/**
 * Parses a scaled integer (virsh's vshCommandOptScaledInt): a number with an optional unit
 * suffix (k, M, G, KiB, MB ...; "KB" style means powers of 1000). Returns the value in units of
 * `scale` bytes (a bare number is already in that unit), rounded up.
 */
export function parseScaledOpt(value: string, optName: string, scale = 1024): number {
  const bad = () =>
    new CliError(`Scaled numeric value '${value}' for <${optName}> option is malformed or out of range`);
  const m = /^(\d+)(.*)$/.exec(value.trim());
  if (!m) throw bad();
  const num = Number(m[1]);
  const suffix = m[2]!;
  if (suffix === '') return num;
  const s = suffix.toLowerCase();
  const power = suffixes[s];
  if (power === undefined)
    throw new CliError(bad().lines[0]!, `invalid argument: unknown suffix '${suffix}'`);
  const base = s.length === 2 && s.endsWith('b') ? 1000 : 1024;
  const bytes = num * base ** power;
  if (!Number.isSafeInteger(bytes)) throw bad();
  return Math.ceil(bytes / scale);
}
