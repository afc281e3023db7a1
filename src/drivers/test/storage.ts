// Storage pools and volumes of test:///default: in memory, with libvirt's test driver behaviour
// (pool 'default-pool' active at /default-pool, 100 GiB per pool, volumes allocated in full) and its
// exact messages. Nothing touches the disk; wipe, resize, upload, download are unsupported there.
import type { PoolDef, VolumeDef } from '../../conf/storage/index.js';
import { VirError } from '../../util/errors.js';
import { prefixed } from '../network/libvirt-message.js';
import { isUuid, parseUuid } from '../../util/uuid.js';
import type {
  StorageConnection,
  StoragePoolBuildFlags,
  StoragePoolCreateFlags,
  StoragePoolInfo,
  StoragePoolListFilter,
  StoragePoolSummary,
  StorageVolInfo,
  StorageVolCreateFlags,
  StorageVolRef,
  StorageVolSummary,
} from '../connection.js';

type StorageConf = typeof import('../../conf/storage/index.js');

/** libvirt's test driver gives every pool these sizes (testStoragePoolObjSetDefaults). */
const POOL_CAPACITY = 100 * 1024 ** 3;

export const defaultPoolXml = `<pool type='dir'>
  <name>default-pool</name>
  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
  <target>
    <path>/default-pool</path>
  </target>
</pool>
`;

interface PoolObj {
  def: PoolDef;
  /** A redefinition made while active (libvirt's test driver never applies it to the live pool). */
  newDef?: PoolDef;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  volumes: VolumeDef[];
}

export type PoolEventSink = (name: string, uuid: string, event: string) => void;

const err = (code: ConstructorParameters<typeof VirError>[0], message: string) =>
  new VirError(code, message, { domain: 'TEST' });
const invalid = (msg: string) => err('OPERATION_INVALID', `Requested operation is not valid: ${msg}`);
const failed = (msg: string) => err('OPERATION_FAILED', `operation failed: ${msg}`);
const unsupported = (fn: string) =>
  err('NO_SUPPORT', `this function is not supported by the connection driver: ${fn}`);
const badFlags = (flags: number, fn: string) =>
  err('INVALID_ARG', `unsupported flags (0x${flags.toString(16)}) in function ${fn}`);
const noVol = (by: string, v: string) =>
  err('NO_STORAGE_VOL', `Storage volume not found: no storage vol with matching ${by} '${v}'`);

/** The pools of one test driver state. */
/** libvirt's test driver takes no volume-create flags: --prealloc-metadata (0x1) is refused as there. */
function unsupportedFlags(flags: StorageVolCreateFlags, fn: string): void {
  if (flags.preallocMetadata)
    throw new VirError('INVALID_ARG', `unsupported flags (0x1) in function ${fn}`, { domain: 'STORAGE' });
}

export class TestStorage implements StorageConnection {
  private pools: PoolObj[] = [];
  private conf: StorageConf | undefined;
  private loading: Promise<StorageConf> | undefined;

  constructor(private readonly onEvent: PoolEventSink = () => {}) {}

  /** Loads the storage conf layer and 'default-pool' on first use (keeps CLI start-up small). */
  private async ready(): Promise<StorageConf> {
    if (this.conf) return this.conf;
    this.loading ??= import('../../conf/storage/index.js').then((conf) => {
      if (!this.conf) {
        this.conf = conf;
        const def = this.withDefaults(conf.parsePool(defaultPoolXml));
        this.pools.push({ def, active: true, persistent: true, autostart: false, volumes: [] });
      }
      return conf;
    });
    return this.loading;
  }

  private withDefaults(def: PoolDef): PoolDef {
    return { ...def, capacity: POOL_CAPACITY, allocation: 0, available: POOL_CAPACITY };
  }

  private emit(p: PoolObj, event: string): void {
    this.onEvent(p.def.name, p.def.uuid, event);
  }

  /** By UUID first when the argument is one, then by name (virStoragePoolLookupByUUID/Name). */
  private async find(ref: string): Promise<PoolObj> {
    await this.ready();
    if (isUuid(ref)) {
      const u = parseUuid(ref);
      const p = this.pools.find((x) => x.def.uuid === u);
      if (p) return p;
    }
    const p = this.pools.find((x) => x.def.name === ref);
    if (p) return p;
    throw err('NO_STORAGE_POOL', `Storage pool not found: no storage pool with matching name '${ref}'`);
  }

