// NetworkDriver: libvirt's network driver entry points (define/start/destroy/update/leases/taps) as a library.
import { join } from 'node:path';
import {
  formatNetwork,
  type NetworkDef,
  networkSetBridgeMac,
  parseNetwork,
  validateNetwork,
} from '../../conf/network/index.js';
import { writeFileAtomic } from '../../host/atomic-file.js';
import { listDir, mkdirp, readFileIfExists, removeIfExists } from '../../host/fs-util.js';
import {
  createTap,
  deleteTap,
  getIpForward,
  listLinks,
  type NetOpts,
  nftApply,
  setIpForward,
  setLinkUp,
  setMac,
  setMaster,
  setMtu,
} from '../../host/netdev.js';
import { pidRunning } from '../../host/netdev-dnsmasq.js';
import type { Runner } from '../../host/run.js';
import { VirError } from '../../util/errors.js';
import type { RandomBytes } from '../../util/mac.js';
import type { UuidSource } from '../../util/uuid.js';
import { networkNeedsDnsmasq } from './dnsmasq-conf.js';
import { parseDnsmasqLeases } from './leases.js';
import {
  type NetworkUpdateCommand,
  type NetworkUpdateSection,
  networkDefUpdateSection,
} from './net-update.js';
import type {
  NetworkEvent,
  NetworkInfo,
  NetworkLease,
  NetworkListFilter,
  NetworkStore,
  NetworkSummary,
  NetworkUpdateFlags,
} from './network-api.js';
import {
  checkStart,
  dnsmasqPaths,
  type NetworkRuntime,
  type RuntimeEnv,
  refreshDnsmasq,
  startNetworkRuntime,
  stopNetworkRuntime,
} from './network-runtime.js';
import { buildNftRuleset } from './nft-rules.js';

/** How the driver reaches the host and where it keeps state. */
export interface NetworkDriverOptions {
  store: NetworkStore;
  /** Runtime state: NAME.json per active network, dnsmasq/ files. */
  stateDir: string;
  /** Run every host command inside this network namespace. */
  netns?: string;
  runner?: Runner;
  dnsmasqProgram?: string;
  uuidSource?: UuidSource;
  randomBytes?: RandomBytes;
  onEvent?: (name: string, event: NetworkEvent, uuid: string) => void;
}

/** A running guest's tap that belongs on a network's bridge (the live <target dev>). */
export interface GuestPort {
  tap: string;
  /** The guest it belongs to (for messages). */
  domain: string;
}

/** The running guests' taps that belong on network `network`, whose bridge is `bridge`. */
export type GuestPortSource = (network: string, bridge: string) => Promise<GuestPort[]>;

/**
 * What re-attaching reports, per tap: `error` undefined when it was put back on the bridge; `port`
 * undefined when the guests' taps could not even be listed.
 */
export type GuestPortReport = (network: string, port: GuestPort | undefined, error?: unknown) => void;

interface NetworkObj {
  def: NetworkDef;
  /** Persistent definition to use after the next stop (define while running). */
  newDef?: NetworkDef;
  persistent: boolean;
  autostart: boolean;
  runtime?: NetworkRuntime;
}

function noNetwork(name: string): VirError {
  return new VirError('NO_NETWORK', `Network not found: no network with matching name '${name}'`, {
    domain: 'NETWORK',
  });
}

function invalid(msg: string): VirError {
  return new VirError('OPERATION_INVALID', `Requested operation is not valid: ${msg}`, { domain: 'NETWORK' });
}

const clone = (d: NetworkDef) => parseNetwork(formatNetwork(d), { skipValidate: true });

/** The network libvirt ships as default.xml (NAT on virbr0, 192.168.122.0/24). */
export const defaultNetworkXml = `<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
`;

/**
 * The network driver. Call init() once before anything else; all methods are safe to call
 * concurrently (operations on one network are serialized).
 */
export class NetworkDriver {
  private readonly objs = new Map<string, NetworkObj>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly env: RuntimeEnv;
  private readonly reservedTaps = new Set<string>();
  private guestPorts?: { source: GuestPortSource; report: GuestPortReport };

  constructor(private readonly opts: NetworkDriverOptions) {
    this.env = {
      netns: opts.netns,
      runner: opts.runner,
      dnsmasqDir: join(opts.stateDir, 'dnsmasq'),
      dnsmasqProgram: opts.dnsmasqProgram,
    };
  }

