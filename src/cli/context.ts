// The per-command context handed to handlers: typed option access, output, the lazy connection.
import { JSON_OPT, parseIntOpt, parseScaledOpt } from './args.js';
import { CliError, type CmdContext, type CommandDef, type OptValues, type ShellState } from './command.js';
import type { Connection } from '../drivers/connection.js';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads one line (without the newline) from the user; undefined at end of input. */
  readLine?(prompt: string): Promise<string | undefined>;
}

export interface SessionOptions {
  quiet: boolean;
  json: boolean;
  readonly: boolean;
  interactive: boolean;
}

/** Builds a CmdContext for one parsed command. */
export function makeContext(
  def: CommandDef,
  opts: OptValues,
  io: CliIO,
  session: SessionOptions,
  shell: ShellState,
  conn: () => Promise<Connection>,
): CmdContext {
  const raw = (name: string): string | undefined => {
    const v = opts.get(name);
    if (v === undefined || v === true) return undefined;
    return Array.isArray(v) ? v.join(' ') : v;
  };
  const ctx: CmdContext = {
    def,
    opts,
    quiet: session.quiet,
    json: session.json || opts.get(JSON_OPT) === true,
    readonly: session.readonly,
    interactive: session.interactive,
    shell,
    flag: (name) => opts.get(name) === true,
    str(name) {
      const v = raw(name);
      if (v === '' && !def.options.find((o) => o.name === name)?.emptyOk) {
        throw new CliError(`Failed to get option '${name}': Option argument is empty`);
      }
      return v;
    },
    req(name) {
      const v = ctx.str(name);
      if (v === undefined) throw new CliError(`command '${def.name}' requires <${name}> option`);
      return v;
    },
    int(name) {
      const v = ctx.str(name);
      return v === undefined ? undefined : parseIntOpt(v, name);
    },
    scaled(name, scale = 1024) {
      const v = ctx.str(name);
      return v === undefined ? undefined : parseScaledOpt(v, name, scale);
    },
    argv(name) {
      const v = opts.get(name);
      return Array.isArray(v) ? v : [];
    },
    conn,
    print: (t) => io.stdout(t),
    printExtra: (t) => {
      if (!session.quiet) io.stdout(t);
    },
    printJson: (v) => io.stdout(`${JSON.stringify(v, null, 2)}\n`),
    error: (t) => io.stderr(`error: ${t}\n`),
    stderr: (t) => io.stderr(t),
    async ask(prompt) {
      if (!io.readLine) return '';
      return (await io.readLine(prompt)) ?? '';
    },
  };
  return ctx;
}

/** Rejects the mutually exclusive pair as virsh's VSH_EXCLUSIVE_OPTIONS does. */
export function exclusive(ctx: CmdContext, a: string, b: string): void {
  if (ctx.flag(a) && ctx.flag(b)) throw new CliError(`Options --${a} and --${b} are mutually exclusive`);
}
