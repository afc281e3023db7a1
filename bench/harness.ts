// A small benchmark harness: repeated timed rounds, reported as median with min and max,
// because this machine is shared and noisy. Benchmarks print figures and never fail.
import { spawnSync } from 'node:child_process';

export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** Runs `fn` `rounds` times (after `warmup` untimed runs) and returns the milliseconds per round. */
export async function timeRounds(
  fn: () => unknown | Promise<unknown>,
  rounds: number,
  warmup = 1,
): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return stats(samples);
}

/** Times a whole command (spawned without a shell) `rounds` times; milliseconds. */
export function timeCommand(program: string, args: string[], rounds: number, warmup = 1): Stats | string {
  const samples: number[] = [];
  for (let i = 0; i < rounds + warmup; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error || r.status !== 0)
      return `${program} failed: ${r.error?.message ?? r.stderr?.toString().trim()}`;
    if (i >= warmup) samples.push(ms);
  }
  return stats(samples);
}

export function fmt(s: Stats, unit = 'ms', digits = 1): string {
  return `median ${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)}, n=${s.n})`;
}

export function has(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', program]).status === 0;
}
