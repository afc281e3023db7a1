// Small devices: input, sound, redirdev, memballoon, rng, watchdog, panic.
import type { XmlElement } from '../../util/xml.js';
import { elem, textOf, unknownParts } from '../../util/xml.js';
import {
  CHARDEV_SOURCE_CHILDREN,
  CHARDEV_TYPES,
  formatChardevSource,
  parseChardevSource,
} from './chardev.js';
import { type FormatOpts, formatDeviceInfo, parseDeviceInfo } from './device-info.js';
import type {
  InputDef,
  MemballoonDef,
  PanicDef,
  RedirdevDef,
  RngDef,
  SoundDef,
  WatchdogDef,
} from './domain-def.js';
import { enumAttr, onOffAttr, onOff, uintAttr, xmlErr } from './parse-util.js';

const INFO = ['boot', 'alias', 'address'];
const INFO_NB = ['alias', 'address'];
const NONE: string[] = [];

export function parseInput(el: XmlElement): InputDef {
  const type = enumAttr(
    el,
    'type',
    ['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'] as const,
    'input device type',
  );
  if (!type) return xmlErr('missing input device type in element <input>');
  const d: InputDef = { type };
  if (el.attrs.bus !== undefined) d.bus = el.attrs.bus;
  if (el.attrs.model !== undefined) d.model = el.attrs.model;
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(el, ['type', 'bus', 'model'], INFO_NB);
  if (extra) d.extra = extra;
  return d;
}
export function formatInput(d: InputDef, opts: FormatOpts): XmlElement {
  return elem('input', { type: d.type, bus: d.bus, model: d.model }, formatDeviceInfo(d, opts), d.extra);
}

export function parseSound(el: XmlElement): SoundDef {
  const model = el.attrs.model;
  if (!model) return xmlErr('missing sound model in element <sound>');
  const d: SoundDef = { model };
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(el, ['model'], INFO_NB);
  if (extra) d.extra = extra;
  return d;
}
export function formatSound(d: SoundDef, opts: FormatOpts): XmlElement {
  return elem('sound', { model: d.model }, formatDeviceInfo(d, opts), d.extra);
}

export function parseRedirdev(el: XmlElement): RedirdevDef {
  const type = enumAttr(el, 'type', CHARDEV_TYPES, 'redirdev type') ?? 'null';
  const d: RedirdevDef = {
    bus: el.attrs.bus ?? 'usb',
    source: parseChardevSource(el, type, 'redirdev', false),
  };
  parseDeviceInfo(el, d);
  const extra = unknownParts(el, ['bus', 'type'], [...CHARDEV_SOURCE_CHILDREN, ...INFO]);
  if (extra) d.extra = extra;
  return d;
}
export function formatRedirdev(d: RedirdevDef, opts: FormatOpts): XmlElement {
  return elem(
    'redirdev',
    { bus: d.bus, type: d.source.type },
    [...formatChardevSource(d.source, opts), ...formatDeviceInfo(d, opts)],
    d.extra,
  );
}

const BALLOON_MODELS = ['virtio', 'xen', 'none', 'virtio-transitional', 'virtio-non-transitional'] as const;
export function parseMemballoon(el: XmlElement): MemballoonDef {
  const model = enumAttr(el, 'model', BALLOON_MODELS, 'memory balloon model');
  if (!model) return xmlErr('balloon memory must contain model name in element <memballoon>');
  const d: MemballoonDef = { model };
  const ad = onOffAttr(el, 'autodeflate');
  if (ad !== undefined) d.autodeflate = ad;
  const fpr = onOffAttr(el, 'freePageReporting');
  if (fpr !== undefined) d.freePageReporting = fpr;
  let statsKnown = false;
  for (const c of el.children) {
    if (
      c.type === 'element' &&
      c.name === 'stats' &&
      Object.keys(c.attrs).length === 1 &&
      c.children.length === 0
    ) {
      const p = uintAttr(c, 'period');
      if (p !== undefined) {
        d.period = p;
        statsKnown = true;
      }
    }
  }
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(
    el,
    ['model', 'autodeflate', 'freePageReporting'],
    statsKnown ? ['stats', ...INFO_NB] : INFO_NB,
  );
  if (extra) d.extra = extra;
  return d;
}
export function formatMemballoon(d: MemballoonDef, opts: FormatOpts): XmlElement {
  return elem(
    'memballoon',
    { model: d.model, autodeflate: onOff(d.autodeflate), freePageReporting: onOff(d.freePageReporting) },
    [d.period !== undefined && elem('stats', { period: d.period }), ...formatDeviceInfo(d, opts)],
    d.extra,
  );
}