  private async active(ref: string): Promise<PoolObj> {
    const p = await this.find(ref);
    if (!p.active) throw invalid(`storage pool '${p.def.name}' is not active`);
    return p;
  }

  private summary(p: PoolObj): StoragePoolSummary {
    const { name, uuid, type } = p.def;
    return { name, uuid, type, active: p.active, persistent: p.persistent, autostart: p.autostart };
  }

  private volSummary(p: PoolObj, v: VolumeDef): StorageVolSummary {
    return { name: v.name, pool: p.def.name, key: v.key!, path: v.target.path!, type: v.type };
  }

  private volInfo(p: PoolObj, v: VolumeDef): StorageVolInfo {
    const info: StorageVolInfo = {
      ...this.volSummary(p, v),
      capacity: v.capacity,
      allocation: v.allocation,
    };
    if (v.target.format !== undefined) info.format = v.target.format;
    if (v.backingStore) info.backingStore = { path: v.backingStore.path, format: v.backingStore.format };
    return info;
  }

  private vol(p: PoolObj, name: string): VolumeDef {
    const v = p.volumes.find((x) => x.name === name);
    if (!v) throw noVol('name', name);
    return v;
  }

  /** Pool definition checks of virStoragePoolObjIsDuplicate and SourceFindDuplicate. */
  private checkDuplicate(def: PoolDef, forCreate: boolean): PoolObj | undefined {
    const byUuid = this.pools.find((p) => p.def.uuid === def.uuid);
    if (byUuid) {
      if (byUuid.def.name !== def.name)
        throw failed(`pool '${byUuid.def.name}' is already defined with uuid ${byUuid.def.uuid}`);
      if (forCreate && byUuid.active) throw failed(`pool is already active as '${byUuid.def.name}'`);
    } else {
      const byName = this.pools.find((p) => p.def.name === def.name);
      if (byName) throw failed(`pool '${def.name}' already exists with uuid ${byName.def.uuid}`);
    }
    for (const p of this.pools) {
      if (p.def.name === def.name || p.def.type !== def.type) continue;
      const sameTarget =
        def.type === 'dir' && p.def.target && def.target && p.def.target.path === def.target.path;
      const sameSource =
        def.type !== 'dir' &&
        ((def.source.name !== undefined && def.source.name === p.def.source.name) ||
          (def.source.devices[0] !== undefined &&
            def.source.devices[0].path === p.def.source.devices[0]?.path));
      if (sameTarget || sameSource) throw failed(`Storage source conflict with pool: '${p.def.name}'`);
    }
    return byUuid;
  }

  private recompute(p: PoolObj): void {
    const allocation = p.volumes.reduce((a, v) => a + v.allocation, 0);
    p.def = { ...p.def, allocation, available: p.def.capacity - allocation };
  }

  // ---- pools ----

  async storagePoolGetCapabilities(): Promise<string> {
    throw unsupported('virConnectGetStoragePoolCapabilities');
  }

