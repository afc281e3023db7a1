// UUIDs as libvirt accepts them: 32 hex digits, optionally dashed (also in groups other than 8-4-4-4-12).
import { randomUUID } from 'node:crypto';
import { VirError } from './errors.js';

/** Normalises a UUID to lower-case 8-4-4-4-12 form. @throws VirError INVALID_ARG when malformed. */
export function parseUuid(text: string): string {
  const hex = text.trim().replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex) || /^-|--|-$/.test(text.trim())) {
    throw new VirError(
      'INVALID_ARG',
      `malformed uuid element: '${text}' is not a UUID such as 4dea22b3-1d52-d8f3-2516-782e98ab3fa0`,
    );
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isUuid(text: string): boolean {
  return /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(
    text.trim(),
  );
}

/** A source of randomness; injected into pure code so tests can fix it. */
export type UuidSource = () => string;
export const randomUuid: UuidSource = () => randomUUID();
