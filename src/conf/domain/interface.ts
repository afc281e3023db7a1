// <interface>: parse and format (network, bridge, user, direct, ...; mac, source, model, target dev, address).
import type { XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import { parseMac } from '../../util/mac.js';
import { type FormatOpts, formatDeviceInfo, parseDeviceInfo } from './device-info.js';
import type { InterfaceDef, InterfaceType } from './domain-def.js';
import { domErr, enumAttr, orderAttrs, uintAttr, VIRTIO_OPTS, xmlErr } from './parse-util.js';
import { VirError } from '../../util/errors.js';

const TYPES: readonly InterfaceType[] = [
  'network',
  'bridge',
  'user',
  'direct',
  'ethernet',
  'vhostuser',
  'server',
  'client',
  'mcast',
  'udp',
  'hostdev',
  'internal',
  'vdpa',
  'null',
  'vds',
];
/** NIC models are free-form in libvirt, within NET_MODEL_CHARS (alphanumerics, '-', '_'). */
const MODEL_RE = /^[a-zA-Z0-9_-]+$/;
const ATTRS = ['type'];
const CHILDREN = ['mac', 'source', 'model', 'target', 'driver', 'mtu', 'link', 'boot', 'alias', 'address'];
const MAC_ATTRS = ['address'];
const MODEL_ATTRS = ['type'];
const TARGET_ATTRS = ['dev', 'managed'];
const DRIVER_ATTRS = ['name', 'queues'];
const NET_DRIVER_ORDER = [
  'name',
  'txmode',
  'ioeventfd',
  'event_idx',
  'queues',
  'rx_queue_size',
  'tx_queue_size',
  ...VIRTIO_OPTS,
];
const NONE: string[] = [];

/** Parses an <interface>. The MAC is left empty when absent (post-parse generates one). */
export function parseInterface(el: XmlElement): InterfaceDef {
  const type = enumAttr(el, 'type', TYPES) ?? 'user';
  const n: InterfaceDef = { type, mac: '', hasSource: false };
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    const a = c.attrs;
    switch (c.name) {
      case 'mac': {
        if (a.address !== undefined) {
          try {
            n.mac = parseMac(a.address);
          } catch (e) {
            throw new VirError('XML_ERROR', `XML error: unable to parse mac address '${a.address}'`, {
              domain: 'CONF',
              cause: e,
            });
          }
        }
        const e = unknownParts(c, MAC_ATTRS, NONE);
        if (e) n.macExtra = e;
        break;
      }
      case 'source': {
        n.hasSource = true;
        const known: string[] = [];
        if (type === 'network') {
          if (a.network !== undefined) n.network = a.network;
          if (a.portgroup !== undefined) n.portgroup = a.portgroup;
          known.push('network', 'portgroup');
          if (a.bridge !== undefined) n.bridge = a.bridge;
          known.push('bridge');
        } else if (type === 'bridge') {
          if (a.bridge !== undefined) n.bridge = a.bridge;
          known.push('bridge');
        } else if (type === 'direct') {
          if (a.dev !== undefined) n.dev = a.dev;
          if (a.mode !== undefined) n.mode = a.mode;
          known.push('dev', 'mode');
        }
        const e = unknownParts(c, known, NONE);
        if (e) n.sourceExtra = e;
        break;
      }
      case 'model': {
        const m = a.type;
        if (m !== undefined) {
          if (!MODEL_RE.test(m)) throw domErr('INVALID_ARG', 'Model name contains invalid characters');
          n.model = m;
        }
        // An empty extra keeps a <model/> without type in place.
        const e = unknownParts(c, MODEL_ATTRS, NONE);
        if (e || m === undefined) n.modelExtra = e ?? {};
        break;
      }
      case 'target': {
        if (a.dev !== undefined) n.targetDev = a.dev;
        if (a.managed !== undefined) n.targetManaged = a.managed === 'yes';
        const e = unknownParts(c, TARGET_ATTRS, NONE);
        if (e) n.targetExtra = e;
        break;
      }
      case 'driver': {
        n.driver = {};
        const name = enumAttr(c, 'name', ['qemu', 'vhost', 'vfio']);
        if (name !== undefined) n.driver.name = name;
        const q = uintAttr(c, 'queues');
        if (q !== undefined) n.driver.queues = q;
        const e = unknownParts(c, DRIVER_ATTRS, NONE);
        if (e) n.driver.extra = e;
        break;
      }
      case 'mtu': {
        const s = uintAttr(c, 'size');
        if (s === undefined) xmlErr("missing 'size' attribute in element <interface><mtu>");
        n.mtu = s;
        break;
      }
      case 'link': {
        const st = enumAttr(c, 'state', ['up', 'down'] as const, "unknown interface link state '%s'");
        if (!st) xmlErr("missing 'state' attribute in element <interface><link>");
        n.linkState = st;
        break;
      }
    }
  }
  const need =
    type === 'network' ? 'network' : type === 'bridge' ? 'bridge' : type === 'direct' ? 'dev' : undefined;
  if (need && !el.children.some((c) => c.type === 'element' && c.name === 'source'))
    xmlErr(`interface type='${type}' requires a 'source' element`);
  if (need && !(need === 'network' ? n.network : need === 'bridge' ? n.bridge : n.dev)) {
    xmlErr(`Missing required attribute '${need}' in element 'source'`);
  }
  parseDeviceInfo(el, n);
  const extra = unknownParts(el, ATTRS, CHILDREN);
  if (extra) n.extra = extra;
  return n;
}

/** True when a tap name was generated by libvirt/tvirt (written only in live XML). */
function generatedTap(dev: string): boolean {
  return /^(vnet|macvtap|macvlan)[0-9]+$/.test(dev);
}

/** Formats an <interface>. */
export function formatInterface(n: InterfaceDef, opts: FormatOpts): XmlElement {
  let source: XmlElement | undefined;
  if (n.hasSource || n.network !== undefined || n.bridge !== undefined || n.dev !== undefined) {
    const attrs =
      n.type === 'network'
        ? { network: n.network, portgroup: n.portgroup, bridge: opts.inactive ? undefined : n.bridge }
        : n.type === 'bridge'
          ? { bridge: n.bridge }
          : n.type === 'direct'
            ? { dev: n.dev, mode: n.mode }
            : {};
    source = elem('source', attrs, undefined, n.sourceExtra);
  }
  const showTarget = n.targetDev !== undefined && !(opts.inactive && generatedTap(n.targetDev));
  const kids = [
    n.mac !== '' || n.macExtra
      ? elem('mac', { address: n.mac || undefined }, undefined, n.macExtra)
      : undefined,
    source,
    (showTarget || n.targetExtra || n.targetManaged !== undefined) &&
      elem(
        'target',
        { dev: showTarget ? n.targetDev : undefined, managed: n.targetManaged },
        undefined,
        n.targetExtra,
      ),
    (n.model !== undefined || n.modelExtra) && elem('model', { type: n.model }, undefined, n.modelExtra),
    n.driver &&
      orderAttrs(
        elem('driver', { name: n.driver.name, queues: n.driver.queues }, undefined, n.driver.extra),
        NET_DRIVER_ORDER,
      ),
    n.linkState && elem('link', { state: n.linkState }),
    n.mtu !== undefined && elem('mtu', { size: n.mtu }),
    ...formatDeviceInfo(n, opts),
  ];
  return elem('interface', { type: n.type }, kids, n.extra);
}
