// <devices>: dispatch to each device family's parser and format them in libvirt's device order.
import type { XmlElement, XmlNode } from '../../util/xml.js';
import { elem, textElem, textOf } from '../../util/xml.js';
import { formatChardev, parseChardev } from './chardev.js';
import { formatController, parseController } from './controller.js';
import type { FormatOpts } from './device-info.js';
import {
  formatInput,
  formatMemballoon,
  formatPanic,
  formatRedirdev,
  formatRng,
  formatSound,
  formatWatchdog,
  parseInput,
  parseMemballoon,
  parsePanic,
  parseRedirdev,
  parseRng,
  parseSound,
  parseWatchdog,
} from './devices-misc.js';
import { checkKeptDevice } from './devices-kept.js';
import { formatDisk, parseDisk } from './disk.js';
import type { DevicesDef } from './domain-def.js';
import { formatGraphics, parseGraphics } from './graphics.js';
import { formatInterface, parseInterface } from './interface.js';
import { formatVideo, parseVideo } from './video.js';

/** libvirt's device order in formatted XML (virDomainDefFormatInternal). */
const ORDER = [
  'emulator',
  'disk',
  'controller',
  'lease',
  'filesystem',
  'interface',
  'smartcard',
  'serial',
  'parallel',
  'console',
  'channel',
  'input',
  'tpm',
  'graphics',
  'sound',
  'audio',
  'video',
  'hostdev',
  'redirdev',
  'redirfilter',
  'hub',
  'watchdog',
  'memballoon',
  'rng',
  'nvram',
  'panic',
  'shmem',
  'memory',
  'iommu',
  'vsock',
  'crypto',
  'pstore',
];

/** Position of a device kind in libvirt's formatted order (unknown kinds last). */
export function deviceRank(name: string): number {
  const i = ORDER.indexOf(name);
  return i < 0 ? ORDER.length : i;
}

export function emptyDevices(): DevicesDef {
  return {
    disks: [],
    controllers: [],
    interfaces: [],
    serials: [],
    parallels: [],
    consoles: [],
    channels: [],
    inputs: [],
    graphics: [],
    sounds: [],
    videos: [],
    redirdevs: [],
    watchdogs: [],
    rngs: [],
    panics: [],
    others: [],
  };
}

/** Parses <devices>. Unknown device elements are kept whole in `others`; comments are kept too. */
export function parseDevices(el: XmlElement | undefined): DevicesDef {
  const d = emptyDevices();
  if (!el) return d;
  let after: string | undefined;
  for (const c of el.children) {
    if (c.type !== 'element') {
      if (c.type === 'comment' || c.text.trim() !== '') {
        d.extra ??= {};
        (d.extra.children ??= []).push(after === undefined ? { node: c } : { node: c, after });
      }
      continue;
    }
    after = c.name;
    switch (c.name) {
      case 'emulator':
        d.emulator = textOf(c);
        break;
      case 'disk':
        d.disks.push(parseDisk(c));
        break;
      case 'controller':
        d.controllers.push(parseController(c));
        break;
      case 'interface':
        d.interfaces.push(parseInterface(c));
        break;
      case 'serial':
        d.serials.push(parseChardev(c, 'serial'));
        break;
      case 'parallel':
        d.parallels.push(parseChardev(c, 'parallel'));
        break;
      case 'console':
        d.consoles.push(parseChardev(c, 'console'));
        break;
      case 'channel':
        d.channels.push(parseChardev(c, 'channel'));
        break;
      case 'input':
        d.inputs.push(parseInput(c));
        break;
      case 'graphics':
        d.graphics.push(parseGraphics(c));
        break;
      case 'sound':
        d.sounds.push(parseSound(c));
        break;
      case 'video':
        d.videos.push(parseVideo(c));
        break;
      case 'redirdev':
        d.redirdevs.push(parseRedirdev(c));
        break;
      case 'watchdog':
        d.watchdogs.push(parseWatchdog(c));
        break;
      case 'memballoon':
        if (d.memballoon) d.others.push(c);
        else d.memballoon = parseMemballoon(c);
        break;
      case 'rng':
        d.rngs.push(parseRng(c));
        break;
      case 'panic':
        d.panics.push(parsePanic(c));
        break;
      default:
        checkKeptDevice(c);
        d.others.push(c);
    }
  }
  // Keep kept devices in the order they are written back, so that parse(format(x)) equals parse(x).
  if (d.others.length > 1) d.others.sort((a, b) => deviceRank(a.name) - deviceRank(b.name));
  return d;
}

/** Formats <devices> in libvirt's order; kept devices go to their kind's place, unknown kinds last. */
export function formatDevices(d: DevicesDef, opts: FormatOpts): XmlElement {
  const out: XmlNode[] = [];
  const others = new Map<string, XmlElement[]>();
  const late: XmlElement[] = [];
  for (const o of d.others) {
    if (ORDER.includes(o.name)) {
      let l = others.get(o.name);
      if (!l) others.set(o.name, (l = []));
      l.push(o);
    } else late.push(o);
  }
  for (const kind of ORDER) {
    switch (kind) {
      case 'emulator': {
        const e = textElem('emulator', d.emulator);
        if (e) out.push(e);
        break;
      }
      case 'disk':
        for (const x of d.disks) out.push(formatDisk(x, opts));
        break;
      case 'controller':
        for (const x of d.controllers) out.push(formatController(x, opts));
        break;
      case 'interface':
        for (const x of d.interfaces) out.push(formatInterface(x, opts));
        break;
      case 'serial':
        for (const x of d.serials) out.push(formatChardev(x, opts));
        break;
      case 'parallel':
        for (const x of d.parallels) out.push(formatChardev(x, opts));
        break;
      case 'console':
        for (const x of d.consoles) out.push(formatChardev(x, opts));
        break;
      case 'channel':
        for (const x of d.channels) out.push(formatChardev(x, opts));
        break;
      case 'input':
        for (const x of d.inputs) out.push(formatInput(x, opts));
        break;
      case 'graphics':
        for (const x of d.graphics) out.push(formatGraphics(x, opts));
        break;
      case 'sound':
        for (const x of d.sounds) out.push(formatSound(x, opts));
        break;
      case 'video':
        for (const x of d.videos) out.push(formatVideo(x, opts));
        break;
      case 'redirdev':
        for (const x of d.redirdevs) out.push(formatRedirdev(x, opts));
        break;
      case 'watchdog':
        for (const x of d.watchdogs) out.push(formatWatchdog(x, opts));
        break;
      case 'memballoon':
        if (d.memballoon) out.push(formatMemballoon(d.memballoon, opts));
        break;
      case 'rng':
        for (const x of d.rngs) out.push(formatRng(x, opts));
        break;
      case 'panic':
        for (const x of d.panics) out.push(formatPanic(x, opts));
        break;
    }
    const kept = others.get(kind);
    if (kept) for (const x of kept) out.push(x);
  }
  for (const x of late) out.push(x);
  // libvirt always opens and closes <devices>, even when it is empty.
  if (out.length === 0 && !d.extra) out.push({ type: 'text', text: '\n  ' });
  const el = elem('devices', {}, out, d.extra);
  el.open = true; // libvirt always writes <devices> as an open/close pair, even when empty
  return el;
}
