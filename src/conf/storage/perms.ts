// <permissions> (mode, owner, group, label) of pool targets, volume targets and backing stores; path sanitizing.
import { confError } from '../../util/errors.js';
import { childText, elem, textElem, type XmlElement } from '../../util/xml.js';
import { keep } from '../network/keep.js';
import type { Extra } from '../../util/xml.js';

/** File permissions as libvirt keeps them; absent fields are inherited/left alone. */
export interface StoragePerms {
  /** Octal mode bits (<= 0o777). */
  mode?: number;
  owner?: number;
  group?: number;
  label?: string;
  extra?: Extra;
}

function id(text: string | undefined, what: 'owner' | 'group'): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  const n = t === '' ? Number.NaN : Number(t);
  // -1 (and its unsigned twin) means "not set": libvirt once wrote it out, so it still reads it.
  if (n === -1 || n === 4294967295) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > 4294967295)
    throw confError('XML_ERROR', `malformed ${what} element`);
  return n;
}

/** Parses a <permissions> element (undefined element -> undefined). */
export function parsePerms(el: XmlElement | undefined): StoragePerms | undefined {
  if (!el) return undefined;
  const p: StoragePerms = {};
  const mode = childText(el, 'mode');
  if (mode !== undefined) {
    const t = mode.trim();
    const n = /^[0-7]+$/.test(t) ? Number.parseInt(t, 8) : Number.NaN;
    if (!Number.isInteger(n) || n & ~0o777) throw confError('XML_ERROR', 'malformed octal mode');
    p.mode = n;
  }
  p.owner = id(childText(el, 'owner'), 'owner');
  p.group = id(childText(el, 'group'), 'group');
  p.label = childText(el, 'label');
  p.extra = keep(el, [], ['mode', 'owner', 'group', 'label']);
  return p;
}

/** Formats <permissions>, or nothing when no field is set. */
export function formatPerms(p: StoragePerms | undefined): XmlElement | undefined {
  if (!p) return undefined;
  if (
    p.mode === undefined &&
    p.owner === undefined &&
    p.group === undefined &&
    p.label === undefined &&
    !p.extra
  ) {
    return undefined;
  }
  return elem(
    'permissions',
    {},
    [
      p.mode !== undefined ? textElem('mode', `0${p.mode.toString(8)}`) : undefined,
      textElem('owner', p.owner),
      textElem('group', p.group),
      textElem('label', p.label),
    ],
    p.extra,
  );
}

/** libvirt's virFileSanitizePath: collapses repeated slashes and drops a trailing one (keeps a leading '//'). */
export function sanitizePath(path: string): string {
  const lead = path.startsWith('//') && !path.startsWith('///') ? '/' : '';
  let s = path.replace(/\/{2,}/g, '/');
  if (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  return lead + s;
}
