// Structured logs: one record per line (JSON or logfmt) to stderr and/or a log file, with levels.
import type { Writable } from 'node:stream';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'json' | 'logfmt';
  outputs?: Writable[];
  /** Fields on every record (e.g. component). */
  base?: LogFields;
  now?: () => Date;
}

function logfmtValue(v: unknown): string {
  let s: string;
  if (v instanceof Error) s = v.message;
  else if (typeof v === 'string') s = v;
  else s = JSON.stringify(v) ?? 'undefined';
  return /^[^\s"=\\]+$/.test(s) && s !== '' ? s : JSON.stringify(s);
}

export class Logger {
  readonly level: LogLevel;
  private readonly format: 'json' | 'logfmt';
  private readonly outputs: Writable[];
  private readonly base: LogFields;
  private readonly now: () => Date;

  constructor(opts: LoggerOptions = {}) {
    this.level = opts.level ?? 'info';
    this.format = opts.format ?? 'json';
    this.outputs = opts.outputs ?? [process.stderr];
    this.base = opts.base ?? {};
    this.now = opts.now ?? (() => new Date());
  }

  /** A logger with extra fixed fields, sharing outputs. */
  child(fields: LogFields): Logger {
    return new Logger({
      level: this.level,
      format: this.format,
      outputs: this.outputs,
      base: { ...this.base, ...fields },
      now: this.now,
    });
  }

  enabled(level: LogLevel): boolean {
    return ORDER[level] >= ORDER[this.level];
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const rec: LogFields = { time: this.now().toISOString(), level, msg, ...this.base, ...fields };
    for (const [k, v] of Object.entries(rec)) {
      if (v instanceof Error) rec[k] = { message: v.message, ...('code' in v ? { code: v.code } : {}) };
    }
    const line =
      this.format === 'json'
        ? JSON.stringify(rec)
        : Object.entries(rec)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}=${logfmtValue(v)}`)
            .join(' ');
    for (const out of this.outputs) out.write(line + '\n');
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
}

/** A logger that drops everything (tests, library use). */
export const nullLogger = new Logger({ level: 'error', outputs: [] });
