// <controller>: parse and format (usb with master startport, ide, sata, scsi, virtio-serial, pci/pcie).
import type { XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import { type FormatOpts, formatDeviceInfo, parseDeviceInfo } from './device-info.js';
import type { ControllerDef, ControllerType } from './domain-def.js';
import { enumAttr, nonNegIntAttr, uintAttr, unsupported } from './parse-util.js';

export const CONTROLLER_TYPES: readonly ControllerType[] = [
  'ide',
  'fdc',
  'scsi',
  'sata',
  'virtio-serial',
  'ccid',
  'usb',
  'pci',
  'xenbus',
  'isa',
  'nvme',
];
/**
 * libvirt's controller models per type (virDomainControllerModel*): a model outside its type's list,
 * or any model on a type without models, is "Unknown model type".
 */
const MODELS: Partial<Record<ControllerType, readonly string[]>> = {
  scsi: [
    'auto',
    'buslogic',
    'lsilogic',
    'lsisas1068',
    'vmpvscsi',
    'ibmvscsi',
    'virtio-scsi',
    'lsisas1078',
    'virtio-transitional',
    'virtio-non-transitional',
    'ncr53c90',
    'dc390',
    'am53c974',
  ],
  usb: [
    'piix3-uhci',
    'piix4-uhci',
    'ehci',
    'ich9-ehci1',
    'ich9-uhci1',
    'ich9-uhci2',
    'ich9-uhci3',
    'vt82c686b-uhci',
    'pci-ohci',
    'nec-xhci',
    'qusb1',
    'qusb2',
    'qemu-xhci',
    'none',
  ],
  pci: [
    'pci-root',
    'pcie-root',
    'pci-bridge',
    'dmi-to-pci-bridge',
    'pcie-root-port',
    'pcie-switch-upstream-port',
    'pcie-switch-downstream-port',
    'pci-expander-bus',
    'pcie-expander-bus',
    'pcie-to-pci-bridge',
  ],
  ide: ['piix3', 'piix4', 'ich6'],
  'virtio-serial': ['virtio', 'virtio-transitional', 'virtio-non-transitional'],
};
const ATTRS = ['type', 'index', 'model', 'ports', 'vectors'];
const CHILDREN = ['master', 'model', 'target', 'driver', 'alias', 'address'];
const CHILDREN_NO_MODEL = CHILDREN.filter((x) => x !== 'model');
const MASTER_ATTRS = ['startport'];
const TARGET_ATTRS = ['chassisNr', 'chassis', 'port', 'busNr', 'index'];
const DRIVER_ATTRS = ['queues', 'iothread'];
const NONE: string[] = [];

/** Parses a <controller> element. index defaults to 0 (libvirt assigns the next free one). */
export function parseController(el: XmlElement): ControllerDef {
  // libvirt: virXMLPropEnumDefault(..., VIR_DOMAIN_CONTROLLER_TYPE_IDE)
  const type = enumAttr(el, 'type', CONTROLLER_TYPES) ?? 'ide';
  // index -1: not given; post-parse assigns the next free one like libvirt.
  const c: ControllerDef = { type, index: nonNegIntAttr(el, 'index') ?? -1 };
  const a = el.attrs;
  if (a.model !== undefined) {
    if (!MODELS[type]?.includes(a.model)) unsupported(`Unknown model type '${a.model}'`);
    c.model = a.model;
  }
  const ports = nonNegIntAttr(el, 'ports');
  if (ports !== undefined) c.ports = ports;
  const vectors = nonNegIntAttr(el, 'vectors');
  if (vectors !== undefined) c.vectors = vectors;
  for (const k of el.children) {
    if (k.type !== 'element') continue;
    if (k.name === 'master') {
      const sp = uintAttr(k, 'startport');
      c.master = { startport: sp ?? 0 };
      const e = unknownParts(k, MASTER_ATTRS, NONE);
      if (e) c.master.extra = e;
    } else if (k.name === 'model' && k.attrs.name !== undefined) {
      c.modelName = k.attrs.name;
    } else if (k.name === 'target') {
      c.target = {};
      for (const n of TARGET_ATTRS) {
        const v = uintAttr(k, n);
        if (v !== undefined) (c.target as Record<string, number>)[n] = v;
      }
      const e = unknownParts(k, TARGET_ATTRS, NONE);
      if (e) c.target.extra = e;
    } else if (k.name === 'driver') {
      c.driver = {};
      const q = uintAttr(k, 'queues');
      if (q !== undefined) c.driver.queues = q;
      const t = uintAttr(k, 'iothread');
      if (t !== undefined) c.driver.iothread = t;
      const e = unknownParts(k, DRIVER_ATTRS, NONE);
      if (e) c.driver.extra = e;
    }
  }
  if (type === 'virtio-serial') {
    // virtio-serial's "ports" is the maximum port count.
    if (ports !== undefined) c.maxPorts = ports;
  }
  parseDeviceInfo(el, c, false);
  // A <model> without name is not modeled: keep it as written.
  const extra = unknownParts(el, ATTRS, c.modelName === undefined ? CHILDREN_NO_MODEL : CHILDREN);
  if (extra) c.extra = extra;
  return c;
}

/** Formats a <controller> element. */
export function formatController(c: ControllerDef, opts: FormatOpts): XmlElement {
  const t = c.target;
  const kids = [
    c.master && elem('master', { startport: c.master.startport }, undefined, c.master.extra),
    c.modelName !== undefined && elem('model', { name: c.modelName }),
    t &&
      elem(
        'target',
        {
          chassisNr: t.chassisNr,
          chassis: t.chassis,
          port: t.port === undefined ? undefined : '0x' + t.port.toString(16),
          busNr: t.busNr,
          index: t.index,
        },
        undefined,
        t.extra,
      ),
    c.driver &&
      elem('driver', { queues: c.driver.queues, iothread: c.driver.iothread }, undefined, c.driver.extra),
    ...formatDeviceInfo(c, opts),
  ];
  return elem(
    'controller',
    {
      type: c.type,
      index: c.index,
      model: c.model,
      ports: c.type === 'virtio-serial' ? c.maxPorts : c.ports,
      vectors: c.vectors,
    },
    kids,
    c.extra,
  );
}
