// CPU/iothread id sets as libvirt writes them ("0-3,^1,8"): parse into sorted ids and format as ranges.
import { domErr } from './parse-util.js';

/** libvirt's error for a bitmap it cannot read (virBitmapParse). */
function bad(text: string): never {
  throw domErr('INVALID_ARG', `Failed to parse bitmap '${text}'`);
}

/** Parses a libvirt bitmap string into sorted unique ids. */
export function parseBitmap(text: string, _what = 'bitmap'): number[] {
  const set = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') bad(text);
    const neg = part.startsWith('^');
    const body = neg ? part.slice(1) : part;
    const m = /^(\d+)(?:-(\d+))?$/.exec(body);
    if (!m) return bad(text);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b > 65535) bad(text);
    for (let i = a; i <= b; i++) {
      if (neg) set.delete(i);
      else set.add(i);
    }
  }
  return [...set].sort((x, y) => x - y);
}

/** Formats sorted ids as "0-3,5". */
export function formatBitmap(ids: readonly number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < ids.length) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    out.push(j === i ? String(ids[i]) : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
