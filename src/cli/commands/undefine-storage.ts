// `undefine --storage LIST | --remove-all-storage [--wipe-storage]`, done on the client side as virsh
// does (cmdUndefine): the domain's disks are matched to pool volumes before the undefine, and the
// volumes are deleted after it, each reported on its own. Volumes that are base images of linked
// clones make the command fail before anything is changed.
import type { Connection } from '../../drivers/connection.js';
import { type DiskVolume, domainVolumes } from '../../drivers/domain-volumes.js';
import { CliError, type CmdContext, errorText } from '../command.js';

/**
 * The volumes to remove with the domain: all disks backed by a pool volume, or those named in
 * `list` (targets or sources). Disks outside any pool are reported ("not managed by libvirt").
 * @throws CliError when `list` names something that is not a disk of the domain.
 */
export async function volumesToRemove(
  ctx: CmdContext,
  conn: Connection,
  domainXml: string,
  list: string[] | undefined,
): Promise<DiskVolume[]> {
  const { volumes, unmanaged, notFound } = await domainVolumes(conn, domainXml, list);
  for (const d of unmanaged)
    ctx.error(`Storage volume '${d.target}'(${d.source}) is not managed by libvirt. Remove it manually.\n`);
  if (notFound.length) throw new CliError(`Volume '${notFound[0]}' was not found in domain's definition.\n`);
  return volumes;
}

/** Deletes (optionally wipes first) each volume; returns false when one could not be removed. */
export async function removeVolumes(
  ctx: CmdContext,
  conn: Connection,
  vols: DiskVolume[],
  wipe: boolean,
): Promise<boolean> {
  let ok = true;
  for (const { target, source, vol } of vols) {
    const ref = { pool: vol.pool, name: vol.name };
    if (wipe) {
      try {
        await conn.storageVolWipe(ref, 'zero');
      } catch (e) {
        ctx.error(`Failed to wipe vol '${target}'(${source})`);
        ctx.error(errorText(e));
        ok = false;
        continue;
      }
    }
    try {
      await conn.storageVolDelete(ref);
      ctx.printExtra(`Volume '${target}'(${source}) removed.\n`);
    } catch (e) {
      ctx.error(`Failed to remove storage volume '${target}'(${source})`);
      ctx.error(errorText(e));
      ok = false;
    }
  }
  return ok;
}

/** The undefine options of this feature, in virsh's order around --remove-all-storage. */
export const storageOpt = {
  name: 'storage',
  type: 'string',
  namedOnly: true,
  help: 'remove associated storage volumes (comma separated list of targets or source paths) (see domblklist)',
} as const;
export const wipeStorageOpt = {
  name: 'wipe-storage',
  type: 'bool',
  help: 'wipe data on the removed volumes',
} as const;

/**
 * Before the undefine: checks the options and finds the volumes to remove (undefined when none
 * were asked for). After it, pass the result to finishUndefineStorage.
 */
export async function prepareUndefineStorage(
  ctx: CmdContext,
  domainUuid: string,
): Promise<DiskVolume[] | undefined> {
  const list = ctx.str('storage');
  const all = ctx.flag('remove-all-storage');
  if (list !== undefined && all) throw new CliError('Specified both --storage and --remove-all-storage');
  if (ctx.flag('wipe-storage') && list === undefined && !all)
    throw new CliError("'--wipe-storage' requires '--storage <string>' or '--remove-all-storage'");
  if (list === undefined && !all) return undefined;
  const conn = await ctx.conn();
  const xml = await conn.domainGetXMLDesc(domainUuid);
  const names = list?.split(',').filter((s) => s !== '');
  const vols = await volumesToRemove(ctx, conn, xml, names);
  // A base image of linked clones is refused here, before the undefine and any wipe change anything.
  if (vols.length) {
    const { checkUndefineStorageAllowed } = await import('../../drivers/clone/linked-guard.js');
    try {
      await checkUndefineStorageAllowed(
        conn,
        domainUuid,
        vols.map((v) => v.vol.path),
      );
    } catch (e) {
      throw new CliError(`Failed to undefine domain '${ctx.str('domain') ?? domainUuid}'`, errorText(e));
    }
  }
  return vols;
}

/** After a successful undefine: removes the volumes; a failed removal makes the command fail. */
export async function finishUndefineStorage(ctx: CmdContext, vols: DiskVolume[] | undefined): Promise<void> {
  if (!vols) return;
  if (!(await removeVolumes(ctx, await ctx.conn(), vols, ctx.flag('wipe-storage')))) throw new CliError();
}
