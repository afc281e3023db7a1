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
};

runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
