// The storage backend contract (libvirt virStorageBackend): one implementation per pool type, no state of its own.
import type { PoolDef, PoolType, VolumeDef } from '../../conf/storage/index.js';
import type { Runner } from '../../host/run.js';
import type { FileJob, SparseChunk } from '../../host/storage-file.js';
import { VirError } from '../../util/errors.js';

export type { FileJob, SparseChunk };

/** pool-build flags (VIR_STORAGE_POOL_BUILD_OVERWRITE / _NO_OVERWRITE); mutually exclusive. */
export interface BuildPoolFlags {
  overwrite?: boolean;
  noOverwrite?: boolean;
}

/** vol-create flags. */
export interface BuildVolFlags {
  /** VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA (qcow2 only). */
  preallocMetadata?: boolean;
  /** VIR_STORAGE_VOL_CREATE_REFLINK (buildVolFrom): a copy-on-write clone or a failure. */
  reflink?: boolean;
}

/** The failure of a reflink the storage cannot make (`by`: "the file system of '/dir'", ...). */
export function reflinkUnsupported(by: string, cause?: unknown): VirError {
  return storageError(
    'OPERATION_UNSUPPORTED',
    `Operation not supported: reflink is not supported by ${by}`,
    cause,
  );
}

/** vol-resize flags (VIR_STORAGE_VOL_RESIZE_*); `capacity` is absolute by the time a backend sees it. */
export interface ResizeVolFlags {
  allocate?: boolean;
  shrink?: boolean;
}

/** What a pool refresh finds: its sizes and its volumes (with path, key, sizes, format, backing). */
export interface PoolRefresh {
  capacity: number;
  allocation: number;
  available: number;
  volumes: VolumeDef[];
  /** The target directory's mode, owner and group as found (libvirt shows them in the live XML). */
  targetPerms?: { mode: number; owner: number; group: number };
}

/** Upload/download window (virStorageVolUpload/Download offset and length; 0 length = to the end). */
export interface StreamWindow {
  offset?: number;
  length?: number;
  /** VIR_STORAGE_VOL_UPLOAD/DOWNLOAD_SPARSE_STREAM: holes travel as { hole: n } chunks. */
  sparse?: boolean;
}

/** What every backend gets: the command runner and the qemu-img program. */
export interface BackendEnv {
  runner: Runner;
  qemuImg: string;
}

/** Wipe algorithms (virStorageVolWipeAlgorithm); only 'zero' is done without the scrub tool. */
export type WipeAlgorithm =
  | 'zero'
  | 'nnsa'
  | 'dod'
  | 'bsi'
  | 'gutmann'
  | 'schneier'
  | 'pfitzner7'
  | 'pfitzner33'
  | 'random'
  | 'trim';

/**
 * One pool type's operations. The driver validates names, pool state and flags first, and holds
 * the pool's job; a backend only does the work. Volume-building calls create under a temporary
 * name and publish the volume at the end, so a failed or cancelled build leaves nothing behind.
 */
export interface StorageBackend {
  readonly type: PoolType;
  /** True when the pool's resources are already up (directory present, file system mounted, VG active). */
  checkPool(pool: PoolDef): Promise<boolean>;
  /** Creates the pool's resources (directory, file system, volume group). */
  buildPool?(pool: PoolDef, flags: BuildPoolFlags): Promise<void>;
  /** Makes the pool usable (mount, vgchange -ay); must refuse a target that is not a directory. */
  startPool?(pool: PoolDef): Promise<void>;
  stopPool?(pool: PoolDef): Promise<void>;
  /** Removes the pool's resources; only legal while inactive and empty. */
  deletePool?(pool: PoolDef): Promise<void>;
  refreshPool(pool: PoolDef): Promise<PoolRefresh>;
  /** Where a volume named `name` lives (libvirt's createVol sets target.path and key from it). */
  volPath(pool: PoolDef, name: string): string;
  /** Creates the volume from nothing (qemu-img create, lvcreate, a sparse raw file). */
  buildVol(pool: PoolDef, vol: VolumeDef, flags: BuildVolFlags, job: FileJob): Promise<void>;
  /** Creates the volume as a copy of `input` (a clone, or a conversion between formats). */
  buildVolFrom(
    pool: PoolDef,
    vol: VolumeDef,
    input: VolumeDef,
    flags: BuildVolFlags,
    job: FileJob,
  ): Promise<void>;
  /**
   * Reads a volume's current sizes, format and backing store. `justBuilt`: the volume was just
   * made from `vol` by buildVol, so its image header says what `vol` says (saves a qemu-img run).
   */
  refreshVol(pool: PoolDef, vol: VolumeDef, opts?: { justBuilt?: boolean }): Promise<VolumeDef>;
  deleteVol(pool: PoolDef, vol: VolumeDef): Promise<void>;
  resizeVol?(
    pool: PoolDef,
    vol: VolumeDef,
    capacity: number,
    flags: ResizeVolFlags,
    job: FileJob,
  ): Promise<void>;
  wipeVol?(pool: PoolDef, vol: VolumeDef, algorithm: WipeAlgorithm, job: FileJob): Promise<void>;
  uploadVol?(
    pool: PoolDef,
    vol: VolumeDef,
    source: AsyncIterable<SparseChunk | Uint8Array>,
    window: StreamWindow,
    job: FileJob,
  ): Promise<void>;
  downloadVol?(pool: PoolDef, vol: VolumeDef, window: StreamWindow, job: FileJob): AsyncIterable<SparseChunk>;
}

/** A STORAGE-domain VirError. */
export function storageError(
  code: ConstructorParameters<typeof VirError>[0],
  message: string,
  cause?: unknown,
): VirError {
  return new VirError(code, message, { domain: 'STORAGE', cause });
}

/**
 * Refuses volume names that could leave the pool directory or hide as temporary files:
 * '/', '.', '..', a leading '.', control characters, empty or over 255 bytes.
 */
export function checkVolumeName(name: string): void {
  if (name.includes('/')) throw storageError('OPERATION_INVALID', `volume name '${name}' cannot contain '/'`);
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.startsWith('.') ||
    /[\0-\x1f]/.test(name) ||
    Buffer.byteLength(name) > 255
  ) {
    throw storageError(
      'INVALID_ARG',
      `invalid volume name '${name}': it must not be empty, '.', '..', start with '.' or contain control characters`,
    );
  }
}

/** The temporary name a volume is built under before it is published (hidden from refresh). */
export function tempVolumeName(name: string): string {
  return `.${name}.tvirt-part-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** True for names made by tempVolumeName (left-overs of a crash; refresh skips them). */
export function isTempVolumeName(name: string): boolean {
  return name.startsWith('.') && name.includes('.tvirt-part-');
}

/** Maps ENOSPC/EDQUOT and friends to clear errors naming the volume and pool. */
export function volumeIoError(e: unknown, what: string, vol: string, pool: string): unknown {
  if (e instanceof VirError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return storageError(
      'SYSTEM_ERROR',
      `cannot ${what} volume '${vol}' in pool '${pool}': no space left on device; nothing was kept`,
      e,
    );
  if (typeof code === 'string')
    return storageError(
      'SYSTEM_ERROR',
      `cannot ${what} volume '${vol}' in pool '${pool}': ${(e as Error).message}`,
      e,
    );
  return e;
}
