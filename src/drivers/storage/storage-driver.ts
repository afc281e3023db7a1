// The storage driver (libvirt storage_driver.c): pool objects (Def + state + volumes), persistence, and the virStorage* entry points.
import { Readable } from 'node:stream';
import {
  formatPool,
  formatVolume,
  type PoolDef,
  type PoolType,
  parsePool,
  parseVolume,
  type VolumeDef,
} from '../../conf/storage/index.js';
import { processRunner, type Runner } from '../../host/run.js';
import { fsSizes } from '../../host/storage-file.js';
import type { VirError } from '../../util/errors.js';
import type { UuidSource } from '../../util/uuid.js';
import {
  type BackendEnv,
  checkVolumeName,
  type FileJob,
  type SparseChunk,
  type StorageBackend,
  storageError,
  type WipeAlgorithm,
} from './backend.js';
import { DirBackend } from './backend-dir.js';
import { FsBackend } from './backend-fs.js';
import { LogicalBackend } from './backend-logical.js';
import { formatPoolCapabilities } from './pool-caps.js';
import type {
  ResolvedDiskVolume,
  StorageApi,
  StorageJobOptions,
  StoragePoolBuildFlags,
  StoragePoolCreateFlags,
  StoragePoolDeleteFlags,
  StoragePoolInfo,
  StoragePoolListFilter,
  StoragePoolSummary,
  StorageVolCreateFlags,
  StorageVolInfo,
  StorageVolRef,
  StorageVolResizeFlags,
  StorageVolStreamFlags,
  StorageVolSummary,
} from './storage-api.js';

/** Where pool definitions live: the daemon passes its ConfigStore; tests a temp-dir store. */
export interface StoragePoolStore {
  save(name: string, xml: string): Promise<void>;
  remove(name: string): Promise<unknown>;
  loadAll(): Promise<{ name: string; xml: string }[]>;
  setAutostart(name: string, autostart: boolean): Promise<void>;
  isAutostart(name: string): Promise<boolean>;
}

/** A pool lifecycle event (TvirtEvent-shaped: kind 'pool-lifecycle'). */
export interface StoragePoolEvent {
  kind: 'pool-lifecycle';
  name: string;
  uuid: string;
  event: 'defined' | 'undefined' | 'started' | 'stopped' | 'created' | 'deleted';
  timestamp: number;
}

/** Runtime status of running pools (libvirt's /run/libvirt/storage): a ConfigStore without autostart fits. */
export interface StoragePoolStatusStore {
  save(name: string, xml: string): Promise<void>;
  remove(name: string): Promise<unknown>;
  loadAll(): Promise<{ name: string; xml: string }[]>;
}

export interface StorageDriverOptions {
  store: StoragePoolStore;
  /** Where running pools are recorded so that a restarted daemon finds them running again. */
  statusStore?: StoragePoolStatusStore;
  runner?: Runner;
  qemuImg?: string;
  /**
   * Whether a running domain uses the volume at `path`: a domain name (or true) refuses deleting,
   * wiping, resizing and uploading it.
   */
  isVolumeInUse?: (path: string) => string | boolean | undefined | Promise<string | boolean | undefined>;
  /** Replace or add backends per pool type (tests). */
  backends?: Partial<Record<PoolType, StorageBackend>>;
  onEvent?: (e: StoragePoolEvent) => void;
  uuidSource?: UuidSource;
}

/** The live pool (libvirt virStoragePoolObj). */
interface PoolObj {
  def: PoolDef;
  /** A redefinition made while active, applied when the pool stops. */
  newDef?: PoolDef;
  /** The target directory's permissions as the last refresh found them (live XML only). */
  targetPerms?: { mode: number; owner: number; group: number };
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  volumes: Map<string, VolumeDef>;
  /** Volumes being built (libvirt's building flag): invisible to delete and to other creates. */
  building: Set<string>;
  /** Volumes read or written by a running job (clone source, upload, download, wipe). */
  busy: Map<string, number>;
  /** Running volume jobs of the pool (libvirt asyncjobs): they block destroy, delete, refresh. */
  asyncJobs: number;
  /** Serialises lifecycle operations on the pool. */
  lock: Promise<unknown>;
}

const supportedTypes: PoolType[] = ['dir', 'fs', 'netfs', 'logical'];

function noPool(ref: string): VirError {
  return storageError(
    'NO_STORAGE_POOL',
    `Storage pool not found: no storage pool with matching name '${ref}'`,
  );
}

function noVol(what: string): VirError {
  return storageError('NO_STORAGE_VOL', `Storage volume not found: no storage vol with matching ${what}`);
}

