// The storage part of the driver contract (libvirt virStoragePool*/virStorageVol*), for the lead to fold into Connection.
import type { Readable } from 'node:stream';
import type { PoolType } from '../../conf/storage/index.js';
import type { SparseChunk } from '../../host/storage-file.js';
import type { WipeAlgorithm } from './backend.js';

export type { SparseChunk, WipeAlgorithm };

/** Pool states (virStoragePoolState); tvirt uses inactive, building and running. */
export type StoragePoolStateName = 'inactive' | 'building' | 'running' | 'degraded' | 'inaccessible';

/** What `pool-list` shows for one pool. */
export interface StoragePoolSummary {
  name: string;
  uuid: string;
  type: PoolType;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
}

/** What `pool-info` shows. Sizes in bytes (0 while inactive). */
export interface StoragePoolInfo extends StoragePoolSummary {
  state: StoragePoolStateName;
  capacity: number;
  allocation: number;
  available: number;
}

/** `pool-list` filters (virConnectListAllStoragePools flags); absent means "any". */
export interface StoragePoolListFilter {
  active?: boolean;
  inactive?: boolean;
  persistent?: boolean;
  transient?: boolean;
  autostart?: boolean;
  noAutostart?: boolean;
  types?: PoolType[];
}

/** pool-build / pool-create --build flags. */
export interface StoragePoolBuildFlags {
  overwrite?: boolean;
  noOverwrite?: boolean;
}

/** pool-create / pool-create-as / pool-start flags. */
export interface StoragePoolCreateFlags extends StoragePoolBuildFlags {
  /** Build the pool before starting it (--build). */
  build?: boolean;
}

/** pool-delete flags. */
export interface StoragePoolDeleteFlags {
  /** Delete the pool's volumes too; without it a pool holding volumes is refused. */
  withVolumes?: boolean;
}

/** Volume types (virStorageVolType). */
export type StorageVolType = 'file' | 'block' | 'dir' | 'network' | 'netdir' | 'ploop';

/** One volume as `vol-list` shows it. */
export interface StorageVolSummary {
  name: string;
  pool: string;
  key: string;
  path: string;
  type: StorageVolType;
}

/** What `vol-info` shows. Sizes in bytes. */
export interface StorageVolInfo extends StorageVolSummary {
  capacity: number;
  allocation: number;
  /** Bytes the file takes on its file system (its length), when known. */
  physical?: number;
  format?: string;
  backingStore?: { path: string; format?: string };
}

/** Progress and cancellation of a long volume operation; a daemon JobContext can be passed as is. */
export interface StorageJobOptions {
  signal?: AbortSignal;
  progress?: (processed: number, total: number) => void;
}

/** vol-create / vol-create-from flags. */
export interface StorageVolCreateFlags {
  /** VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA (qcow2 only). */
  preallocMetadata?: boolean;
  /**
   * VIR_STORAGE_VOL_CREATE_REFLINK (storageVolCreateXMLFrom): a copy-on-write clone sharing the
   * source's blocks, or a failure (never a byte copy), like `cp --reflink=always`.
   */
  reflink?: boolean;
}

/** vol-resize flags (VIR_STORAGE_VOL_RESIZE_ALLOCATE / DELTA / SHRINK). */
export interface StorageVolResizeFlags {
  allocate?: boolean;
  delta?: boolean;
  shrink?: boolean;
}

/** vol-upload / vol-download window. */
export interface StorageVolStreamFlags {
  offset?: number;
  /** 0 or absent: to the end. */
  length?: number;
  /** Sparse stream: holes travel as { hole: n } objects (the stream is then in object mode). */
  sparse?: boolean;
}

/** A volume by name within a pool. Pools are named by name or UUID everywhere. */
export interface StorageVolRef {
  pool: string;
  name: string;
}

/** How a `<disk type='volume'>` source resolves when the domain starts. */
export interface ResolvedDiskVolume {
  /** The disk type the volume stands for. */
  diskType: 'file' | 'block' | 'dir';
  path: string;
  /** Image format of the volume (the disk's driver type when the domain XML gives none). */
  format?: string;
  pool: string;
  volume: string;
}

