// Starting and stopping one network on the host: checks first, then bridge, nft, forwarding, dnsmasq; undo.
import { join } from 'node:path';
import type { NetworkDef } from '../../conf/network/index.js';
import { ipSubnet } from '../../conf/network/index.js';
import { writeFileAtomic } from '../../host/atomic-file.js';
import { mkdirp, readFileIfExists, removeIfExists } from '../../host/fs-util.js';
import {
  addAddress,
  addRoute,
  createBridge,
  deleteLink,
  listAddresses,
  listLinks,
  listRoutes,
  type NetOpts,
  nftApply,
  nftDeleteTable,
  setLinkUp,
} from '../../host/netdev.js';
import { signalPid, startDnsmasq, stopPid } from '../../host/netdev-dnsmasq.js';
import { VirError } from '../../util/errors.js';
import { formatIp, networkOf, parseIp, subnetsOverlap } from '../../util/ip.js';
import { buildDnsmasqFiles, networkNeedsDnsmasq } from './dnsmasq-conf.js';
import { buildNftRuleset, nftTableName } from './nft-rules.js';

/** What a running network added to the host, so that stopping removes exactly that. */
export interface NetworkRuntime {
  bridge?: string;
  /** True when tvirt created the bridge (not a host bridge of a bridge-mode network). */
  bridgeCreated?: boolean;
  nftTable?: string;
  dnsmasqPid?: number;
  /** Files written for dnsmasq (removed at stop; the lease file is kept). */
  files?: string[];
  /** Families whose forwarding this network needs (nat, route). */
  forwarding?: (4 | 6)[];
}

/** Paths and host access of the runtime. */
export interface RuntimeEnv extends NetOpts {
  /** Directory for dnsmasq files: NAME.conf, NAME.hostsfile, NAME.addnhosts, NAME.pid, NAME.leases. */
  dnsmasqDir: string;
  dnsmasqProgram?: string;
}

function netErr(code: 'OPERATION_FAILED' | 'OPERATION_INVALID' | 'INTERNAL_ERROR', msg: string): VirError {
  return new VirError(code, msg, { domain: 'NETWORK' });
}

/** Paths of a network's dnsmasq files. */
export function dnsmasqPaths(env: RuntimeEnv, name: string) {
  const base = join(env.dnsmasqDir, name);
  return {
    conf: `${base}.conf`,
    hostsfile: `${base}.hostsfile`,
    addnhosts: `${base}.addnhosts`,
    pid: `${base}.pid`,
    leases: `${base}.leases`,
  };
}

/** Checks that starting `def` can work, changing nothing: bridge name free, subnets unused, host bridge present. */
export async function checkStart(def: NetworkDef, env: RuntimeEnv): Promise<void> {
  const mode = def.forward?.mode;
  const links = await listLinks(env);
  const br = def.bridge?.name;
  if (mode === 'bridge') {
    if (!br) return;
    const l = links.find((x) => x.ifname === br);
    if (!l) {
      throw netErr(
        'OPERATION_FAILED',
        `host bridge '${br}' of network '${def.name}' does not exist; create it first (e.g. iface-bridge IFACE ${br})`,
      );
    }
    if (l.kind !== 'bridge' && l.kind !== 'openvswitch') {
      throw netErr('OPERATION_FAILED', `interface '${br}' of network '${def.name}' is not a bridge`);
    }
    return;
  }
  if (!networkNeedsDnsmasq(def)) return;
  if (!br) throw netErr('INTERNAL_ERROR', `network '${def.name}' has no bridge name`);
  if (links.some((l) => l.ifname === br)) {
    throw netErr(
      'OPERATION_FAILED',
      `bridge name '${br}' is already in use by an existing interface; choose another <bridge name> for network '${def.name}'`,
    );
  }
  const addrs = await listAddresses(env);
  const routes = [...(await listRoutes(4, env)), ...(await listRoutes(6, env))];
  for (const ip of def.ips) {
    const sn = ipSubnet(ip, def.name);
    if (!sn) continue;
    const cidr = `${formatIp(networkOf(sn.addr, sn.prefix))}/${sn.prefix}`;
    for (const r of routes) {
      if (r.dst === 'default' || r.dev === br) continue;
      const [d, p] = r.dst.split('/');
      const a = parseIp(d!);
      if (!a) continue;
      const plen = p === undefined ? (a.family === 'ipv4' ? 32 : 128) : Number(p);
      if (a.family === 'ipv6' && a.value >> 118n === 0x3fan) continue; // fe80::/10 link-local
      if (subnetsOverlap(a, plen, sn.addr, sn.prefix)) {
        throw netErr(
          'OPERATION_FAILED',
          `network '${def.name}' subnet ${cidr} is already in use by interface ${r.dev ?? '?'} (route ${r.dst}); choose another <ip> address`,
        );
      }
    }
    for (const a of addrs) {
      const x = parseIp(a.local);
      if (x && x.family === sn.addr.family && subnetsOverlap(x, sn.prefix, sn.addr, sn.prefix)) {
        throw netErr(
          'OPERATION_FAILED',
          `network '${def.name}' subnet ${cidr} is already in use by interface ${a.ifname} (address ${a.local}/${a.prefixlen})`,
        );
      }
    }
  }
}