function invalid(message: string): VirError {
  return storageError('OPERATION_INVALID', message);
}

async function* toChunks(
  src: Readable | AsyncIterable<SparseChunk | Uint8Array>,
): AsyncGenerator<SparseChunk | Uint8Array> {
  for await (const c of src as AsyncIterable<SparseChunk | Uint8Array | string>)
    yield typeof c === 'string' ? Buffer.from(c) : c;
}

export class StorageDriver implements StorageApi {
  private readonly pools = new Map<string, PoolObj>();
  private readonly backends: Partial<Record<PoolType, StorageBackend>>;
  private readonly store: StoragePoolStore;
  private readonly opts: StorageDriverOptions;

  constructor(opts: StorageDriverOptions) {
    this.opts = opts;
    this.store = opts.store;
    const env: BackendEnv = { runner: opts.runner ?? processRunner, qemuImg: opts.qemuImg ?? 'qemu-img' };
    this.backends = {
      dir: new DirBackend(env),
      fs: new FsBackend(env, 'fs'),
      netfs: new FsBackend(env, 'netfs'),
      logical: new LogicalBackend(env),
      ...opts.backends,
    };
  }

  // ---- start-up ----

  /**
   * Loads persistent pools from the store, restores the pools the status store says were running
   * (when their resources are still up), then starts autostart pools. Failures are reported through
   * `onError`, never thrown: one broken pool must not stop the daemon.
   */
  async init(onError: (pool: string, e: unknown) => void = () => {}): Promise<void> {
    for (const { name, xml } of await this.store.loadAll()) {
      try {
        const def = parsePool(xml, { uuidSource: this.opts.uuidSource });
        const obj = this.newObj(def, true);
        obj.autostart = await this.store.isAutostart(name);
        this.pools.set(def.name, obj);
      } catch (e) {
        onError(name, e);
      }
    }
    // Pools that were running when the daemon stopped (libvirt's state dir) come back if their
    // resources are still up (directory present, file system mounted, VG visible).
    for (const { name, xml } of (await this.opts.statusStore?.loadAll()) ?? []) {
      try {
        let obj = this.pools.get(name);
        if (!obj) {
          obj = this.newObj(parsePool(xml, { uuidSource: this.opts.uuidSource }), false);
          this.pools.set(name, obj);
        }
        if (await this.backendOf(obj.def).checkPool(obj.def)) {
          obj.active = true;
          await this.refreshObj(obj);
        } else {
          if (!obj.persistent) this.pools.delete(name);
          await this.opts.statusStore?.remove(name);
        }
      } catch (e) {
        const obj = this.pools.get(name);
        if (obj) obj.active = false;
        if (obj && !obj.persistent) this.pools.delete(name);
        onError(name, e);
      }
    }
    for (const obj of this.pools.values()) {
      if (!obj.autostart || obj.active) continue;
      try {
        await this.startObj(obj, {});
      } catch (e) {
        onError(obj.def.name, e);
      }
    }
  }

  /**
   * Makes sure a `default` dir pool exists (target `dir`, like /var/lib/libvirt/images): on first
   * start it is defined, built, started and marked autostart. An existing `default` is left as is.
   */
  async ensureDefaultPool(dir: string): Promise<StoragePoolSummary> {
    const existing = this.pools.get('default');
    if (existing) return this.summary(existing);
    const xml = `<pool type='dir'><name>default</name><target><path>${dir.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</path></target></pool>`;
    await this.storagePoolDefineXML(xml);
    await this.storagePoolBuild('default');
    await this.storagePoolCreate('default');
    await this.storagePoolSetAutostart('default', true);
    return this.storagePoolLookup('default');
  }

