// <network> as a whole: parse -> post-parse defaults -> validate, and format in libvirt's order.
import { confError } from '../../util/errors.js';
import { generateMac, isMulticastMac, parseMac, type RandomBytes } from '../../util/mac.js';
import { parseUuid, randomUuid, type UuidSource } from '../../util/uuid.js';
import {
  attr,
  child,
  childrenNamed,
  childText,
  cloneNode,
  elem,
  formatXml,
  parseRoot,
  textElem,
  type XmlElement,
} from '../../util/xml.js';
import { formatDns, parseDns } from './dns.js';
import { formatForward, parseForward } from './forward.js';
import { formatNetworkIp, formatRoute, parseNetworkIp, parseRoute } from './ip-def.js';
import { keep, pair, yesNo } from './keep.js';
import type { NetworkBridge, NetworkDef, NetworkPortgroup } from './network-def.js';
import { normBandwidth, normVirtualport } from './raw.js';
import { validateNetwork } from './validate.js';

/** Options of parseNetwork. */
export interface ParseNetworkOptions {
  /** Source of the uuid given to a network without one (injected randomness). */
  uuidSource?: UuidSource;
  /** Skip the semantic checks (validateNetwork); XML structure is still checked. */
  skipValidate?: boolean;
}

/** Options of formatNetwork. */
export interface FormatNetworkOptions {
  /** Format the persistent definition (libvirt VIR_NETWORK_XML_INACTIVE): drops runtime pools. */
  inactive?: boolean;
}

const knownChildren = [
  'name',
  'uuid',
  'forward',
  'bridge',
  'mtu',
  'mac',
  'domain',
  'dns',
  'ip',
  'route',
  'portgroup',
  'virtualport',
  'bandwidth',
  'vlan',
  'port',
  'title',
  'description',
  'metadata',
];

/** libvirt writes a portgroup's vlan, virtualport, bandwidth in that order; others keep theirs, after. */
function portgroupOrder(children: XmlElement[]): XmlElement[] {
  const rank = (c: XmlElement) => {
    const i = ['vlan', 'virtualport', 'bandwidth'].indexOf(c.name);
    return i < 0 ? 3 : i;
  };
  return [...children].sort((a, b) => rank(a) - rank(b));
}

function parseBridge(el: XmlElement, net: string): NetworkBridge {
  const delay = attr(el, 'delay');
  if (delay !== undefined && !/^\d+$/.test(delay.trim())) {
    throw confError('XML_ERROR', `Invalid delay value in network '${net}'`);
  }
  const mtm = attr(el, 'macTableManager');
  if (mtm !== undefined && mtm !== 'kernel' && mtm !== 'libvirt') {
    throw confError('XML_ERROR', `Invalid macTableManager setting '${mtm}' in network '${net}'`);
  }
  const stp = attr(el, 'stp');
  return {
    name: attr(el, 'name'),
    zone: attr(el, 'zone'),
    // As libvirt: anything but 'off' turns spanning tree on.
    stp: stp === undefined ? undefined : stp !== 'off',
    delay: delay === undefined ? undefined : Number(delay),
    macTableManager: mtm,
    extra: keep(el, ['name', 'zone', 'stp', 'delay', 'macTableManager'], []),
  };
}

function parsePortgroup(el: XmlElement): NetworkPortgroup {
  const name = attr(el, 'name');
  if (!name) throw confError('XML_ERROR', 'Missing required name attribute in portgroup');
  const children = el.children.filter((c): c is XmlElement => c.type === 'element');
  return {
    name,
    default: yesNo(el, 'default'),
    trustGuestRxFilters: yesNo(el, 'trustGuestRxFilters'),
    children: children.map((c) =>
      c.name === 'virtualport'
        ? normVirtualport(c)
        : c.name === 'bandwidth'
          ? normBandwidth(c)
          : cloneNode(c),
    ),
    extra: keep(
      el,
      ['name', 'default', 'trustGuestRxFilters'],
      children.map((c) => c.name),
    ),
  };
}

/**
 * Parses a <network> document, fills post-parse defaults (uuid) and validates it.
 * @throws VirError XML_ERROR / CONFIG_UNSUPPORTED / XML_DETAIL with libvirt's messages.
 */
