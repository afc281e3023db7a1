// Device addresses (<address type='pci|drive|virtio-serial|usb|ccid|...'/>): one parse/format pair for all devices.
import type { Extra, XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import { internalErr, invalidAttr, uintAttr, unsupported, xmlErr } from './parse-util.js';

/** PCI address; numbers are written in libvirt's hex style (domain='0x0000' bus='0x00' ...). */
export interface PciAddress {
  type: 'pci';
  domain: number;
  bus: number;
  slot: number;
  function: number;
  multifunction?: boolean;
  extra?: Extra;
}
/** Drive address on an IDE/SATA/SCSI/FDC controller. */
export interface DriveAddress {
  type: 'drive';
  controller: number;
  bus: number;
  target: number;
  unit: number;
  extra?: Extra;
}
export interface VirtioSerialAddress {
  type: 'virtio-serial';
  controller: number;
  bus: number;
  port?: number;
  extra?: Extra;
}
/** USB address; port is a dotted hub path such as '1' or '1.2'. */
export interface UsbAddress {
  type: 'usb';
  bus: number;
  port?: string;
  extra?: Extra;
}
export interface CcidAddress {
  type: 'ccid';
  controller: number;
  slot: number;
  extra?: Extra;
}
/** Address types not modeled field by field: attributes kept as written. */
export interface OtherAddress {
  type: 'spapr-vio' | 'ccw' | 'virtio-mmio' | 'isa' | 'dimm' | 'unassigned' | 'virtio-s390';
  attrs: Record<string, string>;
  extra?: Extra;
}
export type AddressDef =
  | PciAddress
  | DriveAddress
  | VirtioSerialAddress
  | UsbAddress
  | CcidAddress
  | OtherAddress;

const OTHER_TYPES = ['spapr-vio', 'ccw', 'virtio-mmio', 'isa', 'dimm', 'unassigned', 'virtio-s390'] as const;
const PCI_ATTRS = ['type', 'domain', 'bus', 'slot', 'function', 'multifunction'];
const DRIVE_ATTRS = ['type', 'controller', 'bus', 'target', 'unit'];
const VS_ATTRS = ['type', 'controller', 'bus', 'port'];
const USB_ATTRS = ['type', 'bus', 'port'];
const CCID_ATTRS = ['type', 'controller', 'slot'];
const NONE: string[] = [];

/** Parses an <address> element. */
export function parseAddress(el: XmlElement): AddressDef {
  const type = el.attrs.type;
  switch (type) {
    case 'pci': {
      const a: PciAddress = {
        type,
        domain: uintAttr(el, 'domain') ?? 0,
        bus: uintAttr(el, 'bus') ?? 0,
        slot: uintAttr(el, 'slot') ?? 0,
        function: uintAttr(el, 'function') ?? 0,
      };
      // virPCIDeviceAddressIsValid's messages (the domain is not limited at parse).
      if (a.bus > 0xff) xmlErr(`Invalid PCI address bus='0x${a.bus.toString(16)}', must be <= 0xFF`);
      if (a.slot > 0x1f) xmlErr(`Invalid PCI address slot='0x${a.slot.toString(16)}', must be <= 0x1F`);
      if (a.function > 7) xmlErr(`Invalid PCI address function=0x${a.function.toString(16)}, must be <= 7`);
      const mf = el.attrs.multifunction;
      if (mf !== undefined) {
        if (mf === 'on') a.multifunction = true;
        else if (mf === 'off') a.multifunction = false;
        else invalidAttr(el, 'multifunction', mf);
      }
      const extra = unknownParts(el, PCI_ATTRS, NONE);
      if (extra) a.extra = extra;
      return a;
    }
    case 'drive': {
      const a: DriveAddress = {
        type,
        controller: uintAttr(el, 'controller') ?? 0,
        bus: uintAttr(el, 'bus') ?? 0,
        target: uintAttr(el, 'target') ?? 0,
        unit: uintAttr(el, 'unit') ?? 0,
      };
      const extra = unknownParts(el, DRIVE_ATTRS, NONE);
      if (extra) a.extra = extra;
      return a;
    }
    case 'virtio-serial': {
      const a: VirtioSerialAddress = {
        type,
        controller: uintAttr(el, 'controller') ?? 0,
        bus: uintAttr(el, 'bus') ?? 0,
      };
      const port = uintAttr(el, 'port');
      if (port !== undefined) a.port = port;
      const extra = unknownParts(el, VS_ATTRS, NONE);
      if (extra) a.extra = extra;
      return a;
    }
    case 'usb': {
      const a: UsbAddress = { type, bus: uintAttr(el, 'bus') ?? 0 };
      const port = el.attrs.port;
      if (port !== undefined) {
        if (!/^[0-9]+(\.[0-9]+){0,3}$/.test(port)) internalErr("Cannot parse <address> 'port' attribute");
        a.port = port;
      }
      const extra = unknownParts(el, USB_ATTRS, NONE);
      if (extra) a.extra = extra;
      return a;
    }
    case 'ccid': {
      const a: CcidAddress = {
        type,
        controller: uintAttr(el, 'controller') ?? 0,
        slot: uintAttr(el, 'slot') ?? 0,
      };
      const extra = unknownParts(el, CCID_ATTRS, NONE);
      if (extra) a.extra = extra;
      return a;
    }
    case undefined:
      return internalErr('No type specified for device address');
    default: {
      if (!(OTHER_TYPES as readonly string[]).includes(type)) unsupported(`unknown address type '${type}'`);
      const attrs: Record<string, string> = {};
      for (const k in el.attrs) if (k !== 'type') attrs[k] = el.attrs[k]!;
      const a: OtherAddress = { type: type as OtherAddress['type'], attrs };
      const extra = unknownParts(el, NONE, NONE);
      if (extra?.children) a.extra = { children: extra.children };
      return a;
    }
  }
}

function hex(n: number, width: number): string {
  return '0x' + n.toString(16).padStart(width, '0');
}
/** "0000:00:01.0" for messages. */
export function fmtPci(a: { domain: number; bus: number; slot: number; function: number }): string {
  return `${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.slot
    .toString(16)
    .padStart(2, '0')}.${a.function.toString(16)}`;
}

/** Formats an address element in libvirt's attribute order. */
export function formatAddress(a: AddressDef): XmlElement {
  switch (a.type) {
    case 'pci':
      return elem(
        'address',
        {
          type: 'pci',
          domain: hex(a.domain, 4),
          bus: hex(a.bus, 2),
          slot: hex(a.slot, 2),
          function: hex(a.function, 1),
          multifunction: a.multifunction === undefined ? undefined : a.multifunction ? 'on' : 'off',
        },
        undefined,
        a.extra,
      );
    case 'drive':
      return elem(
        'address',
        { type: 'drive', controller: a.controller, bus: a.bus, target: a.target, unit: a.unit },
        undefined,
        a.extra,
      );
    case 'virtio-serial':
      return elem(
        'address',
        { type: a.type, controller: a.controller, bus: a.bus, port: a.port },
        undefined,
        a.extra,
      );
    case 'usb':
      return elem('address', { type: 'usb', bus: a.bus, port: a.port }, undefined, a.extra);
    case 'ccid':
      return elem('address', { type: 'ccid', controller: a.controller, slot: a.slot }, undefined, a.extra);
    default:
      return elem('address', { type: a.type, ...a.attrs }, undefined, a.extra);
  }
}

/** Parses the optional <address> child of a device element. */
export function parseAddressChild(dev: XmlElement): AddressDef | undefined {
  for (const c of dev.children) if (c.type === 'element' && c.name === 'address') return parseAddress(c);
  return undefined;
}

/** Key for duplicate detection. */
export function addressKey(a: AddressDef): string {
  switch (a.type) {
    case 'pci':
      return `pci:${fmtPci(a)}`;
    case 'drive':
      return `drive:${a.controller}:${a.bus}:${a.target}:${a.unit}`;
    case 'virtio-serial':
      return `vs:${a.controller}:${a.bus}:${a.port ?? ''}`;
    case 'usb':
      return `usb:${a.bus}:${a.port ?? ''}`;
    case 'ccid':
      return `ccid:${a.controller}:${a.slot}`;
    default:
      return `${a.type}:${JSON.stringify(a.attrs)}`;
  }
}
