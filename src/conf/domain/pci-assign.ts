// PCI address assignment for x86 machines: i440fx puts devices in bus 0 slots; q35 gives each PCIe device a pcie-root-port.
import type { PciAddress } from './address.js';
import type { ControllerDef, DeviceCommon, DomainDef } from './domain-def.js';
import { sortControllers } from './postparse.js';

const pci = (bus: number, slot: number, fn = 0): PciAddress => ({
  type: 'pci',
  domain: 0,
  bus,
  slot,
  function: fn,
});

/** Devices that want a PCI address, in libvirt's assignment order, each with whether it is PCI Express capable. */
function pciDevices(def: DomainDef, q35: boolean): { dev: DeviceCommon; pcie: boolean }[] {
  const d = def.devices;
  const out: { dev: DeviceCommon; pcie: boolean }[] = [];
  for (const n of d.interfaces) {
    if (n.type === 'hostdev' || n.model === 'usb-net' || n.model === 'spapr-vlan') continue;
    out.push({
      dev: n,
      pcie:
        n.model === 'virtio' ||
        n.model === 'e1000e' ||
        n.model === 'igb' ||
        n.model?.startsWith('virtio-') === true,
    });
  }
  for (const s of d.sounds)
    if (!['pcspk', 'usb', 'ich9'].includes(s.model)) out.push({ dev: s, pcie: false });
  for (const c of d.controllers) {
    if (
      c.model === 'none' ||
      c.type === 'ide' ||
      c.type === 'fdc' ||
      c.type === 'ccid' ||
      c.type === 'xenbus' ||
      c.type === 'isa'
    )
      continue;
    if (c.type === 'pci' || (c.type === 'sata' && q35 && c.index === 0)) continue; // root buses; ICH9's own AHCI
    if (c.type === 'usb' && c.master) continue; // companions share the master's slot (their addresses are given)
    const pcie =
      c.type === 'virtio-serial' ||
      c.type === 'nvme' ||
      c.model === 'qemu-xhci' ||
      c.model === 'nec-xhci' ||
      c.model === 'virtio-scsi';
    out.push({ dev: c, pcie });
  }
  for (const disk of d.disks) if (disk.target.bus === 'virtio') out.push({ dev: disk, pcie: true });
  if (d.memballoon && d.memballoon.model !== 'none' && d.memballoon.model !== 'xen')
    out.push({ dev: d.memballoon, pcie: true });
  for (const r of d.rngs) if (r.model.startsWith('virtio')) out.push({ dev: r, pcie: true });
  for (const w of d.watchdogs) if (w.model === 'i6300esb') out.push({ dev: w, pcie: false });
  for (const v of d.videos)
    if (!v.primary && v.type !== 'none' && v.type !== 'ramfb')
      out.push({ dev: v, pcie: v.type === 'virtio' });
  return out;
}

/** True for the all-zero address, which asks for assignment (slot 0 of bus 0 is the host bridge). */
function isEmpty(a: PciAddress): boolean {
  return a.domain === 0 && a.bus === 0 && a.slot === 0 && a.function === 0;
}

/**
 * Assigns PCI addresses to devices that have none. Stable: devices that already have addresses keep
 * them, so running this on an already-assigned definition changes nothing.
 */