  private get net(): NetOpts {
    return { netns: this.opts.netns, runner: this.opts.runner };
  }

  /** Loads persistent definitions and the state of networks left running by a previous daemon. */
  async init(): Promise<void> {
    await mkdirp(this.opts.stateDir);
    for (const { name, xml } of await this.opts.store.loadAll()) {
      const def = parseNetwork(xml, { uuidSource: this.opts.uuidSource });
      this.objs.set(name, { def, persistent: true, autostart: await this.opts.store.isAutostart(name) });
    }
    for (const f of await listDir(this.opts.stateDir)) {
      if (!f.endsWith('.json') || f === 'tvirt-network.json') continue;
      const text = await readFileIfExists(join(this.opts.stateDir, f));
      if (!text) continue;
      const st = JSON.parse(text) as { xml: string; runtime: NetworkRuntime };
      const def = parseNetwork(st.xml, { skipValidate: true });
      const alive =
        st.runtime.dnsmasqPid === undefined || (await pidRunning(st.runtime.dnsmasqPid, 'dnsmasq'));
      const bridgeUp =
        !st.runtime.bridge || (await listLinks(this.net)).some((l) => l.ifname === st.runtime.bridge);
      if (!bridgeUp) {
        // The bridge is gone (host reboot, manual removal): clear what is left of the network.
        await stopNetworkRuntime(st.runtime, this.env).catch(() => {});
        await removeIfExists(join(this.opts.stateDir, f));
        continue;
      }
      if (!alive) {
        // dnsmasq died while tvirt was away: restart it, keeping the bridge and its guests (as libvirt).
        await refreshDnsmasq(def, st.runtime, this.env, true);
        await writeFileAtomic(join(this.opts.stateDir, f), JSON.stringify(st), { mode: 0o600, noSync: true });
      }
      const o = this.objs.get(def.name);
      if (o) {
        o.newDef = o.def;
        o.def = def;
        o.runtime = st.runtime;
      } else this.objs.set(def.name, { def, persistent: false, autostart: false, runtime: st.runtime });
    }
  }

  /**
   * SIGHUP (libvirt's virNetworkObjLoadAllConfigs on reload): re-reads every definition file and
   * autostart link. A new file defines an inactive persistent network; a changed one replaces an
   * inactive network's definition, or becomes a running network's next one (the live one stays); a
   * network whose file is gone is removed when inactive and becomes transient when running. A file
   * that does not parse is reported through `onError` and leaves its network as it was. Bridges,
   * dnsmasq and nftables are never touched.
   */
  async reloadDefinitions(onError: (network: string, e: unknown) => void = () => {}): Promise<void> {
    const files = new Set<string>();
    const auto = new Set(await this.opts.store.listAutostart());
    for (const { name, xml } of await this.opts.store.loadAll()) {
      files.add(name);
      try {
        const def = this.parse(xml);
        if (def.name !== name) {
          throw new VirError(
            'XML_ERROR',
            `network config filename '${name}.xml' does not match network name '${def.name}'`,
            { domain: 'NETWORK' },
          );
        }
        await this.locked(name, async () => {
          const o = this.checkNameUuid(def);
          const autostart = auto.has(name);
          if (!o) {
            this.objs.set(name, { def, persistent: true, autostart });
            this.emit(def, 'defined');
            return;
          }
          const current = o.persistent ? (o.newDef ?? o.def) : undefined;
          const inactiveXml = (d: NetworkDef) => formatNetwork(d, { inactive: true });
          // What parse() made up for a file without it (MAC, bridge name): keep what the network has.
          if (current && !/<mac\b/.test(xml) && current.mac) def.mac = current.mac;
          if (current?.bridge?.name && def.bridge && !/<bridge\b[^>]*\bname=/.test(xml))
            def.bridge = { ...def.bridge, name: current.bridge.name };
          const changed = !current || inactiveXml(current) !== inactiveXml(def);
          if (changed) {
            if (o.runtime) o.newDef = def;
            else o.def = def;
          }
          const wasPersistent = o.persistent;
          o.persistent = true;
          o.autostart = autostart;
          if (changed || !wasPersistent) this.emit(def, 'defined');
        });
      } catch (e) {
        onError(name, e);
      }
    }
    for (const o of [...this.objs.values()]) {
      if (!o.persistent || files.has(o.def.name)) continue;
      await this.locked(o.def.name, async () => {
        if (!o.persistent || files.has(o.def.name)) return;
        o.persistent = false;
        o.autostart = false;
        o.newDef = undefined;
        if (!o.runtime) this.objs.delete(o.def.name);
        this.emit(o.def, 'undefined');
      });
    }
  }

