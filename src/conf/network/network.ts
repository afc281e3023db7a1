// <network> as a whole: parse -> post-parse defaults -> validate, and format in libvirt's order.
import { confError } from '../../util/errors.js';
import { isMulticastMac, parseMac } from '../../util/mac.js';
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
import { keep, onOff, uint, yesNo } from './keep.js';
import type { NetworkBridge, NetworkDef, NetworkPortgroup } from './network-def.js';
import { validateNetwork } from './validate.js';

export interface ParseNetworkOptions {
  /** Source of the uuid given to a network without one (injected randomness). */
  uuidSource?: UuidSource;
  /** Skip the semantic checks (validateNetwork); XML structure is still checked. */
  skipValidate?: boolean;
}

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
];

function parseBridge(el: XmlElement): NetworkBridge {
  return {
    name: attr(el, 'name'),
    zone: attr(el, 'zone'),
    stp: onOff(el, 'stp'),
    delay: uint(attr(el, 'delay'), "bridge attribute 'delay'"),
    macTableManager: attr(el, 'macTableManager'),
    extra: keep(el, ['name', 'zone', 'stp', 'delay', 'macTableManager'], []),
  };
}

function parsePortgroup(el: XmlElement, net: string): NetworkPortgroup {
  const name = attr(el, 'name');
  if (!name) throw confError('XML_ERROR', `Missing required name attribute in portgroup of network '${net}'`);
  const children = el.children.filter((c): c is XmlElement => c.type === 'element');
  return {
    name,
    default: yesNo(el, 'default'),
    trustGuestRxFilters: yesNo(el, 'trustGuestRxFilters'),
    children: children.map((c) => cloneNode(c)),
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
  if (name.includes('/')) throw confError('XML_ERROR', `name ${name} cannot contain '/'`);
  const def: NetworkDef = { name, uuid: '', ips: [], routes: [], portgroups: [] };
  const uuid = childText(root, 'uuid');
  if (uuid !== undefined) {
    try {
      def.uuid = parseUuid(uuid);
    } catch {
      throw confError('XML_ERROR', `malformed uuid element in network '${name}'`);
    }
  }
  def.ipv6 = yesNo(root, 'ipv6');
  def.trustGuestRxFilters = yesNo(root, 'trustGuestRxFilters');
  const fwd = child(root, 'forward');
  if (fwd) def.forward = parseForward(fwd, name);
  const br = child(root, 'bridge');
  if (br) def.bridge = parseBridge(br);
  const mtu = child(root, 'mtu');
  if (mtu) def.mtu = uint(attr(mtu, 'size'), `mtu size of network '${name}'`);
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
    const dn = attr(dom, 'name');
    if (!dn) throw confError('XML_ERROR', `Missing name attribute in <domain> of network '${name}'`);
    def.domain = {
      name: dn,
      localOnly: yesNo(dom, 'localOnly'),
      register: yesNo(dom, 'register'),
      extra: keep(dom, ['name', 'localOnly', 'register'], []),
    };
  }
  const dns = child(root, 'dns');
  if (dns) def.dns = parseDns(dns, name);
  def.ips = childrenNamed(root, 'ip').map((e) => parseNetworkIp(e, name));
  def.routes = childrenNamed(root, 'route').map((e) => parseRoute(e, name));
  def.portgroups = childrenNamed(root, 'portgroup').map((e) => parsePortgroup(e, name));
  for (const k of ['virtualport', 'bandwidth', 'vlan'] as const) {
    const e = child(root, k);
    if (e) def[k] = cloneNode(e);
  }
  def.extra = keep(root, ['ipv6', 'trustGuestRxFilters'], knownChildren);
  postParseNetwork(def, opts);
  if (!opts.skipValidate) validateNetwork(def);
  return def;
}

/** Post-parse defaults: a uuid when missing. (A bridge MAC is generated at define time, not here.) */
export function postParseNetwork(def: NetworkDef, opts: ParseNetworkOptions = {}): void {
  if (!def.uuid) def.uuid = parseUuid((opts.uuidSource ?? randomUuid)());
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
        macTableManager: b?.macTableManager,
        stp: own ? (b?.stp === false ? 'off' : 'on') : undefined,
        delay: own ? (b?.delay ?? 0) : undefined,
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
      def.virtualport && cloneNode(def.virtualport),
      def.bandwidth && cloneNode(def.bandwidth),
      def.vlan && cloneNode(def.vlan),
      def.ips.map(formatNetworkIp),
      def.routes.map(formatRoute),
      def.portgroups.map((p) =>
        elem(
          'portgroup',
          { name: p.name, default: p.default ? true : undefined, trustGuestRxFilters: p.trustGuestRxFilters },
          p.children.map((c) => cloneNode(c)),
          p.extra,
        ),
      ),
    ],
    def.extra,
  );
  return formatXml(root);
}
