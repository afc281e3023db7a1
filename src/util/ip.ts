// IPv4/IPv6 addresses as values: parse/format, prefix <-> netmask, subnet membership, overlap, ranges.
import { isIPv4, isIPv6 } from 'node:net';

/** An IP address: its family and its value as an unsigned integer (32 or 128 bits). */
export interface IpAddr {
  family: 'ipv4' | 'ipv6';
  value: bigint;
}

/** Number of bits of an address of the family. */
export function familyBits(family: IpAddr['family']): number {
  return family === 'ipv4' ? 32 : 128;
}

/** Parses a textual IPv4 or IPv6 address, or returns undefined when it is not one. */
export function parseIp(text: string): IpAddr | undefined {
  const s = text.trim();
  if (isIPv4(s)) return { family: 'ipv4', value: v4ToBig(s) };
  if (!isIPv6(s)) return undefined;
  let str = s.replace(/%.*$/, '');
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (m) {
    const v = v4ToBig(m[2]!);
    str = `${m[1]}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head, tail] = str.includes('::') ? str.split('::') : [str, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(Number.parseInt(g, 16));
  return { family: 'ipv6', value };
}

function v4ToBig(s: string): bigint {
  return s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

/** Formats an address the way inet_ntop does (IPv6 compressed, lower case). */
export function formatIp(a: IpAddr): string {
  if (a.family === 'ipv4') {
    const o: number[] = [];
    for (let i = 3; i >= 0; i--) o.push(Number((a.value >> BigInt(i * 8)) & 0xffn));
    return o.join('.');
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((a.value >> BigInt(i * 16)) & 0xffffn));
  // Longest run (>= 2) of zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Normalizes a textual address (e.g. upper-case or uncompressed IPv6), or undefined if invalid. */
export function canonicalIp(text: string): string | undefined {
  const a = parseIp(text);
  return a ? formatIp(a) : undefined;
}

/** The netmask of a prefix length. */
export function netmaskFromPrefix(prefix: number, family: IpAddr['family'] = 'ipv4'): IpAddr {
  const bits = familyBits(family);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw new RangeError(`prefix ${prefix} out of range for ${family}`);
  }
  const all = (1n << BigInt(bits)) - 1n;
  return { family, value: (all << BigInt(bits - prefix)) & all };
}

/** The prefix length of a netmask, or -1 when its one bits are not contiguous. */
export function prefixFromNetmask(mask: IpAddr): number {
  const bits = familyBits(mask.family);
  let n = 0;
  let i = bits - 1;
  while (i >= 0 && (mask.value >> BigInt(i)) & 1n) {
    n++;
    i--;
  }
  for (; i >= 0; i--) if ((mask.value >> BigInt(i)) & 1n) return -1;
  return n;
}

/**
 * Default prefix of an IPv4 address with neither netmask nor prefix, by its old class as
 * libvirt does (A: 8, B: 16, C: 24), 64 for IPv6; -1 for class D/E.
 */
export function defaultPrefix(a: IpAddr): number {
  if (a.family === 'ipv6') return 64;
  const top = Number(a.value >> 24n);
  if (top < 128) return 8;
  if (top < 192) return 16;
  if (top < 224) return 24;
  return -1;
}

/** The network address of `a` under the prefix length. */
export function networkOf(a: IpAddr, prefix: number): IpAddr {
  return { family: a.family, value: a.value & netmaskFromPrefix(prefix, a.family).value };
}

/** True when `a` lies in the subnet `net/prefix` (same family). */
export function inSubnet(a: IpAddr, net: IpAddr, prefix: number): boolean {
  if (a.family !== net.family) return false;
  return networkOf(a, prefix).value === networkOf(net, prefix).value;
}

/** True when two subnets share at least one address. */
export function subnetsOverlap(a: IpAddr, pa: number, b: IpAddr, pb: number): boolean {
  if (a.family !== b.family) return false;
  const p = Math.min(pa, pb);
  return networkOf(a, p).value === networkOf(b, p).value;
}

/** Compares two addresses of one family: negative, zero or positive. */
export function compareIp(a: IpAddr, b: IpAddr): number {
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Number of addresses in the inclusive range start..end, or -1 when it is reversed/mixed. */
export function rangeSize(start: IpAddr, end: IpAddr): number {
  if (start.family !== end.family || end.value < start.value) return -1;
  const n = end.value - start.value + 1n;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** The broadcast address of an IPv4 subnet. */
export function broadcastOf(net: IpAddr, prefix: number): IpAddr {
  const mask = netmaskFromPrefix(prefix, net.family).value;
  const all = (1n << BigInt(familyBits(net.family))) - 1n;
  return { family: net.family, value: (net.value & mask) | (all & ~mask) };
}
