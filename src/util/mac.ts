// MAC addresses: parsing, formatting, and libvirt's 52:54:00 prefix for generated ones.
import { randomBytes } from 'node:crypto';
import { VirError } from './errors.js';

/** Normalises a MAC to lower-case colon form. @throws VirError INVALID_MAC when malformed. */
export function parseMac(text: string): string {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new VirError(
      'INVALID_MAC',
      `unable to parse mac address '${text}': expected six hex bytes such as 52:54:00:12:34:56`,
    );
  }
  return parts.map((p) => p.padStart(2, '0').toLowerCase()).join(':');
}

/** True for a multicast address (lowest bit of the first byte set), which a NIC may not use. */
export function isMulticastMac(mac: string): boolean {
  return (Number.parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

export type RandomBytes = (n: number) => Uint8Array;
export const defaultRandomBytes: RandomBytes = (n) => randomBytes(n);

/** A new MAC with libvirt's QEMU/KVM prefix 52:54:00. */
export function generateMac(rand: RandomBytes = defaultRandomBytes, prefix = '52:54:00'): string {
  const b = rand(3);
  return prefix + ':' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
