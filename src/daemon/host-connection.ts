// The Connection tvirtd serves: its hypervisor driver (QEMU) composed with the host's network
// driver (src/drivers/network), which owns bridges, dnsmasq and nftables. Networking runs only when
// enabled (system mode by default; tvirtd --networks/--no-networks or TVIRT_NETWORKS=1/0 decide) and
// possible (root, `ip`, `dnsmasq`, `nft`); otherwise every network call fails saying why.
import type {
  Connection,
  HypervisorConnection,
  NetworkConnection,
  TvirtEvent,
} from '../drivers/connection.js';
import { type InterfaceAddressSource, leaseInterfaceAddresses } from '../drivers/interface-addresses.js';
import { prefixed } from '../drivers/network/libvirt-message.js';
import type { GuestPort, GuestPortSource, NetworkDriver } from '../drivers/network/network-driver.js';
import type { InterfaceHook } from '../drivers/qemu/process.js';
import { findProgram } from '../host/which.js';
import { VirError } from '../util/errors.js';
import { ConfigStore } from './config-store.js';
import type { DriverContext } from './drivers.js';
import { driverDirs } from './paths.js';

/** Tools the network driver runs. */
const NETWORK_TOOLS = ['ip', 'dnsmasq', 'nft'];

/** Whether this daemon should run networks, and why not when it should not. */
export async function networkingUnavailable(
  ctx: Pick<DriverContext, 'paths' | 'networks'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const fromEnv = env.TVIRT_NETWORKS;
  const wanted =
    ctx.networks ?? (fromEnv === '1' ? true : fromEnv === '0' ? false : ctx.paths.mode === 'system');
  if (!wanted) {
    return ctx.paths.mode === 'system'
      ? 'virtual networks are disabled in this tvirtd (--no-networks or TVIRT_NETWORKS=0)'
      : `virtual networks run only in the system daemon; this tvirtd runs in ${ctx.paths.mode} mode (start it as root with --networks to enable them)`;
  }
  if (process.getuid?.() !== 0) return 'virtual networks need tvirtd to run as root';
  const missing: string[] = [];
  for (const t of NETWORK_TOOLS) if (!(await findProgram(t))) missing.push(t);
  if (missing.length) return `virtual networks need ${missing.join(', ')}, not found on PATH`;
  return undefined;
}

/** Network calls of a daemon without networking: each fails with the reason. */
export function unavailableNetworks(reason: string): NetworkConnection {
  const fail = async (): Promise<never> => {
    throw new VirError('OPERATION_UNSUPPORTED', `Operation not supported: ${reason}`, { domain: 'NETWORK' });
  };
  return {
    listNetworks: fail,
    networkLookup: fail,
    networkGetInfo: fail,
    networkGetXMLDesc: fail,
    networkDefineXML: fail,
    networkCreateXML: fail,
    networkCreate: fail,
    networkDestroy: fail,
    networkUndefine: fail,
    networkSetAutostart: fail,
    networkUpdate: fail,
    networkGetDHCPLeases: fail,
    ifaceList: fail,
    ifaceBridge: fail,
    ifaceUnbridge: fail,
  };
}

/** The NetworkDriver as a NetworkConnection: async, with libvirt's message prefixes. */
export function networkDriverConnection(d: NetworkDriver, net: { netns?: string } = {}): NetworkConnection {
  const iface = () => import('../drivers/network/iface-bridge.js');
  return {
    listNetworks: (f) => prefixed(() => d.listNetworks(f)),
    networkLookup: (ref) => prefixed(() => d.networkLookup(ref)),
    networkGetInfo: (ref) => prefixed(() => d.networkGetInfo(ref)),
    networkGetXMLDesc: (ref, flags) => prefixed(() => d.networkGetXMLDesc(ref, flags)),
    networkDefineXML: (xml) => prefixed(() => d.networkDefineXML(xml)),
    networkCreateXML: (xml) => prefixed(() => d.networkCreateXML(xml)),
    networkCreate: (ref) => prefixed(() => d.networkCreate(ref)),
    networkDestroy: (ref) => prefixed(() => d.networkDestroy(ref)),
    networkUndefine: (ref) => prefixed(() => d.networkUndefine(ref)),
    networkSetAutostart: (ref, on) => prefixed(() => d.networkSetAutostart(ref, on)),
    networkUpdate: (ref, cmd, section, xml, parentIndex, flags) =>
      prefixed(() => d.networkUpdate(ref, cmd, section, xml, parentIndex, flags)),
    networkGetDHCPLeases: (ref, mac) => prefixed(() => d.networkGetDHCPLeases(ref, mac)),
    ifaceList: () => prefixed(async () => (await iface()).ifaceList(net)),
    ifaceBridge: (i, b, opts) => prefixed(async () => (await iface()).ifaceBridge(i, b, opts, net)),
    ifaceUnbridge: (b) => prefixed(async () => (await iface()).ifaceUnbridge(b, net)),
  };
}

