// NetworkDef -> dnsmasq configuration, DHCP hosts file and addn-hosts file (pure), as libvirt writes them.
import type { DhcpLease, NetworkDef, NetworkIp } from '../../conf/network/index.js';
import { ipSubnet } from '../../conf/network/index.js';
import { VirError } from '../../util/errors.js';
import { formatIp, netmaskFromPrefix, parseIp, rangeSize } from '../../util/ip.js';

/** Where the per-network files live; libvirt's are /var/lib/libvirt/dnsmasq/NAME.{hostsfile,addnhosts}. */
export interface DnsmasqPaths {
  /** Directory of NAME.hostsfile and NAME.addnhosts. */
  stateDir: string;
  /** pid-file line; omitted when undefined (libvirt's test fixtures have none). */
  pidFile?: string;
  /** dhcp-leasefile line; omitted when undefined. */
  leaseFile?: string;
  /** Extra lines appended at the end (e.g. dhcp-script for a leases helper). */
  extraLines?: string[];
}

/** The three files of one network's dnsmasq. */
export interface DnsmasqFiles {
  conf: string;
  /** dhcp-hostsfile contents: one static DHCP host per line. */
  hostsfile: string;
  /** addn-hosts contents: `IP\tNAME...` per DNS host. */
  addnhosts: string;
  /** True when the network needs DHCP (an IPv4 or IPv6 <dhcp> with ranges or hosts). */
  dhcp: boolean;
}

/** libvirt's virBufferEscapeString: XML-escapes the file paths it writes into the config. */
function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** dnsmasq's lease time notation: `infinite`, `Ns`, `Nm`, `Nh`. */
export function leaseString(l: DhcpLease | undefined): string | undefined {
  if (!l) return undefined;
  if (l.expiry === 0) return 'infinite';
  const u = l.unit ?? 'minutes';
  return `${l.expiry}${u === 'seconds' ? 's' : u === 'hours' ? 'h' : 'm'}`;
}

function isV6(ip: NetworkIp): boolean {
  return ip.family === 'ipv6' || (ip.address?.includes(':') ?? false);
}

function hasDhcp(ip: NetworkIp): boolean {
  return (ip.dhcp?.ranges.length ?? 0) > 0 || (ip.dhcp?.hosts.length ?? 0) > 0;
}

/** True for forward modes whose bridge and dnsmasq libvirt runs itself. */
export function networkNeedsDnsmasq(def: NetworkDef): boolean {
  const m = def.forward?.mode;
  return m === undefined || m === 'nat' || m === 'route' || m === 'open';
}

function hostLines(ip: NetworkIp): string[] {
  const v6 = isV6(ip);
  const out: string[] = [];
  for (const h of ip.dhcp?.hosts ?? []) {
    if (h.ip === undefined) continue;
    let line: string;
    if (v6) {
      const a = `[${h.ip}]`;
      if (h.id && h.name) line = `id:${h.id},${h.name},${a}`;
      else if (h.id) line = `id:${h.id},${a}`;
      else if (h.name) line = `${h.name},${a}`;
      else continue;
    } else if (h.mac) line = h.name ? `${h.mac},${h.ip},${h.name}` : `${h.mac},${h.ip}`;
    else if (h.name) line = `${h.name},${h.ip}`;
    else continue;
    const l = leaseString(h.lease);
    out.push(l ? `${line},${l}` : line);
  }
  return out;
}

/**
 * Builds dnsmasq's configuration for a network (libvirt networkDnsmasqConfContents with a
 * dnsmasq that supports bind-dynamic, RA and ra-param), the DHCP hosts file and the addn-hosts file.
 * @throws VirError CONFIG_UNSUPPORTED for more than one DHCP section per address family.
 */
