// The storage volumes behind a domain's disks, as virsh's `undefine --storage/--remove-all-storage`
// finds them (cmdUndefine): each disk's source is matched to a pool volume, by pool and name for
// <disk type='volume'>, by path otherwise. Shared by the CLI (which reports each volume as virsh
// does) and tvirtd (DELETE /v1/domains/{ref}?removeAllStorage, for the REST API and the web UI).
import { attr, child, childrenNamed, parseXml } from '../util/xml.js';
import type { StorageConnection, StorageVolSummary } from './connection.js';

export interface DiskSource {
  /** The disk's target device (vda, hdc ...). */
  target: string;
  /** File, directory, block device or volume name; absent for a disk without a source. */
  source?: string;
  /** The pool of a <disk type='volume'>. */
  pool?: string;
}

export interface DiskVolume {
  target: string;
  source: string;
  vol: StorageVolSummary;
}

/** Target, source and pool of each <devices><disk> of a domain XML (virsh reads the same attributes). */
export function domainDiskSources(xml: string): DiskSource[] {
  const devices = child(parseXml(xml), 'devices');
  return (devices ? childrenNamed(devices, 'disk') : []).map((disk) => {
    const target = attr(child(disk, 'target') ?? disk, 'dev') ?? '';
    const src = child(disk, 'source');
    if (!src) return { target };
    const source =
      attr(src, 'file') ?? attr(src, 'dir') ?? attr(src, 'name') ?? attr(src, 'dev') ?? attr(src, 'volume');
    const pool = attr(src, 'pool');
    return {
      target,
      ...(source !== undefined ? { source } : {}),
      ...(pool !== undefined ? { pool } : {}),
    };
  });
}

/**
 * The volumes of the domain's disks (all, or those whose target or source is in `wanted`).
 * `unmanaged` lists the disks whose source is not a pool volume; `notFound` the `wanted` entries
 * that are not disks of the domain.
 */
export async function domainVolumes(
  conn: Pick<StorageConnection, 'storageVolLookupByName' | 'storageVolLookupByPath'>,
  domainXml: string,
  wanted?: string[],
): Promise<{ volumes: DiskVolume[]; unmanaged: { target: string; source: string }[]; notFound: string[] }> {
  const want = wanted ? new Map(wanted.map((v) => [v, false])) : undefined;
  const volumes: DiskVolume[] = [];
  const unmanaged: { target: string; source: string }[] = [];
  for (const d of domainDiskSources(domainXml)) {
    if (d.source === undefined) continue;
    if (want) {
      const key = want.has(d.target) ? d.target : want.has(d.source) ? d.source : undefined;
      if (key === undefined) continue;
      want.set(key, true);
    }
    let vol: StorageVolSummary | undefined;
    try {
      vol = d.pool
        ? await conn.storageVolLookupByName(d.pool, d.source)
        : await conn.storageVolLookupByPath(d.source);
    } catch {
      vol = undefined;
    }
    if (vol) volumes.push({ target: d.target, source: d.source, vol });
    else unmanaged.push({ target: d.target, source: d.source });
  }
  const notFound = [...(want ?? [])].filter(([, found]) => !found).map(([name]) => name);
  return { volumes, unmanaged, notFound };
}
