// Clone execution: plan (clone-plan.ts) over facts read from the connection and the host, copy or
// overlay every disk into temporary names, then publish and define; any failure or cancel undoes all.
import { formatDomain, parseDomain, type DomainDef } from '../../conf/domain/index.js';
import { isVirError, VirError } from '../../util/errors.js';
import type { HypervisorConnection } from '../connection.js';
import type { CloneDiskReport, CloneResult, DomainCloneOptions } from './clone-api.js';
import { type CloneDiskAction, type ClonePlan, planClone } from './clone-plan.js';

/** Progress and cancel of one storage action. */
export interface CloneJob {
  signal?: AbortSignal;
  progress?: (processed: number) => void;
}

/**
 * What cloning needs from the host's storage. A local implementation works on files
 * (clone-host.ts); the test driver simulates files it does not have.
 */
export interface CloneHost {
  exists(path: string): Promise<boolean>;
  /** Entry names of a directory ([] when missing). */
  list(dir: string): Promise<string[]>;
  /** Bytes a copy of `path` processes (for progress totals). */
  size(path: string): Promise<number>;
  /** Copies action.source to `to` (a new file); sparse/reflink per the action. */
  copy(action: CloneDiskAction, to: string, job: CloneJob): Promise<void>;
  /** Creates at `to` a qcow2 overlay backed by action.source. */
  overlay(action: CloneDiskAction, to: string, job: CloneJob): Promise<void>;
  /** Renames a finished temporary file to its final name (replacing it only when `overwrite`). */
  publish(tmp: string, final: string, overwrite: boolean): Promise<void>;
  remove(path: string): Promise<void>;
  /** Pool volumes, when the connection has storage: listing, copy and overlay as volumes. */
  volumes?: {
    list(pool: string): Promise<{ name: string; path: string }[]>;
    /** Bytes a copy of the volume processes. */
    size(pool: string, name: string): Promise<number>;
    copy(action: CloneDiskAction, job: CloneJob): Promise<void>;
    overlay(action: CloneDiskAction, job: CloneJob): Promise<void>;
    remove(pool: string, name: string): Promise<void>;
  };
}

