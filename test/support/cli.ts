// The tvirt CLI as a child process (`node [--import tsx] src/cli/tvirt.ts -c URI CMDS`, or the built
// dist/src/cli/launch.cjs): exit code and everything it printed. The process ends on its own;
// nothing is left running.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/shell.js';

const fromTs = import.meta.url.endsWith('.ts');
/** `--import tsx` when running from the TypeScript sources. */
export const nodeArgs = fromTs ? ['--import', 'tsx'] : [];
/** Path of a source module under src/ (`.ts` from sources, `.js` when built). */
export const srcPath = (p: string) =>
  fileURLToPath(new URL(`../../src/${p}.${fromTs ? 'ts' : 'js'}`, import.meta.url));
/**
 * The `tvirt` command as installed: from sources src/cli/tvirt.ts; when built, the launcher that
 * runs the CommonJS bundle (package.json "bin"), so that tests drive what users run.
 */
export const tvirtPath = fromTs
  ? srcPath('cli/tvirt')
  : fileURLToPath(new URL('../../src/cli/launch.cjs', import.meta.url));

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `tvirt -c URI CMDS` (CMDS may hold several commands separated by `;`). */
export function cli(uri: string, cmds: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [...nodeArgs, tvirtPath, '-c', uri, cmds], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    c.once('close', (code) => resolve({ code, out, err }));
  });
}

/** Runs tvirt's CLI in process against URI: what it printed and its exit code. */
export async function runTvirt(
  uri: string,
  ...args: string[]
): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const code = await runCli(['-c', uri, ...args], {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  });
  return { out, err, code };
}
