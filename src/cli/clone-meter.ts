// virt-clone's progress meter (virtinst/_progresspriv.py TextMeter): a live line per disk on a
// terminal, and the final `Allocating 'vm2.qcow2'        |  6.0 GB  00:06` line.

/** virt-clone's format_number: 1024 steps, at most 3 digits, e.g. '6.0 G', '512 M', '0 '. */
export function formatNumber(n: number): string {
  const symbols = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
  let v = n;
  let depth = 0;
  while (v > 999 && depth < symbols.length - 1) {
    depth++;
    v /= 1024;
  }
  const num = depth === 0 ? String(Math.trunc(v)) : v < 9.95 ? v.toFixed(1) : v.toFixed(0);
  return `${num} ${symbols[depth]}`;
}

/** virt-clone's format_time: MM:SS, or HH:MM:SS on terminals wider than 80 columns. */
export function formatTime(seconds: number, hours: boolean): string {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const p = (x: number) => String(x).padStart(2, '0');
  return hours ? `${p(hh)}:${p(mm)}:${p(ss)}` : `${p(mm + hh * 60)}:${p(ss)}`;
}

/** The final line of one disk: text padded to the width, size, elapsed time. */
export function endLine(text: string, bytes: number, seconds: number, width = 80): string {
  const hours = width > 80;
  const size = ` | ${formatNumber(bytes).padStart(5)}B`;
  const time = `  ${formatTime(seconds, hours)}`;
  const rest = Math.max(8, width - size.length - time.length - 5);
  return `${text.slice(0, rest).padEnd(rest)}${size}${time}${' '.repeat(5)}`;
}

/** A live line: text, percent, bar, rate, size, ETA. */
export function updateLine(text: string, done: number, total: number, seconds: number, width = 80): string {
  const hours = width > 80;
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? (total - done) / rate : 0;
  const tail = ` ${String(Math.floor(frac * 100)).padStart(2)}% ${'['}${'='.repeat(Math.floor(frac * 10)).padEnd(10)}] ${formatNumber(rate).padStart(5)}B/s | ${formatNumber(done).padStart(5)}B  ${rate > 0 ? formatTime(eta, hours) : hours ? '--:--:--' : '--:--'} ETA `;
  const rest = Math.max(8, width - tail.length);
  return `${text.slice(0, rest).padEnd(rest)}${tail}`;
}

export interface MeterOutput {
  /** Whether live (\r) updates may be drawn. */
  live: boolean;
  width: number;
  write(text: string): void;
}

/**
 * Turns overall clone progress (bytes over all disks) into per-disk meter lines, knowing each
 * disk's share from the plan.
 */
export class CloneMeter {
  private index = 0;
  private started = Date.now();
  private lastDraw = 0;
  private readonly offsets: number[] = [];

  constructor(
    private readonly disks: { label: string; bytes: number }[],
    private readonly out: MeterOutput,
    private readonly now: () => number = Date.now,
  ) {
    let sum = 0;
    for (const d of disks) {
      this.offsets.push(sum);
      sum += d.bytes;
    }
    this.started = now();
  }

  /** Overall progress: ends the lines of the disks passed, redraws the current one. */
  update(processed: number): void {
    while (
      this.index < this.disks.length &&
      processed >= this.offsets[this.index]! + this.disks[this.index]!.bytes
    ) {
      this.end(this.index);
      this.index++;
    }
    if (this.index >= this.disks.length || !this.out.live) return;
    const t = this.now();
    if (t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const d = this.disks[this.index]!;
    this.out.write(
      `\r${updateLine(d.label, processed - this.offsets[this.index]!, d.bytes, (t - this.started) / 1000, this.out.width)}\r`,
    );
  }

  /** Ends every remaining line (the clone finished). */
  finish(): void {
    while (this.index < this.disks.length) {
      this.end(this.index);
      this.index++;
    }
  }

  /** Clears a live line (the clone failed or was cancelled). */
  abort(): void {
    if (this.out.live && this.index < this.disks.length)
      this.out.write(`\r${' '.repeat(this.out.width - 1)}\r`);
  }

  private end(i: number): void {
    const t = this.now();
    const d = this.disks[i]!;
    this.out.write(
      `${this.out.live ? '\r' : ''}${endLine(d.label, d.bytes, (t - this.started) / 1000, this.out.width)}\n`,
    );
    this.started = t;
  }
}
