// Character devices (<serial>, <parallel>, <console>, <channel>) and the chardev <source> shared by rng/redirdev.
import type { Extra, XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import { type FormatOpts, formatDeviceInfo, parseDeviceInfo } from './device-info.js';
import type { ChardevDef, ChardevKind, ChardevSource, ChardevTarget, ChardevType } from './domain-def.js';
import {
  domErr,
  enumAttr,
  internalErr,
  missingAttr,
  onOffAttr,
  uintAttr,
  unsupported,
  yesNoAttr,
} from './parse-util.js';

export const CHARDEV_TYPES: readonly ChardevType[] = [
  'null',
  'vc',
  'pty',
  'dev',
  'file',
  'pipe',
  'stdio',
  'udp',
  'tcp',
  'unix',
  'spicevmc',
  'spiceport',
  'nmdm',
  'qemu-vdagent',
  'dbus',
];
const PATH_TYPES = new Set<ChardevType>(['pty', 'dev', 'file', 'pipe', 'unix']);
const NONE: string[] = [];

/** Which <source> attributes a type models; the rest stay as written. */
function sourceKnown(type: ChardevType): string[] {
  switch (type) {
    case 'pty':
    case 'dev':
    case 'pipe':
      return ['path'];
    case 'file':
      return ['path', 'append'];
    case 'unix':
      return ['mode', 'path'];
    case 'tcp':
      return ['mode', 'host', 'service', 'tls'];
    case 'udp':
      return ['mode', 'host', 'service'];
    case 'spiceport':
    case 'dbus':
      return ['channel'];
    default:
      return [];
  }
}

/**
 * Parses the backend of a character device from the children of `el` (<source>, <protocol>, <log>).
 * `_what` names the owner ('channel', 'rng backend'); libvirt's messages do not name it.
 */
export function parseChardevSource(
  el: XmlElement,
  type: ChardevType,
  _what: string,
  pathOptional: boolean,
): ChardevSource {
  const s: ChardevSource = { type };
  let nsrc = 0;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'source') {
      const a = c.attrs;
      if (type === 'udp') {
        if (a.mode === 'bind') {
          if (a.host !== undefined) s.bindHost = a.host;
          if (a.service !== undefined) s.bindService = a.service;
        } else {
          if (a.host !== undefined) s.host = a.host;
          if (a.service !== undefined) s.service = a.service;
        }
        const e = unknownParts(c, sourceKnown(type), NONE);
        if (e)
          (s.extraSources ??= []).push(
            elem('source', { mode: a.mode === 'bind' ? 'bind' : 'connect' }, undefined, e),
          );
        nsrc++;
        continue;
      }
      if (nsrc > 0) {
        (s.extraSources ??= []).push(c);
        continue;
      }
      nsrc++;
      if (a.path !== undefined && PATH_TYPES.has(type)) s.path = a.path;
      if (type === 'file') {
        const ap = onOffAttr(c, 'append');
        if (ap !== undefined) s.append = ap;
      }
      if (type === 'tcp' || type === 'unix') {
        const mode = enumAttr(c, 'mode', ['bind', 'connect'] as const);
        s.mode = mode ?? 'connect';
      }
      if (type === 'tcp') {
        if (a.host !== undefined) s.host = a.host;
        if (a.service !== undefined) s.service = a.service;
        const tls = yesNoAttr(c, 'tls');
        if (tls !== undefined) s.tls = tls;
      }
      if ((type === 'spiceport' || type === 'dbus') && a.channel !== undefined) s.channel = a.channel;
      const known = type === 'tcp' || type === 'unix' ? ['reconnect'] : NONE;
      for (const r of c.children) {
        if (r.type !== 'element' || r.name !== 'reconnect' || known.length === 0) continue;
        const enabled = yesNoAttr(r, 'enabled') ?? false;
        const timeout = uintAttr(r, 'timeout');
        if (enabled && timeout === undefined) missingAttr(r, 'timeout');
        if (enabled && c.attrs.mode === 'bind')
          internalErr('chardev reconnect is possible only for connect mode');
        // libvirt's QEMU driver refuses this at define (qemuValidateDomainChrSourceReconnectDef).
        if (enabled && timeout === 0)
          throw domErr('INVALID_ARG', "chardev reconnect source timeout cannot be '0'");
        s.reconnect = timeout === undefined ? { enabled } : { enabled, timeout };
      }
      const e = unknownParts(c, sourceKnown(type), known);
      if (e) s.sourceExtra = e;
    } else if (c.name === 'protocol') {
      const p = c.attrs.type;
      if (p !== undefined) {
        if (!['raw', 'telnet', 'telnets', 'tls'].includes(p)) unsupported(`Unknown protocol '${p}'`);
        s.protocol = p;
      }
    } else if (c.name === 'log') {
      if (c.attrs.file !== undefined) s.logFile = c.attrs.file;
      const ap = onOffAttr(c, 'append');
      if (ap !== undefined) s.logAppend = ap;
    }
  }
  if (type === 'tcp' || (type === 'unix' && nsrc > 0)) s.mode ??= 'connect';
  if (type === 'tcp') {
    s.protocol ??= 'raw';
    if (!s.host) internalErr('Missing source host attribute for char device');
    if (!s.service) internalErr('Missing source service attribute for char device');
  } else if (type === 'udp') {
    if (!s.service) internalErr('Missing source service attribute for char device');
  } else if (type === 'unix') {
    if (!s.path && !pathOptional) internalErr('Missing source path attribute for char device');
  } else if ((type === 'dev' || type === 'file' || type === 'pipe') && !s.path) {
    internalErr('Missing source path attribute for char device');
  }
  return s;
}

