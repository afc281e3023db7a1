// Character devices (<serial>, <parallel>, <console>, <channel>) and the chardev <source> shared by rng/redirdev.
import { confError } from '../../util/errors.js';
import type { Extra, XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import { type FormatOpts, formatDeviceInfo, parseDeviceInfo } from './device-info.js';
import type { ChardevDef, ChardevKind, ChardevSource, ChardevTarget, ChardevType } from './domain-def.js';
import { enumAttr, onOffAttr, uintAttr, xmlErr, yesNoAttr } from './parse-util.js';

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
 * `what` names the owner in messages, e.g. 'channel' or 'rng backend'.
 */
export function parseChardevSource(
  el: XmlElement,
  type: ChardevType,
  what: string,
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
        const mode = enumAttr(c, 'mode', ['bind', 'connect'] as const, `${what} source mode`);
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
        if (enabled && timeout === undefined) {
          xmlErr(`missing timeout for chardev with reconnect enabled in ${what} <source><reconnect>`);
        }
        if (!enabled && timeout !== undefined)
          xmlErr(`reconnect timeout is set but reconnect is disabled in ${what}`);
        if (enabled && timeout === 0) {
          throw confError(
            'INVALID_ARG',
            `chardev reconnect source timeout cannot be '0' in ${what} <source><reconnect>`,
          );
        }
        if (enabled && c.attrs.mode === 'bind') {
          throw confError('INTERNAL_ERROR', `chardev reconnect is possible only for connect mode (${what})`);
        }
        s.reconnect = timeout === undefined ? { enabled } : { enabled, timeout };
      }
      const e = unknownParts(c, sourceKnown(type), known);
      if (e) s.sourceExtra = e;
    } else if (c.name === 'protocol') {
      const p = c.attrs.type;
      if (p !== undefined) {
        if (!['raw', 'telnet', 'telnets', 'tls'].includes(p))
          xmlErr(`Unknown protocol '${p}' in ${what} <protocol>`);
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
    if (!s.host) xmlErr(`Missing source host attribute for char device (${what} type 'tcp')`);
    if (!s.service) xmlErr(`Missing source service attribute for char device (${what} type 'tcp')`);
  } else if (type === 'udp') {
    if (!s.service) xmlErr(`Missing source service attribute for char device (${what} type 'udp')`);
  } else if (type === 'unix') {
    if (!s.path && !pathOptional)
      xmlErr(`Missing source path attribute for char device (${what} type 'unix')`);
  } else if ((type === 'dev' || type === 'file' || type === 'pipe') && !s.path) {
    xmlErr(`Missing source path attribute for char device (${what} type '${type}')`);
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

/** Parses <serial>, <parallel>, <console> or <channel>. */
export function parseChardev(el: XmlElement, kind: ChardevKind): ChardevDef {
  const type = enumAttr(el, 'type', CHARDEV_TYPES, `${kind} type`) ?? 'null';
  let target: ChardevTarget | undefined;
  for (const c of el.children) {
    if (c.type !== 'element' || c.name !== 'target') continue;
    target = {};
    const a = c.attrs;
    if (a.type !== undefined) target.type = a.type;
    if (kind === 'channel' && target.type === 'guestfwd') {
      if (a.address !== undefined) target.address = a.address;
      if (a.port !== undefined) target.targetPort = a.port;
    } else {
      const port = uintAttr(c, 'port');
      if (port !== undefined) target.port = port;
      if (a.address !== undefined) target.address = a.address;
    }
    if (a.name !== undefined) target.name = a.name;
    const st = enumAttr(c, 'state', ['connected', 'disconnected'] as const, 'channel target state');
    if (st) target.state = st;
    for (const m of c.children)
      if (m.type === 'element' && m.name === 'model' && m.attrs.name !== undefined)
        target.model = m.attrs.name;
    const e = unknownParts(c, TARGET_ATTRS, target.model === undefined ? NONE : TARGET_CHILDREN);
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
