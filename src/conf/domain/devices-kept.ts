// Devices kept whole (hostdev, tpm, smartcard, filesystem, hub, shmem, iommu, vsock, memory, audio):
// not modeled field by field, but their kinds, models and modes are checked at parse with libvirt's
// value lists (libvirt 10.7) and libvirt's error for each, so a typo fails at define as with virsh.
import type { XmlElement } from '../../util/xml.js';
import { enumAttr, internalErr, missingAttr, unsupported, xmlErr } from './parse-util.js';

const HOSTDEV_TYPES: Record<string, readonly string[]> = {
  subsystem: ['usb', 'pci', 'scsi', 'scsi_host', 'mdev'],
  capabilities: ['storage', 'misc', 'net'],
};
const TPM_MODELS = ['tpm-tis', 'tpm-crb', 'tpm-spapr', 'spapr-tpm-proxy'];
const TPM_BACKENDS = ['passthrough', 'emulator', 'external'];
const SMARTCARD_MODES = ['host', 'host-certificates', 'passthrough'];
const FS_TYPES = ['mount', 'block', 'file', 'template', 'ram', 'bind', 'volume'];
const FS_ACCESSMODES = ['passthrough', 'mapped', 'squash'];
const FS_DRIVERS = ['default', 'path', 'handle', 'loop', 'nbd', 'ploop', 'virtiofs', 'mtp'];
const FS_WRPOLICIES = ['immediate'];
const SHMEM_MODELS = ['ivshmem', 'ivshmem-plain', 'ivshmem-doorbell'];
const IOMMU_MODELS = ['intel', 'smmuv3', 'virtio'];
const VSOCK_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'];
const MEMORY_MODELS = ['dimm', 'nvdimm', 'virtio-pmem', 'virtio-mem', 'sgx-epc'];
const AUDIO_TYPES = [
  'none',
  'alsa',
  'coreaudio',
  'jack',
  'oss',
  'pulseaudio',
  'sdl',
  'spice',
  'file',
  'dbus',
  'pipewire',
];

function child(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (c.type === 'element' && c.name === name) return c;
  return undefined;
}

/** Checks a device element kept whole; throws libvirt's error for a value libvirt refuses. */
export function checkKeptDevice(el: XmlElement): void {
  const a = el.attrs;
  switch (el.name) {
    case 'hostdev': {
      const mode = a.mode ?? 'subsystem';
      const types = HOSTDEV_TYPES[mode];
      if (!types) unsupported(`unknown hostdev mode '${mode}'`);
      if (a.type === undefined) {
        if (mode === 'subsystem') xmlErr('missing source address type');
        break;
      }
      if (!types.includes(a.type)) unsupported(`unknown host device source address type '${a.type}'`);
      break;
    }
    case 'tpm': {
      enumAttr(el, 'model', TPM_MODELS);
      const backend = child(el, 'backend');
      if (!backend) xmlErr('missing TPM device backend');
      if (backend.attrs.type === undefined) missingAttr(backend, 'type');
      enumAttr(backend, 'type', TPM_BACKENDS);
      break;
    }
    case 'smartcard':
      if (a.mode === undefined) missingAttr(el, 'mode');
      enumAttr(el, 'mode', SMARTCARD_MODES);
      break;
    case 'filesystem': {
      enumAttr(el, 'type', FS_TYPES);
      enumAttr(el, 'accessmode', FS_ACCESSMODES);
      const driver = child(el, 'driver');
      if (driver) {
        enumAttr(driver, 'type', FS_DRIVERS);
        enumAttr(driver, 'wrpolicy', FS_WRPOLICIES);
      }
      break;
    }
    case 'hub':
      if (a.type === undefined) internalErr('missing hub device type');
      enumAttr(el, 'type', ['usb'], "unknown hub device type '%s'");
      break;
    case 'shmem': {
      if (a.name === undefined) xmlErr("shmem element must contain 'name' attribute");
      const model = child(el, 'model');
      if (model) enumAttr(model, 'type', SHMEM_MODELS);
      break;
    }
    case 'iommu':
      if (a.model === undefined) missingAttr(el, 'model');
      enumAttr(el, 'model', IOMMU_MODELS);
      break;
    case 'vsock':
      enumAttr(el, 'model', VSOCK_MODELS);
      break;
    case 'memory':
      if (a.model === undefined) missingAttr(el, 'model');
      enumAttr(el, 'model', MEMORY_MODELS);
      break;
    case 'audio':
      if (a.type === undefined) missingAttr(el, 'type');
      enumAttr(el, 'type', AUDIO_TYPES);
      break;
  }
}
