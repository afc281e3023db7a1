// Scaled integers as libvirt reads them (virScaleInteger): "1024 KiB", "4 G", "2 GB", "100 bytes".
import { VirError } from './errors.js';

const powers: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/**
 * Multiplier for a unit suffix. Empty means `defaultScale`; b/byte/bytes mean 1; K, KiB (any case)
 * mean 1024; KB means 1000; and likewise for M, G, T, P, E.
 * @throws VirError INVALID_ARG for an unknown unit.
 */
export function unitScale(unit: string | undefined, defaultScale: number): number {
  if (unit === undefined || unit === '') return defaultScale;
  const u = unit.toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1;
  const p = powers[u[0]!];
  if (p !== undefined) {
    const rest = u.slice(1);
    if (rest === '' || rest === 'ib') return 1024 ** p;
    if (rest === 'b') return 1000 ** p;
  }
  throw new VirError('INVALID_ARG', `unknown suffix '${unit}'`);
}

/**
 * Parses a non-negative integer with a unit into bytes (or into units of `defaultScale` when the
 * caller's default unit is bytes, pass 1). Values above Number.MAX_SAFE_INTEGER are refused.
 */
export function scaleInteger(
  value: string,
  unit: string | undefined,
  defaultScale = 1,
  what = 'value',
): number {
  const v = value.trim();
  if (!/^\d+$/.test(v))
    throw new VirError('INVALID_ARG', `invalid ${what} '${value}': expected a non-negative integer`);
  const n = Number(v) * unitScale(unit, defaultScale);
  if (!Number.isSafeInteger(n))
    throw new VirError('INVALID_ARG', `${what} '${value}${unit ?? ''}' is too large`);
  return n;
}

/** Parses "10G", "512MiB", "1024" (bytes) as the CLI takes sizes (virsh vol-create-as). */
export function parseSize(text: string, defaultScale = 1): number {
  const m = /^\s*(\d+)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m)
    throw new VirError(
      'INVALID_ARG',
      `malformed size '${text}': expected a number with an optional unit such as 10G or 512MiB`,
    );
  return scaleInteger(m[1]!, m[2], defaultScale, 'size');
}

/**
 * Formats bytes the way virsh prints sizes: "1.00 GiB", "512.00 MiB", "0.00 B" (vol-info's two
 * decimals; domblkinfo --human's vshPrettyCapacity uses three).
 */
export function formatBytesHuman(bytes: number, decimals = 2): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(decimals)} ${units[i]}`;
}

/** libvirt's timestamp (virTimeStringNowRaw): "2026-11-25 23:10:00.123+0000", in UTC. */
export function libvirtTimestamp(ms: number = Date.now()): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}+0000`;
}
