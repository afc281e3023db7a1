// The dir backend (libvirt storage_backend_fs.c, dir part): volumes are files in the pool's target directory.
import { constants } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { PoolDef, VolumeDef } from '../../conf/storage/index.js';
import type { Command } from '../../host/run.js';
import {
  access,
  chmod,
  chown,
  copyVolumeFile,
  createSparseFile,
  errnoIs,
  fsSizes,
  mkdir,
  publishFile,
  readdir,
  readFileChunks,
  readHeader,
  realpath,
  reflinkCopy,
  rename,
  rmdir,
  statFile,
  truncate,
  unlink,
  writeStreamToFile,
  zeroWipe,
} from '../../host/storage-file.js';
import {
  type BackendEnv,
  type BuildPoolFlags,
  type BuildVolFlags,
  type FileJob,
  isTempVolumeName,
  reflinkUnsupported,
  type PoolRefresh,
  type ResizeVolFlags,
  type SparseChunk,
  type StorageBackend,
  type StreamWindow,
  storageError,
  tempVolumeName,
  volumeIoError,
  type WipeAlgorithm,
} from './backend.js';
import {
  imageFormat,
  parseImageInfo,
  qemuImgCreateCommands,
  qemuImgInfoCommand,
  qemuImgResizeCommand,
} from './qemu-img.js';

/** libvirt's VIR_STORAGE_DEFAULT_POOL_PERM_MODE and VIR_STORAGE_DEFAULT_VOL_PERM_MODE. */
export const DEFAULT_POOL_MODE = 0o711;
export const DEFAULT_VOL_MODE = 0o600;

/** Magic numbers of formats worth asking qemu-img about; anything else is raw (or an ISO). */
const magics: { format: string; at: number; bytes: Buffer }[] = [
  { format: 'qcow2', at: 0, bytes: Buffer.from('QFI\xfb', 'latin1') },
  { format: 'vmdk', at: 0, bytes: Buffer.from('KDMV') },
  { format: 'vdi', at: 64, bytes: Buffer.from([0x7f, 0x10, 0xda, 0xbe]) },
  { format: 'vpc', at: 0, bytes: Buffer.from('conectix') },
  { format: 'qed', at: 0, bytes: Buffer.from('QED\0', 'latin1') },
  { format: 'vhdx', at: 0, bytes: Buffer.from('vhdxfile') },
];

