// Validation after post-parse: names, memory, vcpus, duplicate disk targets, MACs, tunes. Errors carry libvirt codes.
import { confError } from '../../util/errors.js';
import { isMulticastMac } from '../../util/mac.js';
import { domErr } from './parse-util.js';
import { parseBitmap } from './bitmap.js';
import { CHARDEV_TYPES, parseChardevSource } from './chardev.js';
import { validateTunes } from './cputune.js';
import type { ChardevType } from './domain-def.js';
import type { DomainDef } from './domain-def.js';

/** Throws a VirError (XML_ERROR / CONFIG_UNSUPPORTED / INVALID_ARG) naming the element and the problem. */
export function domainValidate(def: DomainDef): void {
  if (def.name === '') throw confError('NO_NAME', 'missing name information');
  if (def.name.includes('/')) throw domErr('XML_ERROR', `name ${def.name} cannot contain '/'`);
  if (def.memory.kib === 0 && !hasNuma(def)) {
    throw domErr('XML_ERROR', 'Memory size must be specified via <memory> or in the <numa> configuration');
  }
  if (def.currentMemory > def.memory.kib && !hasNuma(def)) {
    throw domErr(
      'XML_ERROR',
      `current memory (<currentMemory> ${def.currentMemory} KiB) must not be above maximum memory (<memory> ${def.memory.kib} KiB)`,
    );
  }
  if (def.maxMemory && def.maxMemory.kib < def.memory.kib) {
    throw domErr('XML_ERROR', 'maximum memory size must be equal or greater than the actual memory size');
  }
  const v = def.vcpu;
  if (v.current !== undefined && v.current > v.max) {
    throw domErr('CONFIG_UNSUPPORTED', 'maximum vCPU count must not be less than current vCPU count');
  }
  const targets = new Map<string, string>();
  for (const d of def.devices.disks) {
    const s = d.source;
    const src = s?.file ?? s?.dev ?? s?.dir ?? s?.name ?? s?.volume;
    // libvirt: a file, block or dir disk without source is fine only for removable media.
    if (
      src === undefined &&
      (d.type === 'file' || d.type === 'block' || d.type === 'dir') &&
      d.device !== 'cdrom' &&
      d.device !== 'floppy'
    ) {
      throw confError('NO_SOURCE', `missing source information for device ${d.target.dev}`);
    }
    const prev = targets.get(d.target.dev);
    if (prev !== undefined) {
      throw domErr(
        'XML_ERROR',
        `target '${d.target.dev}' duplicated for disk sources '${prev}' and '${src ?? ''}'`,
      );
    }
    targets.set(d.target.dev, src ?? '');
  }
  for (const n of def.devices.interfaces) {
    if (isMulticastMac(n.mac))
      throw domErr('XML_ERROR', `expected unicast mac address, found multicast '${n.mac}'`);
  }
  validateBoot(def);
  validateControllers(def);
  if (def.vcpu.cpuset !== undefined) {
    try {
      parseBitmap(def.vcpu.cpuset, 'vcpu cpuset');
    } catch {
      throw domErr('INVALID_ARG', `Failed to parse bitmap '${def.vcpu.cpuset}'`);
    }
  }
  if (def.cputune) validateTunes(def.cputune);
  for (const o of def.devices.others) {
    // Kept whole, but a passthrough smartcard's chardev backend is checked like any other.
    const t = o.attrs.type as ChardevType | undefined;
    if (o.name === 'smartcard' && o.attrs.mode === 'passthrough' && t && CHARDEV_TYPES.includes(t)) {
      parseChardevSource(o, t, 'smartcard', false);
    }
  }
}

function hasNuma(def: DomainDef): boolean {
  return def.cpu?.extra?.children?.some((c) => c.node.type === 'element' && c.node.name === 'numa') ?? false;
}

/** Per-device <boot order> must be unique and cannot be mixed with <os><boot dev>. */
function validateBoot(def: DomainDef): void {
  const d = def.devices;
  const seen = new Set<number>();
  for (const dev of [...d.disks, ...d.interfaces, ...d.redirdevs]) {
    if (!dev.boot) continue;
    if (def.os.bootDevs.length > 0) {
      throw domErr(
        'CONFIG_UNSUPPORTED',
        'per-device boot elements cannot be used together with os/boot elements',
      );
    }
    if (seen.has(dev.boot.order)) {
      throw domErr('CONFIG_UNSUPPORTED', `boot order '${dev.boot.order}' used for more than one device`);
    }
    seen.add(dev.boot.order);
  }
}

/** Controller rules libvirt checks without a driver: root buses, duplicate indexes, USB disabled. */
export function validateControllers(def: DomainDef): void {
  const seen = new Set<string>();
  const ctrls = def.devices.controllers;
  for (const c of ctrls) {
    const ppc = (def.os.arch ?? '').startsWith('ppc');
    if (c.type === 'pci' && (c.model === 'pcie-root' || (c.model === 'pci-root' && !ppc))) {
      if (c.index !== 0) throw domErr('XML_ERROR', 'pci-root and pcie-root controllers should have index 0');
      if (c.address)
        throw domErr('CONFIG_UNSUPPORTED', 'pci-root and pcie-root controllers should not have an address');
    }
    if (c.type === 'usb') continue; // companion controllers share an index
    const key = `${c.type}:${c.index}`;
    if (seen.has(key)) throw domErr('XML_ERROR', `Multiple '${c.type}' controllers with index '${c.index}'`);
    seen.add(key);
  }
  const usb = ctrls.filter((c) => c.type === 'usb');
  if (usb.some((c) => c.model === 'none') && usb.length > 1) {
    throw confError('XML_DETAIL', "Can't add another USB controller: USB is disabled for this domain");
  }
  const videos = def.devices.videos;
  if (videos.length > 1 && videos.some((v) => v.type === 'none')) {
    throw domErr(
      'CONFIG_UNSUPPORTED',
      "a 'none' video type must be the only video device defined for the domain",
    );
  }
}
