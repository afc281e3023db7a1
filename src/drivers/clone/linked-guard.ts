// Enforces linked-clone protection on a whole connection (tvirtd wraps its composed connection):
// starting a base domain read-write and deleting a base volume are refused while linked clones of
// it exist. Also answers which clones depend on which base, for dominfo and vol-info.
import { type DomainDef, parseDomain } from '../../conf/domain/index.js';
import type { Connection, HypervisorConnection, StorageVolRef } from '../connection.js';
import { CLONE_NS } from './clone-plan.js';
import { checkDeleteAllowed, checkStartAllowed, linkedBasesOf, linkedClonesOf } from './linked.js';

/** The persistent definitions of every domain that is a linked clone (cheap: others are not parsed). */
export async function linkedCloneDefs(
  conn: Pick<HypervisorConnection, 'listDomains' | 'domainGetXMLDesc'>,
): Promise<DomainDef[]> {
  const out: DomainDef[] = [];
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
  const def = await withVolumePaths(conn, parseDomain(await conn.domainGetXMLDesc(ref, { inactive: true })));
  const clones = await linkedCloneDefs(conn);
  const names = new Set<string>();
  for (const d of def.devices.disks) {
    const p = d.source?.file ?? d.source?.dev;
    if (p) for (const n of linkedClonesOf(p, clones)) if (n !== def.name) names.add(n);
  }
  return { clones: [...names].sort(), bases: linkedBasesOf(def) };
}

/** Wraps `conn` so that domainCreate and storageVolDelete check the linked-clone rules first. */
export function protectLinkedBases<T extends Connection>(conn: T): T {
  return new Proxy(conn, {
    get(target, prop, receiver) {
      if (prop === 'domainCreate') {
        return async (ref: string, flags?: { paused?: boolean }) => {
          const def = await withVolumePaths(
            target,
            parseDomain(await target.domainGetXMLDesc(ref, { inactive: true })),
          );
          checkStartAllowed(def, await linkedCloneDefs(target));
          return target.domainCreate(ref, flags);
        };
      }
      if (prop === 'storageVolDelete') {
        return async (ref: StorageVolRef) => {
          const path = await target.storageVolGetPath(ref);
          checkDeleteAllowed(path, await linkedCloneDefs(target));
          return target.storageVolDelete(ref);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
