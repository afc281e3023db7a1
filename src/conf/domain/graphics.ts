// <graphics>: vnc, spice, sdl, rdp, egl-headless, dbus; listen elements, autoport, passwords, spice image compression.
import type { XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import { type FormatOpts, formatDeviceInfo } from './device-info.js';
import type { GraphicsDef, GraphicsListen, GraphicsType } from './domain-def.js';
import {
  enumAttr,
  intAttr,
  internalErr,
  invalidAttr,
  missingAttr,
  unsupported,
  xmlErr,
  yesNoAttr,
} from './parse-util.js';

const TYPES: readonly GraphicsType[] = ['sdl', 'vnc', 'rdp', 'desktop', 'spice', 'egl-headless', 'dbus'];
const LISTEN_TYPES = ['address', 'network', 'socket', 'none'] as const;
const ATTRS = [
  'type',
  'port',
  'tlsPort',
  'autoport',
  'websocket',
  'listen',
  'socket',
  'passwd',
  'passwdValidTo',
  'connected',
  'keymap',
  'sharePolicy',
  'defaultMode',
];
const CHILDREN = ['listen', 'image'];
const LISTEN_ATTRS = ['type', 'address', 'network', 'socket'];
const NONE: string[] = [];

/** Parses a <graphics> element, folding the legacy listen/socket attributes into <listen> elements. */
export function parseGraphics(el: XmlElement): GraphicsDef {
  const type = el.attrs.type;
  if (type === undefined) return missingAttr(el, 'type');
  if (!(TYPES as readonly string[]).includes(type)) invalidAttr(el, 'type');
  const g: GraphicsDef = { type: type as GraphicsType, listens: [] };
  const a = el.attrs;
  const remote = type === 'vnc' || type === 'spice' || type === 'rdp';
  if (remote) {
    if (a.port !== undefined && !/^\s*-?[0-9]+\s*$/.test(a.port))
      internalErr(`cannot parse ${type} port ${a.port}`);
    const port = intAttr(el, 'port');
    const autoport = yesNoAttr(el, 'autoport');
    if (type === 'spice') {
      const tls = intAttr(el, 'tlsPort');
      if (tls !== undefined && tls > 0) g.tlsPort = tls;
    }
    if (
      autoport === true ||
      port === -1 ||
      (port === undefined && autoport === undefined && type !== 'spice')
    ) {
      g.autoport = true;
    } else {
      if (autoport !== undefined) g.autoport = autoport;
      else if (type !== 'spice') g.autoport = false;
      if (port !== undefined && port > 0) g.port = port;
    }
    if (type === 'vnc') {
      const ws = intAttr(el, 'websocket');
      if (ws !== undefined) g.websocket = ws;
      if (a.sharePolicy !== undefined) g.sharePolicy = a.sharePolicy;
    }
    if (type === 'spice' && a.defaultMode !== undefined) g.defaultMode = a.defaultMode;
    if (a.keymap !== undefined) g.keymap = a.keymap;
    if (a.passwd !== undefined) g.passwd = a.passwd;
    if (a.passwdValidTo !== undefined) g.passwdValidTo = a.passwdValidTo;
    if (a.connected !== undefined) g.connected = a.connected;
  }
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'listen') {
      const lt = enumAttr(c, 'type', LISTEN_TYPES);
      if (!lt) missingAttr(c, 'type');
      const l: GraphicsListen = { type: lt };
      if (c.attrs.address !== undefined && lt !== 'socket') l.address = c.attrs.address;
      if (c.attrs.network !== undefined) l.network = c.attrs.network;
      if (c.attrs.socket !== undefined) l.socket = c.attrs.socket;
      if (lt === 'network' && !l.network) xmlErr("'network' attribute is required for listen type 'network'");
      if (lt === 'address' && c.attrs.address === '') delete l.address;
      const e = unknownParts(c, LISTEN_ATTRS, NONE);
      if (e) l.extra = e;
      g.listens.push(l);
    } else if (c.name === 'image' && type === 'spice' && c.attrs.compression !== undefined) {
      g.image = { compression: c.attrs.compression };
      const e = unknownParts(c, ['compression'], NONE);
      if (e) g.image.extra = e;
    }
  }
  if (remote) foldLegacyListen(g, a.listen, type === 'vnc' ? a.socket : undefined);
  const extra = unknownParts(el, remote ? ATTRS : ['type'], g.image ? CHILDREN : ['listen']);
  if (extra) g.extra = extra;
  return g;
}

function foldLegacyListen(
  g: GraphicsDef,
  listenAttr: string | undefined,
  socketAttr: string | undefined,
): void {
  const first = g.listens[0];
  if (socketAttr !== undefined) {
    const sock: GraphicsListen = { type: 'socket', socket: socketAttr };
    if (first) g.listens[0] = first.type === 'socket' && first.socket === socketAttr ? first : sock;
    else g.listens.push(sock);
    return;
  }
  if (listenAttr !== undefined) {
    if (first) {
      if (
        (first.type === 'address' || first.type === 'network') &&
        first.address !== undefined &&
        first.address !== listenAttr
      ) {
        unsupported(
          `graphics 'listen' attribute '${listenAttr}' must match 'address' attribute of first listen element (found '${first.address}')`,
        );
      }
      if (first.type === 'address' && first.address === undefined) first.address = listenAttr;
    } else g.listens.push({ type: 'address', address: listenAttr });
    return;
  }
  if (g.listens.length === 0) g.listens.push({ type: 'address' });
}

/** Formats <graphics>. passwd is written only when secure; autoport ports only when live. */
export function formatGraphics(g: GraphicsDef, opts: FormatOpts): XmlElement {
  const attrs: Record<string, string | number | boolean | undefined> = { type: g.type };
  const first = g.listens[0];
  const port = (p: number | undefined) =>
    p !== undefined && p > 0 && (!g.autoport || !opts.inactive) ? p : g.autoport ? -1 : undefined;
  const listenAttr = first && first.type === 'address' ? first.address : undefined;
  if (g.type === 'vnc') {
    if (first?.type === 'socket') {
      attrs.socket = first.socket;
    } else if (first?.type !== 'none') {
      attrs.port = port(g.port);
      attrs.autoport = g.autoport ?? false;
      attrs.websocket = g.websocket;
    }
    attrs.listen = listenAttr;
    attrs.sharePolicy = g.sharePolicy;
  } else if (g.type === 'spice') {
    const live = !g.autoport || !opts.inactive;
    attrs.port = g.port !== undefined && g.port > 0 && live ? g.port : undefined;
    attrs.tlsPort = g.tlsPort !== undefined && g.tlsPort > 0 && live ? g.tlsPort : undefined;
    attrs.autoport = g.autoport;
    attrs.listen = listenAttr;
  } else if (g.type === 'rdp') {
    attrs.port = port(g.port);
    attrs.autoport = g.autoport;
    attrs.listen = listenAttr;
  }
  attrs.keymap = g.keymap;
  if (g.type === 'spice') attrs.defaultMode = g.defaultMode;
  if (opts.secure) attrs.passwd = g.passwd;
  attrs.passwdValidTo = g.passwdValidTo;
  attrs.connected = g.connected;
  const kids = [
    ...g.listens.map((l) =>
      elem(
        'listen',
        { type: l.type, address: l.address, network: l.network, socket: l.socket },
        undefined,
        l.extra,
      ),
    ),
    g.image && elem('image', { compression: g.image.compression }, undefined, g.image.extra),
    ...formatDeviceInfo(g, opts),
  ];
  return elem('graphics', attrs, kids, g.extra);
}