  /**
   * SIGHUP (libvirt's virStoragePoolObjLoadAllConfigs on reload): re-reads every definition file and
   * autostart link. A new file defines an inactive persistent pool; a changed one replaces an
   * inactive pool's definition, or becomes an active pool's next one (the live one stays); a pool
   * whose file is gone is removed when inactive and becomes transient when active. A file that does
   * not parse is reported through `onError` and leaves its pool as it was. Nothing is started,
   * stopped or mounted.
   */
  async reloadDefinitions(onError: (pool: string, e: unknown) => void = () => {}): Promise<void> {
    const files = new Set<string>();
    for (const { name, xml } of await this.store.loadAll()) {
      files.add(name);
      try {
        let def = parsePool(xml, { uuidSource: this.opts.uuidSource });
        if (def.name !== name)
          throw storageError(
            'XML_ERROR',
            `storage pool config filename '${name}.xml' does not match pool name '${def.name}'`,
          );
        const obj = this.pools.get(name);
        // No <uuid> in the file: the pool keeps the uuid it has (the file is libvirt-format, hand-edited).
        if (obj && !/<uuid\b/.test(xml)) def = { ...def, uuid: obj.def.uuid };
        for (const p of this.pools.values())
          if (p !== obj && p.def.uuid === def.uuid)
            throw storageError(
              'OPERATION_FAILED',
              `operation failed: pool '${p.def.name}' is already defined with uuid ${def.uuid}`,
            );
        if (obj && obj.def.uuid !== def.uuid)
          throw storageError(
            'OPERATION_FAILED',
            `operation failed: pool '${name}' already exists with uuid ${obj.def.uuid}`,
          );
        const autostart = await this.store.isAutostart(name);
        if (!obj) {
          const fresh = this.newObj(def, true);
          fresh.autostart = autostart;
          this.pools.set(name, fresh);
          this.emit(fresh, 'defined');
          continue;
        }
        await this.locked(obj, async () => {
          const sizeless = (d: PoolDef) => formatPool({ ...d, capacity: 0, allocation: 0, available: 0 });
          const current = obj.persistent ? (obj.newDef ?? obj.def) : undefined;
          const changed = !current || sizeless(current) !== sizeless(def);
          if (changed) {
            if (obj.active) obj.newDef = def;
            else obj.def = def;
          }
          const wasPersistent = obj.persistent;
          obj.persistent = true;
          obj.autostart = autostart;
          if (changed || !wasPersistent) this.emit(obj, 'defined');
        });
      } catch (e) {
        onError(name, e);
      }
    }
    for (const obj of [...this.pools.values()]) {
      if (!obj.persistent || files.has(obj.def.name)) continue;
      await this.locked(obj, async () => {
        if (!obj.persistent || files.has(obj.def.name)) return;
        obj.persistent = false;
        obj.autostart = false;
        obj.newDef = undefined;
        this.emit(obj, 'undefined');
        if (!obj.active) this.pools.delete(obj.def.name);
      });
    }
  }

  // ---- helpers ----

  private newObj(def: PoolDef, persistent: boolean): PoolObj {
    return {
      def,
      active: false,
      persistent,
      autostart: false,
      volumes: new Map(),
      building: new Set(),
      busy: new Map(),
      asyncJobs: 0,
      lock: Promise.resolve(),
    };
  }

  private backendOf(def: PoolDef): StorageBackend {
    const b = this.backends[def.type];
    if (!b)
      throw storageError(
        'NO_SUPPORT',
        `pool type '${def.type}' is not supported by tvirt yet (supported: ${supportedTypes.join(', ')})`,
      );
    return b;
  }

  private find(ref: string): PoolObj {
    const byName = this.pools.get(ref);
    if (byName) return byName;
    const r = ref.toLowerCase();
    for (const p of this.pools.values()) if (p.def.uuid === r) return p;
    throw noPool(ref);
  }

  private activeObj(ref: string): PoolObj {
    const obj = this.find(ref);
    if (!obj.active) throw invalid(`storage pool '${obj.def.name}' is not active`);
    return obj;
  }

  private emit(obj: PoolObj, event: StoragePoolEvent['event']): void {
    this.opts.onEvent?.({
      kind: 'pool-lifecycle',
      name: obj.def.name,
      uuid: obj.def.uuid,
      event,
      timestamp: Date.now(),
    });
  }

  /** Runs `work` after every earlier lifecycle operation of the pool. */
  private locked<T>(obj: PoolObj, work: () => Promise<T>): Promise<T> {
    const run = obj.lock.then(work, work);
    obj.lock = run.catch(() => {});
    return run;
  }

  private summary(obj: PoolObj): StoragePoolSummary {
    return {
      name: obj.def.name,
      uuid: obj.def.uuid,
      type: obj.def.type,
      active: obj.active,
      persistent: obj.persistent,
      autostart: obj.autostart,
    };
  }

  private volSummary(obj: PoolObj, v: VolumeDef): StorageVolSummary {
    return {
      name: v.name,
      pool: obj.def.name,
      key: v.key ?? v.target.path ?? '',
      path: v.target.path ?? '',
      type: v.type,
    };
  }

  private volInfo(obj: PoolObj, v: VolumeDef): StorageVolInfo {
    return {
      ...this.volSummary(obj, v),
      capacity: v.capacity,
      allocation: v.allocation,
      physical: v.physical,
      format: v.target.format,
      backingStore: v.backingStore ? { path: v.backingStore.path, format: v.backingStore.format } : undefined,
    };
  }

