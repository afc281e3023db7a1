// Host network devices through iproute2, nft and /proc/sys (argv arrays only), optionally inside a netns.
import { readFile, writeFile } from 'node:fs/promises';
import { VirError } from '../util/errors.js';
import { type Command, processRunner, type Runner } from './run.js';

/** Where and how to run: `netns` prefixes every command with `ip netns exec NS` (or `ip -n NS`). */
export interface NetOpts {
  netns?: string;
  runner?: Runner;
}

/** `program args` inside the namespace when one is given. */
export function inNetns(netns: string | undefined, program: string, args: string[], stdin?: string): Command {
  const c: Command = netns
    ? { program: 'ip', args: ['netns', 'exec', netns, program, ...args] }
    : { program, args };
  if (stdin !== undefined) c.stdin = stdin;
  return c;
}

function ipCmd(o: NetOpts, args: string[]): Command {
  return { program: 'ip', args: o.netns ? ['-n', o.netns, ...args] : args };
}

async function ip(o: NetOpts, args: string[]): Promise<string> {
  return (await (o.runner ?? processRunner).run(ipCmd(o, args))).stdout;
}

async function ipJson<T>(o: NetOpts, args: string[]): Promise<T[]> {
  const out = await ip(o, ['-j', ...args]);
  return out.trim() ? (JSON.parse(out) as T[]) : [];
}

/** Options of a bridge the network driver creates (libvirt's <bridge stp delay>, <mac>, <mtu>). */
export interface BridgeOptions {
  stp?: boolean;
  /** Forward delay, seconds (the kernel clamps to 2..30 while STP is on). */
  delay?: number;
  mac?: string;
  mtu?: number;
}

/** Creates a Linux bridge, down. Fails when a link of that name exists. */
export async function createBridge(name: string, b: BridgeOptions = {}, o: NetOpts = {}): Promise<void> {
  const args = ['link', 'add', 'name', name];
  if (b.mac) args.push('address', b.mac);
  if (b.mtu) args.push('mtu', String(b.mtu));
  args.push('type', 'bridge', 'stp_state', b.stp === false ? '0' : '1');
  args.push('forward_delay', String(Math.round((b.delay ?? 0) * 100)));
  await ip(o, args);
}

/** Deletes a link (bridge, veth, tap...). */
export async function deleteLink(name: string, o: NetOpts = {}): Promise<void> {
  await ip(o, ['link', 'del', 'dev', name]);
}

export async function setLinkUp(name: string, up: boolean, o: NetOpts = {}): Promise<void> {
  await ip(o, ['link', 'set', 'dev', name, up ? 'up' : 'down']);
}

/** Adds `addr/prefix` to a device (IPv4 with the subnet broadcast). */
export async function addAddress(dev: string, addr: string, prefix: number, o: NetOpts = {}): Promise<void> {
  const v6 = addr.includes(':');
  const args = [v6 ? '-6' : '-4', 'addr', 'add', `${addr}/${prefix}`];
  if (!v6) args.push('broadcast', '+');
  await ip(o, [...args, 'dev', dev]);
}

export async function delAddress(dev: string, addr: string, prefix: number, o: NetOpts = {}): Promise<void> {
  await ip(o, [addr.includes(':') ? '-6' : '-4', 'addr', 'del', `${addr}/${prefix}`, 'dev', dev]);
}

/** Creates a persistent tap device (`ip tuntap add dev NAME mode tap`), optionally owned by a user. */
export async function createTap(name: string, o: NetOpts & { user?: string } = {}): Promise<void> {
  const args = ['tuntap', 'add', 'dev', name, 'mode', 'tap'];
  if (o.user) args.push('user', o.user);
  await ip(o, args);
}

export async function deleteTap(name: string, o: NetOpts = {}): Promise<void> {
  await ip(o, ['tuntap', 'del', 'dev', name, 'mode', 'tap']);
}

/** Joins `dev` to `bridge`, or detaches it when bridge is undefined. */
export async function setMaster(dev: string, bridge: string | undefined, o: NetOpts = {}): Promise<void> {
  await ip(o, ['link', 'set', 'dev', dev, ...(bridge ? ['master', bridge] : ['nomaster'])]);
}

export async function setMac(dev: string, mac: string, o: NetOpts = {}): Promise<void> {
  await ip(o, ['link', 'set', 'dev', dev, 'address', mac]);
}

export async function setMtu(dev: string, mtu: number, o: NetOpts = {}): Promise<void> {
  await ip(o, ['link', 'set', 'dev', dev, 'mtu', String(mtu)]);
}

/** Creates a veth pair; `peerNetns` moves the peer end into another namespace. */
export async function createVethPair(
  a: string,
  b: string,
  o: NetOpts & { peerNetns?: string } = {},
): Promise<void> {
  const args = ['link', 'add', a, 'type', 'veth', 'peer', 'name', b];
  if (o.peerNetns) args.push('netns', o.peerNetns);
  await ip(o, args);
}

/** One link as `ip -j -d link show` reports it (the fields tvirt reads). */
export interface LinkInfo {
  ifname: string;
  ifindex: number;
  mtu: number;
  operstate: string;
  flags: string[];
  address?: string;
  master?: string;
  /** bridge, veth, tun, dummy... undefined for plain NICs. */
  kind?: string;
}