export function parseRng(el: XmlElement): RngDef {
  const model = el.attrs.model;
  if (!model) return xmlErr('missing RNG device model in element <rng>');
  let backend: XmlElement | undefined;
  let rate: XmlElement | undefined;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'backend') backend = c;
    else if (c.name === 'rate') rate = c;
  }
  if (!backend) return xmlErr('missing RNG device backend in element <rng>');
  const bm = enumAttr(backend, 'model', ['random', 'egd', 'builtin'] as const, 'RNG backend model');
  if (!bm) return xmlErr('missing RNG device backend model in element <rng><backend>');
  const d: RngDef = { model, backendModel: bm };
  if (bm === 'random') {
    const t = textOf(backend).trim();
    if (t) d.device = t;
    const e = unknownParts(backend, ['model'], NONE);
    if (e) d.backendExtra = e;
  } else if (bm === 'egd') {
    const type = enumAttr(backend, 'type', CHARDEV_TYPES, 'rng backend type');
    if (!type) return xmlErr('missing EGD backend type in element <rng><backend>');
    d.source = parseChardevSource(backend, type, 'rng backend', false);
    const e = unknownParts(backend, ['model', 'type'], CHARDEV_SOURCE_CHILDREN);
    if (e) d.backendExtra = e;
  } else {
    const e = unknownParts(backend, ['model'], NONE);
    if (e) d.backendExtra = e;
  }
  if (rate) {
    const bytes = uintAttr(rate, 'bytes');
    if (bytes === undefined) return xmlErr("missing 'bytes' attribute in element <rng><rate>");
    d.rate = { bytes };
    const p = uintAttr(rate, 'period');
    if (p !== undefined) d.rate.period = p;
  }
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(el, ['model'], ['backend', 'rate', ...INFO_NB]);
  if (extra) d.extra = extra;
  return d;
}
export function formatRng(d: RngDef, opts: FormatOpts): XmlElement {
  let backend: XmlElement;
  if (d.backendModel === 'random') {
    backend =
      d.device !== undefined
        ? elem('backend', { model: 'random' }, [{ type: 'text', text: d.device }], d.backendExtra)
        : elem('backend', { model: 'random' }, undefined, d.backendExtra);
  } else if (d.backendModel === 'egd' && d.source) {
    backend = elem(
      'backend',
      { model: 'egd', type: d.source.type },
      formatChardevSource(d.source, opts),
      d.backendExtra,
    );
  } else backend = elem('backend', { model: d.backendModel }, undefined, d.backendExtra);
  return elem(
    'rng',
    { model: d.model },
    [
      d.rate && elem('rate', { bytes: d.rate.bytes, period: d.rate.period }),
      backend,
      ...formatDeviceInfo(d, opts),
    ],
    d.extra,
  );
}

export function parseWatchdog(el: XmlElement): WatchdogDef {
  const model = el.attrs.model;
  if (!model) return xmlErr('watchdog must contain model name in element <watchdog>');
  const d: WatchdogDef = { model };
  if (el.attrs.action !== undefined) d.action = el.attrs.action;
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(el, ['model', 'action'], INFO_NB);
  if (extra) d.extra = extra;
  return d;
}
export function formatWatchdog(d: WatchdogDef, opts: FormatOpts): XmlElement {
  return elem('watchdog', { model: d.model, action: d.action }, formatDeviceInfo(d, opts), d.extra);
}

export function parsePanic(el: XmlElement): PanicDef {
  const d: PanicDef = {};
  if (el.attrs.model !== undefined) d.model = el.attrs.model;
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(el, ['model'], INFO_NB);
  if (extra) d.extra = extra;
  return d;
}
export function formatPanic(d: PanicDef, opts: FormatOpts): XmlElement {
  return elem('panic', { model: d.model }, formatDeviceInfo(d, opts), d.extra);
}