/**
 * Starts a network whose checks passed: creates the bridge with addresses and routes, loads the nft
 * table, starts dnsmasq. Forwarding is the caller's (it is shared by networks). On any failure
 * everything done so far is undone and the error is rethrown.
 */
export async function startNetworkRuntime(def: NetworkDef, env: RuntimeEnv): Promise<NetworkRuntime> {
  const mode = def.forward?.mode;
  const rt: NetworkRuntime = { bridge: def.bridge?.name };
  if (!networkNeedsDnsmasq(def)) return rt;
  const br = def.bridge!.name!;
  try {
    await createBridge(
      br,
      { stp: def.bridge?.stp, delay: def.bridge?.delay, mac: def.mac, mtu: def.mtu },
      env,
    );
    rt.bridgeCreated = true;
    const ruleset = buildNftRuleset(def);
    if (ruleset) {
      await nftApply(ruleset, env);
      rt.nftTable = nftTableName(def.name);
    }
    for (const ip of def.ips) {
      const sn = ipSubnet(ip, def.name);
      if (sn && ip.address) await addAddress(br, ip.address, sn.prefix, env);
    }
    await setLinkUp(br, true, env);
    for (const r of def.routes) {
      const prefix = r.prefix ?? (r.netmask ? undefined : r.address.includes(':') ? 64 : 24);
      const sn = r.netmask ? ipSubnet({ address: r.address, netmask: r.netmask }, def.name)!.prefix : prefix;
      await addRoute({ dst: `${r.address}/${sn}`, gateway: r.gateway, metric: r.metric }, br, env);
    }
    if (mode === 'nat' || mode === 'route') {
      rt.forwarding = [...new Set(def.ips.map((i) => (i.address?.includes(':') ? 6 : 4) as 4 | 6))];
    }
    if (def.ips.length > 0) {
      const p = dnsmasqPaths(env, def.name);
      await mkdirp(env.dnsmasqDir);
      const f = buildDnsmasqFiles(def, { stateDir: env.dnsmasqDir, pidFile: p.pid, leaseFile: p.leases });
      rt.files = [p.conf, p.hostsfile, p.addnhosts, p.pid];
      await writeFileAtomic(p.conf, f.conf, { mode: 0o644, noSync: true });
      await writeFileAtomic(p.hostsfile, f.hostsfile, { mode: 0o644, noSync: true });
      await writeFileAtomic(p.addnhosts, f.addnhosts, { mode: 0o644, noSync: true });
      await removeIfExists(p.pid);
      rt.dnsmasqPid = await startDnsmasq(p.conf, p.pid, { ...env, program: env.dnsmasqProgram });
    }
    return rt;
  } catch (e) {
    await stopNetworkRuntime(rt, env).catch(() => {});
    throw e;
  }
}

/** Removes what startNetworkRuntime added, in reverse order; tolerant of parts already gone. */
export async function stopNetworkRuntime(rt: NetworkRuntime, env: RuntimeEnv): Promise<void> {
  const errors: unknown[] = [];
  const step = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      errors.push(e);
    }
  };
  if (rt.dnsmasqPid) await step(() => stopPid(rt.dnsmasqPid!, 'dnsmasq'));
  for (const f of rt.files ?? []) await step(() => removeIfExists(f));
  if (rt.nftTable) await step(() => nftDeleteTable(rt.nftTable!, env));
  if (rt.bridgeCreated && rt.bridge) {
    await step(async () => {
      if ((await listLinks(env)).some((l) => l.ifname === rt.bridge)) await deleteLink(rt.bridge!, env);
    });
  }
  if (errors.length) throw errors[0];
}

/** Rewrites the dnsmasq files of a running network; restarts dnsmasq when its config changed, else SIGHUP. */
export async function refreshDnsmasq(
  def: NetworkDef,
  rt: NetworkRuntime,
  env: RuntimeEnv,
  forceRestart = false,
): Promise<void> {
  if (!rt.dnsmasqPid) return;
  const p = dnsmasqPaths(env, def.name);
  const f = buildDnsmasqFiles(def, { stateDir: env.dnsmasqDir, pidFile: p.pid, leaseFile: p.leases });
  const old = await readFileIfExists(p.conf);
  await writeFileAtomic(p.hostsfile, f.hostsfile, { mode: 0o644, noSync: true });
  await writeFileAtomic(p.addnhosts, f.addnhosts, { mode: 0o644, noSync: true });
  if (old === f.conf && !forceRestart) {
    await signalPid(rt.dnsmasqPid, 'SIGHUP', 'dnsmasq');
    return;
  }
  await writeFileAtomic(p.conf, f.conf, { mode: 0o644, noSync: true });
  await stopPid(rt.dnsmasqPid, 'dnsmasq');
  await removeIfExists(p.pid);
  rt.dnsmasqPid = await startDnsmasq(p.conf, p.pid, { ...env, program: env.dnsmasqProgram });
}
