// <video>: model type with ram/vram/vram64/vgamem (KiB), heads, primary; driver name.
import type { XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import { type FormatOpts, formatDeviceInfo, parseDeviceInfo } from './device-info.js';
import type { VideoDef, VideoModelType } from './domain-def.js';
import {
  internalErr,
  orderAttrs,
  parseUintValue,
  uintAttr,
  unsupported,
  VIRTIO_OPTS,
  xmlErr,
  yesNoAttr,
} from './parse-util.js';

export const VIDEO_TYPES: readonly VideoModelType[] = [
  'vga',
  'cirrus',
  'vmvga',
  'xen',
  'vbox',
  'qxl',
  'parallels',
  'virtio',
  'gop',
  'none',
  'bochs',
  'ramfb',
  'default',
];
const CHILDREN = ['model', 'driver', 'alias', 'address'];
const MODEL_ATTRS = ['type', 'ram', 'vram', 'vram64', 'vgamem', 'heads', 'primary'];
const DRIVER_ATTRS = ['name'];
const NONE: string[] = [];

/** Parses a <video> element. */
export function parseVideo(el: XmlElement): VideoDef {
  const v: VideoDef = { hasModel: false };
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'model') {
      v.hasModel = true;
      const t = c.attrs.type;
      if (t !== undefined) {
        if (!(VIDEO_TYPES as readonly string[]).includes(t)) unsupported(`unknown video model '${t}'`);
        v.type = t as VideoModelType;
      }
      for (const k of ['ram', 'vram', 'vram64', 'vgamem', 'heads'] as const) {
        const raw = c.attrs[k];
        if (raw !== undefined && parseUintValue(raw) === undefined)
          (k === 'heads' ? internalErr : xmlErr)(`cannot parse video ${k} '${raw}'`);
        const n = uintAttr(c, k);
        if (n !== undefined) v[k] = n;
      }
      const p = yesNoAttr(c, 'primary');
      if (p !== undefined) v.primary = p;
      const e = unknownParts(c, MODEL_ATTRS, NONE);
      if (e) v.modelExtra = e;
    } else if (c.name === 'driver') {
      v.driver = {};
      if (c.attrs.name !== undefined) v.driver.name = c.attrs.name;
      const e = unknownParts(c, DRIVER_ATTRS, NONE);
      if (e) v.driver.extra = e;
    }
  }
  parseDeviceInfo(el, v, false);
  const extra = unknownParts(el, NONE, CHILDREN);
  if (extra) v.extra = extra;
  return v;
}

/** Formats a <video> element. */
export function formatVideo(v: VideoDef, opts: FormatOpts): XmlElement {
  const model =
    v.hasModel || v.type !== undefined
      ? elem(
          'model',
          {
            type: v.type,
            ram: v.ram,
            vram: v.vram,
            vram64: v.vram64,
            vgamem: v.vgamem,
            heads: v.heads,
            primary: v.primary === undefined ? undefined : v.primary ? 'yes' : 'no',
          },
          undefined,
          v.modelExtra,
        )
      : undefined;
  const driver =
    v.driver &&
    orderAttrs(elem('driver', { name: v.driver.name }, undefined, v.driver.extra), [...VIRTIO_OPTS, 'name']);
  return elem('video', {}, [driver, model, ...formatDeviceInfo(v, opts)], v.extra);
}
