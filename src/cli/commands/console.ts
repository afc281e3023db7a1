// `console`: the terminal in raw mode joined to the domain's console stream; Ctrl+] (0x1d) leaves.
import type { Duplex } from 'node:stream';
import { CliError, failWith, type CmdContext } from '../command.js';

/** The escape byte: Ctrl+] as virsh. */
export const ESCAPE = 0x1d;

/** Pipes `input` to `stream` and `stream` to `output` until the escape byte or the stream ends. */
export function joinConsole(
  stream: Duplex,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<'escape' | 'closed'> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (how: 'escape' | 'closed') => {
      if (done) return;
      done = true;
      input.off('data', onInput);
      stream.off('data', onOutput);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      resolve(how);
    };
    const onInput = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const i = buf.indexOf(ESCAPE);
      if (i >= 0) {
        if (i > 0) stream.write(buf.subarray(0, i));
        finish('escape');
        return;
      }
      stream.write(buf);
    };
    const onOutput = (chunk: Buffer) => output.write(chunk);
    const onEnd = () => finish('closed');
    input.on('data', onInput);
    stream.on('data', onOutput);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
  });
}

export async function runConsole(ctx: CmdContext, uuid: string, name: string, dev?: string): Promise<void> {
  const conn = await ctx.conn();
  const st = await conn.domainGetState(uuid);
  if (st.state === 'shutoff') throw new CliError('The domain is not running');
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new CliError('Cannot run interactive console without a controlling TTY');
  let stream: Duplex;
  try {
    stream = await conn.domainOpenConsole(uuid, dev);
  } catch (e) {
    failWith('internal error: cannot open console', e);
  }
  ctx.printExtra(`Connected to domain '${name}'\n`);
  ctx.printExtra('Escape character is ^] (Ctrl + ])\n');
  stdin.setRawMode(true);
  stdin.resume();
  try {
    await joinConsole(stream, stdin, process.stdout);
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    stream.destroy();
  }
  ctx.print('\n');
}