  async listStoragePools(filter: StoragePoolListFilter = {}): Promise<StoragePoolSummary[]> {
    await this.ready();
    return this.pools
      .filter(
        (p) =>
          (!filter.active || p.active) &&
          (!filter.inactive || !p.active) &&
          (!filter.persistent || p.persistent) &&
          (!filter.transient || !p.persistent) &&
          (!filter.autostart || p.autostart) &&
          (!filter.noAutostart || !p.autostart) &&
          (!filter.types?.length || filter.types.includes(p.def.type)),
      )
      .map((p) => this.summary(p))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async storagePoolLookup(ref: string): Promise<StoragePoolSummary> {
    return this.summary(await this.find(ref));
  }

  async storagePoolLookupByVolume(pathOrKey: string): Promise<StoragePoolSummary> {
    const { pool } = await this.storageVolLookupByPath(pathOrKey).catch(() =>
      this.storageVolLookupByKey(pathOrKey),
    );
    return this.summary(await this.find(pool));
  }

  async storagePoolDefineXML(xml: string): Promise<StoragePoolSummary> {
    const conf = await this.ready();
    const def = this.withDefaults(await prefixed(() => conf.parsePool(xml)));
    const existing = this.checkDuplicate(def, false);
    if (existing) {
      if (existing.active) existing.newDef = def;
      else existing.def = def;
      existing.persistent = true;
      this.emit(existing, 'defined');
      return this.summary(existing);
    }
    const p: PoolObj = { def, active: false, persistent: true, autostart: false, volumes: [] };
    this.pools.push(p);
    this.emit(p, 'defined');
    return this.summary(p);
  }

  async storagePoolCreateXML(xml: string, flags: StoragePoolCreateFlags = {}): Promise<StoragePoolSummary> {
    const conf = await this.ready();
    const n = createFlags(flags);
    if (n) throw badFlags(n, 'testStoragePoolCreateXML');
    const def = this.withDefaults(await prefixed(() => conf.parsePool(xml)));
    if (this.checkDuplicate(def, true))
      throw failed(`pool '${def.name}' already exists with uuid ${def.uuid}`);
    const p: PoolObj = { def, active: true, persistent: false, autostart: false, volumes: [] };
    this.pools.push(p);
    this.emit(p, 'started');
    return this.summary(p);
  }

  async storagePoolBuild(ref: string, flags: StoragePoolBuildFlags = {}): Promise<void> {
    const p = await this.find(ref);
    const n = buildFlags(flags);
    if (n) throw badFlags(n, 'testStoragePoolBuild');
    if (p.active) throw invalid(`storage pool '${p.def.name}' is active`);
  }

  async storagePoolCreate(ref: string, flags: StoragePoolCreateFlags = {}): Promise<void> {
    const p = await this.find(ref);
    const n = createFlags(flags);
    if (n) throw badFlags(n, 'testStoragePoolCreate');
    if (p.active) throw invalid(`storage pool '${p.def.name}' is active`);
    p.active = true;
    this.recompute(p);
    this.emit(p, 'started');
  }

  async storagePoolDestroy(ref: string): Promise<void> {
    const p = await this.active(ref);
    p.active = false;
    this.emit(p, 'stopped');
    if (!p.persistent) this.pools = this.pools.filter((x) => x !== p);
  }

  async storagePoolDelete(ref: string): Promise<void> {
    const p = await this.find(ref);
    if (p.active) throw invalid(`storage pool '${p.def.name}' is active`);
    this.emit(p, 'deleted');
  }

  async storagePoolUndefine(ref: string): Promise<void> {
    const p = await this.find(ref);
    if (p.active) throw invalid(`storage pool '${p.def.name}' is active`);
    this.pools = this.pools.filter((x) => x !== p);
    this.emit(p, 'undefined');
  }

  async storagePoolSetAutostart(ref: string, autostart: boolean): Promise<void> {
    const p = await this.find(ref);
    if (!p.persistent) throw err('INVALID_ARG', 'invalid argument: pool has no config file');
    p.autostart = autostart;
  }

  async storagePoolRefresh(ref: string): Promise<void> {
    await this.active(ref);
  }

  async storagePoolGetInfo(ref: string): Promise<StoragePoolInfo> {
    const p = await this.find(ref);
    return {
      ...this.summary(p),
      state: p.active ? 'running' : 'inactive',
      ...sizes(p.def),
    };
  }

  async storagePoolGetXMLDesc(ref: string, flags: { inactive?: boolean } = {}): Promise<string> {
    const conf = await this.ready();
    const p = await this.find(ref);
    if (flags.inactive) throw badFlags(1, 'testStoragePoolGetXMLDesc');
    return conf.formatPool(p.def);
  }

  // ---- volumes ----

  async listStorageVols(pool: string): Promise<StorageVolInfo[]> {
    const p = await this.find(pool);
    if (!p.active) throw invalid('storage pool is not active');
    return [...p.volumes].sort((a, b) => (a.name < b.name ? -1 : 1)).map((v) => this.volInfo(p, v));
  }

  async storageVolLookupByName(pool: string, name: string): Promise<StorageVolSummary> {
    const p = await this.active(pool);
    return this.volSummary(p, this.vol(p, name));
  }

  private async findBy(match: (v: VolumeDef) => boolean): Promise<{ p: PoolObj; v: VolumeDef } | undefined> {
    await this.ready();
    for (const p of this.pools) {
      if (!p.active) continue;
      const v = p.volumes.find(match);
      if (v) return { p, v };
    }
    return undefined;
  }

  async storageVolLookupByPath(path: string): Promise<StorageVolSummary> {
    const f = await this.findBy((v) => v.target.path === path);
    if (!f) throw noVol('path', path);
    return this.volSummary(f.p, f.v);
  }

  async storageVolLookupByKey(key: string): Promise<StorageVolSummary> {
    const f = await this.findBy((v) => v.key === key);
    if (!f) throw noVol('key', key);
    return this.volSummary(f.p, f.v);
  }

  /** Parses a new volume, gives it its path and key, and checks name, existence and space. */
  private async newVol(p: PoolObj, xml: string, noCapacity: boolean): Promise<VolumeDef> {
    const conf = await this.ready();
    const v = await prefixed(() =>
      conf.parseVolume(xml, p.def, noCapacity ? { noCapacity: true } : { optCapacity: true }),
    );
    // libvirt's test driver takes any name; tvirt refuses ones that could leave the pool directory.
    // The codes and words of libvirt's storage driver (and tvirt's).
    if (v.name.includes('/'))
      throw err(
        'OPERATION_INVALID',
        `Requested operation is not valid: volume name '${v.name}' cannot contain '/'`,
      );
    if (v.name === '.' || v.name === '..')
      throw err('INVALID_ARG', `invalid argument: invalid volume name '${v.name}'`);
    if (p.volumes.some((x) => x.name === v.name)) throw failed('storage vol already exists');
    const path = `${p.def.target?.path ?? ''}/${v.name}`;
    return { ...v, key: path, target: { ...v.target, path } };
  }

  private add(p: PoolObj, v: VolumeDef): StorageVolSummary {
    if (p.def.allocation + v.allocation > p.def.capacity)
      throw err('INTERNAL_ERROR', `internal error: Not enough free space in pool for volume '${v.name}'`);
    p.volumes.push(v);
    this.recompute(p);
    return this.volSummary(p, v);
  }

  async storageVolCreateXML(
    pool: string,
    xml: string,
    flags: StorageVolCreateFlags = {},
  ): Promise<StorageVolSummary> {
    unsupportedFlags(flags, 'testStorageVolCreateXML');
    const p = await this.active(pool);
    return this.add(p, await this.newVol(p, xml, false));
  }

  async storageVolCreateXMLFrom(
    pool: string,
    xml: string,
    source: StorageVolRef,
    flags: StorageVolCreateFlags = {},
  ): Promise<StorageVolSummary> {
    unsupportedFlags(flags, 'testStorageVolCreateXMLFrom');
    const p = await this.active(pool);
    const v = await this.newVol(p, xml, true);
    // As libvirt's test driver: the source is looked up in the destination pool.
    const orig = p.volumes.find((x) => x.name === source.name);
    if (!orig) throw noVol('name', source.name);
    v.capacity = orig.capacity;
    v.allocation = orig.capacity;
    return this.add(p, v);
  }

  async storageVolDelete(ref: StorageVolRef): Promise<void> {
    const p = await this.active(ref.pool);
    const v = this.vol(p, ref.name);
    p.volumes = p.volumes.filter((x) => x !== v);
    this.recompute(p);
  }

  async storageVolWipe(): Promise<void> {
    throw unsupported('virStorageVolWipe');
  }

  async storageVolResize(): Promise<void> {
    throw unsupported('virStorageVolResize');
  }

  async storageVolGetInfo(ref: StorageVolRef): Promise<StorageVolInfo> {
    const p = await this.active(ref.pool);
    return this.volInfo(p, this.vol(p, ref.name));
  }

  async storageVolGetXMLDesc(ref: StorageVolRef): Promise<string> {
    const conf = await this.ready();
    const p = await this.active(ref.pool);
    return conf.formatVolume(this.vol(p, ref.name), p.def);
  }

  async storageVolGetPath(ref: StorageVolRef): Promise<string> {
    const p = await this.active(ref.pool);
    return this.vol(p, ref.name).target.path!;
  }

  async storageVolUpload(): Promise<void> {
    throw unsupported('virStorageVolUpload');
  }

  async storageVolDownload(): Promise<never> {
    throw unsupported('virStorageVolDownload');
  }
}

function sizes(d: PoolDef): { capacity: number; allocation: number; available: number } {
  return { capacity: d.capacity, allocation: d.allocation, available: d.available };
}

/** virStoragePoolBuildFlags as numbers (NO_OVERWRITE 4, OVERWRITE 8), for libvirt's flag messages. */
function buildFlags(f: StoragePoolBuildFlags): number {
  return (f.noOverwrite ? 4 : 0) | (f.overwrite ? 8 : 0);
}

/** virStoragePoolCreateFlags as numbers (WITH_BUILD 1, _OVERWRITE 2, _NO_OVERWRITE 4). */
function createFlags(f: StoragePoolCreateFlags): number {
  return (f.build ? 1 : 0) | (f.overwrite ? 2 : 0) | (f.noOverwrite ? 4 : 0);
}
