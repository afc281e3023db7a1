// Linked clones: which base images a clone's qcow2 overlays depend on, read from the clone's
// <metadata><tvirt:clone> record, and the refusals that protect those bases (start, vol-delete).
import type { DomainDef } from '../../conf/domain/index.js';
import type { XmlElement } from '../../util/xml.js';
import { VirError } from '../../util/errors.js';
import { CLONE_NS } from './clone-plan.js';

/** One disk of a linked clone: its target and the base image its overlay reads from. */
export interface LinkedBase {
  target: string;
  base: string;
  format?: string;
  /** The domain cloned from, when recorded. */
  original?: string;
}

function isElement(n: unknown): n is XmlElement {
  return typeof n === 'object' && n !== null && (n as XmlElement).type === 'element';
}

/** The base images `def` (a linked clone) depends on; empty for any other domain. */
export function linkedBasesOf(def: DomainDef): LinkedBase[] {
  const out: LinkedBase[] = [];
  for (const c of def.metadata?.children ?? []) {
    if (!isElement(c) || !/(^|:)clone$/.test(c.name)) continue;
    const ns = Object.entries(c.attrs).find(([k]) => k === 'xmlns' || k.startsWith('xmlns:'))?.[1];
    if (ns !== CLONE_NS) continue;
    for (const l of c.children) {
      if (!isElement(l) || !/(^|:)linked$/.test(l.name) || !l.attrs.base) continue;
      out.push({
        target: l.attrs.target ?? '',
        base: l.attrs.base,
        ...(l.attrs.format ? { format: l.attrs.format } : {}),
        ...(c.attrs.original ? { original: c.attrs.original } : {}),
      });
    }
  }
  return out;
}

/**
 * The names of the domains among `defs` whose linked disks are backed by `path` (the query the
 * QEMU driver's start and the storage driver's vol-delete use), sorted.
 */
export function linkedClonesOf(path: string, defs: Iterable<DomainDef>): string[] {
  const names = new Set<string>();
  for (const d of defs) if (linkedBasesOf(d).some((b) => b.base === path)) names.add(d.name);
  return [...names].sort();
}

/** The file paths of a domain's disks (file and block sources), by target. */
function diskPaths(def: DomainDef): { target: string; path: string; writable: boolean }[] {
  const out: { target: string; path: string; writable: boolean }[] = [];
  for (const d of def.devices.disks) {
    const p = d.source?.file ?? d.source?.dev;
    if (p) out.push({ target: d.target.dev, path: p, writable: !d.readonly && d.device !== 'cdrom' });
  }
  return out;
}

/**
 * Refuses starting `def` when one of its writable disks is the base of linked clones among `all`:
 * writing to a base corrupts every overlay made from it. Call before a domain starts.
 * @throws VirError OPERATION_INVALID naming the clones.
 */
export function checkStartAllowed(def: DomainDef, all: Iterable<DomainDef>): void {
  const others = [...all].filter((d) => d.uuid !== def.uuid);
  for (const { target, path, writable } of diskPaths(def)) {
    if (!writable) continue;
    const clones = linkedClonesOf(path, others);
    if (clones.length)
      throw new VirError(
        'OPERATION_INVALID',
        `Requested operation is not valid: cannot start '${def.name}': its disk ${target} (${path}) is the ` +
          `base image of linked clone(s) ${clones.join(', ')}; writing to it would corrupt them. ` +
          `Undefine the linked clones first (or make the disk readonly).`,
        { domain: 'DOMAIN' },
      );
  }
}

/** What may not be done to a base image while linked clones read it. */
export type BaseVolumeChange = 'delete' | 'wipe' | 'upload to' | 'resize';

/**
 * Refuses changing (deleting, wiping, uploading to, resizing) the volume at `path` while linked
 * clones among `all` are backed by it: their overlays read it.
 * @throws VirError OPERATION_INVALID naming the clones.
 */
export function checkVolumeChangeAllowed(
  path: string,
  all: Iterable<DomainDef>,
  change: BaseVolumeChange,
): void {
  const clones = linkedClonesOf(path, all);
  if (!clones.length) return;
  const what =
    change === 'delete'
      ? `volume '${path}' is the base image`
      : `cannot ${change} volume '${path}': it is the base image`;
  throw new VirError(
    'OPERATION_INVALID',
    `Requested operation is not valid: ${what} of linked clone(s) ${clones.join(', ')}; ` +
      `undefine them (and delete their disks) first.`,
    { domain: 'STORAGE' },
  );
}

/**
 * Refuses deleting the volume at `path` while linked clones among `all` are backed by it.
 * @throws VirError OPERATION_INVALID naming the clones.
 */
export function checkDeleteAllowed(path: string, all: Iterable<DomainDef>): void {
  checkVolumeChangeAllowed(path, all, 'delete');
}