/** Runs qemu-img (or any command); `-p` progress "(NN.NN/100%)" turns into job progress. */
export async function runWithProgress(
  env: BackendEnv,
  cmd: Command,
  job: FileJob,
  total: number,
): Promise<void> {
  let c = cmd;
  if (cmd.args[0] === 'convert' && job.progress)
    c = { ...cmd, args: ['convert', '-p', ...cmd.args.slice(1)] };
  await env.runner.run(c, {
    signal: job.signal,
    onStdout: (text) => {
      const all = [...text.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
      const last = all.at(-1);
      if (last) job.progress?.(Math.round((Number(last[1]) / 100) * total), total);
    },
  });
}

export class DirBackend implements StorageBackend {
  readonly type: PoolDef['type'] = 'dir';
  constructor(protected readonly env: BackendEnv) {}

  protected target(pool: PoolDef): string {
    const p = pool.target?.path;
    if (!p) throw storageError('INTERNAL_ERROR', `pool '${pool.name}' has no target path`);
    return p;
  }

  volPath(pool: PoolDef, name: string): string {
    return join(this.target(pool), name);
  }

  async checkPool(pool: PoolDef): Promise<boolean> {
    try {
      return (await statFile(this.target(pool))).kind === 'dir';
    } catch {
      return false;
    }
  }

  async buildPool(pool: PoolDef, flags: BuildPoolFlags): Promise<void> {
    if (flags.overwrite && flags.noOverwrite)
      throw storageError('INVALID_ARG', "Flags 'overwrite' and 'no-overwrite' are mutually exclusive");
    const path = this.target(pool);
    const facts = await statFile(path).catch((e) => {
      if (errnoIs(e, 'ENOENT')) return undefined;
      throw e;
    });
    if (facts && facts.kind !== 'dir')
      throw storageError(
        'INVALID_ARG',
        `cannot build pool '${pool.name}': target path '${path}' exists and is not a directory`,
      );
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await mkdir(path, { recursive: true, mode: DEFAULT_POOL_MODE });
    const perms = pool.target?.perms;
    await chmod(path, perms?.mode ?? (facts ? facts.mode : DEFAULT_POOL_MODE));
    if (perms?.owner !== undefined || perms?.group !== undefined)
      await chown(path, perms.owner ?? -1, perms.group ?? -1);
  }

  async startPool(pool: PoolDef): Promise<void> {
    const path = this.target(pool);
    let facts: Awaited<ReturnType<typeof statFile>>;
    try {
      facts = await statFile(path);
    } catch (e) {
      if (errnoIs(e, 'ENOENT'))
        throw storageError(
          'OPERATION_INVALID',
          `cannot start pool '${pool.name}': target directory '${path}' does not exist; build it first (pool-build)`,
          e,
        );
      throw e;
    }
    if (facts.kind !== 'dir')
      throw storageError(
        'OPERATION_INVALID',
        `cannot start pool '${pool.name}': target path '${path}' is not a directory`,
      );
  }

  async deletePool(pool: PoolDef): Promise<void> {
    const path = this.target(pool);
    try {
      await rmdir(path);
    } catch (e) {
      if (errnoIs(e, 'ENOENT')) return;
      if (errnoIs(e, 'ENOTEMPTY', 'EEXIST'))
        throw storageError(
          'OPERATION_INVALID',
          `failed to remove pool '${pool.name}': directory '${path}' is not empty`,
          e,
        );
      throw storageError(
        'SYSTEM_ERROR',
        `failed to remove pool '${pool.name}' (${path}): ${(e as Error).message}`,
        e,
      );
    }
  }

  async refreshPool(pool: PoolDef): Promise<PoolRefresh> {
    const dir = this.target(pool);
    const entries = await readdir(dir, { withFileTypes: true });
    const volumes: VolumeDef[] = [];
    const names = entries
      .filter((e) => !isTempVolumeName(e.name) && (e.isFile() || e.isDirectory()))
      .map((e) => e.name);
    // A symlink is a volume only when it stays inside the pool: a link to /etc/shadow must never
    // become something vol-wipe or vol-upload would write through.
    const real = await realpath(dir);
    for (const e of entries) {
      if (!e.isSymbolicLink() || isTempVolumeName(e.name)) continue;
      const to = await realpath(join(dir, e.name)).catch(() => undefined);
      if (to?.startsWith(`${real}/`)) names.push(e.name);
    }
    // Four qemu-img processes at a time: enough to hide process start-up, kind to a small machine.
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++]!;
        const vol = await this.refreshVol(pool, {
          type: 'file',
          name,
          capacity: 0,
          allocation: 0,
          target: { path: join(dir, name) },
        }).catch(() => undefined);
        if (vol) volumes.push(vol);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    volumes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const facts = await statFile(dir);
    return {
      ...(await fsSizes(dir)),
      volumes,
      targetPerms: { mode: facts.mode & 0o777, owner: facts.uid, group: facts.gid },
    };
  }

  /** Probes the image format from its header; qemu-img is asked only about real image formats. */
  protected async probe(path: string): Promise<string> {
    const head = await readHeader(path, 72).catch(() => Buffer.alloc(0));
    for (const m of magics) if (head.subarray(m.at, m.at + m.bytes.length).equals(m.bytes)) return m.format;
    const iso = await readHeader(path, 5, 32769).catch(() => Buffer.alloc(0));
    return iso.toString('latin1') === 'CD001' ? 'iso' : 'raw';
  }

  async refreshVol(pool: PoolDef, vol: VolumeDef, opts: { justBuilt?: boolean } = {}): Promise<VolumeDef> {
    const path = vol.target.path ?? this.volPath(pool, vol.name);
    const facts = await statFile(path);
    const out: VolumeDef = {
      ...vol,
      key: path,
      target: {
        ...vol.target,
        path,
        timestamps: { atime: facts.atime, mtime: facts.mtime, ctime: facts.ctime },
      },
    };
    out.target.perms = { ...(vol.target.perms ?? {}), mode: facts.mode, owner: facts.uid, group: facts.gid };
    if (facts.kind === 'dir') {
      return {
        ...out,
        type: 'dir',
        capacity: facts.size,
        allocation: facts.allocated,
        target: { ...out.target, format: 'dir' },
      };
    }
    if (facts.kind !== 'file') throw storageError('INTERNAL_ERROR', `'${path}' is not a regular file`);
    const format = await this.probe(path);
    out.type = 'file';
    out.allocation = facts.allocated;
    out.physical = facts.size;
    out.backingStore = undefined;
    if (format === 'raw' || format === 'iso') {
      out.capacity = facts.size;
      out.target.format = format;
      return out;
    }
    const trusted =
      opts.justBuilt &&
      format === 'qcow2' &&
      vol.target.format === 'qcow2' &&
      !vol.backingStore &&
      vol.capacity % 512 === 0;
    const info = trusted
      ? {
          format,
          virtualSize: vol.capacity,
          compat: vol.target.compat ?? '1.1',
          clusterSize: vol.target.clusterSize ?? 65536,
          lazyRefcounts: vol.target.features?.includes('lazy_refcounts'),
          extendedL2: vol.target.features?.includes('extended_l2'),
          backingFile: undefined,
          backingFormat: undefined,
        }
      : parseImageInfo((await this.env.runner.run(qemuImgInfoCommand(path, this.env.qemuImg))).stdout);
    out.capacity = info.virtualSize;
    out.target.format = info.format;
    if (info.format === 'qcow2') {
      out.target.compat = info.compat;
      out.target.clusterSize = info.clusterSize;
      const feats: ('lazy_refcounts' | 'extended_l2')[] = [];
      if (info.lazyRefcounts) feats.push('lazy_refcounts');
      if (info.extendedL2) feats.push('extended_l2');
      out.target.features = feats.length > 0 ? feats : undefined;
    }
    if (info.backingFile) out.backingStore = { path: info.backingFile, format: info.backingFormat };
    return out;
  }

  /** Checks a backing store is readable (relative paths are inside the pool), as libvirt does. */
  protected async checkBacking(pool: PoolDef, vol: VolumeDef): Promise<void> {
    const b = vol.backingStore?.path;
    if (!b) return;
    const abs = isAbsolute(b) ? b : join(this.target(pool), b);
    try {
      await access(abs, constants.R_OK);
    } catch (e) {
      throw storageError(
        'SYSTEM_ERROR',
        `inaccessible backing store volume ${b}: ${(e as Error).message}`,
        e,
      );
    }
  }

  /** Builds into a temporary name, publishes it under the volume's name, removes it on any failure. */
  protected async viaTemp(
    pool: PoolDef,
    vol: VolumeDef,
    what: string,
    work: (tmp: string) => Promise<void>,
  ): Promise<void> {
    const path = vol.target.path!;
    const tmp = join(dirname(path), tempVolumeName(vol.name));
    try {
      await work(tmp);
      await chmod(tmp, vol.target.perms?.mode ?? DEFAULT_VOL_MODE);
      const p = vol.target.perms;
      if (p?.owner !== undefined || p?.group !== undefined) await chown(tmp, p.owner ?? -1, p.group ?? -1);
      await publishFile(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      if (errnoIs(e, 'EEXIST'))
        throw storageError('STORAGE_VOL_EXIST', `storage volume '${vol.name}' exists already`, e);
      throw this.mapIo(e, what, vol, pool);
    }
  }

  protected mapIo(e: unknown, what: string, vol: VolumeDef, pool: PoolDef): unknown {
    const msg = (e as Error)?.message ?? '';
    if (/No space left on device/i.test(msg) && !errnoIs(e, 'ENOSPC'))
      return storageError(
        'SYSTEM_ERROR',
        `cannot ${what} volume '${vol.name}' in pool '${pool.name}': no space left on device; nothing was kept`,
        e,
      );
    return volumeIoError(e, what, vol.name, pool.name);
  }

  /** LUKS needs a passphrase file from a secret driver, which tvirt does not have yet. */
  protected refuseEncryption(...vols: VolumeDef[]): void {
    if (vols.some((v) => v.target.encryption))
      throw storageError(
        'CONFIG_UNSUPPORTED',
        'encrypted volumes are not supported yet: they need LUKS secrets from a secret driver, which tvirt does not have',
      );
  }

  async buildVol(pool: PoolDef, vol: VolumeDef, flags: BuildVolFlags, job: FileJob): Promise<void> {
    this.refuseEncryption(vol);
    await this.checkBacking(pool, vol);
    const format = imageFormat(vol);
    // Validate the qemu-img line up front, so a bad combination fails before anything is made.
    const plain = format === 'raw' && !vol.target.encryption && !vol.backingStore && !flags.preallocMetadata;
    if (!plain)
      qemuImgCreateCommands(vol, { preallocMetadata: flags.preallocMetadata, path: '/', secretPath: '/' });
    await this.viaTemp(pool, vol, 'create', async (tmp) => {
      if (plain) {
        await createSparseFile(tmp, vol.capacity, DEFAULT_VOL_MODE);
        const alloc = Math.min(vol.allocation, vol.capacity);
        if (alloc > 0)
          await this.env.runner.run(
            { program: 'fallocate', args: ['-l', String(alloc), tmp] },
            { signal: job.signal },
          );
        return;
      }
      const cmds = qemuImgCreateCommands(vol, { preallocMetadata: flags.preallocMetadata, path: tmp });
      for (const c of cmds) await this.env.runner.run(c, { signal: job.signal });
    });
  }

  /** A byte copy is a faithful clone when nothing about the image changes. */
  protected canCopy(vol: VolumeDef, input: VolumeDef, flags: BuildVolFlags): boolean {
    const same = <T>(a: T | undefined, b: T | undefined) => a === undefined || a === b;
    return (
      imageFormat(vol) === imageFormat(input) &&
      input.type === 'file' &&
      !vol.target.encryption &&
      !input.target.encryption &&
      !vol.backingStore &&
      !input.backingStore &&
      !flags.preallocMetadata &&
      same(vol.target.compat, input.target.compat ?? (imageFormat(input) === 'qcow2' ? '1.1' : undefined)) &&
      same(vol.target.clusterSize, input.target.clusterSize) &&
      (vol.target.features === undefined ||
        vol.target.features.join() === (input.target.features ?? []).join())
    );
  }

  async buildVolFrom(
    pool: PoolDef,
    vol: VolumeDef,
    input: VolumeDef,
    flags: BuildVolFlags,
    job: FileJob,
  ): Promise<void> {
    const src = input.target.path;
    if (!src) throw storageError('INVALID_ARG', 'missing input volume target path');
    this.refuseEncryption(vol, input);
    const format = imageFormat(vol);
    const copy = this.canCopy(vol, input, flags);
    // --reflink: blocks shared with the source, or nothing (a conversion writes new blocks).
    if (flags.reflink && (!copy || vol.capacity > input.capacity))
      throw storageError(
        'OPERATION_UNSUPPORTED',
        `Operation not supported: reflink needs a plain copy of volume '${input.name}': a ${
          copy ? 'larger capacity' : 'format or option change'
        } cannot share its blocks`,
      );
    if (!copy)
      qemuImgCreateCommands(vol, {
        inputVol: input,
        preallocMetadata: flags.preallocMetadata,
        path: '/',
        secretPath: '/',
        inputSecretPath: '/',
      });
    await this.viaTemp(pool, vol, 'clone into', async (tmp) => {
      if (copy && flags.reflink) {
        if (!(await reflinkCopy(src, tmp, job)))
          throw reflinkUnsupported(`the file system of '${dirname(tmp)}'`);
      } else if (copy) {
        await copyVolumeFile(this.env.runner, src, tmp, job);
      } else {
        const cmds = qemuImgCreateCommands(vol, {
          inputVol: input,
          preallocMetadata: flags.preallocMetadata,
          path: tmp,
        });
        for (const c of cmds) await runWithProgress(this.env, c, job, input.capacity);
      }
      if (vol.capacity > input.capacity) {
        if (format === 'raw') await truncate(tmp, vol.capacity);
        else
          await this.env.runner.run(
            qemuImgResizeCommand(tmp, format, vol.capacity, { program: this.env.qemuImg }),
            { signal: job.signal },
          );
      }
    });
  }

  async deleteVol(pool: PoolDef, vol: VolumeDef): Promise<void> {
    const path = vol.target.path ?? this.volPath(pool, vol.name);
    try {
      if (vol.type === 'dir') await rmdir(path);
      else await unlink(path);
    } catch (e) {
      if (errnoIs(e, 'ENOENT')) return;
      throw storageError(
        'SYSTEM_ERROR',
        `cannot delete volume '${vol.name}' (${path}): ${(e as Error).message}`,
        e,
      );
    }
  }

  async resizeVol(
    pool: PoolDef,
    vol: VolumeDef,
    capacity: number,
    flags: ResizeVolFlags,
    job: FileJob,
  ): Promise<void> {
    const path = vol.target.path!;
    const format = imageFormat(vol);
    if (vol.target.encryption)
      throw storageError('OPERATION_UNSUPPORTED', `resizing encrypted volume '${vol.name}' is not supported`);
    try {
      if (format === 'raw') {
        await truncate(path, capacity);
        if (flags.allocate && capacity > vol.capacity)
          await this.env.runner.run(
            {
              program: 'fallocate',
              args: ['-o', String(vol.capacity), '-l', String(capacity - vol.capacity), path],
            },
            { signal: job.signal },
          );
      } else {
        await this.env.runner.run(
          qemuImgResizeCommand(path, format, capacity, {
            shrink: flags.shrink && capacity < vol.capacity,
            program: this.env.qemuImg,
          }),
          { signal: job.signal },
        );
      }
    } catch (e) {
      throw this.mapIo(e, 'resize', vol, pool);
    }
  }

  async wipeVol(_pool: PoolDef, vol: VolumeDef, algorithm: WipeAlgorithm, job: FileJob): Promise<void> {
    const path = vol.target.path!;
    if (algorithm === 'trim') throw storageError('ARGUMENT_UNSUPPORTED', "'trim' algorithm not supported");
    if (algorithm !== 'zero') {
      await this.env.runner.run(
        { program: 'scrub', args: ['-f', '-p', algorithm, path] },
        { signal: job.signal },
      );
      return;
    }
    await zeroWipe(path, job);
    const format = imageFormat(vol);
    if (format !== 'raw' && vol.type === 'file') {
      // The zeroed file is no longer an image: give it a fresh, empty header of the same size.
      const fresh: VolumeDef = {
        ...vol,
        backingStore: undefined,
        target: { ...vol.target, encryption: undefined },
      };
      for (const c of qemuImgCreateCommands(fresh, { path }))
        await this.env.runner.run(c, { signal: job.signal });
    }
  }

  async uploadVol(
    pool: PoolDef,
    vol: VolumeDef,
    source: AsyncIterable<SparseChunk | Uint8Array>,
    w: StreamWindow,
    job: FileJob,
  ): Promise<void> {
    const path = vol.target.path!;
    if (!w.offset && !w.length) {
      // A whole-volume upload goes to a new file that replaces the volume only once complete. A
      // shorter upload keeps the volume's size, as libvirt's in-place write does (the rest reads
      // as zeros here, where libvirt would leave the old bytes).
      const tmp = join(dirname(path), tempVolumeName(vol.name));
      try {
        await writeStreamToFile(source, tmp, {
          ...job,
          create: true,
          mode: vol.target.perms?.mode ?? DEFAULT_VOL_MODE,
          total: vol.capacity,
        });
        const facts = await statFile(path);
        if ((await statFile(tmp)).size < facts.size) await truncate(tmp, facts.size);
        await chmod(tmp, facts.mode);
        await chown(tmp, facts.uid, facts.gid);
        await rename(tmp, path);
      } catch (e) {
        await unlink(tmp).catch(() => {});
        throw this.mapIo(e, 'upload into', vol, pool);
      }
      return;
    }
    try {
      await writeStreamToFile(source, path, {
        ...job,
        offset: w.offset,
        maxLength: w.length || undefined,
        total: w.length || vol.capacity,
      });
    } catch (e) {
      throw this.mapIo(e, 'upload into', vol, pool);
    }
  }

  downloadVol(_pool: PoolDef, vol: VolumeDef, w: StreamWindow, job: FileJob): AsyncIterable<SparseChunk> {
    return readFileChunks(vol.target.path!, { ...job, offset: w.offset, length: w.length, sparse: w.sparse });
  }
}
