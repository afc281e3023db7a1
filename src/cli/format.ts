// Output helpers: virsh's vshTable layout, dominfo-style key/value lines, state words.
import type { DomainStateName } from '../drivers/connection.js';

/** Display width of a string (wide East Asian characters count 2, combining marks 0). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) continue;
    if (c >= 0x300 && c <= 0x36f) continue;
    if (
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1f64f) ||
      (c >= 0x20000 && c <= 0x3fffd)
    ) {
      w += 2;
    } else {
      w += 1;
    }
  }
  return w;
}

/**
 * Renders a table as virsh's vshTablePrint: each row starts with a space, cells are separated by
 * three spaces and padded to the column width (the last cell is not padded); under the header a
 * dashes line as long as the sum of (column width + 3). Without the header (virsh -q) the widths
 * come from the rows alone (vshTableGetColumnsWidths skips the header row then).
 */
export function renderTable(headerRow: string[], rows: string[][], header = true): string {
  const widths = headerRow.map((h) => (header ? displayWidth(h) : 0));
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, displayWidth(c));
    });
  }
  const line = (r: string[]) => {
    let s = '';
    r.forEach((c, i) => {
      s += i === 0 ? ' ' : '   ';
      s += c;
      if (i < r.length - 1) s += ' '.repeat(widths[i]! - displayWidth(c));
    });
    return `${s}\n`;
  };
  let out = '';
  if (header) {
    out += line(headerRow);
    out += `${'-'.repeat(widths.reduce((a, w) => a + w + 3, 0))}\n`;
  }
  for (const r of rows) out += line(r);
  return out;
}

/** virsh's `%-15s %s` lines (dominfo, and the like with another width). */
export function keyValue(pairs: [string, string][], width = 15): string {
  return pairs.map(([k, v]) => `${k.padEnd(width)} ${v}\n`).join('');
}

/** The state word virsh prints (virshDomainStateToString). */
export function stateText(state: DomainStateName): string {
  switch (state) {
    case 'running':
      return 'running';
    case 'blocked':
      return 'idle';
    case 'paused':
      return 'paused';
    case 'shutdown':
      return 'in shutdown';
    case 'shutoff':
      return 'shut off';
    case 'crashed':
      return 'crashed';
    case 'pmsuspended':
      return 'pmsuspended';
    default:
      return 'no state';
  }
}

/** The reason text virsh prints for `domstate --reason` (virshDomainStateReasonToString). */
export function reasonText(reason: string): string {
  const special: Record<string, string> = {
    from_snapshot: 'from snapshot',
    'from-snapshot': 'from snapshot',
    migration_canceled: 'migration canceled',
    save_canceled: 'save canceled',
    wakeup: 'event wakeup',
    postcopy: 'post-copy',
    postcopy_failed: 'post-copy failed',
    api_error: 'api error',
    starting_up: 'starting up',
    ioerror: 'I/O error',
  };
  return special[reason] ?? reason;
}