export function parseNetwork(xml: string, opts: ParseNetworkOptions = {}): NetworkDef {
  const root = parseRoot(xml, 'network');
  const name = childText(root, 'name')?.trim();
  if (!name) throw confError('NO_NAME', 'missing name in network definition: add <name>NAME</name>');
  if (name.includes('/')) throw confError('XML_ERROR', 'invalid char in name: 0x2f');
  const def: NetworkDef = { name, uuid: '', ips: [], routes: [], portgroups: [] };
  const uuid = childText(root, 'uuid');
  if (uuid !== undefined) {
    try {
      def.uuid = parseUuid(uuid);
    } catch {
      throw confError('INTERNAL_ERROR', 'malformed uuid element');
    }
  }
  const v6 = attr(root, 'ipv6');
  if (v6 !== undefined && v6 !== 'yes' && v6 !== 'no') {
    throw confError('XML_ERROR', `Invalid ipv6 setting '${v6}' in network '${name}'`);
  }
  def.ipv6 = v6 === undefined ? undefined : v6 === 'yes';
  def.trustGuestRxFilters = yesNo(root, 'trustGuestRxFilters');
  const fwd = child(root, 'forward');
  if (fwd) def.forward = parseForward(fwd, name);
  const br = child(root, 'bridge');
  if (br) def.bridge = parseBridge(br, name);
  const mtu = child(root, 'mtu');
  const size = mtu && attr(mtu, 'size');
  if (size !== undefined) {
    if (!/^\d+$/.test(size.trim()))
      throw confError('XML_ERROR', `Invalid mtu size '${size}' in network '${name}'`);
    def.mtu = Number(size);
  }
  const mac = child(root, 'mac');
  if (mac) {
    const a = attr(mac, 'address') ?? '';
    try {
      def.mac = parseMac(a);
    } catch {
      throw confError('XML_ERROR', `Invalid bridge mac address '${a}' in network '${name}'`);
    }
    if (isMulticastMac(def.mac)) {
      throw confError('XML_ERROR', `Invalid multicast bridge mac address '${a}' in network '${name}'`);
    }
  }
  const dom = child(root, 'domain');
  if (dom) {
    def.domain = {
      name: attr(dom, 'name'),
      localOnly: yesNo(dom, 'localOnly'),
      register: yesNo(dom, 'register'),
      extra: keep(dom, ['name', 'localOnly', 'register'], []),
    };
  }
  const dns = child(root, 'dns');
  if (dns) def.dns = parseDns(dns, name);
  def.ips = childrenNamed(root, 'ip').map((e) => parseNetworkIp(e, name));
  def.routes = childrenNamed(root, 'route').map((e) => parseRoute(e, name));
  def.portgroups = childrenNamed(root, 'portgroup').map((e) => parsePortgroup(e));
  const vp = child(root, 'virtualport');
  if (vp) def.virtualport = normVirtualport(vp);
  const bw = child(root, 'bandwidth');
  if (bw) def.bandwidth = normBandwidth(bw);
  for (const k of ['vlan', 'port', 'metadata'] as const) {
    const e = child(root, k);
    if (e) def[k] = cloneNode(e);
  }
  def.title = childText(root, 'title');
  if (def.title?.includes('\n')) throw confError('XML_ERROR', "Network title can't contain newlines");
  def.description = childText(root, 'description');
  def.extra = keep(root, ['ipv6', 'trustGuestRxFilters'], knownChildren);
  postParseNetwork(def, opts);
  if (!opts.skipValidate) validateNetwork(def);
  return def;
}

/** Post-parse defaults: a uuid when missing. (A bridge MAC is generated at define time, not here.) */
export function postParseNetwork(def: NetworkDef, opts: ParseNetworkOptions = {}): void {
  if (!def.uuid) def.uuid = parseUuid((opts.uuidSource ?? randomUuid)());
}

/**
 * Gives the bridge a MAC when it has none, as libvirt does when a network is defined (not at
 * parse time). Legal on any definition; returns true when it changed it.
 */
export function networkSetBridgeMac(def: NetworkDef, rand?: RandomBytes): boolean {
  if (def.mac) return false;
  def.mac = generateMac(rand);
  return true;
}

/** True for the modes whose bridge libvirt creates itself (stp/delay are meaningful). */
function ownsBridge(def: NetworkDef): boolean {
  const m = def.forward?.mode;
  return m === undefined || m === 'nat' || m === 'route' || m === 'open';
}

/** Formats a network definition as libvirt does (virNetworkDefFormat). */
export function formatNetwork(def: NetworkDef, opts: FormatNetworkOptions = {}): string {
  const b = def.bridge;
  let bridge: XmlElement | undefined;
  if (ownsBridge(def) || b?.name || b?.macTableManager) {
    const own = ownsBridge(def);
    bridge = elem(
      'bridge',
      {
        name: b?.name,
        zone: b?.zone,
        stp: own ? (b?.stp === false ? 'off' : 'on') : undefined,
        delay: own ? (b?.delay ?? 0) : undefined,
        macTableManager: b?.macTableManager,
      },
      [],
      b?.extra,
    );
  }
  const root = elem(
    'network',
    { ipv6: def.ipv6 ? true : undefined, trustGuestRxFilters: def.trustGuestRxFilters },
    [
      textElem('name', def.name),
      textElem('uuid', def.uuid),
      textElem('title', def.title),
      textElem('description', def.description),
      def.metadata && cloneNode(def.metadata),
      def.forward && formatForward(def.forward, opts.inactive ?? false),
      bridge,
      def.mtu !== undefined && elem('mtu', { size: def.mtu }),
      def.mac ? elem('mac', { address: def.mac }) : undefined,
      def.domain &&
        elem(
          'domain',
          { name: def.domain.name, localOnly: def.domain.localOnly, register: def.domain.register },
          [],
          def.domain.extra,
        ),
      formatDns(def.dns),
      def.vlan && cloneNode(def.vlan),
      def.bandwidth && cloneNode(def.bandwidth),
      def.port && cloneNode(def.port),
      def.ips.map(formatNetworkIp),
      def.routes.map(formatRoute),
      def.virtualport && cloneNode(def.virtualport),
      // libvirt writes a portgroup as an open/close pair even when it is empty.
      def.portgroups.map((p) =>
        pair(
          elem(
            'portgroup',
            {
              name: p.name,
              default: p.default ? true : undefined,
              trustGuestRxFilters: p.trustGuestRxFilters,
            },
            portgroupOrder(p.children).map((c) => cloneNode(c)),
            p.extra,
          ),
          1,
        ),
      ),
    ],
    def.extra,
  );
  return formatXml(root);
}
