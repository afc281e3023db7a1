// domainAssignDefaults: default controllers, device models and addresses so a defined domain stays stable (QEMU x86 rules, simplified).
import { elem } from '../../util/xml.js';
import { assignPciAddresses } from './pci-assign.js';
import { deviceRank } from './devices.js';
import { sortControllers } from './postparse.js';
import type { ControllerDef, ControllerType, DiskBus, DiskDef, DomainDef } from './domain-def.js';

/** Host facts the QEMU driver passes at define time. */
export interface AssignDefaultsOpts {
  arch: string;
  machine: string;
}

/** Index of a disk from its target name: hda -> 0, sdb -> 1, vdaa -> 26 (libvirt's virDiskNameToIndex). */
export function diskNameToIndex(dev: string): number {
  const m = /^(?:fd|hd|vd|sd|xvd|ubd|ub)([a-z]+)$/.exec(dev);
  if (!m) return -1;
  let idx = 0;
  for (const ch of m[1]!) idx = idx * 26 + (ch.charCodeAt(0) - 96);
  return idx - 1;
}

function busFromName(dev: string, q35: boolean, device: DiskDef['device']): DiskBus {
  if (dev.startsWith('hd')) return 'ide';
  if (dev.startsWith('sd')) return 'scsi';
  if (dev.startsWith('vd')) return 'virtio';
  if (dev.startsWith('fd')) return 'fdc';
  if (dev.startsWith('xvd')) return 'xen';
  if (dev.startsWith('ub')) return 'usb';
  if (device === 'cdrom') return q35 ? 'sata' : 'ide';
  return 'virtio';
}

/**
 * Fills in what the QEMU driver needs to start a domain the same way every time: os arch/machine,
 * disk buses, NIC and video models, default controllers (pci root, usb, ide/sata, scsi,
 * virtio-serial), default inputs and balloon, drive addresses and PCI addresses. Call once at
 * define time, after parseDomain; running it again changes nothing.
 */
