// The per-domain QEMU log (libvirt's /var/log/libvirt/qemu/NAME.log): a header with the command line
// at each start, QEMU's own stdout/stderr, and a "shutting down" line at each stop.
import { closeSync, openSync, writeSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdirp } from '../../host/fs-util.js';
import { libvirtTimestamp } from '../../util/units.js';
import type { QemuCommand } from './command.js';

export const TVIRT_VERSION = '0.1.0';

/** Quotes one argument for the log the way libvirt's virCommandToString does (sh-compatible). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command on one line, environment first, as `virsh domxml-to-native qemu-argv` prints it. */
export function commandToString(cmd: QemuCommand): string {
  return [
    ...Object.entries(cmd.env).map(([k, v]) => `${k}=${shellQuote(v)}`),
    ...[cmd.program, ...cmd.args].map(shellQuote),
  ].join(' ');
}

/** The log file of a domain: LOGDIR/NAME.log. */
export function domainLogPath(logDir: string, name: string): string {
  return join(logDir, `${name}.log`);
}

/** An opened log for one start: the fd QEMU writes to, and where this start's text begins. */
export interface StartLog {
  path: string;
  fd: number;
  /** Byte offset of this start's header: error messages quote from here. */
  offset: number;
}

/**
 * Opens (appending, creating with 0600) the domain log and writes the start header and the
 * command line, one argument per continuation line, like libvirt. The caller hands `fd` to QEMU as
 * stdout/stderr and closes its own copy.
 */
export async function openStartLog(path: string, cmd: QemuCommand): Promise<StartLog> {
  await mkdirp(join(path, '..'), 0o700);
  const fd = openSync(path, 'a', 0o600);
  let offset = 0;
  try {
    offset = (await stat(path)).size;
    const lines = [
      `${libvirtTimestamp()}: starting up tvirt version: ${TVIRT_VERSION}, hostname: ${hostname()}`,
      ...Object.entries(cmd.env).map(([k, v]) => `${k}=${shellQuote(v)} \\`),
      ...[cmd.program, ...cmd.args].map((a, i, all) =>
        i === all.length - 1 ? shellQuote(a) : `${shellQuote(a)} \\`,
      ),
    ];
    writeSync(fd, `${lines.join('\n')}\n`);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return { path, fd, offset };
}

/** Appends one timestamped line (e.g. "shutting down, reason=destroyed"). Never throws. */
export async function appendLogLine(path: string, text: string): Promise<void> {
  try {
    const fh = await open(path, 'a', 0o600);
    try {
      await fh.write(`${libvirtTimestamp()}: ${text}\n`);
    } finally {
      await fh.close();
    }
  } catch {
    // A log line is worth less than the operation that writes it.
  }
}

/**
 * QEMU's own output since `offset` (the header and command line skipped), last `maxLines` lines:
 * what an error message quotes when QEMU fails to start.
 */
export async function readLogTail(path: string, offset: number, maxLines = 5): Promise<string> {
  let text = '';
  try {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      const from = Math.max(offset, size - 16384);
      const buf = Buffer.alloc(size - from);
      await fh.read(buf, 0, buf.length, from);
      text = buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  // Skip the header and the command line (continuation lines end with a backslash, the last doesn't).
  let i = 0;
  if (lines[0]?.includes(': starting up tvirt')) {
    i = 1;
    while (i < lines.length && lines[i]!.endsWith(' \\')) i++;
    i++;
  }
  // QEMU's notes about pty paths are not what went wrong.
  const own = lines.slice(i).filter((l) => !/^char device redirected to /.test(l));
  return own.slice(-maxLines).join('\n');
}
