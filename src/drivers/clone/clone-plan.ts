// Clone planning (virt-manager's virtinst/cloner.py semantics): original DomainDef + options -> the
// clone's DomainDef and the disk copy actions. Pure: what exists on the host comes in through `env`.
import type { DiskDef, DomainDef } from '../../conf/domain/index.js';
import type { XmlElement } from '../../util/xml.js';
import { generateMac, parseMac, type RandomBytes } from '../../util/mac.js';
import { parseUuid, randomUuid, type UuidSource } from '../../util/uuid.js';
import { VirError } from '../../util/errors.js';

/** What a caller may ask of a clone (virt-clone's options; `linked` and `start` are tvirt's own). */
export interface CloneOptions {
  /** -n/--name; absent: NAME-clone, NAME-clone1 ... (--auto-clone). */
  name?: string;
  /** -f/--file: one path per cloneable disk, in disk order; missing ones are generated. */
  files?: string[];
  /** --mac: one per interface in order; absent or ['RANDOM']: generated. */
  macs?: string[];
  /** -u/--uuid; absent: random. */
  uuid?: string;
  /** --reflink: copy-on-write copies (refused when the file system cannot). */
  reflink?: boolean;
  /** --skip-copy TARGET: keep these disks as they are (shared with the original). */
  skipCopy?: string[];
  /** --preserve-data: use the --file paths as they are, copy nothing. */
  preserveData?: boolean;
  /** --nonsparse: allocate every byte of the new files. */
  nonsparse?: boolean;
  /** --replace: an existing domain of that name is destroyed and undefined first. */
  replace?: boolean;
  /** --check NAME=off: path_exists (overwrite files), path_in_use (a --file another guest uses), mac_in_use (duplicate MACs), all. */
  check?: Record<string, boolean>;
  /** A qcow2 overlay backed by the original's disk instead of a copy (tvirt). */
  linked?: boolean;
  /** Start the clone once it is defined (tvirt). */
  start?: boolean;
  /** --nvram: where the copied NVRAM goes (default DIR/NAME_VARS.fd). */
  nvram?: string;
}

/** One side of a copy: a plain path, or a pool volume (whose path is known too). */
export interface CloneStorage {
  path: string;
  format?: string;
  pool?: string;
  volume?: string;
}

/** A storage action of the clone. `copy` duplicates, `overlay` makes a qcow2 backed by the source. */
export interface CloneDiskAction {
  /** Disk target (vda ...) or 'nvram'. */
  target: string;
  kind: 'copy' | 'overlay';
  source: CloneStorage;
  dest: CloneStorage;
  sparse: boolean;
  reflink: boolean;
  /** The destination exists and --check path_exists=off lets it be overwritten. */
  overwrite: boolean;
}

export interface ClonePlan {
  def: DomainDef;
  actions: CloneDiskAction[];
  /** Disks the clone uses as they are: target -> why (virt-clone's share messages, or preserved). */
  kept: { target: string; reason: string }[];
  /** Warnings virt-clone would print (graphics autoport, overwrites). */
  warnings: string[];
  /** The existing domain --replace removes, if any. */
  replaces?: string;
}

/** What the planner needs to know about the host; all lookups are synchronous over pre-read facts. */
export interface ClonePlanEnv {
  /** Names of every defined or running domain. */
  domainNames: ReadonlySet<string>;
  /** Whether a file (or device) exists at `path`. */
  pathExists(path: string): boolean;
  /** Whether volume `name` exists in pool `pool` (volume disks). */
  volumeExists?(pool: string, name: string): boolean;
  /** The path of a pool volume (volume disks). */
  volumePath?(pool: string, name: string): string | undefined;
  /** Disk paths of other domains -> their names (--check path_in_use). */
  pathsInUse?: ReadonlyMap<string, string[]>;
  /**
   * With --replace: the files of the domain being replaced (disk paths and NVRAM). They do not
   * count as existing: the clone may take their names, and they are replaced.
   */
  replacedPaths?: ReadonlySet<string>;
  /** MACs used by other domains (the original's are avoided too). */
  usedMacs: ReadonlySet<string>;
  random?: RandomBytes;
  uuid?: UuidSource;
}