  private async refreshObj(obj: PoolObj): Promise<void> {
    const r = await this.backendOf(obj.def).refreshPool(obj.def);
    obj.def = { ...obj.def, capacity: r.capacity, allocation: r.allocation, available: r.available };
    // As libvirt's refresh: the live XML shows the target directory's mode, owner and group (kept
    // apart from the definition, which SIGHUP reload compares with the file on disk).
    obj.targetPerms = r.targetPerms;
    const vols = new Map<string, VolumeDef>();
    for (const v of r.volumes) if (!obj.building.has(v.name)) vols.set(v.name, v);
    for (const name of obj.building) {
      const v = obj.volumes.get(name);
      if (v) vols.set(name, v);
    }
    obj.volumes = vols;
  }

  private async startObj(obj: PoolObj, flags: StoragePoolCreateFlags): Promise<void> {
    if (obj.active) throw invalid(`storage pool '${obj.def.name}' is already active`);
    const backend = this.backendOf(obj.def);
    if (flags.build) await backend.buildPool?.(obj.def, flags);
    await backend.startPool?.(obj.def);
    try {
      obj.active = true;
      await this.refreshObj(obj);
      await this.opts.statusStore?.save(obj.def.name, formatPool(obj.def));
    } catch (e) {
      obj.active = false;
      await backend.stopPool?.(obj.def).catch(() => {});
      throw e;
    }
    this.emit(obj, 'started');
  }

  private async checkDuplicate(def: PoolDef): Promise<void> {
    const same = this.pools.get(def.name);
    if (same && same.def.uuid !== def.uuid)
      throw storageError(
        'OPERATION_FAILED',
        `operation failed: pool '${def.name}' already exists with uuid ${same.def.uuid}`,
      );
    for (const p of this.pools.values()) {
      if (p === same) continue;
      if (p.def.uuid === def.uuid)
        throw storageError(
          'OPERATION_FAILED',
          `operation failed: pool '${p.def.name}' is already defined with uuid ${def.uuid}`,
        );
      if (def.target && p.def.target && p.def.target.path === def.target.path && def.type !== 'logical')
        throw storageError(
          'OPERATION_FAILED',
          `operation failed: Storage target path '${def.target.path}' is already in use by pool '${p.def.name}'`,
        );
      if (def.type === 'logical' && p.def.type === 'logical' && p.def.source.name === def.source.name)
        throw storageError(
          'OPERATION_FAILED',
          `operation failed: Storage source conflict with pool: '${p.def.name}'`,
        );
    }
  }

  private parseNewPool(xml: string): PoolDef {
    const def = parsePool(xml, { uuidSource: this.opts.uuidSource });
    this.backendOf(def);
    if (def.type !== 'logical' && def.target && !def.target.path.startsWith('/'))
      throw storageError(
        'XML_ERROR',
        `pool '${def.name}': target path '${def.target.path}' must be absolute`,
      );
    return def;
  }

  // ---- pools ----

