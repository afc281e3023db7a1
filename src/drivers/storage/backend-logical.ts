// logical pools (libvirt storage_backend_logical.c): an LVM volume group; volumes are logical volumes. Commands are pure values.
import type { PoolDef, VolumeDef } from '../../conf/storage/index.js';
import type { Command } from '../../host/run.js';
import {
  deviceSize,
  readFileChunks,
  statFile,
  writeStreamToFile,
  zeroWipe,
} from '../../host/storage-file.js';
import {
  type BackendEnv,
  type BuildPoolFlags,
  type BuildVolFlags,
  type FileJob,
  type PoolRefresh,
  type ResizeVolFlags,
  type SparseChunk,
  type StorageBackend,
  type StreamWindow,
  reflinkUnsupported,
  storageError,
  type WipeAlgorithm,
} from './backend.js';
import { runWithProgress } from './backend-dir.js';
import { imageFormat } from './qemu-img.js';
import { probeFsCommand } from './backend-fs.js';

const kib = (bytes: number) => `${Math.ceil(bytes / 1024)}K`;

/** LVM warns about every inherited descriptor; the warning only hides the real message. */
const lvmEnv = { LVM_SUPPRESS_FD_WARNINGS: '1' };

/** Runs an LVM command with lvmEnv. */
function lvm(cmd: Command): Command {
  return { ...cmd, env: { ...lvmEnv, ...cmd.env } };
}

function vgName(pool: PoolDef): string {
  const n = pool.source.name ?? pool.name;
  return n;
}

/** `vgchange -aly VG` (start) or `vgchange -aln VG` (stop). */
export function vgchangeCommand(pool: PoolDef, activate: boolean): Command {
  return { program: 'vgchange', args: [activate ? '-aly' : '-aln', vgName(pool)] };
}

/** pool-build: `pvcreate DEV` per device, then `vgcreate VG DEV...`. */
export function buildPoolCommands(pool: PoolDef, overwrite = false): Command[] {
  const devs = pool.source.devices.map((d) => d.path);
  if (devs.length === 0)
    throw storageError('INVALID_ARG', `pool '${pool.name}' has no source device to build a volume group on`);
  const pv = (d: string): Command => ({ program: 'pvcreate', args: overwrite ? ['-ff', '-y', d] : [d] });
  return [...devs.map(pv), { program: 'vgcreate', args: [vgName(pool), ...devs] }];
}

/** pool-delete: `vgremove -f VG`, then `pvremove DEV` per device. */
export function deletePoolCommands(pool: PoolDef): Command[] {
  return [
    { program: 'vgremove', args: ['-f', vgName(pool)] },
    ...pool.source.devices.map((d): Command => ({ program: 'pvremove', args: [d.path] })),
  ];
}

/**
 * `lvcreate --name NAME -L SIZE VG`; a volume whose allocation differs from its capacity becomes a
 * sparse snapshot (`-L ALLOC --type snapshot --virtualsize CAP`), as libvirt does.
 */
export function lvcreateCommand(pool: PoolDef, vol: VolumeDef): Command {
  const args = ['--name', vol.name, '-L'];
  if (vol.capacity !== vol.allocation)
    args.push(kib(vol.allocation || 1), '--type', 'snapshot', '--virtualsize');
  args.push(kib(vol.capacity));
  if (vol.backingStore) args.push('-s', vol.backingStore.path);
  else args.push(vgName(pool));
  return { program: 'lvcreate', args };
}

/** `lvremove -f /dev/VG/LV`. */
export function lvremoveCommand(path: string): Command {
  return { program: 'lvremove', args: ['-f', path] };
}

/** `lvresize [-f] -L SIZE /dev/VG/LV`. */
export function lvresizeCommand(path: string, capacity: number, shrink: boolean): Command {
  return { program: 'lvresize', args: [...(shrink ? ['-f'] : []), '-L', kib(capacity), path] };
}