  /** Starts every inactive autostart network; returns the errors of those that failed. */
  async autostartAll(): Promise<{ name: string; error: unknown }[]> {
    const errs: { name: string; error: unknown }[] = [];
    for (const [name, o] of this.objs) {
      if (!o.autostart || o.runtime) continue;
      await this.networkCreate(name).catch((error) => errs.push({ name, error }));
    }
    return errs;
  }

  /**
   * Defines libvirt's default NAT network (virbr0, 192.168.122.1/24, DHCP .2-.254) with autostart,
   * once: a marker in the state dir remembers it, so an undefined default stays undefined.
   */
  async ensureDefaultNetwork(): Promise<boolean> {
    const marker = join(this.opts.stateDir, 'tvirt-network.json');
    if ((await readFileIfExists(marker)) !== undefined || this.objs.has('default')) return false;
    // Like Debian's libvirt postinst: when 192.168.122.0/24 is taken on the host (or by another of
    // our networks), use the next free 192.168.N.0/24.
    let xml = defaultNetworkXml;
    const ours = [...this.objs.values()].flatMap((o) => o.def.ips.map((i) => i.address ?? ''));
    for (let n = 122; n < 255; n++) {
      const cand = defaultNetworkXml.replace(/192\.168\.122\./g, `192.168.${n}.`);
      const inUse =
        ours.some((a) => a.startsWith(`192.168.${n}.`)) ||
        (await checkStart(parseNetwork(cand), this.env).then(
          () => false,
          (e) => /subnet .* is already in use/.test(String((e as Error).message)),
        ));
      if (!inUse) {
        xml = cand;
        break;
      }
    }
    await this.networkDefineXML(xml);
    await this.networkSetAutostart('default', true);
    await writeFileAtomic(marker, JSON.stringify({ defaultCreated: true }), { mode: 0o644 });
    return true;
  }

