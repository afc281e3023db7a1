// iface-bridge / iface-unbridge / iface-list: put a host NIC under a new bridge (addresses and routes
// move with it, so the host stays reachable), undo that, and show interfaces with their bridge ports.
import {
  type AddrInfo,
  addAddress,
  addRoute,
  createBridge,
  delAddress,
  deleteLink,
  type LinkInfo,
  listAddresses,
  listLinks,
  listRoutes,
  type NetOpts,
  type RouteInfo,
  setLinkUp,
  setMaster,
} from '../../host/netdev.js';
import { VirError } from '../../util/errors.js';

/** One row of iface-list. */
export interface HostInterface {
  name: string;
  state: string;
  mac?: string;
  /** bridge, veth, tun, ... undefined for a plain NIC. */
  kind?: string;
  /** The bridge this interface is a port of. */
  master?: string;
  addresses: string[];
  /** For bridges: their ports (what `brctl show` listed). */
  ports?: string[];
}

function ifaceErr(code: 'NO_INTERFACE' | 'OPERATION_INVALID' | 'OPERATION_FAILED', msg: string): VirError {
  return new VirError(code, msg, { domain: 'NETWORK' });
}

/** Addresses worth moving: global IPv4 and IPv6 (link-local ones the kernel makes itself). */
function movable(addrs: AddrInfo[]): AddrInfo[] {
  return addrs.filter((a) => a.scope !== 'link' && a.scope !== 'host');
}

/** Routes worth moving: everything but the prefix routes the kernel derives from addresses. */
async function movableRoutes(dev: string, o: NetOpts): Promise<RouteInfo[]> {
  const rs = [...(await listRoutes(4, o, dev)), ...(await listRoutes(6, o, dev))];
  return rs.filter(
    (r) => r.protocol !== 'kernel' && !r.dst.startsWith('fe80:') && !r.dst.startsWith('ff00:'),
  );
}

async function moveConfig(from: string, to: string, o: NetOpts, addrs: AddrInfo[], routes: RouteInfo[]) {
  for (const a of addrs) await delAddress(from, a.local, a.prefixlen, o);
  for (const a of addrs) await addAddress(to, a.local, a.prefixlen, o);
  // Routes through a gateway need the device route first: add scope-link routes before the others.
  const ordered = [...routes].sort((x, y) => Number(!!x.gateway) - Number(!!y.gateway));
  for (const r of ordered) await addRoute({ ...r, dev: undefined }, to, o);
}

/**
 * virsh iface-bridge IFACE BRIDGE: creates BRIDGE with IFACE's MAC and MTU, makes IFACE its port and
 * moves IFACE's addresses and routes to it. Fails before changing anything when IFACE is missing or
 * already a port, or BRIDGE exists; a failure half-way restores the original state.
 */
export async function ifaceBridge(
  iface: string,
  bridge: string,
  opts: { stp?: boolean; delay?: number } = {},
  o: NetOpts = {},
): Promise<void> {
  const links = await listLinks(o);
  const nic = links.find((l) => l.ifname === iface);
  if (!nic) throw ifaceErr('NO_INTERFACE', `interface '${iface}' does not exist`);
  if (nic.master)
    throw ifaceErr('OPERATION_INVALID', `interface '${iface}' is already a port of '${nic.master}'`);
  if (nic.kind === 'bridge') throw ifaceErr('OPERATION_INVALID', `interface '${iface}' is already a bridge`);
  if (links.some((l) => l.ifname === bridge)) {
    throw ifaceErr('OPERATION_INVALID', `bridge name '${bridge}' is already in use by an existing interface`);
  }
  const addrs = movable(await listAddresses(o, iface));
  const routes = await movableRoutes(iface, o);
  let created = false;
  let moved = false;
  try {
    await createBridge(bridge, { stp: opts.stp, delay: opts.delay, mac: nic.address, mtu: nic.mtu }, o);
    created = true;
    await setMaster(iface, bridge, o);
    await setLinkUp(bridge, true, o);
    moved = true;
    await moveConfig(iface, bridge, o, addrs, routes);
  } catch (e) {
    if (moved) {
      // Put back whatever is not on the NIC any more.
      const still = new Set((await listAddresses(o, iface)).map((a) => a.local));
      for (const a of addrs)
        if (!still.has(a.local)) await addAddress(iface, a.local, a.prefixlen, o).catch(() => {});
      for (const r of routes) await addRoute({ ...r, dev: undefined }, iface, o).catch(() => {});
    }
    if (created) await deleteLink(bridge, o).catch(() => {});
    throw e;
  }
}

/**
 * virsh iface-unbridge BRIDGE: moves the addresses and routes of BRIDGE back to its one physical
 * port and deletes the bridge. Refuses a bridge with guest taps (vnetN) or several other ports.
 */
export async function ifaceUnbridge(bridge: string, o: NetOpts = {}): Promise<string> {
  const links = await listLinks(o);
  const br = links.find((l) => l.ifname === bridge);
  if (!br) throw ifaceErr('NO_INTERFACE', `bridge '${bridge}' does not exist`);
  if (br.kind !== 'bridge') throw ifaceErr('OPERATION_INVALID', `interface '${bridge}' is not a bridge`);
  const ports = links.filter((l) => l.master === bridge);
  if (ports.some((p) => p.kind === 'tun')) {
    throw ifaceErr('OPERATION_INVALID', `bridge '${bridge}' still has guest interfaces attached`);
  }
  if (ports.length !== 1) {
    throw ifaceErr(
      'OPERATION_INVALID',
      `bridge '${bridge}' has ${ports.length} attached interfaces; iface-unbridge needs exactly one`,
    );
  }
  const iface = ports[0]!.ifname;
  const addrs = movable(await listAddresses(o, bridge));
  const routes = await movableRoutes(bridge, o);
  await setMaster(iface, undefined, o);
  await moveConfig(bridge, iface, o, addrs, routes);
  await deleteLink(bridge, o);
  return iface;
}

/** virsh iface-list (and brctl show): interfaces with state, MAC, addresses and bridge ports. */
export async function ifaceList(o: NetOpts = {}): Promise<HostInterface[]> {
  const links: LinkInfo[] = await listLinks(o);
  const addrs = await listAddresses(o);
  return links.map((l) => {
    const h: HostInterface = {
      name: l.ifname,
      state: l.operstate === 'UNKNOWN' && l.flags.includes('UP') ? 'up' : l.operstate.toLowerCase(),
      mac: l.address,
      kind: l.kind,
      master: l.master,
      addresses: addrs.filter((a) => a.ifname === l.ifname).map((a) => `${a.local}/${a.prefixlen}`),
    };
    if (l.kind === 'bridge') h.ports = links.filter((p) => p.master === l.ifname).map((p) => p.ifname);
    return h;
  });
}
