// Runs tvirt: global options, the command batch (virsh's parse-all-then-run), and the interactive shell.
import { JSON_OPT, parseCommand, type ParsedCommand } from './args.js';
import { splitCommands } from './batch.js';
import { CliError, type ShellState } from './command.js';
import { findCommand, loadAllGroups, loadGroupsFor } from './commands/index.js';
import { type CliIO, makeContext, type SessionOptions } from './context.js';
import { defaultUri, openConnection } from './connect.js';
import type { Connection } from '../drivers/connection.js';

export const TVIRT_VERSION = '0.1.0';

const usage = `
tvirt [options]... [<command_string>]
tvirt [options]... <command> [args...]

  options:
    -c | --connect=URI      hypervisor connection URI
    -h | --help             this help
    -q | --quiet            quiet mode
    -r | --readonly         connect readonly
    -v | --version          program version
    --json                  JSON output for listing and info commands (also after one: list --json)

  commands (non interactive mode):

`;

/** A CLI session: one connection (opened lazily), options, and the command runner. */
export class Session {
  readonly shell: ShellState;
  private connection: Promise<Connection> | undefined;
  constructor(
    readonly io: CliIO,
    readonly options: SessionOptions,
    uri: string,
    private readonly opener: (uri: string) => Promise<Connection> = openConnection,
  ) {
    this.shell = {
      uri,
      readonly: options.readonly,
      loadGroups: loadAllGroups,
      find: findCommand,
      quit: false,
      reconnect: () => this.close(),
    };
  }

  /** The connection, opened at first use. */
  conn = (): Promise<Connection> => {
    if (!this.connection) {
      this.connection = this.opener(this.shell.uri).then(async (c) =>
        this.shell.readonly ? (await import('./readonly.js')).readOnly(c) : c,
      );
      this.connection = this.connection.catch((e: unknown) => {
        this.connection = undefined;
        throw new CliError('failed to connect to the hypervisor', e instanceof Error ? e.message : String(e));
      });
    }
    return this.connection;
  };

  async close(): Promise<void> {
    const c = this.connection;
    this.connection = undefined;
    if (c) await c.then((x) => x.close()).catch(() => {});
  }

  /** Parses every command first (a syntax error runs nothing), then runs them; returns the exit status. */
  async runWords(cmds: string[][]): Promise<number> {
    let parsed: ParsedCommand[];
    await loadGroupsFor(cmds.map((w) => w[0]!));
    try {
      parsed = cmds.map((w) => parseCommand(w, findCommand));
    } catch (e) {
      this.report(e);
      return 1;
    }
    // Like virsh, a command line connects before running anything; a failure runs nothing.
    if (!this.options.interactive && parsed.some((p) => p.def.needsConnection !== false)) {
      try {
        await this.conn();
      } catch (e) {
        this.report(e);
        return 1;
      }
    }
    let status = 0;
    for (const p of parsed) {
      status = await this.runOne(p);
      if (this.shell.quit) break;
    }
    return status;
  }

  /** Runs a command string ("define a.xml; start a"). */
  async runString(text: string): Promise<number> {
    let cmds: string[][];
    try {
      cmds = splitCommands(text);
    } catch (e) {
      this.report(e);
      return 1;
    }
    return this.runWords(cmds);
  }

  private async runOne(p: ParsedCommand): Promise<number> {
    const ctx = makeContext(p.def, p.opts, this.io, this.options, this.shell, this.conn);
    let status = 0;
    try {
      await p.def.handler(ctx);
    } catch (e) {
      this.report(e);
      status = 1;
    }
    if (p.def.name === 'quit' || p.def.name === 'exit') return status;
    // virsh ends every command with an empty line (vshPrintExtra), except in quiet mode.
    if (
      !this.options.quiet &&
      !this.options.json &&
      p.opts.get(JSON_OPT) !== true &&
      (p.def.blankAfter?.(ctx, status === 0) ?? true)
    )
      this.io.stdout('\n');
    return status;
  }

  report(e: unknown): void {
    if (e instanceof CliError) {
      for (const l of e.lines) this.io.stderr(`error: ${l}\n`);
    } else if (e instanceof Error) {
      this.io.stderr(`error: ${e.message}\n`);
    } else {
      this.io.stderr(`error: ${String(e)}\n`);
    }
  }
}

export interface GlobalArgs {
  uri?: string;
  quiet: boolean;
  readonly: boolean;
  json: boolean;
  help: boolean;
  version: boolean;
  rest: string[];
}

/** Parses tvirt's own options up to the first non-option word (getopt "+" mode). */
export function parseGlobal(argv: string[]): GlobalArgs {
  const g: GlobalArgs = { quiet: false, readonly: false, json: false, help: false, version: false, rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-c' || a === '--connect') {
      if (i + 1 >= argv.length) throw new CliError(`option '${a}' requires an argument`);
      g.uri = argv[++i]!;
    } else if (a.startsWith('--connect=')) g.uri = a.slice(10);
    else if (a.startsWith('-c') && a.length > 2) g.uri = a.slice(2);
    else if (a === '-q' || a === '--quiet') g.quiet = true;
    else if (a === '-r' || a === '--readonly') g.readonly = true;
    else if (a === '--json') g.json = true;
    else if (a === '-h' || a === '--help') g.help = true;
    else if (a === '-v' || a === '--version' || a === '-V') g.version = true;
    else if (a.startsWith('-') && a !== '-') throw new CliError(`unsupported option '${a}'. See --help.`);
    else break;
  }
  g.rest = argv.slice(i);
  return g;
}

/**
 * The whole CLI: returns the exit status. One word after the options is a command string (may hold
 * several commands separated by ';'); several words are one command; none starts the shell.
 */
export async function runCli(
  argv: string[],
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
  opener?: (uri: string) => Promise<Connection>,
): Promise<number> {
  let g: GlobalArgs;
  try {
    g = parseGlobal(argv);
  } catch (e) {
    io.stderr(`error: ${(e as Error).message}\n`);
    return 1;
  }
  if (g.version) {
    io.stdout(`${TVIRT_VERSION}\n`);
    return 0;
  }
  if (g.help) {
    const { allHelp } = await import('./help.js');
    io.stdout(`${usage}${allHelp(await loadAllGroups()).replace(/^Grouped commands:\n\n/, '')}`);
    return 0;
  }
  const interactive = g.rest.length === 0;
  const session = new Session(
    io,
    { quiet: g.quiet, json: g.json, readonly: g.readonly, interactive },
    g.uri ?? defaultUri(env),
    opener,
  );
  try {
    if (interactive) {
      const { interactiveShell } = await import('./interactive.js');
      return await interactiveShell(session, env);
    }
    if (g.rest.length === 1) return await session.runString(g.rest[0]!);
    return await session.runWords([g.rest]);
  } finally {
    await session.close();
  }
}