  async listStoragePools(filter: StoragePoolListFilter = {}): Promise<StoragePoolSummary[]> {
    const ok = (p: PoolObj) =>
      (!filter.active || p.active) &&
      (!filter.inactive || !p.active) &&
      (!filter.persistent || p.persistent) &&
      (!filter.transient || !p.persistent) &&
      (!filter.autostart || p.autostart) &&
      (!filter.noAutostart || !p.autostart) &&
      (!filter.types || filter.types.length === 0 || filter.types.includes(p.def.type));
    return [...this.pools.values()]
      .filter(ok)
      .map((p) => this.summary(p))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async storagePoolGetCapabilities(): Promise<string> {
    return formatPoolCapabilities(supportedTypes.filter((t) => this.backends[t] !== undefined));
  }

  async storagePoolLookup(ref: string): Promise<StoragePoolSummary> {
    return this.summary(this.find(ref));
  }

  async storagePoolLookupByVolume(pathOrKey: string): Promise<StoragePoolSummary> {
    const { obj } = this.findVolBy(
      (v) => v.target.path === pathOrKey || v.key === pathOrKey,
      `path '${pathOrKey}'`,
    );
    return this.summary(obj);
  }

  async storagePoolDefineXML(xml: string): Promise<StoragePoolSummary> {
    const def = this.parseNewPool(xml);
    await this.checkDuplicate(def);
    const existing = this.pools.get(def.name);
    await this.store.save(def.name, formatPool(def));
    let obj: PoolObj;
    if (existing) {
      obj = existing;
      if (obj.active) obj.newDef = def;
      else obj.def = def;
      obj.persistent = true;
    } else {
      obj = this.newObj(def, true);
      this.pools.set(def.name, obj);
    }
    this.emit(obj, 'defined');
    return this.summary(obj);
  }

  async storagePoolCreateXML(xml: string, flags: StoragePoolCreateFlags = {}): Promise<StoragePoolSummary> {
    const def = this.parseNewPool(xml);
    if (this.pools.has(def.name))
      throw storageError('OPERATION_FAILED', `operation failed: pool '${def.name}' already exists`);
    await this.checkDuplicate(def);
    const obj = this.newObj(def, false);
    this.pools.set(def.name, obj);
    try {
      await this.locked(obj, () => this.startObj(obj, flags));
    } catch (e) {
      this.pools.delete(def.name);
      throw e;
    }
    return this.summary(obj);
  }

  async storagePoolBuild(ref: string, flags: StoragePoolBuildFlags = {}): Promise<void> {
    const obj = this.find(ref);
    await this.locked(obj, async () => {
      if (obj.active) throw invalid(`storage pool '${obj.def.name}' is already active`);
      await this.backendOf(obj.def).buildPool?.(obj.def, flags);
      this.emit(obj, 'created');
    });
  }

  async storagePoolCreate(ref: string, flags: StoragePoolCreateFlags = {}): Promise<void> {
    const obj = this.find(ref);
    await this.locked(obj, () => this.startObj(obj, flags));
  }

  async storagePoolDestroy(ref: string): Promise<void> {
    const obj = this.find(ref);
    await this.locked(obj, async () => {
      if (!obj.active) throw invalid(`storage pool '${obj.def.name}' is not active`);
      if (obj.asyncJobs > 0) throw invalid(`pool '${obj.def.name}' has asynchronous jobs running.`);
      await this.backendOf(obj.def).stopPool?.(obj.def);
      await this.opts.statusStore?.remove(obj.def.name);
      obj.active = false;
      obj.volumes.clear();
      obj.def = { ...(obj.newDef ?? obj.def), capacity: 0, allocation: 0, available: 0 };
      obj.newDef = undefined;
      this.emit(obj, 'stopped');
      if (!obj.persistent) this.pools.delete(obj.def.name);
    });
  }

  async storagePoolDelete(ref: string, flags: StoragePoolDeleteFlags = {}): Promise<void> {
    const obj = this.find(ref);
    await this.locked(obj, async () => {
      if (obj.active) throw invalid(`storage pool '${obj.def.name}' is still active`);
      const backend = this.backendOf(obj.def);
      if (!backend.deletePool)
        throw storageError('NO_SUPPORT', `pool type '${obj.def.type}' does not support pool deletion`);
      // Look before deleting: a pool that still holds volumes is only emptied when asked to.
      const found = await backend.refreshPool(obj.def).then(
        (r) => r.volumes,
        () => [] as VolumeDef[],
      );
      if (found.length > 0 && !flags.withVolumes) {
        const names = found.map((v) => v.name);
        const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
        throw invalid(
          `storage pool '${obj.def.name}' still holds ${names.length} volume(s) (${shown}); delete them first (vol-delete)`,
        );
      }
      // Every volume is checked before any is deleted: one in use leaves the pool as it was.
      for (const v of found) await this.checkNotInUse(v);
      for (const v of found) await backend.deleteVol(obj.def, v);
      await backend.deletePool(obj.def);
      this.emit(obj, 'deleted');
    });
  }

  async storagePoolUndefine(ref: string): Promise<void> {
    const obj = this.find(ref);
    await this.locked(obj, async () => {
      if (!obj.persistent) throw invalid(`storage pool '${obj.def.name}' is not persistent`);
      // As libvirt: an active pool must be destroyed first (pool-destroy), then undefined.
      if (obj.active) throw invalid(`storage pool '${obj.def.name}' is still active`);
      await this.store.remove(obj.def.name);
      obj.persistent = false;
      obj.autostart = false;
      obj.newDef = undefined;
      this.emit(obj, 'undefined');
      if (!obj.active) this.pools.delete(obj.def.name);
    });
  }

  async storagePoolSetAutostart(ref: string, autostart: boolean): Promise<void> {
    const obj = this.find(ref);
    if (!obj.persistent) throw invalid(`cannot set autostart for transient pool '${obj.def.name}'`);
    await this.store.setAutostart(obj.def.name, autostart);
    obj.autostart = autostart;
  }

  async storagePoolRefresh(ref: string): Promise<void> {
    const obj = this.activeObj(ref);
    if (obj.asyncJobs > 0) throw invalid(`pool '${obj.def.name}' has asynchronous jobs running.`);
    await this.refreshObj(obj);
  }

  async storagePoolGetInfo(ref: string): Promise<StoragePoolInfo> {
    const obj = this.find(ref);
    const d = obj.def;
    return {
      ...this.summary(obj),
      state: obj.active ? 'running' : 'inactive',
      capacity: d.capacity,
      allocation: d.allocation,
      available: d.available,
    };
  }

  async storagePoolGetXMLDesc(ref: string, flags: { inactive?: boolean } = {}): Promise<string> {
    const obj = this.find(ref);
    if (flags.inactive) return formatPool(obj.newDef ?? obj.def);
    const def = obj.def;
    if (!obj.active || !obj.targetPerms || !def.target) return formatPool(def);
    return formatPool({
      ...def,
      target: { ...def.target, perms: { ...def.target.perms, ...obj.targetPerms } },
    });
  }

  // ---- volumes ----

  private findVolBy(match: (v: VolumeDef) => boolean, what: string): { obj: PoolObj; vol: VolumeDef } {
    for (const obj of this.pools.values()) {
      if (!obj.active) continue;
      for (const v of obj.volumes.values()) if (!obj.building.has(v.name) && match(v)) return { obj, vol: v };
    }
    throw noVol(what);
  }

  private vol(ref: StorageVolRef): { obj: PoolObj; vol: VolumeDef } {
    const obj = this.activeObj(ref.pool);
    const vol = obj.volumes.get(ref.name);
    if (!vol || obj.building.has(ref.name)) throw noVol(`name '${ref.name}'`);
    return { obj, vol };
  }

  private async checkNotInUse(vol: VolumeDef): Promise<void> {
    const path = vol.target.path;
    if (!path || !this.opts.isVolumeInUse) return;
    const who = await this.opts.isVolumeInUse(path);
    if (who)
      throw invalid(
        `volume '${vol.name}' (${path}) is in use by ${typeof who === 'string' ? `running domain '${who}'` : 'a running domain'}; shut the domain down or detach the disk first`,
      );
  }

  private checkIdle(obj: PoolObj, vol: VolumeDef): void {
    if (obj.building.has(vol.name)) throw invalid(`volume '${vol.name}' is still being allocated.`);
    if ((obj.busy.get(vol.name) ?? 0) > 0) throw invalid(`volume '${vol.name}' is still in use.`);
  }

  private hold(obj: PoolObj, name: string): () => void {
    obj.busy.set(name, (obj.busy.get(name) ?? 0) + 1);
    obj.asyncJobs++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      obj.asyncJobs--;
      const n = (obj.busy.get(name) ?? 1) - 1;
      if (n <= 0) obj.busy.delete(name);
      else obj.busy.set(name, n);
    };
  }