export function domainAssignDefaults(def: DomainDef, opts: AssignDefaultsOpts): void {
  def.os.arch ??= opts.arch;
  def.os.machine ??= opts.machine;
  const x86 = def.os.arch === 'x86_64' || def.os.arch === 'i686';
  const q35 = /q35/.test(def.os.machine ?? '');
  const d = def.devices;
  // <address type='pci'/> (all zero: the host bridge's slot) asks for an address to be assigned.
  for (const list of [
    d.disks,
    d.controllers,
    d.interfaces,
    d.videos,
    d.sounds,
    d.rngs,
    d.watchdogs,
    d.memballoon ? [d.memballoon] : [],
  ]) {
    for (const x of list) {
      const a = x.address;
      if (a?.type === 'pci' && a.domain === 0 && a.bus === 0 && a.slot === 0 && a.function === 0)
        delete x.address;
    }
  }
  for (const disk of d.disks) {
    // QEMU is the only driver; images without a declared format are opened raw (never probed).
    if (disk.type !== 'vhostuser') {
      disk.driver ??= {};
      disk.driver.name ??= 'qemu';
      if (disk.source || disk.device === 'disk') disk.driver.type ??= 'raw';
    }
  }
  for (const disk of d.disks) disk.target.bus ??= busFromName(disk.target.dev, q35, disk.device);
  for (const n of d.interfaces)
    if (n.model === undefined && n.type !== 'hostdev') n.model = x86 ? 'rtl8139' : 'virtio';
  if (d.graphics.length > 0 && d.videos.length === 0)
    d.videos.push({ hasModel: true, type: 'vga', primary: true });
  for (const v of d.videos) {
    if (v.type === undefined || v.type === 'default') v.type = 'vga';
    v.hasModel = true;
    v.heads ??= v.type === 'none' ? undefined : 1;
    if (v.type === 'vga' || v.type === 'cirrus' || v.type === 'vmvga' || v.type === 'bochs') v.vram ??= 16384;
    if (v.type === 'qxl') {
      v.ram ??= 65536;
      v.vram ??= 65536;
      v.vgamem ??= 16384;
    }
    if (v.heads === undefined) delete v.heads;
  }
  if (x86) {
    // PC machines always have the i8042 PS/2 mouse and keyboard.
    if (!d.inputs.some((i) => i.type === 'mouse' && i.bus === 'ps2'))
      d.inputs.push({ type: 'mouse', bus: 'ps2' });
    if (!d.inputs.some((i) => i.type === 'keyboard' && i.bus === 'ps2'))
      d.inputs.push({ type: 'keyboard', bus: 'ps2' });
    // QEMU's own default CPU model, recorded so the guest ABI does not change under it.
    def.cpu ??= { features: [] };
    const cpu = def.cpu;
    if (cpu.mode === undefined && cpu.model === undefined) {
      Object.assign(cpu, {
        mode: 'custom',
        match: 'exact',
        check: 'none',
        model: 'qemu64',
        fallback: 'forbid',
      });
    }
  }
  const cpu = def.cpu;
  if (cpu) {
    if (cpu.mode === undefined && cpu.model !== undefined) cpu.mode = 'custom';
    if (cpu.mode === 'custom' && cpu.model !== undefined) cpu.match ??= 'exact';
    if (cpu.mode === 'host-passthrough' || cpu.mode === 'maximum') {
      cpu.check ??= 'none';
      if (cpu.mode === 'host-passthrough') cpu.migratable ??= true;
    } else if (cpu.mode === 'host-model') cpu.check ??= 'partial';
    else if (cpu.mode === 'custom' && cpu.model !== undefined)
      cpu.check ??= def.type === 'kvm' ? 'partial' : 'none';
  }
  for (const i of d.inputs) {
    if (i.type === 'mouse' || i.type === 'keyboard') i.bus ??= x86 ? 'ps2' : 'usb';
    else if (i.type === 'tablet') i.bus ??= 'usb';
  }
  d.memballoon ??= { model: 'virtio' };
  // Q35 machines have the ICH9 TCO watchdog built in; like libvirt, it takes the action of the
  // user's first watchdog, since QEMU has one watchdog action for the whole machine.
  if (q35 && !d.watchdogs.some((w) => w.model === 'itco'))
    d.watchdogs.push({ model: 'itco', action: d.watchdogs[0]?.action ?? 'reset' });
  // An audio backend for sound devices and graphics: spice carries audio itself, else none.
  if (!d.others.some((o) => o.name === 'audio') && !d.graphics.some((g) => g.type === 'dbus')) {
    const type = d.graphics.some((g) => g.type === 'spice') ? 'spice' : 'none';
    d.others.push(elem('audio', { id: 1, type }));
    d.others.sort((a, b) => deviceRank(a.name) - deviceRank(b.name));
  }

  const ctrls = d.controllers;
  const has = (type: ControllerType, index = 0) => ctrls.some((c) => c.type === type && c.index === index);
  const add = (c: ControllerDef) => {
    if (!has(c.type, c.index)) ctrls.push(c);
  };
  if (x86) {
    for (const c of ctrls) {
      if (c.model !== undefined) continue;
      if (c.type === 'usb') c.model = q35 ? 'qemu-xhci' : 'piix3-uhci';
      else if (c.type === 'pci' && c.index === 0) c.model = q35 ? 'pcie-root' : 'pci-root';
      else if (c.type === 'scsi') c.model = 'lsilogic';
    }
    add({ type: 'usb', index: 0, model: q35 ? 'qemu-xhci' : 'piix3-uhci' });
    if (q35) add({ type: 'sata', index: 0 }); // ICH9 AHCI; the PIIX3 IDE controller is added only for IDE disks
    add({ type: 'pci', index: 0, model: q35 ? 'pcie-root' : 'pci-root' });
  }
  const maxIdx = (bus: DiskBus, per: number) =>
    d.disks
      .filter((x) => x.target.bus === bus)
      .reduce((m, x) => Math.max(m, Math.floor(Math.max(0, diskNameToIndex(x.target.dev)) / per)), -1);
  for (let i = 0; i <= maxIdx('scsi', 7); i++) add({ type: 'scsi', index: i, model: 'lsilogic' });
  for (let i = 0; i <= maxIdx('sata', 6); i++) add({ type: 'sata', index: i });
  for (let i = 0; i <= maxIdx('ide', 4); i++) add({ type: 'ide', index: i });
  if (d.disks.some((x) => x.target.bus === 'fdc')) add({ type: 'fdc', index: 0 });
  const virtioSerial = [...d.channels, ...d.consoles].some((c) => c.target?.type === 'virtio');
  if (virtioSerial) add({ type: 'virtio-serial', index: 0 });

  // Drive addresses for disks on IDE/SATA/SCSI/FDC controllers.
  for (const disk of d.disks) {
    if (disk.address) continue;
    const idx = Math.max(0, diskNameToIndex(disk.target.dev));
    const bus = disk.target.bus;
    if (bus === 'ide')
      disk.address = {
        type: 'drive',
        controller: Math.floor(idx / 4),
        bus: Math.floor((idx % 4) / 2),
        target: 0,
        unit: idx % 2,
      };
    else if (bus === 'sata')
      disk.address = { type: 'drive', controller: Math.floor(idx / 6), bus: 0, target: 0, unit: idx % 6 };
    else if (bus === 'scsi')
      disk.address = { type: 'drive', controller: Math.floor(idx / 7), bus: 0, target: 0, unit: idx % 7 };
    else if (bus === 'fdc') disk.address = { type: 'drive', controller: 0, bus: 0, target: 0, unit: idx };
  }
  if (x86) {
    for (const s of d.serials) {
      s.target ??= {};
      if (s.target.type === undefined) s.target.type = 'isa-serial';
      if (s.target.model === undefined && s.target.type === 'isa-serial') s.target.model = 'isa-serial';
    }
    for (const c of d.consoles) {
      c.target ??= {};
      c.target.type ??= 'serial';
      c.target.port ??= 0;
    }
  }
  for (const [i, c] of d.channels.entries()) {
    if (c.target?.type === 'virtio' && !c.address)
      c.address = { type: 'virtio-serial', controller: 0, bus: 0, port: i + 1 };
  }
  sortControllers(ctrls);
  if (x86) assignPciAddresses(def, q35);
}