/** `lvs` listing of a VG: name#uuid#size#attr#origin per line, sizes in bytes. */
export function lvsCommand(pool: PoolDef): Command {
  return {
    program: 'lvs',
    args: [
      '--noheadings',
      '--units',
      'b',
      '--nosuffix',
      '--separator',
      '#',
      '--options',
      'lv_name,lv_uuid,lv_size,lv_attr,origin',
      vgName(pool),
    ],
  };
}

/** `vgs` size and free bytes of a VG. */
export function vgsCommand(pool: PoolDef): Command {
  return {
    program: 'vgs',
    args: [
      '--noheadings',
      '--units',
      'b',
      '--nosuffix',
      '--separator',
      ':',
      '--options',
      'vg_size,vg_free',
      vgName(pool),
    ],
  };
}

/** Parses lvsCommand output into volumes (type block, key = LV uuid, path /dev/VG/LV). */
export function parseLvs(pool: PoolDef, text: string): VolumeDef[] {
  const vols: VolumeDef[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split('#');
    if (f.length < 4 || !f[0]) continue;
    const [name, uuid, size, attr, origin] = f as [string, string, string, string, string | undefined];
    // Thin pools, mirror logs and other internal LVs ('[name]') are not volumes.
    if (name.startsWith('[') || attr.startsWith('t')) continue;
    const cap = Number(size);
    const path = `/dev/${vgName(pool)}/${name}`;
    vols.push({
      type: 'block',
      name,
      key: uuid,
      capacity: cap,
      allocation: cap,
      target: { path },
      backingStore: origin ? { path: `/dev/${vgName(pool)}/${origin}` } : undefined,
    });
  }
  return vols;
}

export class LogicalBackend implements StorageBackend {
  readonly type = 'logical' as const;
  constructor(private readonly env: BackendEnv) {}

  volPath(pool: PoolDef, name: string): string {
    return `/dev/${vgName(pool)}/${name}`;
  }

  async checkPool(pool: PoolDef): Promise<boolean> {
    const r = await this.env.runner.run(lvm(vgsCommand(pool)), { allowFailure: true }).catch(() => undefined);
    return r?.code === 0;
  }

  async buildPool(pool: PoolDef, flags: BuildPoolFlags): Promise<void> {
    if (flags.overwrite && flags.noOverwrite)
      throw storageError('INVALID_ARG', "Flags 'overwrite' and 'no-overwrite' are mutually exclusive");
    if (!flags.overwrite) {
      for (const d of pool.source.devices) {
        const r = await this.env.runner.run(probeFsCommand(d.path), { allowFailure: true });
        if (r.stdout.trim())
          throw storageError(
            'STORAGE_POOL_BUILT',
            `Storage pool already built: device '${d.path}' holds a '${r.stdout.trim()}' signature; use --overwrite`,
          );
      }
    }
    for (const c of buildPoolCommands(pool, flags.overwrite)) await this.env.runner.run(lvm(c));
  }

  async startPool(pool: PoolDef): Promise<void> {
    await this.env.runner.run(lvm(vgchangeCommand(pool, true)));
  }

  async stopPool(pool: PoolDef): Promise<void> {
    await this.env.runner.run(lvm(vgchangeCommand(pool, false)));
  }

  async deletePool(pool: PoolDef): Promise<void> {
    for (const c of deletePoolCommands(pool)) await this.env.runner.run(lvm(c));
  }

  async refreshPool(pool: PoolDef): Promise<PoolRefresh> {
    const vgs = await this.env.runner.run(lvm(vgsCommand(pool)));
    const [size, free] = vgs.stdout.trim().split(':').map(Number) as [number, number];
    const lvs = await this.env.runner.run(lvm(lvsCommand(pool)));
    return { capacity: size, allocation: size - free, available: free, volumes: parseLvs(pool, lvs.stdout) };
  }

