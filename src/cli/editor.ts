// Editing through $VISUAL/$EDITOR (virsh's vsh-edit): a temp file, the editor run by the shell,
// and the "Try again?" loop of `edit`. The CLI runs the user's editor itself, as virsh does.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, errorText, type CmdContext } from './command.js';
import { lookupDomain } from './commands/util.js';

/** The editor command: $VISUAL, then $EDITOR, then vi (as virsh). */
export function editorCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.VISUAL || env.EDITOR || 'vi';
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Writes `text` to a temp file, runs the editor on it and returns what the file holds afterwards. */
export async function editText(text: string, suffix: string, keep?: (path: string) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tvirt'));
  const file = join(dir, `tvirt${suffix}`);
  try {
    await writeFile(file, text, { mode: 0o600 });
    const editor = editorCommand();
    const r = spawnSync('/bin/sh', ['-c', `${editor} ${shellQuote(file)}`], { stdio: 'inherit' });
    if (r.error || r.status !== 0) {
      throw new CliError(
        `${editor} ${file}: command failed${r.status !== null ? ` with exit status ${r.status}` : ''}`,
      );
    }
    keep?.(file);
    return await readFile(file, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What the edit loop edits: one object's persistent XML (virsh's vsh-edit.c parameters). */
export interface EditTarget {
  /** The XML to edit (re-read to detect changes made by others meanwhile). */
  get(): Promise<string>;
  /**
   * Defines the edited XML; returns the resulting object's name. `validate` is true while the
   * edit validates against the schema (`relax` targets until the user turns it off with "i").
   */
  define(xml: string, validate: boolean): Promise<string>;
  /** "Domain 'vm1'" / "Network default": how messages name the object. */
  label(name: string): string;
  name: string;
  /** Validate, and offer "i - turn off validation" (virsh EDIT_RELAX; domains only). */
  relax: boolean;
}

/** `edit DOMAIN`: edit the persistent XML until it defines, is unchanged, or the user gives up. */
export async function editDomain(ctx: CmdContext): Promise<void> {
  const dom = await lookupDomain(ctx);
  const conn = await ctx.conn();
  await editDefinition(ctx, {
    get: () => conn.domainGetXMLDesc(dom.uuid, { inactive: true, secure: true }),
    // As virsh edit: validated against the schema unless --skip-validate or "i".
    define: async (xml, validate) => {
      if (validate) (await import('../conf/schema.js')).validateSchema('domain', xml);
      return (await conn.domainDefineXML(xml)).name;
    },
    label: (n) => `Domain '${n}'`,
    name: dom.name,
    relax: !ctx.flag('skip-validate'),
  });
}

/** virsh's edit loop: editor, define, and on failure "Try again?" (interactive) or the error. */
export async function editDefinition(ctx: CmdContext, t: EditTarget): Promise<void> {
  const getXml = t.get;
  let orig = await getXml();
  let text = orig;
  let relax = t.relax;
  reedit: while (true) {
    const edited = await editText(text, '.xml');
    if (edited === orig) {
      ctx.printExtra(`${t.label(t.name)} XML configuration not changed.\n`);
      return;
    }
    text = edited;
    while (true) {
      let msg: string | undefined;
      let failure: unknown;
      const reread = await getXml();
      if (reread !== orig) {
        msg = 'The XML configuration was changed by another user.';
        orig = reread;
      } else {
        try {
          const name = await t.define(edited, relax);
          ctx.printExtra(`${t.label(name)} XML configuration edited.\n`);
          return;
        } catch (e) {
          msg = 'Failed.';
          failure = e;
        }
      }
      if (!process.stdin.isTTY && !ctx.interactive) {
        throw new CliError(msg, ...(failure ? [errorText(failure)] : []));
      }
      if (failure) ctx.error(errorText(failure));
      const choices = relax ? '[y,n,i,f,?]' : '[y,n,f,?]';
      let c = '';
      while (true) {
        c = (await ctx.ask(`${msg} Try again? ${choices}: `)).trim().toLowerCase().slice(0, 1);
        if (c === '?') {
          ctx.print(
            `\ny - yes, start editor again\nn - no, throw away my changes\n${relax ? 'i - turn off validation and try to redefine again\n' : ''}f - force, try to redefine again\n? - print this help\n`,
          );
          continue;
        }
        if (c === 'y' || c === 'n' || c === 'f' || (relax && c === 'i')) break;
        if (c === '') break;
      }
      if (c === 'y') continue reedit;
      if (c === 'f') continue;
      if (c === 'i') {
        relax = false;
        continue;
      }
      if (c === 'n') return;
      throw new CliError(msg);
    }
  }
}
