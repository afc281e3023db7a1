// NetworkDef -> nftables ruleset (pure): one `inet` table per network, owned by tvirt and nothing else.
import type { NetworkDef } from '../../conf/network/index.js';
import { ipSubnet } from '../../conf/network/index.js';
import { formatIp, networkOf } from '../../util/ip.js';

/** Prefix of every table tvirt creates; tables not starting with it are never touched. */
export const nftTablePrefix = 'tvirt_net_';

/**
 * Name of the network's table: `tvirt_net_` + the name with anything outside [A-Za-z0-9_] replaced,
 * plus a short hash when something was replaced, so two names never share a table.
 */
export function nftTableName(network: string): string {
  const safe = network.replace(/[^A-Za-z0-9_]/g, '_');
  if (safe === network && safe.length <= 200) return nftTablePrefix + safe;
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(network, 'utf8')) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return `${nftTablePrefix}${safe.slice(0, 200)}_${h.toString(16).padStart(8, '0')}`;
}

interface Subnet {
  fam: 'ip' | 'ip6';
  cidr: string;
}

function subnets(def: NetworkDef): Subnet[] {
  const out: Subnet[] = [];
  for (const ip of def.ips) {
    const sn = ipSubnet(ip, def.name);
    if (!sn) continue;
    const fam = sn.addr.family === 'ipv6' ? 'ip6' : 'ip';
    out.push({ fam, cidr: `${formatIp(networkOf(sn.addr, sn.prefix))}/${sn.prefix}` });
  }
  return out;
}

const q = (s: string) => JSON.stringify(s);

/**
 * The ruleset text for `nft -f -` that installs (or atomically replaces) the network's table, or
 * undefined when the mode needs no rules (open, bridge and the other host-bridge/hostdev modes).
 * nat: masquerade of the subnets to anywhere else (multicast 224.0.0.0/24 and broadcast excluded,
 * TCP/UDP source ports mapped into <nat><port> or 1024-65535), forwarding out from the subnet and
 * back in for established connections; route: forwarding both ways, no masquerade; isolated (no
 * <forward>): guest-to-guest only, everything else into or out of the bridge rejected. All modes with
 * a bridge of their own accept DHCP and DNS from the guests.
 */
export function buildNftRuleset(def: NetworkDef): string | undefined {
  const mode = def.forward?.mode;
  if (mode !== undefined && mode !== 'nat' && mode !== 'route') return undefined;
  const br = q(def.bridge?.name ?? '');
  const table = nftTableName(def.name);
  const dev = def.forward?.interfaces[0]?.dev;
  const outDev = dev ? ` oifname ${q(dev)}` : '';
  const inDev = dev ? ` iifname ${q(dev)}` : '';
  const nets = subnets(def);
  const input = [`iifname ${br} udp dport { 53, 67, 547 } accept`, `iifname ${br} tcp dport 53 accept`];
  const forward: string[] = [];
  const post: string[] = [];
  if (mode === 'nat' || mode === 'route') {
    for (const n of nets) {
      forward.push(`iifname ${br}${outDev} ${n.fam} saddr ${n.cidr} accept`);
      const ct = mode === 'nat' ? ' ct state established,related' : '';
      forward.push(`oifname ${br}${inDev} ${n.fam} daddr ${n.cidr}${ct} accept`);
    }
  }
  forward.push(`iifname ${br} oifname ${br} accept`);
  forward.push(`iifname ${br} reject with icmpx type port-unreachable`);
  forward.push(`oifname ${br} reject with icmpx type port-unreachable`);
  if (mode === 'nat') {
    const nat = def.forward?.nat;
    const ports = nat?.port ? `${nat.port.start}-${nat.port.end}` : '1024-65535';
    for (const n of nets) {
      if (n.fam === 'ip6' && !nat?.ipv6) continue;
      const m = `${n.fam} saddr ${n.cidr}`;
      if (n.fam === 'ip') {
        post.push(`${m} ip daddr 224.0.0.0/24 return`);
        post.push(`${m} ip daddr 255.255.255.255 return`);
      }
      const sel = `${m} ${n.fam} daddr != ${n.cidr}${outDev}`;
      if (nat?.address && n.fam === 'ip') {
        const to = `${nat.address.start}-${nat.address.end}`;
        post.push(`${sel} meta l4proto { tcp, udp } snat ip to ${to}:${ports}`);
        post.push(`${sel} snat ip to ${to}`);
      } else {
        post.push(`${sel} meta l4proto { tcp, udp } masquerade to :${ports}`);
        post.push(`${sel} masquerade`);
      }
    }
  }
  const chain = (name: string, hook: string, prio: string, rules: string[]) =>
    [
      `  chain ${name} {`,
      `    type ${hook === 'postrouting' ? 'nat' : 'filter'} hook ${hook} priority ${prio}; policy accept;`,
      ...rules.map((r) => `    ${r}`),
      '  }',
    ].join('\n');
  const body = [
    chain('input', 'input', 'filter', input),
    chain('forward', 'forward', 'filter', forward),
    ...(post.length ? [chain('postrouting', 'postrouting', 'srcnat', post)] : []),
  ];
  // Declaring then deleting the table first makes the load an atomic replace of only our table.
  return [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    body.join('\n'),
    '}',
    '',
  ].join('\n');
}