  private job(j: StorageJobOptions | undefined): FileJob {
    return { signal: j?.signal, progress: j?.progress ? (p, t) => j.progress!(p, t) : undefined };
  }

  /** Parses a new volume's XML in its pool and fixes its path inside the pool. */
  private newVolDef(obj: PoolObj, xml: string, noCapacity: boolean): VolumeDef {
    const vol = parseVolume(xml, obj.def, noCapacity ? { noCapacity: true } : { optCapacity: true });
    checkVolumeName(vol.name);
    const backend = this.backendOf(obj.def);
    const path = backend.volPath(obj.def, vol.name);
    if (vol.target.path !== undefined && vol.target.path !== path)
      throw storageError(
        'INVALID_ARG',
        `volume target path '${vol.target.path}' is outside pool '${obj.def.name}': volumes of this pool live at '${path}'`,
      );
    if (vol.capacity < 0 || !Number.isSafeInteger(vol.capacity))
      throw storageError('INVALID_ARG', `invalid capacity for volume '${vol.name}'`);
    if (obj.volumes.has(vol.name))
      throw storageError('STORAGE_VOL_EXIST', `storage volume '${vol.name}' exists already`);
    return { ...vol, key: path, target: { ...vol.target, path } };
  }

  /** Builds a volume under the pool's building flag; publishes it only on success. */
  private async buildNew(
    obj: PoolObj,
    vol: VolumeDef,
    work: () => Promise<void>,
    justBuilt = false,
  ): Promise<StorageVolSummary> {
    obj.volumes.set(vol.name, vol);
    obj.building.add(vol.name);
    obj.asyncJobs++;
    try {
      await work();
      const fresh = await this.backendOf(obj.def).refreshVol(obj.def, vol, { justBuilt });
      obj.volumes.set(vol.name, fresh);
      obj.building.delete(vol.name);
      return this.volSummary(obj, fresh);
    } catch (e) {
      obj.building.delete(vol.name);
      obj.volumes.delete(vol.name);
      throw e;
    } finally {
      obj.asyncJobs--;
      await this.refreshSizes(obj);
    }
  }

