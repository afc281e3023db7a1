// Enforces linked-clone protection on a whole connection (tvirtd wraps its composed connection, the
// test driver its own): starting a base domain read-write (start, create FILE), and deleting,
// wiping, uploading to or resizing a base volume, and undefining a base domain with its storage are
// refused while linked clones of it exist. Also answers which clones depend on which base, for
// dominfo and vol-info. The conf layer is loaded on first use: the test driver loads this module
// when a connection opens, and the CLI should not pay for parsing XML until a guarded call is made.
import type { DomainDef } from '../../conf/domain/index.js';
import type { Connection, HypervisorConnection, StorageVolRef } from '../connection.js';
import { CLONE_NS } from './clone-plan.js';
import {
  type BaseVolumeChange,
  checkStartAllowed,
  checkVolumeChangeAllowed,
  linkedBasesOf,
  linkedClonesOf,
} from './linked.js';

const conf = () => import('../../conf/domain/index.js');

/** The persistent definitions of every domain that is a linked clone (cheap: others are not parsed). */
export async function linkedCloneDefs(
  conn: Pick<HypervisorConnection, 'listDomains' | 'domainGetXMLDesc'>,
): Promise<DomainDef[]> {
  const out: DomainDef[] = [];
  const { parseDomain } = await conf();
  for (const d of await conn.listDomains()) {
    const xml = await conn.domainGetXMLDesc(d.uuid, { inactive: true }).catch(() => '');
    if (!xml.includes(CLONE_NS)) continue;
    try {
      out.push(parseDomain(xml));
    } catch {
      // an unparsable definition records nothing
    }
  }
  return out;
}

/**
 * `def` with its pool-volume disks given as file paths (through the connection's storage, when it
 * has pools), so that the path-based linked-clone checks see them.
 */
export async function withVolumePaths(conn: object, def: DomainDef): Promise<DomainDef> {
  const st = conn as Partial<Pick<Connection, 'storageVolGetPath'>>;
  if (typeof st.storageVolGetPath !== 'function') return def;
  const out = structuredClone(def);
  for (const d of out.devices.disks) {
    const s = d.source;
    if (d.type !== 'volume' || !s?.pool || !s.volume) continue;
    const path = await st.storageVolGetPath({ pool: s.pool, name: s.volume }).catch(() => undefined);
    if (path) s.file = path;
  }
  return out;
}

/** dominfo's view: the clones backed by this domain's disks, and the bases this domain's disks use. */
export async function linkedCloneInfo(
  conn: Pick<HypervisorConnection, 'listDomains' | 'domainGetXMLDesc'>,
  ref: string,
): Promise<{ clones: string[]; bases: { target: string; base: string; original?: string }[] }> {
  const { parseDomain } = await conf();
  const def = await withVolumePaths(conn, parseDomain(await conn.domainGetXMLDesc(ref, { inactive: true })));
  const clones = await linkedCloneDefs(conn);
  const names = new Set<string>();
  for (const d of def.devices.disks) {
    const p = d.source?.file ?? d.source?.dev;
    if (p) for (const n of linkedClonesOf(p, clones)) if (n !== def.name) names.add(n);
  }
  return { clones: [...names].sort(), bases: linkedBasesOf(def) };
}

/**
 * The paths of a domain's disks that are pool volumes (what removing its storage deletes): volume
 * disks resolved through `conn`, and file or block disks its storage knows by path.
 */
async function volumePathsOf(conn: object, def: DomainDef): Promise<string[]> {
  const st = conn as Partial<Pick<Connection, 'storageVolLookupByPath'>>;
  const out: string[] = [];
  for (const d of (await withVolumePaths(conn, def)).devices.disks) {
    const p = d.source?.file ?? d.source?.dev;
    if (!p) continue;
    if (d.type === 'volume') out.push(p);
    else if (typeof st.storageVolLookupByPath === 'function')
      if (
        await st.storageVolLookupByPath(p).then(
          () => true,
          () => false,
        )
      )
        out.push(p);
  }
  return out;
}