export function buildDnsmasqFiles(def: NetworkDef, paths: DnsmasqPaths): DnsmasqFiles {
  const L: string[] = [
    '##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE',
    '##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:',
    `##    virsh net-edit ${def.name}`,
    '## or other application using the libvirt API.',
    '##',
    '## dnsmasq conf file created by libvirt',
  ];
  if (paths.pidFile) L.push(`pid-file=${esc(paths.pidFile)}`);
  L.push('strict-order');
  const dns = def.dns;
  const wantDns = dns?.enable !== false;
  if (dns?.forwarders.length) {
    let noResolv = false;
    for (const f of dns.forwarders) {
      let s = 'server=';
      if (f.domain) s += `/${f.domain}/`;
      if (f.addr) {
        s += f.addr;
        if (!f.domain) noResolv = true;
      } else s += '#';
      L.push(s);
    }
    if (noResolv) L.push('no-resolv');
  }
  if (def.domain?.name) {
    if (def.domain.localOnly) L.push(`local=/${def.domain.name}/`);
    L.push(`domain=${def.domain.name}`, 'expand-hosts');
  }
  if (!wantDns) L.push('port=0');
  else if (dns?.forwardPlainNames === false) L.push('domain-needed', 'local=//');
  L.push('except-interface=lo', 'bind-dynamic', `interface=${def.bridge?.name ?? ''}`);
  if (!def.forward) {
    // Isolated: no default route and no upstream DNS for the guests, no IPv6 default router.
    L.push('dhcp-option=3', 'no-resolv', 'ra-param=*,0,0');
  }
  if (wantDns && dns) {
    for (const t of dns.txts) L.push(`txt-record=${t.name},${t.value}`);
    for (const s of dns.srvs) {
      let line = `srv-host=_${s.service}._${s.protocol}`;
      if (s.domain) line += `.${s.domain}`;
      if (s.target) {
        line += `,${s.target}`;
        if (s.port || s.priority || s.weight) line += `,${s.port ?? 0}`;
        if (s.priority || s.weight) line += `,${s.priority ?? 0}`;
        if (s.weight) line += `,${s.weight}`;
      }
      L.push(line);
    }
  }
  let v4: NetworkIp | undefined;
  let v6: NetworkIp | undefined;
  for (const ip of def.ips) {
    if (hasDhcp(ip)) {
      if (isV6(ip)) {
        if (v6) throw multiDhcp(def, 'IPv6');
        v6 = ip;
      } else {
        if (v4) throw multiDhcp(def, 'IPv4');
        v4 = ip;
      }
    }
    if (!isV6(ip) && ip.tftpRoot) L.push('enable-tftp', `tftp-root=${ip.tftpRoot}`);
  }
  let leases = 0;
  const hosts: string[] = [];
  for (const ip of [v4, v6]) {
    if (!ip) continue;
    const sn = ipSubnet(ip, def.name)!;
    const six = sn.addr.family === 'ipv6';
    for (const r of ip.dhcp!.ranges) {
      const tail = six ? String(sn.prefix) : formatIp(netmaskFromPrefix(sn.prefix, 'ipv4'));
      const l = leaseString(r.lease);
      L.push(`dhcp-range=${r.start},${r.end},${tail}${l ? `,${l}` : ''}`);
      leases += Math.max(0, rangeSize(parseIp(r.start)!, parseIp(r.end)!));
    }
    if (!ip.dhcp!.ranges.length && ip.dhcp!.hosts.length) {
      L.push(`dhcp-range=${ip.address},static${six ? `,${sn.prefix}` : ''}`);
    }
    hosts.push(...hostLines(ip));
    if (!six) {
      L.push('dhcp-no-override', 'dhcp-authoritative');
      const b = ip.dhcp!.bootp;
      if (b) L.push(b.server ? `dhcp-boot=${b.file},,${b.server}` : `dhcp-boot=${b.file}`);
    }
  }
  if (leases > 0) L.push(`dhcp-lease-max=${leases}`);
  const base = `${paths.stateDir}/${def.name}`;
  if (v4 || v6) L.push(`dhcp-hostsfile=${esc(base)}.hostsfile`);
  if (wantDns) L.push(`addn-hosts=${esc(base)}.addnhosts`);
  if (v6) L.push('enable-ra');
  else {
    for (const ip of def.ips) if (isV6(ip) && !hasDhcp(ip)) L.push(`dhcp-range=${ip.address},ra-only`);
  }
  if (paths.leaseFile) L.push(`dhcp-leasefile=${esc(paths.leaseFile)}`);
  if (paths.extraLines) L.push(...paths.extraLines);
  const addn = (dns?.hosts ?? []).map((h) => `${h.ip}\t${h.hostnames.join('\t')}\n`).join('');
  return {
    conf: L.map((l) => `${l}\n`).join(''),
    hostsfile: hosts.map((h) => `${h}\n`).join(''),
    addnhosts: addn,
    dhcp: v4 !== undefined || v6 !== undefined,
  };
}

function multiDhcp(def: NetworkDef, fam: string): VirError {
  return new VirError(
    'CONFIG_UNSUPPORTED',
    `For ${fam}, multiple DHCP definitions cannot be specified (network '${def.name}')`,
    { domain: 'NETWORK' },
  );
}