  private async refreshSizes(obj: PoolObj): Promise<void> {
    try {
      if (obj.def.type === 'logical') return;
      const s = await fsSizes(obj.def.target!.path);
      obj.def = { ...obj.def, ...s };
    } catch {
      // sizes are informative; the next refresh corrects them
    }
  }

  async listStorageVols(pool: string): Promise<StorageVolInfo[]> {
    const obj = this.activeObj(pool);
    return [...obj.volumes.values()]
      .filter((v) => !obj.building.has(v.name))
      .map((v) => this.volInfo(obj, v));
  }

  async storageVolLookupByName(pool: string, name: string): Promise<StorageVolSummary> {
    const { obj, vol } = this.vol({ pool, name });
    return this.volSummary(obj, vol);
  }

  async storageVolLookupByPath(path: string): Promise<StorageVolSummary> {
    const { obj, vol } = this.findVolBy((v) => v.target.path === path, `path '${path}'`);
    return this.volSummary(obj, vol);
  }

  async storageVolLookupByKey(key: string): Promise<StorageVolSummary> {
    const { obj, vol } = this.findVolBy((v) => v.key === key, `key '${key}'`);
    return this.volSummary(obj, vol);
  }

  async storageVolCreateXML(
    pool: string,
    xml: string,
    flags: StorageVolCreateFlags = {},
    job?: StorageJobOptions,
  ): Promise<StorageVolSummary> {
    const obj = this.activeObj(pool);
    const vol = this.newVolDef(obj, xml, false);
    const backend = this.backendOf(obj.def);
    return this.buildNew(obj, vol, () => backend.buildVol(obj.def, vol, flags, this.job(job)), true);
  }

  async storageVolCreateXMLFrom(
    pool: string,
    xml: string,
    source: StorageVolRef,
    flags: StorageVolCreateFlags = {},
    job?: StorageJobOptions,
  ): Promise<StorageVolSummary> {
    const obj = this.activeObj(pool);
    const src = this.vol(source);
    if (src.obj.building.has(src.vol.name))
      throw invalid(`volume '${src.vol.name}' is still being allocated.`);
    const vol = this.newVolDef(obj, xml, true);
    // A clone is never smaller than its source (libvirt raises the capacity the same way).
    if (vol.capacity < src.vol.capacity) vol.capacity = src.vol.capacity;
    if (vol.allocation > vol.capacity || vol.allocation === 0) vol.allocation = vol.capacity;
    const backend = this.backendOf(obj.def);
    const release = this.hold(src.obj, src.vol.name);
    try {
      return await this.buildNew(obj, vol, () =>
        backend.buildVolFrom(obj.def, vol, src.vol, flags, this.job(job)),
      );
    } finally {
      release();
    }
  }

  async storageVolDelete(ref: StorageVolRef): Promise<void> {
    const { obj, vol } = this.vol(ref);
    this.checkIdle(obj, vol);
    await this.checkNotInUse(vol);
    await this.backendOf(obj.def).deleteVol(obj.def, vol);
    obj.volumes.delete(vol.name);
    await this.refreshSizes(obj);
  }

  async storageVolWipe(
    ref: StorageVolRef,
    algorithm: WipeAlgorithm = 'zero',
    job?: StorageJobOptions,
  ): Promise<void> {
    const { obj, vol } = this.vol(ref);
    this.checkIdle(obj, vol);
    await this.checkNotInUse(vol);
    const backend = this.backendOf(obj.def);
    if (!backend.wipeVol)
      throw storageError('NO_SUPPORT', `storage pool type '${obj.def.type}' does not support volume wiping`);
    const release = this.hold(obj, vol.name);
    try {
      await backend.wipeVol(obj.def, vol, algorithm, this.job(job));
      obj.volumes.set(vol.name, await backend.refreshVol(obj.def, vol));
    } finally {
      release();
    }
  }

