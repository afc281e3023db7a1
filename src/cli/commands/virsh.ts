// The shell's own commands ("Virsh itself" in virsh): help, quit, exit, echo, connect, cd, pwd.
import { CliError, type CommandDef, type CommandGroup } from '../command.js';

const helpCmd: CommandDef = {
  name: 'help',
  summary: 'print help',
  description: 'Prints global help, command specific help, or help for a\ngroup of related commands',
  needsConnection: false,
  options: [
    {
      name: 'command',
      type: 'string',
      help: 'Prints global help, command specific help, or help for a group of related commands',
    },
  ],
  async handler(ctx) {
    const name = ctx.str('command');
    const groups = await ctx.shell.loadGroups();
    const { allHelp, commandHelp, groupHelp } = await import('../help.js');
    if (name === undefined) {
      ctx.print(allHelp(groups));
      return;
    }
    const def = ctx.shell.find(name);
    if (def) {
      ctx.print(commandHelp(def));
      return;
    }
    const g = groups.find((x) => x.keyword === name);
    if (g) {
      ctx.print(groupHelp(g));
      return;
    }
    throw new CliError(`command or command group '${name}' doesn't exist`);
  },
};

const quit = (name: string): CommandDef => ({
  name,
  summary: 'quit this interactive terminal',
  needsConnection: false,
  options: [],
  async handler(ctx) {
    ctx.shell.quit = true;
  },
});

const echoCmd: CommandDef = {
  name: 'echo',
  summary: 'echo arguments. Used for internal testing.',
  description: 'Echo back arguments, possibly with quoting. Used for internal testing.',
  needsConnection: false,
  options: [
    { name: 'shell', type: 'bool', help: 'escape for shell use' },
    { name: 'xml', type: 'bool', help: 'escape for XML use' },
    { name: 'err', type: 'bool', help: 'output to stderr' },
    { name: 'string', type: 'argv', emptyOk: true, help: 'arguments to echo' },
  ],
  async handler(ctx) {
    let words = ctx.argv('string');
    if (ctx.flag('xml')) {
      words = words.map((w) =>
        w
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/'/g, '&apos;')
          .replace(/"/g, '&quot;'),
      );
    }
    if (ctx.flag('shell')) {
      words = words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`));
    }
    const line = words.join(' ');
    if (ctx.flag('err')) ctx.error(line);
    // No newline of its own: the blank line after every command ends it (as virsh).
    else ctx.print(line);
  },
};

const connectCmd: CommandDef = {
  name: 'connect',
  summary: '(re)connect to hypervisor',
  description: 'Connect to local hypervisor. This is built-in command after shell start up.',
  needsConnection: false,
  options: [
    { name: 'name', type: 'string', help: 'hypervisor connection URI' },
    { name: 'readonly', type: 'bool', help: 'read-only connection' },
  ],
  async handler(ctx) {
    const uri = ctx.str('name');
    if (uri !== undefined) ctx.shell.uri = uri;
    ctx.shell.readonly = ctx.flag('readonly');
    await ctx.shell.reconnect();
    await ctx.conn();
  },
};

const pwdCmd: CommandDef = {
  name: 'pwd',
  summary: 'print the current directory',
  description: 'Print the current directory.',
  needsConnection: false,
  options: [],
  async handler(ctx) {
    ctx.print(`${process.cwd()}\n`);
  },
};

const cdCmd: CommandDef = {
  name: 'cd',
  summary: 'change the current directory',
  description: 'Change the current directory.',
  needsConnection: false,
  options: [{ name: 'dir', type: 'data', help: 'directory to switch to (default: home or else root)' }],
  async handler(ctx) {
    if (!ctx.interactive) throw new CliError('cd: command valid only in interactive mode');
    const dir = ctx.str('dir') ?? process.env.HOME ?? '/';
    try {
      process.chdir(dir);
    } catch {
      throw new CliError(`cd: Unable to change to ${dir}: No such file or directory`);
    }
  },
};

const completeCmd: CommandDef = {
  name: 'complete',
  summary: 'internal command for autocompletion',
  description: 'Prints the completions of a whole tvirt command line (used by the bash completion script).',
  hidden: true,
  // Commands and options complete even when the hypervisor cannot be reached.
  needsConnection: false,
  options: [{ name: 'string', type: 'argv', emptyOk: true, help: 'the command line, as typed so far' }],
  async handler(ctx) {
    const { completeCommandLine } = await import('../complete.js');
    const out = await completeCommandLine(ctx, ctx.argv('string').join(' '));
    if (out.length > 0) ctx.print(`${out.join('\n')}\n`);
  },
};

export const virshGroup: CommandGroup = {
  keyword: 'virsh',
  title: 'Virsh itself',
  commands: [cdCmd, completeCmd, echoCmd, quit('exit'), helpCmd, pwdCmd, quit('quit'), connectCmd],
};
