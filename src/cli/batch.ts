// Splits a command string into commands and words with virsh's rules (vshCommandStringGetArg):
// ';' or newline ends a command, '#' at a word start comments to end of line, '' quotes literally,
// "" quotes with backslash escapes, a backslash escapes outside single quotes.
import { CliError } from './command.js';

/**
 * Returns the words of each command in `text`, empty commands dropped.
 * @throws CliError "dangling \" or "missing \"" as virsh.
 */
export function splitCommands(text: string): string[][] {
  const cmds: string[][] = [];
  let cur: string[] = [];
  let p = 0;
  const n = text.length;
  const endCmd = () => {
    if (cur.length > 0) cmds.push(cur);
    cur = [];
  };
  while (true) {
    while (p < n && (text[p] === ' ' || text[p] === '\t' || (text[p] === '\\' && text[p + 1] === '\n'))) {
      p += text[p] === '\\' ? 2 : 1;
    }
    if (p >= n) break;
    const c = text[p];
    if (c === ';' || c === '\n') {
      p++;
      endCmd();
      continue;
    }
    if (c === '#') {
      while (p < n && text[p] !== '\n') p++;
      if (p < n) p++;
      endCmd();
      continue;
    }
    let single = false;
    let double = false;
    let word = '';
    while (p < n) {
      const ch = text[p]!;
      if (!single && !double && (ch === ' ' || ch === '\t' || ch === ';' || ch === '\n')) break;
      if (!double && ch === "'") {
        single = !single;
        p++;
        continue;
      }
      if (!single && ch === '\\') {
        p++;
        if (p >= n) throw new CliError('dangling \\');
        if (text[p] === '\n') {
          p++;
          continue;
        }
      } else if (!single && ch === '"') {
        double = !double;
        p++;
        continue;
      }
      word += text[p];
      p++;
    }
    if (double) throw new CliError('missing "');
    cur.push(word);
  }
  endCmd();
  return cmds;
}

/** Quotes a word so that splitCommands gives it back unchanged (for history and completion). */
export function quoteWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}
