#!/usr/bin/env node
// tvirt: the virsh-compatible command line. Kept tiny; everything else loads on demand.
import { runCli } from './shell.js';

const io = {
  stdout: (t: string) => {
    process.stdout.write(t);
  },
  stderr: (t: string) => {
    process.stderr.write(t);
  },
  /** One answer from the terminal (edit's "Try again?"); undefined at end of input. */
  async readLine(prompt: string): Promise<string | undefined> {
    const { createInterface } = await import('node:readline');
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    return new Promise((resolve) => {
      let answered = false;
      rl.on('close', () => {
        if (!answered) resolve(undefined);
      });
      rl.question(prompt, (a) => {
        answered = true;
        rl.close();
        resolve(a);
      });
    });
  },
};

// `tvirt list | head`: a closed pipe ends the program quietly, as for other Unix tools.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