export async function listLinks(o: NetOpts = {}): Promise<LinkInfo[]> {
  type Raw = Omit<LinkInfo, 'kind'> & { linkinfo?: { info_kind?: string } };
  return (await ipJson<Raw>(o, ['-d', 'link', 'show'])).map((l) => ({
    ifname: l.ifname,
    ifindex: l.ifindex,
    mtu: l.mtu,
    operstate: l.operstate,
    flags: l.flags ?? [],
    address: l.address,
    master: l.master,
    kind: l.linkinfo?.info_kind,
  }));
}

export async function linkExists(name: string, o: NetOpts = {}): Promise<boolean> {
  return (await listLinks(o)).some((l) => l.ifname === name);
}

/** An address of a link. */
export interface AddrInfo {
  ifname: string;
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
}

export async function listAddresses(o: NetOpts = {}, dev?: string): Promise<AddrInfo[]> {
  type Raw = {
    ifname: string;
    addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
  };
  const rows = await ipJson<Raw>(o, ['addr', 'show', ...(dev ? ['dev', dev] : [])]);
  return rows.flatMap((r) =>
    (r.addr_info ?? []).map((a) => ({
      ifname: r.ifname,
      family: a.family as AddrInfo['family'],
      local: a.local,
      prefixlen: a.prefixlen,
      scope: a.scope,
    })),
  );
}

/** A route as `ip -j route show` reports it. */
export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  flags?: string[];
}

export async function listRoutes(family: 4 | 6, o: NetOpts = {}, dev?: string): Promise<RouteInfo[]> {
  return ipJson<RouteInfo>(o, [`-${family}`, 'route', 'show', ...(dev ? ['dev', dev] : [])]);
}

/** Adds a route (`ip route add DST [via GW] dev DEV [metric M] [proto P] [scope S] [src SRC]`). */
export async function addRoute(r: RouteInfo, dev: string, o: NetOpts = {}): Promise<void> {
  const v6 = r.dst.includes(':') || (r.gateway?.includes(':') ?? false);
  const args = [v6 ? '-6' : '-4', 'route', 'add', r.dst];
  if (r.gateway) args.push('via', r.gateway);
  args.push('dev', dev);
  if (r.metric !== undefined) args.push('metric', String(r.metric));
  if (r.protocol && r.protocol !== 'kernel') args.push('proto', r.protocol);
  if (r.scope && r.scope !== 'universe' && !r.gateway) args.push('scope', r.scope);
  if (r.prefsrc) args.push('src', r.prefsrc);
  await ip(o, args);
}

const forwardKeys = { 4: 'net/ipv4/ip_forward', 6: 'net/ipv6/conf/all/forwarding' } as const;

/** Reads ip forwarding of the namespace (each netns has its own /proc/sys/net). */
export async function getIpForward(family: 4 | 6, o: NetOpts = {}): Promise<boolean> {
  const path = `/proc/sys/${forwardKeys[family]}`;
  const text = o.netns
    ? (await (o.runner ?? processRunner).run(inNetns(o.netns, 'cat', [path]))).stdout
    : await readFile(path, 'utf8');
  return text.trim() === '1';
}

/** Turns ip forwarding of the namespace on or off (written from inside it, never the host's). */
export async function setIpForward(family: 4 | 6, on: boolean, o: NetOpts = {}): Promise<void> {
  const path = `/proc/sys/${forwardKeys[family]}`;
  const v = on ? '1\n' : '0\n';
  if (o.netns) await (o.runner ?? processRunner).run(inNetns(o.netns, 'tee', [path], v));
  else await writeFile(path, v);
}

/** Loads a ruleset with `nft -f -` (one atomic transaction). */
export async function nftApply(ruleset: string, o: NetOpts = {}): Promise<void> {
  await (o.runner ?? processRunner).run(inNetns(o.netns, 'nft', ['-f', '-'], ruleset));
}

/** Deletes one `inet` table; returns false when it did not exist. */
export async function nftDeleteTable(table: string, o: NetOpts = {}): Promise<boolean> {
  const r = await (o.runner ?? processRunner).run(
    inNetns(o.netns, 'nft', ['delete', 'table', 'inet', table]),
    {
      allowFailure: true,
    },
  );
  if (r.code === 0) return true;
  if (/No such file|does not exist/i.test(r.stderr)) return false;
  throw new VirError('INTERNAL_ERROR', `nft delete table inet ${table} failed: ${r.stderr.trim()}`, {
    domain: 'HOST',
  });
}

/** Names of the `inet` tables present. */
export async function nftListTables(o: NetOpts = {}): Promise<string[]> {
  const r = await (o.runner ?? processRunner).run(inNetns(o.netns, 'nft', ['list', 'tables', 'inet']));
  return [...r.stdout.matchAll(/^table inet (\S+)/gm)].map((m) => m[1]!);
}

/** The ruleset text of one `inet` table. */
export async function nftListTable(table: string, o: NetOpts = {}): Promise<string> {
  return (await (o.runner ?? processRunner).run(inNetns(o.netns, 'nft', ['list', 'table', 'inet', table])))
    .stdout;
}