  async refreshVol(pool: PoolDef, vol: VolumeDef): Promise<VolumeDef> {
    const r = await this.env.runner.run(lvm(lvsCommand(pool)));
    const found = parseLvs(pool, r.stdout).find((v) => v.name === vol.name);
    if (!found) throw storageError('NO_STORAGE_VOL', `no storage vol with matching name '${vol.name}'`);
    return found;
  }

  private checkLvName(name: string): void {
    if (!/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/.test(name))
      throw storageError(
        'INVALID_ARG',
        `invalid logical volume name '${name}': use letters, digits and + _ . -`,
      );
  }

  async buildVol(pool: PoolDef, vol: VolumeDef, _flags: BuildVolFlags, job: FileJob): Promise<void> {
    this.checkLvName(vol.name);
    if (vol.target.encryption)
      throw storageError('CONFIG_UNSUPPORTED', 'storage pool does not support encrypted volumes');
    await this.env.runner.run(lvm(lvcreateCommand(pool, vol)), { signal: job.signal });
  }

  async buildVolFrom(
    pool: PoolDef,
    vol: VolumeDef,
    input: VolumeDef,
    flags: BuildVolFlags,
    job: FileJob,
  ): Promise<void> {
    if (flags.reflink) throw reflinkUnsupported(`logical volumes (pool '${pool.name}')`);
    await this.buildVol(pool, { ...vol, allocation: vol.capacity, backingStore: undefined }, flags, job);
    const path = this.volPath(pool, vol.name);
    try {
      const cmd: Command = {
        program: this.env.qemuImg,
        args: ['convert', '-n', '-f', imageFormat(input), '-O', 'raw', input.target.path!, path],
      };
      await runWithProgress(this.env, cmd, job, input.capacity);
    } catch (e) {
      await this.env.runner.run(lvm(lvremoveCommand(path))).catch(() => {});
      throw e;
    }
  }

  async deleteVol(pool: PoolDef, vol: VolumeDef): Promise<void> {
    await this.env.runner.run(lvm(lvremoveCommand(vol.target.path ?? this.volPath(pool, vol.name))));
  }

  async resizeVol(
    pool: PoolDef,
    vol: VolumeDef,
    capacity: number,
    flags: ResizeVolFlags,
    job: FileJob,
  ): Promise<void> {
    await this.env.runner.run(
      lvm(lvresizeCommand(vol.target.path ?? this.volPath(pool, vol.name), capacity, flags.shrink === true)),
      { signal: job.signal },
    );
  }

  async wipeVol(_pool: PoolDef, vol: VolumeDef, algorithm: WipeAlgorithm, job: FileJob): Promise<void> {
    if (algorithm !== 'zero')
      throw storageError(
        'ARGUMENT_UNSUPPORTED',
        `wipe algorithm '${algorithm}' is not supported for logical volumes`,
      );
    await zeroWipe(vol.target.path!, { ...job, size: await deviceSize(vol.target.path!) });
  }

  async uploadVol(
    _pool: PoolDef,
    vol: VolumeDef,
    source: AsyncIterable<SparseChunk | Uint8Array>,
    w: StreamWindow,
    job: FileJob,
  ): Promise<void> {
    const size = await deviceSize(vol.target.path!);
    const offset = w.offset ?? 0;
    await writeStreamToFile(source, vol.target.path!, {
      ...job,
      device: true,
      offset,
      maxLength: w.length || size - offset,
      total: w.length || size - offset,
    });
  }

  downloadVol(_pool: PoolDef, vol: VolumeDef, w: StreamWindow, job: FileJob): AsyncIterable<SparseChunk> {
    const path = vol.target.path!;
    return (async function* () {
      const size = (await statFile(path)).kind === 'block' ? await deviceSize(path) : undefined;
      yield* readFileChunks(path, { ...job, offset: w.offset, length: w.length, sparse: w.sparse, size });
    })();
  }
}
