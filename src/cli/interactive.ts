// The interactive shell: readline prompt, persistent history, tab completion, quit/exit.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { completeLine } from './complete.js';
import type { Session } from './shell.js';

/** ~/.tvirt_history, or $XDG_STATE_HOME/tvirt/history when XDG_STATE_HOME is set. */
export function historyPath(env: NodeJS.ProcessEnv): string {
  if (env.TVIRT_HISTORY) return env.TVIRT_HISTORY;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'tvirt', 'history');
  return join(homedir(), '.tvirt_history');
}

function loadHistory(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 500);
  } catch {
    return [];
  }
}

/** Runs the shell until quit, exit or end of input; returns the last command's status. */
export async function interactiveShell(session: Session, env: NodeJS.ProcessEnv): Promise<number> {
  const histFile = historyPath(env);
  const tty = Boolean(process.stdin.isTTY);
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: tty,
    history: loadHistory(histFile),
    historySize: 500,
    completer: (line: string, cb: (err: Error | null, result: [string[], string]) => void) => {
      session.shell
        .loadGroups()
        .then((groups) =>
          completeLine(
            line,
            groups.flatMap((g) => g.commands),
            async () => (await (await session.conn()).listDomains({})).map((d) => d.name),
            async () => (await (await session.conn()).listNetworks({})).map((n) => n.name),
            async () => (await (await session.conn()).listStoragePools({})).map((p) => p.name),
          ),
        )
        .then(
          (r) => cb(null, r),
          () => cb(null, [[], line]),
        );
    },
  });
  const lines: string[] = [];
  const waiters: ((l: string | undefined) => void)[] = [];
  let closed = false;
  rl.on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else lines.push(l);
  });
  rl.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w(undefined);
  });
  const readLine = (prompt: string): Promise<string | undefined> => {
    if (tty) {
      rl.setPrompt(prompt);
      rl.prompt();
    } else {
      session.io.stdout(prompt);
    }
    const got =
      lines.length > 0 || closed
        ? Promise.resolve(lines.shift())
        : new Promise<string | undefined>((res) => waiters.push(res));
    // Without a terminal nothing echoes the input; virsh shows it after the prompt.
    if (tty) return got;
    return got.then((l) => {
      if (l !== undefined) session.io.stdout(`${l}\n`);
      return l;
    });
  };
  session.io.readLine = readLine;
  if (!session.options.quiet) {
    session.io.stdout(
      "Welcome to tvirt, the virtualization interactive terminal.\n\nType:  'help' for help with commands\n       'quit' to quit\n\n",
    );
  }
  let status = 0;
  try {
    mkdirSync(dirname(histFile), { recursive: true });
  } catch {
    // History is a convenience; a read-only home must not stop the shell.
  }
  while (!session.shell.quit) {
    const line = await readLine(process.getuid?.() === 0 ? 'tvirt # ' : 'tvirt > ');
    if (line === undefined) break;
    if (line.trim() === '') continue;
    try {
      appendFileSync(histFile, `${line}\n`);
    } catch {
      // see above
    }
    status = await session.runString(line);
  }
  // A line break after the last prompt, as virsh.
  session.io.stdout('\n');
  rl.close();
  return status;
}
