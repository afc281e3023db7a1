// fs and netfs pools (libvirt storage_backend_fs.c): a block device, image file or export mounted on the target; volumes as in dir.
import type { PoolDef } from '../../conf/storage/index.js';
import type { Command } from '../../host/run.js';
import { findMount } from '../../host/storage-file.js';
import type { XmlElement } from '../../util/xml.js';
import type { BackendEnv, BuildPoolFlags } from './backend.js';
import { storageError } from './backend.js';
import { DirBackend } from './backend-dir.js';

/** Which default mount options apply (libvirt differs per OS; the fixtures hold all three). */
export type MountPlatform = 'linux' | 'freebsd' | 'other';

const defaultOpts: Record<MountPlatform, string[]> = {
  linux: ['nodev', 'nosuid', 'noexec'],
  freebsd: ['nosuid', 'noexec'],
  other: [],
};

/** <fs:mount_opts><fs:option name/></fs:mount_opts> kept in the pool's extras (any prefix). */
function namespaceMountOpts(pool: PoolDef): string[] {
  const out: string[] = [];
  for (const c of pool.extra?.children ?? []) {
    const n = c.node;
    if (n.type !== 'element' || !n.name.endsWith('mount_opts')) continue;
    for (const o of n.children) {
      const e = o as XmlElement;
      if (e.type === 'element' && e.name.endsWith('option') && e.attrs.name) out.push(e.attrs.name);
    }
  }
  return out;
}

/** What mount is given as the source: the device, host:dir, //host/share. */
export function mountSource(pool: PoolDef): string {
  const src = pool.source;
  if (pool.type === 'fs') {
    const dev = src.devices[0]?.path;
    if (!dev) throw storageError('INVALID_ARG', `pool '${pool.name}' has no source device`);
    return dev;
  }
  const host = src.hosts[0]?.name;
  const dir = src.dir ?? '';
  if (!host) throw storageError('INVALID_ARG', `pool '${pool.name}' has no source host`);
  if (src.format === 'cifs') return `//${host}/${dir.replace(/^\/+/, '')}`;
  if (src.format === 'glusterfs') return `${host}:${dir.startsWith('/') ? dir : `/${dir}`}`;
  return `${host}:${dir}`;
}

/** `mount -o OPTS -t FMT SOURCE TARGET` as libvirt's virStorageBackendFileSystemMountCmd. Pure. */
export function mountCommand(pool: PoolDef, platform: MountPlatform = 'linux'): Command {
  const target = pool.target?.path;
  if (!target) throw storageError('INVALID_ARG', `pool '${pool.name}' has no target path`);
  const fmt = pool.source.format ?? 'auto';
  const opts = [...defaultOpts[platform]];
  if (pool.type === 'netfs') {
    if (pool.source.protocolVer) opts.push(`nfsvers=${pool.source.protocolVer}`);
    if (fmt === 'glusterfs') opts.push('direct-io-mode=1');
    if (fmt === 'cifs') opts.push('guest');
  }
  opts.push(...namespaceMountOpts(pool));
  const args = opts.length > 0 ? ['-o', opts.join(',')] : [];
  args.push('-t', fmt, mountSource(pool), target);
  return { program: 'mount', args };
}

/** `umount TARGET`. */
export function umountCommand(pool: PoolDef): Command {
  return { program: 'umount', args: [pool.target!.path] };
}

/** `mkfs -t FMT [-F|-f] DEVICE` for pool-build of an fs pool (forced only with --overwrite). */
export function mkfsCommand(pool: PoolDef, overwrite: boolean): Command {
  const fmt = pool.source.format && pool.source.format !== 'auto' ? pool.source.format : 'ext4';
  const args = ['-t', fmt];
  if (overwrite && /^ext[234]$/.test(fmt)) args.push('-F');
  if (overwrite && fmt === 'xfs') args.push('-f');
  args.push(mountSource(pool));
  return { program: 'mkfs', args };
}

/** `blkid -p -o value -s TYPE DEVICE`: prints a file-system type when the device holds one. */
export function probeFsCommand(device: string): Command {
  return { program: 'blkid', args: ['-p', '-o', 'value', '-s', 'TYPE', device] };
}

export class FsBackend extends DirBackend {
  override readonly type: PoolDef['type'];
  constructor(env: BackendEnv, type: 'fs' | 'netfs' = 'fs') {
    super(env);
    this.type = type;
  }

  override async checkPool(pool: PoolDef): Promise<boolean> {
    return (await findMount(this.target(pool))) !== undefined;
  }

  override async buildPool(pool: PoolDef, flags: BuildPoolFlags): Promise<void> {
    await super.buildPool(pool, flags);
    if (pool.type !== 'fs' || (!flags.overwrite && !flags.noOverwrite)) return;
    if (flags.noOverwrite) {
      const r = await this.env.runner.run(probeFsCommand(mountSource(pool)), { allowFailure: true });
      const found = r.stdout.trim();
      if (found)
        throw storageError(
          'STORAGE_POOL_BUILT',
          `Storage pool already built: device '${mountSource(pool)}' already holds a '${found}' file system; use --overwrite to format it`,
        );
    }
    await this.env.runner.run(mkfsCommand(pool, flags.overwrite === true));
  }

  override async startPool(pool: PoolDef): Promise<void> {
    await super.startPool(pool);
    if (await this.checkPool(pool)) return;
    await this.env.runner.run(mountCommand(pool));
  }

  async stopPool(pool: PoolDef): Promise<void> {
    if (!(await this.checkPool(pool))) return;
    await this.env.runner.run(umountCommand(pool));
  }
}