/**
 * Storage pools and volumes. Every method throws VirError with libvirt's codes: NO_STORAGE_POOL,
 * NO_STORAGE_VOL, OPERATION_INVALID (pool not active / already active / volume busy),
 * STORAGE_VOL_EXIST, INVALID_ARG, XML_ERROR, OPERATION_ABORTED (a cancelled job) ...
 */
export interface StorageApi {
  /** The storage pool capabilities XML (`pool-capabilities`). */
  storagePoolGetCapabilities(): Promise<string>;
  listStoragePools(filter?: StoragePoolListFilter): Promise<StoragePoolSummary[]>;
  /** By name or UUID. @throws NO_STORAGE_POOL */
  storagePoolLookup(ref: string): Promise<StoragePoolSummary>;
  /** The pool holding a volume, by the volume's path or key. */
  storagePoolLookupByVolume(pathOrKey: string): Promise<StoragePoolSummary>;
  storagePoolDefineXML(xml: string): Promise<StoragePoolSummary>;
  /** Creates and starts a transient pool. */
  storagePoolCreateXML(xml: string, flags?: StoragePoolCreateFlags): Promise<StoragePoolSummary>;
  /** Only while inactive. */
  storagePoolBuild(ref: string, flags?: StoragePoolBuildFlags): Promise<void>;
  /** Starts (activates) a defined pool. */
  storagePoolCreate(ref: string, flags?: StoragePoolCreateFlags): Promise<void>;
  storagePoolDestroy(ref: string): Promise<void>;
  /** Removes the pool's resources (directory, VG); only while inactive. */
  storagePoolDelete(ref: string, flags?: StoragePoolDeleteFlags): Promise<void>;
  storagePoolUndefine(ref: string): Promise<void>;
  storagePoolSetAutostart(ref: string, autostart: boolean): Promise<void>;
  storagePoolRefresh(ref: string): Promise<void>;
  storagePoolGetInfo(ref: string): Promise<StoragePoolInfo>;
  storagePoolGetXMLDesc(ref: string, flags?: { inactive?: boolean }): Promise<string>;

  listStorageVols(pool: string): Promise<StorageVolInfo[]>;
  storageVolLookupByName(pool: string, name: string): Promise<StorageVolSummary>;
  storageVolLookupByPath(path: string): Promise<StorageVolSummary>;
  storageVolLookupByKey(key: string): Promise<StorageVolSummary>;
  storageVolCreateXML(
    pool: string,
    xml: string,
    flags?: StorageVolCreateFlags,
    job?: StorageJobOptions,
  ): Promise<StorageVolSummary>;
  /** Clones `source` (any active pool) into `pool`, converting the format when the XML asks. */
  storageVolCreateXMLFrom(
    pool: string,
    xml: string,
    source: StorageVolRef,
    flags?: StorageVolCreateFlags,
    job?: StorageJobOptions,
  ): Promise<StorageVolSummary>;
  storageVolDelete(vol: StorageVolRef): Promise<void>;
  storageVolWipe(vol: StorageVolRef, algorithm?: WipeAlgorithm, job?: StorageJobOptions): Promise<void>;
  /** `capacity` in bytes (added to the current one with `delta`). */
  storageVolResize(
    vol: StorageVolRef,
    capacity: number,
    flags?: StorageVolResizeFlags,
    job?: StorageJobOptions,
  ): Promise<void>;
  storageVolGetInfo(vol: StorageVolRef): Promise<StorageVolInfo>;
  storageVolGetXMLDesc(vol: StorageVolRef): Promise<string>;
  storageVolGetPath(vol: StorageVolRef): Promise<string>;
  /** Writes the stream into the volume; a whole-volume upload replaces it only once complete. */
  storageVolUpload(
    vol: StorageVolRef,
    source: Readable | AsyncIterable<SparseChunk | Uint8Array>,
    flags?: StorageVolStreamFlags,
    job?: StorageJobOptions,
  ): Promise<void>;
  /** The volume's bytes (object mode with { hole } chunks when `sparse`). */
  storageVolDownload(
    vol: StorageVolRef,
    flags?: StorageVolStreamFlags,
    job?: StorageJobOptions,
  ): Promise<Readable>;
  /** Resolves `<disk type='volume'><source pool volume/>` for a domain start. */
  resolveDiskVolume(pool: string, volume: string): Promise<ResolvedDiskVolume>;
}
