// Generic post-parse (libvirt's driver-independent part): uuid, MACs, memory/vcpu defaults, video primary, console compat.
import { generateMac, type RandomBytes, defaultRandomBytes } from '../../util/mac.js';
import { type UuidSource, randomUuid } from '../../util/uuid.js';
import { clipTunes } from './cputune.js';
import type { ChardevDef, ControllerDef, DomainDef } from './domain-def.js';

/** Where post-parse takes randomness from (injected so that conf/ stays pure and testable). */
export interface RandomSource {
  uuid?: UuidSource;
  bytes?: RandomBytes;
}

/** Fills what libvirt's generic parser fills. Idempotent: running it on a formatted-then-parsed def changes nothing. */
export function domainPostParse(def: DomainDef, random: RandomSource = {}): void {
  if (!def.uuid) def.uuid = (random.uuid ?? randomUuid)().toLowerCase();
  // A balloon target of 0 becomes the maximum (libvirt's virDomainDefPostParseMemory). One above
  // the maximum, which libvirt quietly lowers, is refused by domainValidate instead: issue #2 asks
  // for memory below currentMemory to be an error that says so, not a silent change.
  if (def.currentMemory === 0) def.currentMemory = def.memory.kib;
  if (def.vcpu.current === def.vcpu.max) delete def.vcpu.current;
  const bytes = random.bytes ?? defaultRandomBytes;
  for (const n of def.devices.interfaces) {
    if (n.mac === '' || n.mac === '00:00:00:00:00:00') n.mac = generateMac(bytes);
  }
  const v0 = def.devices.videos[0];
  if (v0 && v0.type !== 'none' && !def.devices.videos.some((v) => v.primary)) v0.primary = true;
  if (def.cputune) clipTunes(def.cputune, def.vcpu.max);
  consoleCompat(def);
  controllerIndexes(def);
  if (def.os.type === 'hvm' && def.os.bootDevs.length === 0 && !hasDeviceBoot(def))
    def.os.bootDevs.push('hd');
}

/** True when any device carries <boot order>, including kept devices such as hostdev. */
function hasDeviceBoot(def: DomainDef): boolean {
  const d = def.devices;
  for (const list of [d.disks, d.interfaces, d.redirdevs]) for (const x of list) if (x.boot) return true;
  return d.others.some((o) => o.children.some((c) => c.type === 'element' && c.name === 'boot'));
}

const USB_COMPANIONS = ['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3'];

/**
 * Gives controllers written without index the next free one (USB companions join the group of the
 * controller before them while it lacks their model), then orders them by type and index as libvirt does.
 */
function controllerIndexes(def: DomainDef): void {
  const ctrls = def.devices.controllers;
  if (ctrls.length === 0) return;
  let prevUsb: ControllerDef | undefined;
  for (const c of ctrls) {
    if (c.index < 0) {
      let idx = -1;
      if (
        c.type === 'usb' &&
        prevUsb &&
        c.model &&
        USB_COMPANIONS.includes(c.model) &&
        USB_COMPANIONS.includes(prevUsb.model ?? '')
      ) {
        const group = prevUsb.index;
        if (!ctrls.some((o) => o.type === 'usb' && o.index === group && o.model === c.model)) idx = group;
      }
      if (idx < 0) idx = ctrls.reduce((m, o) => (o.type === c.type && o.index > m ? o.index : m), -1) + 1;
      c.index = idx;
    }
    if (c.type === 'usb') prevUsb = c;
  }
  sortControllers(ctrls);
}

/** libvirt keeps controllers grouped by type (in order of first appearance) and sorted by index. */
export function sortControllers(ctrls: ControllerDef[]): void {
  const typeRank = new Map<string, number>();
  for (const c of ctrls) if (!typeRank.has(c.type)) typeRank.set(c.type, typeRank.size);
  ctrls.sort((a, b) => typeRank.get(a.type)! - typeRank.get(b.type)! || a.index - b.index);
}

/** libvirt's virDomainDefAddConsoleCompat: the first serial port doubles as the first console. */
function consoleCompat(def: DomainDef): void {
  const d = def.devices;
  const s0 = d.serials[0];
  if (def.os.type !== 'hvm') return;
  for (const [i, s] of d.serials.entries()) {
    if (s.target?.port === undefined)
      (s.target ??= {}).port =
        i === 0 ? 0 : Math.max(...d.serials.slice(0, i).map((x) => x.target?.port ?? 0)) + 1;
  }
  if (!s0) return;
  const c0 = d.consoles[0];
  const t = s0.target?.type;
  if (!c0 && t !== 'usb-serial' && t !== 'pci-serial') {
    const console: ChardevDef = {
      kind: 'console',
      source: structuredClone(s0.source),
      target: { type: 'serial', port: s0.target?.port ?? 0 },
    };
    d.consoles.unshift(console);
  }
}
