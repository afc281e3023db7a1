// Commands as values (libvirt virCommand): build {program, args}, a Runner executes it; argv only, never a shell.
import { spawn } from 'node:child_process';
import { VirError } from '../util/errors.js';

/** A command line as plain data. Nothing here is ever interpreted by a shell. */
export interface Command {
  program: string;
  args: string[];
  /** Extra environment variables (merged over the daemon's). */
  env?: Record<string, string>;
  /** Data written to stdin, then stdin is closed. */
  stdin?: string | Uint8Array;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kills the process (SIGTERM) when aborted; the run then rejects with OPERATION_ABORTED. */
  signal?: AbortSignal;
  /** Resolve with a non-zero exit code instead of rejecting. */
  allowFailure?: boolean;
  /** Called with each piece of stdout as it arrives (progress output such as qemu-img -p). */
  onStdout?: (text: string) => void;
}

/** Executes commands. The one place (with host/process.ts) that starts programs. */
export interface Runner {
  run(cmd: Command, opts?: RunOptions): Promise<RunResult>;
}

/** The command as one line (for logs, errors and golden files); arguments with spaces are quoted. */
export function renderCommand(cmd: Command): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [cmd.program, ...cmd.args].map(q).join(' ');
}

function failure(cmd: Command, r: RunResult): VirError {
  const why = r.stderr.trim() || r.stdout.trim() || `exit status ${r.code}`;
  return new VirError('INTERNAL_ERROR', `${renderCommand(cmd)} failed: ${why}`, { domain: 'HOST' });
}

/** Runs real processes with spawn(program, argv). */
export class ProcessRunner implements Runner {
  run(cmd: Command, opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(aborted(cmd));
        return;
      }
      const child = spawn(cmd.program, cmd.args, {
        stdio: [cmd.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: cmd.env ? { ...process.env, ...cmd.env } : process.env,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (d: Buffer) => {
        out.push(d);
        opts.onStdout?.(d.toString('utf8'));
      });
      child.stderr?.on('data', (d: Buffer) => err.push(d));
      const onAbort = () => child.kill('SIGTERM');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (e: NodeJS.ErrnoException) => {
        opts.signal?.removeEventListener('abort', onAbort);
        const what = e.code === 'ENOENT' ? `${cmd.program}: command not found` : e.message;
        reject(
          new VirError('INTERNAL_ERROR', `cannot run ${cmd.program}: ${what}`, { domain: 'HOST', cause: e }),
        );
      });
      child.on('close', (code, sig) => {
        opts.signal?.removeEventListener('abort', onAbort);
        const r: RunResult = {
          code: code ?? (sig ? 128 : 1),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        };
        if (opts.signal?.aborted) reject(aborted(cmd));
        else if (r.code !== 0 && !opts.allowFailure) reject(failure(cmd, r));
        else resolve(r);
      });
      if (cmd.stdin !== undefined && child.stdin) {
        child.stdin.on('error', () => {});
        child.stdin.end(cmd.stdin);
      }
    });
  }
}

function aborted(cmd: Command): VirError {
  return new VirError('OPERATION_ABORTED', `operation aborted: ${cmd.program} was cancelled`, {
    domain: 'HOST',
  });
}

/** What a RecordingRunner answers for one command: a result, or undefined for success with no output. */
export type FakeResponder = (
  cmd: Command,
) => Partial<RunResult> | undefined | Promise<Partial<RunResult> | undefined>;

/** Test runner: records every command and answers from `responder` (default: success, no output). */
export class RecordingRunner implements Runner {
  readonly commands: Command[] = [];
  constructor(private readonly responder: FakeResponder = () => undefined) {}
  async run(cmd: Command, opts: RunOptions = {}): Promise<RunResult> {
    this.commands.push(cmd);
    const r = { code: 0, stdout: '', stderr: '', ...((await this.responder(cmd)) ?? {}) };
    if (r.code !== 0 && !opts.allowFailure) throw failure(cmd, r);
    return r;
  }
  /** The recorded command lines, rendered. */
  lines(): string[] {
    return this.commands.map(renderCommand);
  }
}

/** The default runner of the process. */
export const processRunner: Runner = new ProcessRunner();
