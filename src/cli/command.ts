// The command table: how a command, its options and its handler are described (virsh's vshCmdDef).
import type { Connection } from '../drivers/connection.js';

/**
 * Option kinds, as virsh's vshCmdOptType: `bool` is a flag; `string` and `int` take a value and
 * may be filled positionally; `data` is a positional string (named `<name>` in messages); `argv`
 * collects every remaining positional word.
 */
export type OptType = 'bool' | 'string' | 'int' | 'data' | 'argv';

export interface OptDef {
  name: string;
  type: OptType;
  /** Must be given (virsh VSH_OFLAG_REQ). */
  required?: boolean;
  /** Only as `--name value`, never filled positionally (virsh VSH_OFLAG_REQ_OPT). */
  namedOnly?: boolean;
  /** An empty value is accepted (virsh VSH_OFLAG_EMPTY_OK). */
  emptyOk?: boolean;
  help: string;
  /** A one-letter alias used as `-X` (only commands that mirror a non-virsh tool, e.g. clone's -o/-n/-f). */
  short?: string;
  /** What tab completion offers for the value. */
  complete?: 'domain' | 'file' | 'network' | 'pool';
}

export interface CommandDef {
  name: string;
  /** One-line summary shown by `help`. */
  summary: string;
  /** Longer text for `help CMD`; omitted sections are not printed. */
  description?: string;
  options: OptDef[];
  /** False for commands that never talk to the hypervisor (help, quit, validate ...). */
  needsConnection?: boolean;
  /** Left out of `help` listings (as virsh's VSH_CMD_FLAG_HIDDEN). */
  hidden?: boolean;
  /** Listing/info commands that honour --json. */
  json?: boolean;
  /**
   * False when this run should not end with virsh's empty line: virsh prints it after every command
   * but a few (domdisplay of one display succeeding). Default true.
   */
  blankAfter?(ctx: CmdContext, ok: boolean): boolean;
  handler(ctx: CmdContext): Promise<void>;
}

/** A group of commands, as virsh's `help` groups (keyword shown in help output). */
export interface CommandGroup {
  keyword: string;
  title: string;
  commands: CommandDef[];
}

/** Values of the options given on one command line. `argv` options hold arrays. */
export type OptValues = Map<string, string | true | string[]>;

/** What a handler sees: its options, the connection, and the output channels. */
export interface CmdContext {
  readonly def: CommandDef;
  readonly opts: OptValues;
  /** Global flags. */
  readonly quiet: boolean;
  readonly json: boolean;
  readonly readonly: boolean;
  /** True in the interactive shell. */
  readonly interactive: boolean;
  /** True when the bool option was given. */
  flag(name: string): boolean;
  /** A string option; throws virsh's error for an empty value unless the option allows it. */
  str(name: string): string | undefined;
  /** A string option that the parser made sure was given. */
  req(name: string): string;
  /** An integer option (virsh's vshCommandOptInt). */
  int(name: string): number | undefined;
  /** A scaled integer ("1G", "512M"), returned in units of `scale` bytes (default KiB). */
  scaled(name: string, scale?: number): number | undefined;
  argv(name: string): string[];
  conn(): Promise<Connection>;
  /** Standard output, always printed (virsh vshPrint). */
  print(text: string): void;
  /** Informational output, suppressed by -q (virsh vshPrintExtra). */
  printExtra(text: string): void;
  /** Prints `value` as JSON (for --json). */
  printJson(value: unknown): void;
  /** Warnings and extra error lines on stderr, as "error: ..." (virsh vshError). */
  error(text: string): void;
  /** Text on stderr as it is (virt-clone's WARNING/DEBUG lines). */
  stderr(text: string): void;
  /** Reads a line from the terminal (edit's "Try again?" prompt). */
  ask(prompt: string): Promise<string>;
  /** The shell state: commands and connection. */
  readonly shell: ShellState;
}

export interface ShellState {
  uri: string;
  /** Connections opened from now on are read-only (-r, connect --readonly). */
  readonly: boolean;
  /** Loads and returns every command group, in help order. */
  loadGroups(): Promise<CommandGroup[]>;
  find(name: string): CommandDef | undefined;
  /** Set by quit/exit. */
  quit: boolean;
  /** Drops the current connection; the next conn() opens shell.uri again. */
  reconnect(): Promise<void>;
}

/** An error a command reports: each line is printed as "error: LINE" (virsh vshError + the libvirt error). */
export class CliError extends Error {
  readonly lines: string[];
  constructor(...lines: string[]) {
    super(lines.join('\n'));
    this.name = 'CliError';
    this.lines = lines;
  }
}

/** Throws virsh's two-line failure: our own context line, then the driver's message. */
export function failWith(prefix: string, e: unknown): never {
  if (e instanceof CliError) throw new CliError(prefix, ...e.lines);
  throw new CliError(prefix, errorText(e));
}

/** The text virsh would print after "error: " for an exception. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