/** Child names consumed by parseChardevSource. */
export const CHARDEV_SOURCE_CHILDREN = ['source', 'protocol', 'log'];

/** Formats the backend (<source> elements, <protocol>, <log>). */
export function formatChardevSource(s: ChardevSource, opts: FormatOpts): XmlElement[] {
  const out: XmlElement[] = [];
  const t = s.type;
  const reconnect =
    s.reconnect && elem('reconnect', { enabled: s.reconnect.enabled, timeout: s.reconnect.timeout });
  switch (t) {
    case 'pty':
    case 'dev':
    case 'file':
    case 'pipe':
      if (s.path !== undefined && (t !== 'pty' || !opts.inactive)) {
        out.push(
          elem(
            'source',
            { path: s.path, append: s.append === undefined ? undefined : s.append ? 'on' : 'off' },
            undefined,
            s.sourceExtra,
          ),
        );
      } else if (s.sourceExtra) out.push(elem('source', {}, undefined, s.sourceExtra));
      break;
    case 'unix':
      if (s.mode !== undefined || s.path !== undefined || reconnect || s.sourceExtra) {
        out.push(elem('source', { mode: s.mode, path: s.path }, reconnect, s.sourceExtra));
      }
      break;
    case 'tcp':
      out.push(
        elem(
          'source',
          { mode: s.mode, host: s.host, service: s.service, tls: s.tls },
          reconnect,
          s.sourceExtra,
        ),
      );
      out.push(elem('protocol', { type: s.protocol ?? 'raw' }));
      break;
    case 'udp': {
      const bindExtra = s.extraSources?.find((x) => x.attrs.mode === 'bind');
      const connExtra = s.extraSources?.find((x) => x.attrs.mode === 'connect');
      if (s.bindHost !== undefined || s.bindService !== undefined || bindExtra) {
        out.push(
          copyExtra(elem('source', { mode: 'bind', host: s.bindHost, service: s.bindService }), bindExtra),
        );
      }
      out.push(copyExtra(elem('source', { mode: 'connect', host: s.host, service: s.service }), connExtra));
      break;
    }
    case 'spiceport':
    case 'dbus':
      if (s.channel !== undefined || s.sourceExtra)
        out.push(elem('source', { channel: s.channel }, undefined, s.sourceExtra));
      break;
    default:
      if (s.sourceExtra) out.push(elem('source', {}, undefined, s.sourceExtra));
  }
  if (t !== 'udp' && s.extraSources) for (const x of s.extraSources) out.push(x);
  if (t !== 'tcp' && s.protocol !== undefined) out.push(elem('protocol', { type: s.protocol }));
  if (s.logFile !== undefined)
    out.push(
      elem('log', {
        file: s.logFile,
        append: s.logAppend === undefined ? undefined : s.logAppend ? 'on' : 'off',
      }),
    );
  return out;
}

function copyExtra(el: XmlElement, from: XmlElement | undefined): XmlElement {
  if (!from) return el;
  for (const k in from.attrs) if (!(k in el.attrs)) el.attrs[k] = from.attrs[k]!;
  for (const c of from.children) el.children.push(c);
  return el;
}

const TARGET_ATTRS = ['type', 'port', 'name', 'address', 'state'];
const TARGET_CHILDREN = ['model'];
const CHR_CHILDREN = [...CHARDEV_SOURCE_CHILDREN, 'target', 'alias', 'address'];
const CHR_ATTRS = ['type', 'tty'];