export function assignPciAddresses(def: DomainDef, q35: boolean): void {
  const d = def.devices;
  const used = new Set<string>();
  const key = (bus: number, slot: number) => `${bus}:${slot}`;
  const mark = (a: PciAddress) => used.add(key(a.bus, a.slot));
  const everything: DeviceCommon[] = [
    ...d.disks,
    ...d.controllers,
    ...d.interfaces,
    ...d.videos,
    ...d.sounds,
    ...d.rngs,
    ...d.watchdogs,
  ];
  if (d.memballoon) everything.push(d.memballoon);
  for (const x of everything) if (x.address?.type === 'pci' && !isEmpty(x.address)) mark(x.address);
  used.add(key(0, 0));
  used.add(key(0, q35 ? 0x1f : 1)); // ICH9 LPC/SATA/SMBus, or PIIX3 ISA/IDE/USB
  const bus0 = () => {
    for (let slot = 1; slot <= 0x1f; slot++) {
      if (!used.has(key(0, slot))) {
        used.add(key(0, slot));
        return pci(0, slot);
      }
    }
    return undefined;
  };
  for (const c of d.controllers) {
    if (c.address) continue;
    if (c.type === 'usb' && c.index === 0 && c.model === 'piix3-uhci' && !q35) c.address = pci(0, 1, 2);
    else if (c.type === 'ide' && c.index === 0 && !q35) c.address = pci(0, 1, 1);
    else if (c.type === 'sata' && c.index === 0 && q35) c.address = pci(0, 0x1f, 2);
  }
  const primary = d.videos.find((v) => v.primary) ?? d.videos[0];
  if (primary && !primary.address && primary.type !== 'none' && primary.type !== 'ramfb') {
    const slot = q35 ? 1 : 2;
    if (!used.has(key(0, slot))) {
      used.add(key(0, slot));
      primary.address = pci(0, slot);
    }
  }
  if (q35) {
    for (const s of d.sounds) {
      if (s.model === 'ich9' && !s.address && !used.has(key(0, 0x1b))) {
        used.add(key(0, 0x1b));
        s.address = pci(0, 0x1b);
      }
    }
  }
  const todo = pciDevices(def, q35).filter(
    (x) => !x.dev.address || (x.dev.address.type === 'pci' && isEmpty(x.dev.address)),
  );
  if (!q35) {
    for (const x of todo) {
      const a = bus0();
      if (a) x.dev.address = a;
    }
    return;
  }
  // q35: conventional PCI devices become integrated endpoints on pcie-root; PCIe devices each get a root port.
  const wantPorts = todo.filter((x) => x.pcie).length;
  const freePorts = d.controllers.filter(
    (c) =>
      c.model === 'pcie-root-port' &&
      !everything.some((x) => x.address?.type === 'pci' && x.address.bus === c.index),
  );
  const ports: ControllerDef[] = [...freePorts];
  const newPorts = wantPorts > 0 ? Math.max(0, wantPorts + 1 - freePorts.length) : 0; // one spare for hotplug
  let nextIndex = d.controllers.reduce((m, c) => (c.type === 'pci' && c.index > m ? c.index : m), 0) + 1;
  let portSlot = -1;
  let portFn = 8;
  for (let i = 0; i < newPorts; i++) {
    if (portFn > 7) {
      const a = bus0();
      if (!a) break;
      portSlot = a.slot;
      portFn = 0;
    }
    const address = pci(0, portSlot, portFn);
    if (portFn === 0) address.multifunction = true;
    const c: ControllerDef = {
      type: 'pci',
      index: nextIndex,
      model: 'pcie-root-port',
      modelName: 'pcie-root-port',
      // libvirt numbers a root port after its own address: slot * 8 + function.
      target: { chassis: nextIndex, port: (portSlot << 3) | portFn },
      address,
    };
    nextIndex++;
    portFn++;
    d.controllers.push(c);
    ports.push(c);
  }
  // A lone port in a slot is not multifunction.
  for (const c of ports) {
    const a = c.address;
    if (
      a?.type === 'pci' &&
      a.multifunction &&
      !ports.some((o) => o !== c && o.address?.type === 'pci' && o.address.slot === a.slot)
    ) {
      delete a.multifunction;
    }
  }
  let p = 0;
  for (const x of todo) {
    if (x.pcie && p < ports.length) x.dev.address = pci(ports[p++]!.index, 0);
    else {
      const a = bus0();
      if (a) x.dev.address = a;
    }
  }
  sortControllers(d.controllers);
}