/** Refuses `change` of the volume `ref` while it is the base of linked clones. */
async function guardVolume(target: Connection, ref: StorageVolRef, change: BaseVolumeChange): Promise<void> {
  // A volume that cannot be found is left to the call itself, which reports it as it does.
  const path = await target.storageVolGetPath(ref).catch(() => undefined);
  if (path === undefined) return;
  const defs = await linkedCloneDefs(target);
  if (defs.length) checkVolumeChangeAllowed(path, defs, change);
}

/** Refuses starting `def` read-write while one of its disks is the base of linked clones. */
async function guardStart(target: Connection, def: DomainDef): Promise<void> {
  const defs = await linkedCloneDefs(target);
  if (defs.length) checkStartAllowed(await withVolumePaths(target, def), defs);
}

/**
 * Refuses undefining domain `ref` together with its storage (removeAllStorage) while one of its
 * volumes is the base of linked clones, before anything is changed. Also what `undefine
 * --remove-all-storage` / `--storage` check on the client side before the undefine.
 * @param paths the volume paths that would be removed (default: every pool volume of its disks).
 * @throws VirError OPERATION_INVALID naming the clones.
 */
export async function checkUndefineStorageAllowed(
  conn: Pick<HypervisorConnection, 'listDomains' | 'domainGetXMLDesc'>,
  ref: string,
  paths?: string[],
): Promise<void> {
  const defs = await linkedCloneDefs(conn);
  if (!defs.length) return;
  const def = (await conf()).parseDomain(await conn.domainGetXMLDesc(ref, { inactive: true }));
  const others = defs.filter((d) => d.uuid !== def.uuid);
  for (const p of paths ?? (await volumePathsOf(conn, def))) checkVolumeChangeAllowed(p, others, 'delete');
}

/**
 * Wraps `conn` so that the calls that write or remove a base image check the linked-clone rules
 * first: domainCreate, domainCreateXML, storageVolDelete, storageVolWipe, storageVolUpload,
 * storageVolResize, and domainUndefine with removeAllStorage.
 */
export function protectLinkedBases<T extends Connection>(conn: T): T {
  return new Proxy(conn, {
    get(target, prop, receiver) {
      switch (prop) {
        case 'domainCreate':
          return async (ref: string, flags?: { paused?: boolean }) => {
            const { parseDomain } = await conf();
            await guardStart(target, parseDomain(await target.domainGetXMLDesc(ref, { inactive: true })));
            return target.domainCreate(ref, flags);
          };
        case 'domainCreateXML':
          return async (xml: string, flags?: { paused?: boolean }) => {
            let def: DomainDef | undefined;
            try {
              def = (await conf()).parseDomain(xml);
            } catch {
              // bad XML: the driver reports it as it does
            }
            if (def) await guardStart(target, def);
            return target.domainCreateXML(xml, flags);
          };
        case 'domainUndefine':
          return async (ref: string, flags?: { removeAllStorage?: boolean; nvram?: boolean }) => {
            if (flags?.removeAllStorage) await checkUndefineStorageAllowed(target, ref);
            return target.domainUndefine(ref, flags);
          };
        case 'storageVolDelete':
          return async (ref: StorageVolRef) => {
            await guardVolume(target, ref, 'delete');
            return target.storageVolDelete(ref);
          };
        case 'storageVolWipe':
          return async (ref: StorageVolRef, ...rest: unknown[]) => {
            await guardVolume(target, ref, 'wipe');
            return Reflect.apply(target.storageVolWipe, target, [ref, ...rest]) as Promise<void>;
          };
        case 'storageVolUpload':
          return async (ref: StorageVolRef, ...rest: unknown[]) => {
            await guardVolume(target, ref, 'upload to');
            return Reflect.apply(target.storageVolUpload, target, [ref, ...rest]) as Promise<void>;
          };
        case 'storageVolResize':
          return async (ref: StorageVolRef, ...rest: unknown[]) => {
            await guardVolume(target, ref, 'resize');
            return Reflect.apply(target.storageVolResize, target, [ref, ...rest]) as Promise<void>;
          };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