const networkMethods = new Set<string>(Object.keys(unavailableNetworks('')));

/** True when the connection implements the network half itself (the test driver). */
export function hasNetworks(c: HypervisorConnection): c is Connection {
  return typeof (c as Partial<Connection>).listNetworks === 'function';
}

/**
 * One Connection from a hypervisor and a network half: network methods go to `nets`, the rest to
 * `hyp`; onEvent merges the hypervisor's events with `netEvents` (network-lifecycle).
 */
export function composeConnection(
  hyp: HypervisorConnection,
  nets: NetworkConnection,
  netEvents: { subscribe(l: (ev: TvirtEvent) => void): () => void },
): Connection {
  return new Proxy(hyp as Connection, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && networkMethods.has(prop)) {
        const f = (nets as unknown as Record<string, (...args: unknown[]) => unknown>)[prop]!;
        return f.bind(nets);
      }
      if (prop === 'domainInterfaceAddresses' && !(prop in target)) {
        // Leases of the networks the guest is on: needs both halves, so it lives here.
        return (ref: string, source?: InterfaceAddressSource) =>
          leaseInterfaceAddresses(receiver, ref, source);
      }
      if (prop === 'onEvent') {
        return (l: (ev: TvirtEvent) => void) => {
          const a = target.onEvent(l);
          const b = netEvents.subscribe(l);
          return () => {
            a();
            b();
          };
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * Creates the daemon's network half: a NetworkDriver with its definitions in
 * CONFIG/qemu/networks (autostart links beside them) and runtime state in RUN/network; loads it,
 * defines the default network once and starts the autostart ones. Failures to autostart are logged.
 */
export async function openHostNetworks(
  ctx: DriverContext,
  emit: (ev: TvirtEvent) => void,
): Promise<{ nets: NetworkConnection; driver?: NetworkDriver }> {
  const reason = await networkingUnavailable(ctx);
  if (reason) {
    ctx.log.info('virtual networks disabled', { reason });
    return { nets: unavailableNetworks(reason) };
  }
  const { NetworkDriver } = await import('../drivers/network/network-driver.js');
  const dirs = driverDirs(ctx.paths, 'qemu');
  const driver: NetworkDriver = new NetworkDriver({
    store: new ConfigStore({ dir: dirs.networks, autostartDir: dirs.networksAutostart }),
    stateDir: dirs.networkStatus,
    onEvent: (name, event, uuid) =>
      emit({ kind: 'network-lifecycle', name, uuid, event, timestamp: Date.now() }),
  });
  try {
    await driver.init();
  } catch (e) {
    // Guests must stay manageable: the daemon runs on, and network calls say what went wrong.
    ctx.log.error('network driver failed to load its state', { err: e });
    return { nets: unavailableNetworks(`the network driver failed to load: ${(e as Error).message}`) };
  }
  try {
    if (await driver.ensureDefaultNetwork()) ctx.log.info('defined the default network');
  } catch (e) {
    ctx.log.error('defining the default network failed', { err: e });
  }
  for (const { name, error } of await driver.autostartAll()) {
    ctx.log.error('network autostart failed', { network: name, err: error });
  }
  return { nets: networkDriverConnection(driver), driver };
}

/**
 * Where the network driver finds running guests' taps to put back on a network's bridge when the
 * network starts again: the live XML of every active domain of `hyp`, their <interface
 * type='network'> on that network and <interface type='bridge'> on its bridge, by <target dev>.
 * A domain whose XML cannot be read or parsed (undefined meanwhile) is skipped.
 */
export function guestPortSource(hyp: HypervisorConnection): GuestPortSource {
  return async (network, bridge) => {
    const { parseDomain } = await import('../conf/domain/index.js');
    const { tapsOnNetwork } = await import('../drivers/qemu/interfaces.js');
    const out: GuestPort[] = [];
    for (const d of await hyp.listDomains({ active: true })) {
      let taps: string[];
      try {
        taps = tapsOnNetwork(parseDomain(await hyp.domainGetXMLDesc(d.name)), network, bridge);
      } catch {
        continue;
      }
      for (const tap of taps) out.push({ tap, domain: d.name });
    }
    return out;
  };
}

/** The host's networks, opened before the hypervisor driver so guests find them at autostart. */
export interface HostNetworks {
  /** Tap backends for guest NICs (give it to the hypervisor driver before it starts guests). */
  interfaces?: InterfaceHook;
  /** `hyp` as is when it has networks (test driver), else composed with the host's networks. */
  compose(hyp: HypervisorConnection): Connection;
  /** SIGHUP: re-read network definitions edited on disk (when the network driver runs). */
  reload?(): Promise<void>;
}

/**
 * Opens the network driver for the hypervisor driver `driverName` (not for the test driver, whose
 * networks are its own, in memory): networks are up, autostarted, before any guest starts.
 */
export async function prepareHostNetworks(driverName: string, ctx: DriverContext): Promise<HostNetworks> {
  if (driverName === 'test')
    return { compose: (hyp) => composeOrKeep(hyp, unavailableNetworks('no networks'), undefined) };
  const listeners = new Set<(ev: TvirtEvent) => void>();
  const { nets, driver } = await openHostNetworks(ctx, (ev) => {
    for (const l of [...listeners]) {
      try {
        l(ev);
      } catch (e) {
        ctx.log.warn('network event listener failed', { err: e });
      }
    }
  });
  const interfaces = driver
    ? (await import('../drivers/qemu/interfaces.js')).tapInterfaceHook(driver)
    : undefined;
  const events = {
    subscribe(l: (ev: TvirtEvent) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return {
    ...(interfaces ? { interfaces } : {}),
    ...(driver
      ? {
          reload: () =>
            driver.reloadDefinitions((network, err) =>
              ctx.log.error('cannot reload network definition', { network, err }),
            ),
        }
      : {}),
    compose(hyp) {
      // A driver that did not take the hook from the context gets it now (later guest starts).
      const pluggable = hyp as HypervisorConnection & { setInterfaceHook?: (hook: InterfaceHook) => void };
      if (interfaces && !hasNetworks(hyp) && typeof pluggable.setInterfaceHook === 'function') {
        pluggable.setInterfaceHook(interfaces);
      }
      if (driver && !hasNetworks(hyp)) {
        // Guests' taps go back on a network's bridge whenever it starts again (net-destroy deleted
        // it); networks autostarted before the hypervisor found its running guests get theirs now.
        driver.setGuestPorts(guestPortSource(hyp), (network, port, err) => {
          if (err)
            ctx.log.error('cannot re-attach guest tap', {
              network,
              tap: port?.tap,
              domain: port?.domain,
              err,
            });
          else ctx.log.info('re-attached guest tap', { network, tap: port?.tap, domain: port?.domain });
        });
        driver.reattachAllGuests().catch((err) => ctx.log.error('re-attaching guest taps failed', { err }));
      }
      return composeOrKeep(hyp, nets, events);
    },
  };
}

function composeOrKeep(
  hyp: HypervisorConnection,
  nets: NetworkConnection,
  events: { subscribe(l: (ev: TvirtEvent) => void): () => void } | undefined,
): Connection {
  if (hasNetworks(hyp)) return hyp;
  return composeConnection(hyp, nets, events ?? { subscribe: () => () => {} });
}