/** libvirt's target types per kind (virDomainChr*TargetType); parallel's target type is not checked. */
const TARGET_TYPES: Partial<Record<ChardevKind, readonly string[]>> = {
  serial: [
    'none',
    'isa-serial',
    'usb-serial',
    'pci-serial',
    'spapr-vio-serial',
    'system-serial',
    'sclp-serial',
    'isa-debug',
  ],
  console: ['none', 'serial', 'xen', 'uml', 'virtio', 'lxc', 'openvz', 'sclp', 'sclplm'],
  channel: ['none', 'guestfwd', 'virtio', 'xen'],
};
/** virDomainChrSerialTargetModel. */
const SERIAL_TARGET_MODELS = [
  'none',
  'isa-serial',
  'usb-serial',
  'pci-serial',
  'spapr-vty',
  'pl011',
  'sclpconsole',
  'sclplmconsole',
  '16550a',
  'isa-debugcon',
];
const CHR_TYPE_UNKNOWN = 'unknown type presented to host for character device: %s';

/** Parses <serial>, <parallel>, <console> or <channel>. */
export function parseChardev(el: XmlElement, kind: ChardevKind): ChardevDef {
  const type = enumAttr(el, 'type', CHARDEV_TYPES, CHR_TYPE_UNKNOWN) ?? 'null';
  let target: ChardevTarget | undefined;
  for (const c of el.children) {
    if (c.type !== 'element' || c.name !== 'target') continue;
    target = {};
    const a = c.attrs;
    if (a.type !== undefined) {
      const types = TARGET_TYPES[kind];
      if (types && !types.includes(a.type))
        unsupported(`unknown target type '${a.type}' specified for character device`);
      target.type = a.type;
    }
    if (kind === 'channel' && target.type === 'guestfwd') {
      if (a.address !== undefined) target.address = a.address;
      if (a.port !== undefined) target.targetPort = a.port;
    } else {
      const port = uintAttr(c, 'port');
      if (port !== undefined) target.port = port;
      if (a.address !== undefined) target.address = a.address;
    }
    if (a.name !== undefined) target.name = a.name;
    // libvirt reads a channel's state only from live XML and ignores a value it does not know.
    const st = a.state;
    if (st === 'connected' || st === 'disconnected') target.state = st;
    for (const m of c.children)
      if (m.type === 'element' && m.name === 'model' && m.attrs.name !== undefined) {
        if (kind === 'serial' && !SERIAL_TARGET_MODELS.includes(m.attrs.name))
          unsupported(`unknown target model '${m.attrs.name}' specified for character device`);
        target.model = m.attrs.name;
      }
    const known = st === undefined || target.state ? TARGET_ATTRS : TARGET_ATTRS.filter((x) => x !== 'state');
    const e = unknownParts(c, known, target.model === undefined ? NONE : TARGET_CHILDREN);
    if (e) target.extra = e;
    break;
  }
  const pathOptional = kind === 'channel' && target?.type === 'virtio';
  const source = parseChardevSource(el, type, kind, pathOptional);
  if (type === 'pty' && el.attrs.tty !== undefined && source.path === undefined) source.path = el.attrs.tty;
  const d: ChardevDef = { kind, source };
  if (target) d.target = target;
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(el, CHR_ATTRS, CHR_CHILDREN);
  if (extra) d.extra = extra;
  return d;
}

function formatTarget(kind: ChardevKind, t: ChardevTarget, opts: FormatOpts): XmlElement {
  const attrs =
    kind === 'channel' && t.type === 'guestfwd'
      ? { type: t.type, address: t.address, port: t.targetPort }
      : {
          type: t.type,
          name: t.name,
          address: t.address,
          port: t.port,
          state: opts.inactive ? undefined : t.state,
        };
  return elem(
    'target',
    attrs,
    t.model !== undefined ? elem('model', { name: t.model }) : undefined,
    t.extra as Extra | undefined,
  );
}

/** Formats a character device. The pty path (tty) is live-only. */
export function formatChardev(d: ChardevDef, opts: FormatOpts): XmlElement {
  const s = d.source;
  const tty = s.type === 'pty' && s.path !== undefined && !opts.inactive ? s.path : undefined;
  const kids = [
    ...formatChardevSource(s, opts),
    d.target && formatTarget(d.kind, d.target, opts),
    ...formatDeviceInfo(d, opts),
  ];
  return elem(d.kind, { type: s.type, tty }, kids, d.extra);
}