function aborted(name: string): VirError {
  return new VirError(
    'OPERATION_ABORTED',
    `operation aborted: clone of '${name}' was cancelled; no domain, file or volume was left behind`,
    { domain: 'DOMAIN' },
  );
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Reads the original: a defined domain (must be shut off or paused) or --original-xml. */
async function original(
  conn: HypervisorConnection,
  ref: string,
  opts: DomainCloneOptions,
): Promise<DomainDef> {
  if (opts.originalXml !== undefined) return parseDomain(opts.originalXml);
  let dom: Awaited<ReturnType<HypervisorConnection['domainLookup']>>;
  try {
    dom = await conn.domainLookup(ref);
  } catch (e) {
    if (isVirError(e, 'NO_DOMAIN'))
      throw new VirError('NO_DOMAIN', `Domain '${ref}' was not found.`, { domain: 'DOMAIN', cause: e });
    throw e;
  }
  if (dom.state !== 'shutoff' && dom.state !== 'paused')
    throw new VirError(
      'OPERATION_INVALID',
      `Requested operation is not valid: domain '${dom.name}' is ${dom.state}; the domain to clone must be shut off or paused`,
      { domain: 'DOMAIN' },
    );
  return parseDomain(await conn.domainGetXMLDesc(dom.uuid, { inactive: true, secure: true }));
}

/** Plans a clone of `orig` against what the connection and host hold now. */
async function plan(
  conn: HypervisorConnection,
  host: CloneHost,
  orig: DomainDef,
  opts: DomainCloneOptions,
): Promise<ClonePlan> {
  const doms = await conn.listDomains();
  const usedMacs = new Set<string>();
  const pathsInUse = new Map<string, string[]>();
  for (const d of doms) {
    if (d.uuid === orig.uuid) continue;
    try {
      const def = parseDomain(await conn.domainGetXMLDesc(d.uuid));
      for (const i of def.devices.interfaces) usedMacs.add(i.mac);
      for (const k of def.devices.disks) {
        const p = k.source?.file ?? k.source?.dev;
        if (p) pathsInUse.set(p, [...(pathsInUse.get(p) ?? []), d.name]);
      }
    } catch {
      // A domain that vanished meanwhile has no MACs to avoid.
    }
  }
  // Facts the planner needs: the directories candidate names go into, and the paths it asks about.
  const known = new Set<string>();
  const dirs = new Set<string>();
  const volumes = new Map<string, Map<string, string>>();
  const probe: string[] = [...(opts.files ?? [])];
  if (opts.nvram) probe.push(opts.nvram);
  for (const d of orig.devices.disks) {
    const s = d.source;
    if (d.type === 'volume' && s?.pool && !volumes.has(s.pool) && host.volumes)
      volumes.set(s.pool, new Map((await host.volumes.list(s.pool)).map((v) => [v.name, v.path])));
    const p = s?.file ?? s?.dev;
    if (p) {
      probe.push(p);
      dirs.add(dirOf(p));
    }
  }
  const nv = orig.os.nvram?.path;
  if (nv) {
    probe.push(nv);
    dirs.add(dirOf(nv));
  }
  for (const dir of dirs)
    for (const n of await host.list(dir)) known.add(dir === '/' ? `/${n}` : `${dir}/${n}`);
  // --replace: the files of the domain it removes (disks, NVRAM) are replaced, not conflicts.
  const replacedPaths = new Set<string>();
  const old = opts.replace && opts.name ? doms.find((d) => d.name === opts.name) : undefined;
  if (old && old.uuid !== orig.uuid) {
    try {
      const def = parseDomain(await conn.domainGetXMLDesc(old.uuid, { inactive: true }));
      for (const k of def.devices.disks) {
        const p = k.source?.file ?? k.source?.dev;
        if (p) replacedPaths.add(p);
      }
      if (def.os.nvram?.path) replacedPaths.add(def.os.nvram.path);
    } catch {
      // vanished meanwhile: nothing of it to replace
    }
    // Never what the original, another guest, or another linked clone (as its base) still uses.
    const keep = [
      ...orig.devices.disks.map((k) => k.source?.file ?? k.source?.dev),
      orig.os.nvram?.path,
      ...[...pathsInUse].filter(([, users]) => users.some((u) => u !== old.name)).map(([p]) => p),
    ];
    for (const p of keep) if (p) replacedPaths.delete(p);
    if (replacedPaths.size) {
      const { linkedCloneDefs } = await import('./linked-guard.js');
      const { linkedClonesOf } = await import('./linked.js');
      const clones = (await linkedCloneDefs(conn)).filter((d) => d.uuid !== old.uuid);
      for (const p of [...replacedPaths]) if (linkedClonesOf(p, clones).length) replacedPaths.delete(p);
    }
    for (const p of replacedPaths) if (!known.has(p) && (await host.exists(p))) known.add(p);
  }
  for (const p of probe) if (!known.has(p) && (await host.exists(p))) known.add(p);
  return planClone(orig, opts, {
    replacedPaths,
    domainNames: new Set(doms.map((d) => d.name)),
    pathExists: (p) => known.has(p),
    volumeExists: (pool, n) => volumes.get(pool)?.has(n) ?? false,
    volumePath: (pool, n) => volumes.get(pool)?.get(n) ?? `${pool}/${n}`,
    usedMacs,
    pathsInUse,
  });
}

/**
 * Clones a domain over `conn` with `host` doing the storage work (domainClone's implementation for
 * every driver). Order: check and plan, copy every disk to a temporary name (or create volumes),
 * remove a --replace'd domain, publish the files, define, optionally start. On failure or cancel
 * the temporary files, created volumes and published files are removed again.
 */
export async function cloneDomain(
  conn: HypervisorConnection,
  host: CloneHost,
  ref: string,
  opts: DomainCloneOptions = {},
): Promise<CloneResult> {
  const orig = await original(conn, ref, opts);
  const p = await plan(conn, host, orig, opts);
  const vol = p.actions.find((a) => a.dest.pool);
  if (vol && !host.volumes)
    throw new VirError(
      'OPERATION_UNSUPPORTED',
      `Operation not supported: disk ${vol.target} is volume '${vol.source.volume}' of pool '${vol.source.pool}', and this connection has no storage pools to clone it in (use --skip-copy ${vol.target})`,
      { domain: 'DOMAIN' },
    );
  const sizes = await Promise.all(
    p.actions.map(async (a) => {
      if (a.kind === 'overlay') return 0;
      const { pool, volume } = a.source;
      const size =
        pool && volume && host.volumes ? host.volumes.size(pool, volume) : host.size(a.source.path);
      return size.catch(() => 0);
    }),
  );
  const report: CloneDiskReport[] = p.actions.map((a, i) => ({
    target: a.target,
    kind: a.kind,
    source: a.source.path,
    dest: a.dest.path,
    ...(a.dest.format ? { format: a.dest.format } : {}),
    ...(a.dest.pool ? { pool: a.dest.pool, volume: a.dest.volume } : {}),
    bytes: sizes[i]!,
  }));
  const xml = formatDomain(p.def, { inactive: true, secure: true });
  const result = (started: boolean, dryRun: boolean): CloneResult => ({
    name: p.def.name,
    uuid: p.def.uuid,
    xml,
    disks: report,
    kept: p.kept,
    warnings: p.warnings,
    started,
    dryRun,
  });
  if (opts.dryRun) return result(false, true);

  const signal = opts.signal;
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  let lastReport = 0;
  const tell = (processed: number, force = false) => {
    const now = Date.now();
    if (!force && now - lastReport < 100) return;
    lastReport = now;
    opts.progress?.(Math.min(processed, total), total);
  };
  const check = () => {
    if (signal?.aborted) throw aborted(orig.name);
  };
  const tmps: { tmp: string; final: string; overwrite: boolean }[] = [];
  const createdVolumes: { pool: string; name: string }[] = [];
  const published: string[] = [];
  let defined = false;
  tell(0, true);
  try {
    for (const [i, a] of p.actions.entries()) {
      check();
      const job: CloneJob = { signal, progress: (n) => tell(done + n) };
      if (a.dest.pool && a.dest.volume && host.volumes) {
        await (a.kind === 'overlay' ? host.volumes.overlay(a, job) : host.volumes.copy(a, job));
        createdVolumes.push({ pool: a.dest.pool, name: a.dest.volume });
      } else {
        const tmp = `${dirOf(a.dest.path)}/.${baseOf(a.dest.path)}.tvirt-clone-${process.pid}-${Date.now().toString(36)}`;
        tmps.push({ tmp, final: a.dest.path, overwrite: a.overwrite });
        await (a.kind === 'overlay' ? host.overlay(a, tmp, job) : host.copy(a, tmp, job));
      }
      done += sizes[i]!;
      tell(done, true);
    }
    check();
    if (p.replaces) {
      const old = await conn.domainLookup(p.replaces);
      if (old.state !== 'shutoff') await conn.domainDestroy(old.uuid);
      await conn.domainUndefine(old.uuid);
    }
    for (const t of tmps) {
      await host.publish(t.tmp, t.final, t.overwrite);
      published.push(t.final);
    }
    await conn.domainDefineXML(xml);
    defined = true;
  } catch (e) {
    for (const t of tmps) if (!published.includes(t.final)) await host.remove(t.tmp).catch(() => {});
    for (const f of published) await host.remove(f).catch(() => {});
    for (const v of createdVolumes) await host.volumes?.remove(v.pool, v.name).catch(() => {});
    if (defined) await conn.domainUndefine(p.def.uuid).catch(() => {});
    if (signal?.aborted || isVirError(e, 'OPERATION_ABORTED')) throw aborted(orig.name);
    throw e;
  }
  if (opts.start) {
    try {
      await conn.domainCreate(p.def.uuid);
    } catch (e) {
      throw new VirError(
        'OPERATION_FAILED',
        `Clone '${p.def.name}' was created, but starting it failed: ${e instanceof Error ? e.message : String(e)}`,
        { domain: 'DOMAIN', cause: e },
      );
    }
  }
  return result(!!opts.start, false);
}