  private async locked<T>(name: string, f: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(f);
    this.locks.set(name, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(name) === next) this.locks.delete(name);
    }
  }

  private obj(name: string): NetworkObj {
    const o = this.objs.get(name) ?? [...this.objs.values()].find((x) => x.def.uuid === name);
    if (!o) throw noNetwork(name);
    return o;
  }

  private summary(o: NetworkObj): NetworkSummary {
    return {
      name: o.def.name,
      uuid: o.def.uuid,
      active: !!o.runtime,
      persistent: o.persistent,
      autostart: o.autostart,
      bridge: o.def.bridge?.name,
    };
  }

  private emit(def: NetworkDef, ev: NetworkEvent): void {
    this.opts.onEvent?.(def.name, ev, def.uuid);
  }

  /** Gives a network that owns its bridge a free virbrN name; checks a given name is not another network's. */
  private assignBridge(def: NetworkDef): void {
    if (!networkNeedsDnsmasq(def)) return;
    const taken = new Set(
      [...this.objs.values()].filter((o) => o.def.name !== def.name).map((o) => o.def.bridge?.name),
    );
    const name = def.bridge?.name;
    if (name && !name.includes('%d')) {
      if (taken.has(name)) {
        throw new VirError('OPERATION_FAILED', `bridge name '${name}' already in use.`, {
          domain: 'NETWORK',
        });
      }
      return;
    }
    const tmpl = name ?? 'virbr%d';
    for (let i = 0; ; i++) {
      const n = tmpl.replace('%d', String(i));
      if (!taken.has(n)) {
        def.bridge = { ...def.bridge, name: n };
        return;
      }
    }
  }

  /** libvirt's virNetworkObjAssignDef checks: a name or uuid held by another network is refused. */
  private checkNameUuid(def: NetworkDef): NetworkObj | undefined {
    const o = this.objs.get(def.name);
    if (o && o.def.uuid !== def.uuid) {
      throw new VirError('OPERATION_FAILED', `network '${def.name}' already exists with uuid ${o.def.uuid}`, {
        domain: 'NETWORK',
      });
    }
    for (const x of this.objs.values()) {
      if (x.def.uuid === def.uuid && x.def.name !== def.name) {
        throw new VirError(
          'OPERATION_FAILED',
          `network '${x.def.name}' is already defined with uuid ${def.uuid}`,
          {
            domain: 'NETWORK',
          },
        );
      }
    }
    return o;
  }

  private parse(xml: string): NetworkDef {
    const def = parseNetwork(xml, { uuidSource: this.opts.uuidSource });
    const existing = this.objs.get(def.name);
    // Same name without a uuid in the XML: keep the existing uuid, as libvirt does on redefine.
    if (existing && !/<uuid>/.test(xml)) def.uuid = existing.def.uuid;
    this.assignBridge(def);
    if (networkNeedsDnsmasq(def)) networkSetBridgeMac(def, this.opts.randomBytes);
    return def;
  }

  /** Defines (or redefines) a persistent network; a running one keeps its live definition until stopped. */
  async networkDefineXML(xml: string): Promise<NetworkSummary> {
    const def = this.parse(xml);
    return this.locked(def.name, async () => {
      const o = this.checkNameUuid(def);
      await this.opts.store.save(def.name, formatNetwork(def, { inactive: true }));
      if (o?.runtime) {
        o.newDef = def;
        o.persistent = true;
      } else if (o) {
        o.def = def;
        o.persistent = true;
      } else this.objs.set(def.name, { def, persistent: true, autostart: false });
      this.emit(def, 'defined');
      return this.summary(this.objs.get(def.name)!);
    });
  }

  /** Creates and starts a transient network; nothing remains if starting fails. */
  async networkCreateXML(xml: string): Promise<NetworkSummary> {
    const def = this.parse(xml);
    return this.locked(def.name, async () => {
      if (this.checkNameUuid(def)) {
        throw new VirError('OPERATION_FAILED', `network '${def.name}' already exists`, { domain: 'NETWORK' });
      }
      const o: NetworkObj = { def, persistent: false, autostart: false };
      await this.start(o);
      this.objs.set(def.name, o);
      await this.reattachGuests(o);
      this.emit(def, 'started');
      return this.summary(o);
    });
  }

  /** Starts a defined, inactive network (net-start). */
  async networkCreate(name: string): Promise<NetworkSummary> {
    const o0 = this.obj(name);
    return this.locked(o0.def.name, async () => {
      const o = this.obj(name);
      if (o.runtime) throw invalid('network is already active');
      await this.start(o);
      await this.reattachGuests(o);
      this.emit(o.def, 'started');
      return this.summary(o);
    });
  }

  private activeOthers(o: NetworkObj): NetworkObj[] {
    return [...this.objs.values()].filter((x) => x !== o && x.runtime);
  }

  private async start(o: NetworkObj): Promise<void> {
    const def = o.def;
    validateNetwork(def);
    for (const x of this.activeOthers(o)) {
      if (networkNeedsDnsmasq(def) && x.runtime?.bridge === def.bridge?.name && x.runtime?.bridgeCreated) {
        throw new VirError(
          'OPERATION_FAILED',
          `bridge name '${def.bridge?.name}' already in use by network '${x.def.name}'.`,
          {
            domain: 'NETWORK',
          },
        );
      }
    }
    await checkStart(def, this.env);
    const rt = await startNetworkRuntime(def, this.env);
    try {
      for (const fam of rt.forwarding ?? []) await this.forwardOn(fam);
      await writeFileAtomic(
        this.statusPath(def.name),
        JSON.stringify({ xml: formatNetwork(def), runtime: rt }),
        {
          mode: 0o600,
          noSync: true,
        },
      );
    } catch (e) {
      await stopNetworkRuntime(rt, this.env).catch(() => {});
      await this.forwardRelease(o).catch(() => {});
      throw e;
    }
    o.runtime = rt;
  }

  private statusPath(name: string): string {
    return join(this.opts.stateDir, `${name}.json`);
  }

  /** Turns forwarding on, remembering that tvirt did so it can turn it off after the last network. */
  private async forwardOn(fam: 4 | 6): Promise<void> {
    if (await getIpForward(fam, this.net)) return;
    await setIpForward(fam, true, this.net);
    const marker = join(this.opts.stateDir, `forward${fam}.set`);
    await writeFileAtomic(marker, '1\n', { mode: 0o644, noSync: true });
  }

  /** Turns forwarding back off when tvirt turned it on and no other running network needs it. */
  private async forwardRelease(o: NetworkObj): Promise<void> {
    for (const fam of [4, 6] as const) {
      const marker = join(this.opts.stateDir, `forward${fam}.set`);
      if ((await readFileIfExists(marker)) === undefined) continue;
      if (this.activeOthers(o).some((x) => x.runtime?.forwarding?.includes(fam))) continue;
      await setIpForward(fam, false, this.net);
      await removeIfExists(marker);
    }
  }

  /** Stops a running network (net-destroy); a transient one disappears. */
  async networkDestroy(name: string): Promise<void> {
    const o0 = this.obj(name);
    await this.locked(o0.def.name, async () => {
      const o = this.obj(name);
      if (!o.runtime) throw invalid('network is not active');
      const rt = o.runtime;
      await stopNetworkRuntime(rt, this.env);
      o.runtime = undefined;
      await this.forwardRelease(o);
      await removeIfExists(this.statusPath(o.def.name));
      if (o.newDef) {
        o.def = o.newDef;
        o.newDef = undefined;
      }
      if (!o.persistent) this.objs.delete(o.def.name);
      this.emit(o.def, 'stopped');
    });
  }

  /** Removes the persistent definition; a running network becomes transient. */
  async networkUndefine(name: string): Promise<void> {
    const o0 = this.obj(name);
    await this.locked(o0.def.name, async () => {
      const o = this.obj(name);
      if (!o.persistent) throw invalid('network is not persistent');
      await this.opts.store.setAutostart(o.def.name, false);
      await this.opts.store.remove(o.def.name);
      o.persistent = false;
      o.autostart = false;
      o.newDef = undefined;
      if (!o.runtime) this.objs.delete(o.def.name);
      this.emit(o.def, 'undefined');
    });
  }

  /** net-autostart [--disable]; only for persistent networks. */
  async networkSetAutostart(name: string, autostart: boolean): Promise<void> {
    const o = this.obj(name);
    if (!o.persistent) throw invalid('cannot set autostart for transient network');
    await this.opts.store.setAutostart(o.def.name, autostart);
    o.autostart = autostart;
  }

  /** net-list: all networks matching the filter, by name. */
  listNetworks(filter: NetworkListFilter = {}): NetworkSummary[] {
    return [...this.objs.values()]
      .map((o) => this.summary(o))
      .filter(
        (s) =>
          (filter.active === undefined || s.active === filter.active) &&
          (filter.persistent === undefined || s.persistent === filter.persistent) &&
          (filter.autostart === undefined || s.autostart === filter.autostart),
      )
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Looks a network up by name or uuid. @throws VirError NO_NETWORK */
  networkLookup(nameOrUuid: string): NetworkSummary {
    return this.summary(this.obj(nameOrUuid));
  }

  /** net-dumpxml [--inactive]: the live definition, or the persistent one with `inactive`. */
  networkGetXMLDesc(name: string, opts: { inactive?: boolean } = {}): string {
    const o = this.obj(name);
    const def = opts.inactive && o.newDef ? o.newDef : o.def;
    return formatNetwork(def, { inactive: opts.inactive });
  }

  /** The parsed live definition (a copy). */
  networkGetDef(name: string): NetworkDef {
    return clone(this.obj(name).def);
  }

  networkGetInfo(name: string): NetworkInfo {
    return this.summary(this.obj(name));
  }

  /**
   * net-update. Without flags it changes the live network when running, else the persistent one
   * (virsh's "current"). Live changes rewrite dnsmasq's files (SIGHUP, or a restart when its
   * config changed) and reload the nft table.
   */
  async networkUpdate(
    name: string,
    command: NetworkUpdateCommand,
    section: NetworkUpdateSection,
    xml: string,
    parentIndex = -1,
    flags: NetworkUpdateFlags = {},
  ): Promise<void> {
    const o0 = this.obj(name);
    await this.locked(o0.def.name, async () => {
      const o = this.obj(name);
      let live = flags.live ?? false;
      let config = flags.config ?? false;
      if (!live && !config) {
        if (o.runtime) live = true;
        else config = true;
      }
      if (live && !o.runtime) throw invalid('network is not running');
      if (config && !o.persistent) throw invalid('cannot change persistent config of a transient network');
      const apply = (d: NetworkDef) => {
        const c = clone(d);
        networkDefUpdateSection(c, command, section, xml, parentIndex);
        validateNetwork(c);
        return c;
      };
      const nextLive = live ? apply(o.def) : undefined;
      const persistentBase = o.newDef ?? o.def;
      const nextConfig = config ? (live && !o.newDef ? nextLive! : apply(persistentBase)) : undefined;
      if (nextConfig) await this.opts.store.save(o.def.name, formatNetwork(nextConfig, { inactive: true }));
      if (nextLive && o.runtime) {
        await refreshDnsmasq(nextLive, o.runtime, this.env);
        const rules = buildNftRuleset(nextLive);
        if (rules && rules !== buildNftRuleset(o.def)) await nftApply(rules, this.net);
        if (config && o.newDef) o.newDef = nextConfig;
        // A live-only change must not leak into the persistent definition used after the next stop.
        else if (!config && o.persistent && !o.newDef) o.newDef = o.def;
        o.def = nextLive;
        await writeFileAtomic(
          this.statusPath(o.def.name),
          JSON.stringify({ xml: formatNetwork(o.def), runtime: o.runtime }),
          { mode: 0o600, noSync: true },
        );
      } else if (nextConfig) {
        if (o.runtime) o.newDef = nextConfig;
        else o.def = nextConfig;
      }
    });
  }

  /** net-dhcp-leases [--mac]: the current leases of a running network, expired ones left out. */
  async networkGetDHCPLeases(name: string, mac?: string, now = Date.now() / 1000): Promise<NetworkLease[]> {
    const o = this.obj(name);
    if (!o.runtime) throw invalid('network is not active');
    const text = (await readFileIfExists(dnsmasqPaths(this.env, o.def.name).leases)) ?? '';
    return parseDnsmasqLeases(text, o.def, now).filter((l) => !mac || l.mac === mac.toLowerCase());
  }

  /**
   * Creates a tap device vnetN for a guest NIC, joined to the network's bridge (or to a host bridge
   * named directly) and up. Its MAC is the guest's with the first byte 0xfe, as libvirt does, so the
   * bridge never takes the guest's address. With `bridge: true` the name is a host bridge's only
   * (<interface type='bridge'>), never a network's. `name` is the definition's own <target dev>
   * (libvirt honours names outside its vnet prefix); it must not exist yet. @returns the tap name.
   */
  async allocateTap(
    networkOrBridge: string,
    mac: string,
    opts: { user?: string; bridge?: boolean; name?: string } = {},
  ): Promise<string> {
    const o = opts.bridge ? undefined : this.objs.get(networkOrBridge);
    let bridge: string;
    if (o) {
      if (!o.runtime) throw invalid(`network '${networkOrBridge}' is not active`);
      if (!o.def.bridge?.name) {
        throw new VirError(
          'CONFIG_UNSUPPORTED',
          `network '${networkOrBridge}' has no bridge for a tap device`,
          {
            domain: 'NETWORK',
          },
        );
      }
      bridge = o.def.bridge.name;
    } else bridge = networkOrBridge;
    const links = await listLinks(this.net);
    const br = links.find((l) => l.ifname === bridge);
    if (!br) {
      if (opts.bridge) {
        throw new VirError(
          'OPERATION_FAILED',
          `operation failed: host bridge '${bridge}' does not exist; create it first (e.g. iface-bridge IFACE ${bridge})`,
          { domain: 'NETWORK' },
        );
      }
      if (!o) throw noNetwork(networkOrBridge);
      throw new VirError('OPERATION_FAILED', `bridge '${bridge}' does not exist`, { domain: 'NETWORK' });
    }
    const used = new Set([...links.map((l) => l.ifname), ...this.reservedTaps]);
    if (opts.name && used.has(opts.name)) {
      throw new VirError(
        'OPERATION_FAILED',
        `operation failed: a network device named '${opts.name}' already exists; choose another <target dev> or leave it out`,
        { domain: 'NETWORK' },
      );
    }
    let n = 0;
    while (used.has(`vnet${n}`)) n++;
    const tap = opts.name ?? `vnet${n}`;
    this.reservedTaps.add(tap);
    try {
      await createTap(tap, { ...this.net, user: opts.user });
      try {
        await setMac(tap, `fe${mac.toLowerCase().slice(2)}`, this.net);
        await this.joinBridge(tap, bridge, br.mtu);
      } catch (e) {
        await deleteTap(tap, this.net).catch(() => {});
        throw e;
      }
    } finally {
      this.reservedTaps.delete(tap);
    }
    return tap;
  }

  /** Puts a tap on a bridge with the bridge's MTU, up: the one way allocateTap and re-attaching join. */
  private async joinBridge(tap: string, bridge: string, mtu: number | undefined): Promise<void> {
    if (mtu) await setMtu(tap, mtu, this.net);
    await setMaster(tap, bridge, this.net);
    await setLinkUp(tap, true, this.net);
  }

  /**
   * Plugs in where running guests' taps are found (the daemon gives the hypervisor's live domains).
   * From then on every start of a network (net-start, net-create, autostart) puts the existing taps
   * of running guests on it back on its bridge: net-destroy deleted the bridge, which left the taps
   * (still held by QEMU) without a master. Each tap is reported to `report`; a tap that cannot be
   * re-attached never fails the start.
   */
  setGuestPorts(source: GuestPortSource, report: GuestPortReport = () => {}): void {
    this.guestPorts = { source, report };
  }

  /**
   * Re-attaches running guests' taps on every active network: for networks started before the
   * hypervisor found its running guests (daemon start: autostart, or a bridge that vanished while
   * tvirtd was away). Taps already on their bridge are left alone. @returns the taps re-attached.
   */
  async reattachAllGuests(): Promise<string[]> {
    const done: string[] = [];
    for (const o of [...this.objs.values()]) {
      if (!o.runtime) continue;
      done.push(...(await this.locked(o.def.name, () => this.reattachGuests(o))));
    }
    return done;
  }

  /**
   * Puts the taps of running guests on network `o` back on its bridge (only those without a master;
   * a tap under another bridge was moved by someone else and stays). @returns the taps re-attached.
   */
  private async reattachGuests(o: NetworkObj): Promise<string[]> {
    const gp = this.guestPorts;
    const bridge = o.def.bridge?.name;
    if (!gp || !o.runtime || !bridge) return [];
    const name = o.def.name;
    let ports: GuestPort[];
    let links: Awaited<ReturnType<typeof listLinks>>;
    try {
      ports = await gp.source(name, bridge);
      if (!ports.length) return [];
      links = await listLinks(this.net);
    } catch (e) {
      gp.report(name, undefined, e);
      return [];
    }
    const br = links.find((l) => l.ifname === bridge);
    const done: string[] = [];
    for (const p of ports) {
      const l = links.find((x) => x.ifname === p.tap);
      const refuse = (msg: string) =>
        gp.report(
          name,
          p,
          new VirError('OPERATION_FAILED', `operation failed: ${msg}`, { domain: 'NETWORK' }),
        );
      if (!br) {
        refuse(`bridge '${bridge}' of network '${name}' does not exist`);
        continue;
      }
      if (l?.kind !== 'tun') {
        refuse(
          `tap device '${p.tap}' of domain '${p.domain}' ${l ? 'is not a tap device' : 'does not exist'}`,
        );
        continue;
      }
      if (l.master === bridge) continue;
      if (l.master) {
        refuse(
          `tap device '${p.tap}' of domain '${p.domain}' is a port of '${l.master}', not of '${bridge}'`,
        );
        continue;
      }
      try {
        await this.joinBridge(p.tap, bridge, br.mtu);
        done.push(p.tap);
        gp.report(name, p);
      } catch (e) {
        gp.report(name, p, e);
      }
    }
    return done;
  }

  /** Removes a tap device made by allocateTap (missing ones are ignored). */
  async releaseTap(tap: string): Promise<void> {
    if (!(await listLinks(this.net)).some((l) => l.ifname === tap)) return;
    await deleteTap(tap, this.net);
  }
}
