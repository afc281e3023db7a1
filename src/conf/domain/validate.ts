// Validation after post-parse: names, memory, vcpus, duplicate disk targets, MACs, tunes. Errors carry libvirt codes.
import { confError } from '../../util/errors.js';
import { isMulticastMac } from '../../util/mac.js';
import { parseBitmap } from './bitmap.js';
import { CHARDEV_TYPES, parseChardevSource } from './chardev.js';
import { validateTunes } from './cputune.js';
import type { ChardevType } from './domain-def.js';
import type { DomainDef } from './domain-def.js';

/** Throws a VirError (XML_ERROR / CONFIG_UNSUPPORTED / INVALID_ARG) naming the element and the problem. */
export function domainValidate(def: DomainDef): void {
  if (def.name === '')
    throw confError('XML_ERROR', 'domain name must not be empty in element <domain><name>');
  if (def.name.includes('/'))
    throw confError('XML_ERROR', `name '${def.name}' cannot contain '/' in element <domain><name>`);
  if (def.memory.kib === 0 && !hasNuma(def)) {
    throw confError('XML_ERROR', 'Memory size must be specified via <memory> or in the <numa> configuration');
  }
  if (def.currentMemory > def.memory.kib && !hasNuma(def)) {
    throw confError(
      'XML_ERROR',
      `current memory (<currentMemory> ${def.currentMemory} KiB) must not be above maximum memory (<memory> ${def.memory.kib} KiB)`,
    );
  }
  if (def.maxMemory && def.maxMemory.kib < def.memory.kib) {
    throw confError(
      'XML_ERROR',
      `maximum memory size (<maxMemory> ${def.maxMemory.kib} KiB) must be at least <memory> (${def.memory.kib} KiB)`,
    );
  }
  const v = def.vcpu;
  if (v.current !== undefined && v.current > v.max) {
    throw confError(
      'XML_ERROR',
      `current vcpus count (${v.current}) must be at most maximum vcpus count (${v.max}) in element <vcpu>`,
    );
  }
  const targets = new Map<string, string>();
  for (const d of def.devices.disks) {
    const src = d.source?.file ?? d.source?.dev ?? d.source?.name ?? d.source?.volume ?? '';
    const prev = targets.get(d.target.dev);
    if (prev !== undefined) {
      throw confError(
        'XML_ERROR',
        `target '${d.target.dev}' duplicated for disk sources '${prev}' and '${src}' in element <disk><target>`,
      );
    }
    targets.set(d.target.dev, src);
  }
  for (const n of def.devices.interfaces) {
    if (isMulticastMac(n.mac))
      throw confError(
        'XML_ERROR',
        `expected unicast mac address, found multicast '${n.mac}' in element <interface><mac>`,
      );
  }
  validateBoot(def);
  validateControllers(def);
  if (def.vcpu.cpuset !== undefined) {
    try {
      parseBitmap(def.vcpu.cpuset, 'vcpu cpuset');
    } catch {
      throw confError('INVALID_ARG', `Failed to parse bitmap '${def.vcpu.cpuset}' in element <vcpu cpuset>`);
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
      throw confError('XML_ERROR', 'per-device boot elements cannot be used together with os/boot elements');
    }
    if (seen.has(dev.boot.order)) {
      throw confError('XML_ERROR', `boot order '${dev.boot.order}' used for more than one device`);
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
      if (c.index !== 0)
        throw confError('XML_ERROR', 'pci-root and pcie-root controllers should have index 0');
      if (c.address)
        throw confError(
          'CONFIG_UNSUPPORTED',
          'pci-root and pcie-root controllers should not have an address',
        );
    }
    if (c.type === 'usb') continue; // companion controllers share an index
    const key = `${c.type}:${c.index}`;
    if (seen.has(key))
      throw confError('XML_ERROR', `Multiple '${c.type}' controllers with index '${c.index}'`);
    seen.add(key);
  }
  const usb = ctrls.filter((c) => c.type === 'usb');
  if (usb.some((c) => c.model === 'none') && usb.length > 1) {
    throw confError(
      'CONFIG_UNSUPPORTED',
      "Can't add another USB controller: USB is disabled for this domain",
    );
  }
  const videos = def.devices.videos;
  if (videos.length > 1 && videos.some((v) => v.type === 'none')) {
    throw confError(
      'CONFIG_UNSUPPORTED',
      "a 'none' video type must be the only video device defined for the domain",
    );
  }
}