/** Namespace of tvirt's clone metadata in a linked clone's <metadata>. */
export const CLONE_NS = 'https://tvirt.dev/xmlns/clone/1.0';

/** virt-clone's graphics warning, printed once per fixed port. */
export const AUTOPORT_WARNING =
  'Setting the graphics device port to autoport, in order to avoid conflicting.';

function cloneError(
  code: 'INVALID_ARG' | 'OPERATION_INVALID' | 'DOM_EXIST' | 'OPERATION_FAILED',
  msg: string,
) {
  return new VirError(code, msg, { domain: 'DOMAIN' });
}

/** A check is on unless `--check NAME=off` or `--check all=off`. */
export function checkEnabled(check: Record<string, boolean> | undefined, name: string): boolean {
  if (!check) return true;
  if (check[name] !== undefined) return check[name]!;
  return check.all ?? true;
}

/**
 * virt-clone's automatic name: NAME-clone, then NAME-clone1, NAME-clone2 ...; cloning 'x-clone'
 * gives 'x-clone1', and 'x-clone3' gives 'x-clone4' (never x-clone-clone).
 */
export function generateCloneName(orig: string, exists: (name: string) => boolean): string {
  let base = orig;
  let start = 1;
  let forceNum = false;
  const m = /-clone[1-9]*$/.exec(orig);
  if (m) {
    forceNum = true;
    const num = /[1-9]+$/.exec(m[0]);
    if (num) start = Number(num[0]) + 1;
    base = orig.slice(0, m.index);
  }
  base += '-clone';
  if (!forceNum && !exists(base)) return base;
  for (let i = start; i < start + 100000; i++) if (!exists(`${base}${i}`)) return `${base}${i}`;
  throw cloneError('OPERATION_FAILED', `no free clone name left for '${orig}'`);
}

/** Splits 'dir/name.ext' into ['dir/name', '.ext'] when the extension is at most 7 characters (virt-clone). */
function splitSuffix(path: string): [string, string] {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot > slash && path.length - dot - 1 <= 7) return [path.slice(0, dot), path.slice(dot)];
  return [path, ''];
}

/**
 * virt-clone's disk path: beside the original; a file named after the original domain takes the
 * clone's name (vm1.qcow2 -> vm2.qcow2), any other gets '-clone' (data.img -> data-clone.img);
 * taken names get -1, -2 ... before the suffix. `suffix` replaces the extension (linked: .qcow2).
 */
export function generateCloneDiskPath(
  origName: string,
  newName: string,
  origPath: string,
  exists: (path: string) => boolean,
  suffix?: string,
): string {
  const [stem, ext] = splitSuffix(origPath);
  const slash = stem.lastIndexOf('/');
  const dir = stem.slice(0, slash + 1);
  const base = stem.slice(slash + 1);
  const cloneBase = dir + (base === origName ? newName : `${base}-clone`);
  const sfx = suffix ?? ext;
  if (!exists(cloneBase + sfx)) return cloneBase + sfx;
  for (let i = 1; i < 100000; i++) if (!exists(`${cloneBase}-${i}${sfx}`)) return `${cloneBase}-${i}${sfx}`;
  throw cloneError('OPERATION_FAILED', `no free file name left beside '${origPath}'`);
}

/** Why a disk is used as it is rather than copied (virt-clone's _get_shareable_msg), or undefined. */
export function shareReason(d: DiskDef): string | undefined {
  if (!d.source || (!d.source.file && !d.source.dev && !d.source.volume && !d.source.name && !d.source.dir))
    return 'No storage to clone.';
  if (d.device === 'cdrom' || d.device === 'floppy') {
    if (d.readonly || d.device === 'cdrom') return 'Read Only';
  }
  if (d.readonly) return 'Read Only';
  if (d.shareable || d.transient?.shareBacking) return 'Marked as shareable';
  return undefined;
}

function diskPath(d: DiskDef, env: ClonePlanEnv): string | undefined {
  const s = d.source;
  if (!s) return undefined;
  if (d.type === 'volume' && s.pool && s.volume) return env.volumePath?.(s.pool, s.volume) ?? s.volume;
  return s.file ?? s.dev ?? s.dir;
}

function deepCopy<T>(v: T): T {
  return structuredClone(v);
}