  async storageVolResize(
    ref: StorageVolRef,
    capacity: number,
    flags: StorageVolResizeFlags = {},
    job?: StorageJobOptions,
  ): Promise<void> {
    const { obj, vol } = this.vol(ref);
    this.checkIdle(obj, vol);
    if (!Number.isSafeInteger(capacity) || capacity < 0)
      throw storageError('INVALID_ARG', `invalid capacity ${capacity} for volume '${vol.name}'`);
    let target = capacity;
    if (flags.delta) target = flags.shrink ? vol.capacity - capacity : vol.capacity + capacity;
    if (target < 0) throw storageError('INVALID_ARG', "can't shrink capacity below 0");
    if (target < vol.capacity && !flags.shrink)
      throw storageError(
        'INVALID_ARG',
        "Can't shrink capacity below current capacity unless shrink flag explicitly specified",
      );
    if (flags.allocate && flags.shrink)
      throw storageError('INVALID_ARG', 'cannot allocate and shrink in one resize');
    if (flags.allocate && target - vol.capacity > obj.def.available)
      throw storageError('INVALID_ARG', `Not enough space left in storage pool '${obj.def.name}'`);
    await this.checkNotInUse(vol);
    const backend = this.backendOf(obj.def);
    if (!backend.resizeVol)
      throw storageError(
        'NO_SUPPORT',
        `storage pool type '${obj.def.type}' does not support changing of volume capacity`,
      );
    if (target === vol.capacity) return;
    const release = this.hold(obj, vol.name);
    try {
      await backend.resizeVol(
        obj.def,
        vol,
        target,
        { allocate: flags.allocate, shrink: target < vol.capacity },
        this.job(job),
      );
      obj.volumes.set(vol.name, await backend.refreshVol(obj.def, vol));
    } finally {
      release();
      await this.refreshSizes(obj);
    }
  }

  async storageVolGetInfo(ref: StorageVolRef): Promise<StorageVolInfo> {
    const { obj, vol } = this.vol(ref);
    return this.volInfo(obj, vol);
  }

  async storageVolGetXMLDesc(ref: StorageVolRef): Promise<string> {
    const { obj, vol } = this.vol(ref);
    return formatVolume(vol, obj.def);
  }

  async storageVolGetPath(ref: StorageVolRef): Promise<string> {
    return this.vol(ref).vol.target.path ?? '';
  }

  async storageVolUpload(
    ref: StorageVolRef,
    source: Readable | AsyncIterable<SparseChunk | Uint8Array>,
    flags: StorageVolStreamFlags = {},
    job?: StorageJobOptions,
  ): Promise<void> {
    const { obj, vol } = this.vol(ref);
    this.checkIdle(obj, vol);
    await this.checkNotInUse(vol);
    const backend = this.backendOf(obj.def);
    if (!backend.uploadVol)
      throw storageError('NO_SUPPORT', `storage pool type '${obj.def.type}' does not support volume upload`);
    const release = this.hold(obj, vol.name);
    try {
      await backend.uploadVol(obj.def, vol, toChunks(source), flags, this.job(job));
      obj.volumes.set(vol.name, await backend.refreshVol(obj.def, vol));
    } finally {
      release();
      await this.refreshSizes(obj);
    }
  }

  async storageVolDownload(
    ref: StorageVolRef,
    flags: StorageVolStreamFlags = {},
    job?: StorageJobOptions,
  ): Promise<Readable> {
    const { obj, vol } = this.vol(ref);
    if (obj.building.has(vol.name)) throw invalid(`volume '${vol.name}' is still being allocated.`);
    const backend = this.backendOf(obj.def);
    if (!backend.downloadVol)
      throw storageError(
        'NO_SUPPORT',
        `storage pool type '${obj.def.type}' does not support volume download`,
      );
    const release = this.hold(obj, vol.name);
    const chunks = backend.downloadVol(obj.def, vol, flags, this.job(job));
    async function* guarded() {
      try {
        yield* chunks;
      } finally {
        release();
      }
    }
    return Readable.from(guarded(), { objectMode: flags.sparse === true });
  }

  async resolveDiskVolume(pool: string, volume: string): Promise<ResolvedDiskVolume> {
    const obj = this.find(pool);
    if (!obj.active)
      throw invalid(`storage pool '${obj.def.name}' containing volume '${volume}' is not active`);
    const v = obj.volumes.get(volume);
    if (!v || obj.building.has(volume)) throw noVol(`name '${volume}'`);
    if (v.type !== 'file' && v.type !== 'block' && v.type !== 'dir')
      throw storageError('CONFIG_UNSUPPORTED', `volume '${volume}' of type '${v.type}' cannot back a disk`);
    return {
      diskType: v.type,
      path: v.target.path!,
      format: v.type === 'block' ? 'raw' : v.target.format,
      pool: obj.def.name,
      volume,
    };
  }
}
