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
import { enumAttr, internalErr, missingAttr, onOffAttr, onOff, uintAttr, xmlErr } from './parse-util.js';

const INFO = ['boot', 'alias', 'address'];
const INFO_NB = ['alias', 'address'];
const NONE: string[] = [];

// libvirt's value lists (virDomainInput*, virDomainSoundModel, virDomainWatchdog*, virDomainRNG*,
// virDomainPanicModel, virDomainRedirdevBus, virDomainMemballoonModel), as of libvirt 10.7.
const INPUT_TYPES = ['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'] as const;
const INPUT_BUSES = ['ps2', 'usb', 'xen', 'parallels', 'virtio', 'none'];
const VIRTIO_MODELS = ['virtio', 'virtio-transitional', 'virtio-non-transitional'];
const SOUND_MODELS = ['sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich7', 'ich9', 'usb', 'virtio'];
const WATCHDOG_MODELS = ['i6300esb', 'ib700', 'diag288', 'itco'];
const WATCHDOG_ACTIONS = ['reset', 'shutdown', 'poweroff', 'pause', 'dump', 'none', 'inject-nmi'];
const PANIC_MODELS = ['default', 'isa', 'pseries', 'hyperv', 's390', 'pvpanic'];

export function parseInput(el: XmlElement): InputDef {
  const type = enumAttr(el, 'type', INPUT_TYPES, "unknown input device type '%s'");
  if (!type) return internalErr('missing input device type');
  const d: InputDef = { type };
  const bus = enumAttr(el, 'bus', INPUT_BUSES, "unknown input bus type '%s'");
  if (bus !== undefined) d.bus = bus;
  const model = enumAttr(el, 'model', VIRTIO_MODELS, "unknown input model '%s'");
  if (model !== undefined) d.model = model;
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(el, ['type', 'bus', 'model'], INFO_NB);
  if (extra) d.extra = extra;
  return d;
}
export function formatInput(d: InputDef, opts: FormatOpts): XmlElement {
  return elem('input', { type: d.type, bus: d.bus, model: d.model }, formatDeviceInfo(d, opts), d.extra);
}

export function parseSound(el: XmlElement): SoundDef {
  const model = enumAttr(el, 'model', SOUND_MODELS);
  if (!model) return missingAttr(el, 'model');
  for (const c of el.children)
    if (c.type === 'element' && c.name === 'codec')
      enumAttr(c, 'type', ['duplex', 'micro', 'output'], "unknown codec type '%s'");
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
  const bus = enumAttr(el, 'bus', ['usb'], "unknown redirdev bus '%s'");
  const type = enumAttr(el, 'type', CHARDEV_TYPES, "unknown redirdev character device type '%s'");
  if (!type) return internalErr('missing type in redirdev');
  const d: RedirdevDef = {
    bus: bus ?? 'usb',
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
  const model = enumAttr(el, 'model', BALLOON_MODELS);
  if (!model) return missingAttr(el, 'model');
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
  if (el.attrs.model === undefined) return xmlErr('missing RNG device model');
  const model = enumAttr(el, 'model', VIRTIO_MODELS, "unknown RNG model '%s'")!;
  let backend: XmlElement | undefined;
  let backends = 0;
  let rate: XmlElement | undefined;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'backend') {
      backend = c;
      backends++;
    } else if (c.name === 'rate') rate = c;
  }
  if (!backend || backends > 1) return xmlErr('only one RNG backend is supported');
  const bm = enumAttr(
    backend,
    'model',
    ['random', 'egd', 'builtin'] as const,
    "unknown RNG backend model '%s'",
  );
  if (!bm) return xmlErr('missing RNG device backend model');
  const d: RngDef = { model, backendModel: bm };
  if (bm === 'random') {
    const t = textOf(backend).trim();
    if (t) d.device = t;
    const e = unknownParts(backend, ['model'], NONE);
    if (e) d.backendExtra = e;
  } else if (bm === 'egd') {
    const type = enumAttr(backend, 'type', CHARDEV_TYPES, "unknown backend type '%s' for egd");
    if (!type) return xmlErr('missing EGD backend type');
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
  if (el.attrs.model === undefined) return internalErr('watchdog must contain model name');
  const model = enumAttr(el, 'model', WATCHDOG_MODELS, "unknown watchdog model '%s'")!;
  const d: WatchdogDef = { model };
  const action = enumAttr(el, 'action', WATCHDOG_ACTIONS, "unknown watchdog action '%s'");
  if (action !== undefined) d.action = action;
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
  const model = enumAttr(el, 'model', PANIC_MODELS, "unknown panic model '%s'");
  if (model !== undefined) d.model = model;
  parseDeviceInfo(el, d, false);
  const extra = unknownParts(el, ['model'], INFO_NB);
  if (extra) d.extra = extra;
  return d;
}
export function formatPanic(d: PanicDef, opts: FormatOpts): XmlElement {
  return elem('panic', { model: d.model }, formatDeviceInfo(d, opts), d.extra);
}