/** The <metadata> child recording which base images a linked clone depends on. */
function linkedMetadata(def: DomainDef, origName: string, bases: CloneDiskAction[]): void {
  const meta: XmlElement = def.metadata ?? { type: 'element', name: 'metadata', attrs: {}, children: [] };
  meta.children = meta.children.filter((c) => !(c.type === 'element' && c.name === 'tvirt:clone'));
  meta.children.push({
    type: 'element',
    name: 'tvirt:clone',
    attrs: { 'xmlns:tvirt': CLONE_NS, original: origName },
    children: bases.map((a) => ({
      type: 'element' as const,
      name: 'tvirt:linked',
      attrs: {
        target: a.target,
        base: a.source.path,
        ...(a.source.format ? { format: a.source.format } : {}),
      },
      children: [],
    })),
  });
  def.metadata = meta;
}

/**
 * Plans a clone. Checks everything that can be checked without touching the host: the name is free
 * (or --replace), --file and --mac counts, explicit files do not exist (unless --preserve-data or
 * --check path_exists=off), explicit MACs are valid and unused (unless --check mac_in_use=off).
 * @throws VirError INVALID_ARG for bad options, DOM_EXIST for a taken name, OPERATION_INVALID for
 *   a disk that cannot be cloned.
 */
export function planClone(orig: DomainDef, opts: CloneOptions, env: ClonePlanEnv): ClonePlan {
  const warnings: string[] = [];
  const def = deepCopy(orig);
  delete def.id;
  delete def.title;
  def.uuid = opts.uuid ? parseUuid(opts.uuid) : (env.uuid ?? randomUuid)();
  if (def.uuid === orig.uuid)
    throw cloneError('INVALID_ARG', `the clone's uuid ${def.uuid} is the original's`);

  // Name.
  let replaces: string | undefined;
  if (opts.name !== undefined) {
    if (!opts.name.trim()) throw cloneError('INVALID_ARG', 'Invalid name for new guest: the name is empty');
    if (opts.name === orig.name)
      throw cloneError(
        'DOM_EXIST',
        `Invalid name for new guest: Guest name '${opts.name}' is the original's`,
      );
    if (env.domainNames.has(opts.name)) {
      if (!opts.replace)
        throw cloneError(
          'DOM_EXIST',
          `Invalid name for new guest: Guest name '${opts.name}' is already in use (use --replace to replace it).`,
        );
      replaces = opts.name;
    }
    def.name = opts.name;
  } else {
    def.name = generateCloneName(orig.name, (n) => env.domainNames.has(n));
  }

  // Files of the domain --replace removes are not conflicts: they are replaced (virt-clone).
  const replaced = replaces ? (env.replacedPaths ?? new Set<string>()) : new Set<string>();
  const occupied = (p: string) => env.pathExists(p) && !replaced.has(p);
  const replacing = (p: string) => env.pathExists(p) && replaced.has(p);

  // Graphics: fixed ports would clash with the original's.
  for (const g of def.devices.graphics) {
    if (g.port !== undefined && g.port !== -1) {
      warnings.push(AUTOPORT_WARNING);
      delete g.port;
      g.autoport = true;
    }
  }

  // Interfaces: new MACs, no fixed tap device name.
  const used = new Set(env.usedMacs);
  for (const i of orig.devices.interfaces) used.add(i.mac);
  const explicit =
    opts.macs && !(opts.macs.length === 1 && opts.macs[0]!.toUpperCase() === 'RANDOM') ? opts.macs : [];
  if (explicit.length > def.devices.interfaces.length)
    throw cloneError(
      'INVALID_ARG',
      `${explicit.length} --mac addresses given but the original has ${def.devices.interfaces.length} interface(s)`,
    );
  const chosen = new Set<string>();
  def.devices.interfaces.forEach((iface, n) => {
    delete iface.targetDev;
    let mac: string;
    if (n < explicit.length) {
      mac = parseMac(explicit[n]!);
      if ((used.has(mac) || chosen.has(mac)) && checkEnabled(opts.check, 'mac_in_use'))
        throw cloneError(
          'INVALID_ARG',
          `The MAC address '${mac}' is in use by another virtual machine. (Use --check mac_in_use=off or --check all=off to override)`,
        );
    } else {
      do mac = generateMac(env.random);
      while (used.has(mac) || chosen.has(mac));
    }
    chosen.add(mac);
    iface.mac = mac;
  });

  // Guest agent and other unix channels named after the original get a fresh path (virt-clone).
  for (const ch of def.devices.channels) {
    if (ch.source.type === 'unix' && ch.target?.name && ch.source.path?.includes(ch.target.name))
      delete ch.source.path;
  }

  // Serial logs and file chardevs named after the original would be shared with it (virt-clone
  // leaves them; tvirt renames the file, keeping its directory): vm1.serial -> vm2.serial.
  const rename = (p: string | undefined): string | undefined => {
    if (!p) return p;
    const slash = p.lastIndexOf('/');
    const base = p.slice(slash + 1);
    return base.includes(orig.name) ? p.slice(0, slash + 1) + base.split(orig.name).join(def.name) : p;
  };
  const { serials, consoles, parallels, channels } = def.devices;
  for (const ch of [...serials, ...consoles, ...parallels, ...channels]) {
    if (ch.source.logFile) ch.source.logFile = rename(ch.source.logFile);
    if (ch.source.type === 'file' && ch.source.path) ch.source.path = rename(ch.source.path);
  }

  // Disks.
  const kept: ClonePlan['kept'] = [];
  const actions: CloneDiskAction[] = [];
  const skip = new Set(opts.skipCopy ?? []);
  for (const t of skip)
    if (!orig.devices.disks.some((d) => d.target.dev === t))
      throw cloneError('INVALID_ARG', `--skip-copy ${t}: the original has no disk with target '${t}'`);
  const cloneable: number[] = [];
  orig.devices.disks.forEach((d, n) => {
    const why = skip.has(d.target.dev) ? 'Skipped (--skip-copy)' : shareReason(d);
    if (why) kept.push({ target: d.target.dev, reason: why });
    else cloneable.push(n);
  });
  const files = opts.files ?? [];
  if (files.length > cloneable.length)
    throw cloneError(
      'INVALID_ARG',
      `${files.length} --file paths given but the original has ${cloneable.length} disk(s) to clone` +
        (cloneable.length ? ` (${cloneable.map((n) => orig.devices.disks[n]!.target.dev).join(', ')})` : ''),
    );
  if (opts.preserveData && files.length < cloneable.length)
    throw cloneError('INVALID_ARG', '--preserve-data needs an existing --file path for every disk to clone');
  if (opts.linked && opts.preserveData)
    throw cloneError('INVALID_ARG', '--linked and --preserve-data cannot be used together');
  const planned = new Set<string>();
  const taken = (p: string) => occupied(p) || planned.has(p);
  const overwriteOk = !checkEnabled(opts.check, 'path_exists');
  cloneable.forEach((n, k) => {
    const od = orig.devices.disks[n]!;
    const nd = def.devices.disks[n]!;
    const dev = od.target.dev;
    if (od.type === 'network' || od.type === 'nvme' || od.type === 'vhostuser' || od.type === 'vhostvdpa')
      throw cloneError(
        'OPERATION_INVALID',
        `Could not determine original disk information: Disk ${od.type === 'network' ? `network type '${od.source?.protocol}'` : `type '${od.type}'`} is not cloneable. Use --skip-copy ${dev} to share it.`,
      );
    const srcPath = diskPath(od, env)!;
    const isVolume = od.type === 'volume' && od.source?.pool && od.source.volume;
    if (!isVolume && !env.pathExists(srcPath) && !opts.preserveData)
      throw cloneError(
        'OPERATION_INVALID',
        `Could not determine original disk information: Disk path '${srcPath}' does not exist.`,
      );
    const srcFormat = od.driver?.type;
    const source: CloneStorage = { path: srcPath, ...(srcFormat ? { format: srcFormat } : {}) };
    if (isVolume) Object.assign(source, { pool: od.source!.pool, volume: od.source!.volume });
    const destFormat = opts.linked ? 'qcow2' : srcFormat;
    let dest: CloneStorage;
    const given = files[k];
    if (given !== undefined) {
      if (!given.startsWith('/') && !isVolume)
        throw cloneError('INVALID_ARG', `--file '${given}' must be an absolute path`);
      dest = { path: given, ...(destFormat ? { format: destFormat } : {}) };
      const users = env.pathsInUse?.get(given)?.filter((u) => u !== replaces);
      if (users?.length && checkEnabled(opts.check, 'path_in_use'))
        throw cloneError(
          'INVALID_ARG',
          `Disk ${given} is already in use by other guests ${users.map((u) => `'${u}'`).join(', ')}. (Use --check path_in_use=off or --check all=off to override)`,
        );
      const exists = occupied(given);
      if (opts.preserveData) {
        if (!env.pathExists(given))
          throw cloneError('INVALID_ARG', `--preserve-data: '${given}' (for disk ${dev}) does not exist`);
      } else if (planned.has(given)) {
        throw cloneError('INVALID_ARG', `--file '${given}' is given for two disks`);
      } else if (exists && !overwriteOk) {
        throw cloneError(
          'INVALID_ARG',
          `This will overwrite the existing path '${given}' (Use --check path_exists=off or --check all=off to override)`,
        );
      } else if (exists) {
        warnings.push(`This will overwrite the existing path '${given}'`);
      }
    } else if (isVolume) {
      const pool = od.source!.pool!;
      const volExists = (v: string) => env.volumeExists?.(pool, v) ?? false;
      const vol = generateCloneDiskPath(
        orig.name,
        def.name,
        od.source!.volume!,
        (v) => volExists(v) || planned.has(`${pool}\0${v}`),
        opts.linked ? '.qcow2' : undefined,
      );
      planned.add(`${pool}\0${vol}`);
      const p = env.volumePath?.(pool, vol) ?? vol;
      dest = { path: p, pool, volume: vol, ...(destFormat ? { format: destFormat } : {}) };
    } else {
      const p = generateCloneDiskPath(
        orig.name,
        def.name,
        srcPath,
        taken,
        opts.linked ? '.qcow2' : undefined,
      );
      dest = { path: p, ...(destFormat ? { format: destFormat } : {}) };
    }
    planned.add(dest.path);
    // The clone's disk XML.
    if (dest.pool && dest.volume) {
      nd.type = 'volume';
      nd.source = { ...nd.source, pool: dest.pool, volume: dest.volume };
    } else {
      const { pool: _p, volume: _v, file: _f, dev: _d, dir: _dir, ...rest } = nd.source ?? {};
      const block = od.type === 'block' && given !== undefined && given.startsWith('/dev/');
      nd.type = block ? 'block' : 'file';
      nd.source = { ...rest, ...(block ? { dev: dest.path } : { file: dest.path }) };
    }
    if (destFormat) nd.driver = { ...nd.driver, type: destFormat };
    if (opts.preserveData) {
      kept.push({ target: dev, reason: `Preserved: ${dest.path} is used as it is` });
      return;
    }
    actions.push({
      target: dev,
      kind: opts.linked ? 'overlay' : 'copy',
      source,
      dest,
      sparse: !opts.nonsparse,
      reflink: !!opts.reflink,
      overwrite: env.pathExists(dest.path) && (overwriteOk || replacing(dest.path)),
    });
  });

  // NVRAM: copied beside the original as NAME_VARS.fd (virt-clone); a missing one is made at start.
  const nvram = orig.os.nvram?.path;
  if (nvram) {
    const dir = nvram.slice(0, nvram.lastIndexOf('/') + 1);
    const newPath = opts.nvram ?? `${dir}${def.name}_VARS.fd`;
    def.os.nvram = { ...def.os.nvram, path: newPath };
    if (env.pathExists(nvram) && !opts.preserveData) {
      if (occupied(newPath) && !overwriteOk)
        throw cloneError(
          'INVALID_ARG',
          `This will overwrite the existing path '${newPath}' (Use --check path_exists=off or --check all=off to override)`,
        );
      actions.push({
        target: 'nvram',
        kind: 'copy',
        source: { path: nvram, format: 'raw' },
        dest: { path: newPath, format: 'raw' },
        sparse: true,
        reflink: !!opts.reflink,
        overwrite: env.pathExists(newPath),
      });
    }
  }

  if (opts.linked) {
    const bases = actions.filter((a) => a.kind === 'overlay');
    if (bases.length) linkedMetadata(def, orig.name, bases);
  }
  return { def, actions, kept, warnings: [...new Set(warnings)], ...(replaces ? { replaces } : {}) };
}
