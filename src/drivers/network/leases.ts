// dnsmasq's lease file -> NetworkLease[] (pure): IPv4 lines, then IPv6 lines after a `duid` line.
import type { NetworkDef } from '../../conf/network/index.js';
import { ipSubnet } from '../../conf/network/index.js';
import { inSubnet, parseIp } from '../../util/ip.js';
import type { NetworkLease } from './network-api.js';

/**
 * Parses a dnsmasq lease file (`EXPIRY MAC IP HOST CLIENTID`; IPv6 `EXPIRY IAID IP HOST DUID`).
 * Leases whose expiry is past `now` (seconds) are left out; the prefix comes from the matching <ip>.
 */
export function parseDnsmasqLeases(text: string, def: NetworkDef, now: number): NetworkLease[] {
  const out: NetworkLease[] = [];
  let v6 = false;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3) continue;
    if (f[0] === 'duid') {
      v6 = true;
      continue;
    }
    const expiry = Number(f[0]);
    if (!Number.isFinite(expiry) || (expiry !== 0 && expiry < now)) continue;
    const addr = parseIp(f[2]!);
    if (!addr) continue;
    let prefix = addr.family === 'ipv4' ? 24 : 64;
    for (const ip of def.ips) {
      const sn = ipSubnet(ip, def.name);
      if (sn && inSubnet(addr, sn.addr, sn.prefix)) prefix = sn.prefix;
    }
    const opt = (s: string | undefined) => (s && s !== '*' ? s : undefined);
    const l: NetworkLease = {
      iface: def.bridge?.name ?? '',
      expiryTime: expiry,
      type: addr.family === 'ipv6' || v6 ? 'ipv6' : 'ipv4',
      ipaddr: f[2]!,
      prefix,
      hostname: opt(f[3]),
      clientid: opt(f[4]),
    };
    if (l.type === 'ipv6') l.iaid = f[1];
    else l.mac = f[1]!.toLowerCase();
    out.push(l);
  }
  return out;
}
