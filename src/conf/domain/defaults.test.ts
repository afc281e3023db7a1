// domainAssignDefaults: controllers, models and addresses for i440fx and q35; stable when run twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey } from './address.js';
import { diskNameToIndex } from './defaults.js';
import { type DomainDef, domainAssignDefaults, formatDomain, parseDomain } from './index.js';

const random = { uuid: () => '11111111-2222-3333-4444-555555555555', bytes: () => Uint8Array.of(9, 9, 9) };
const devices = `<disk type='file'><source file='/a'/><target dev='vda'/></disk>
  <disk type='file' device='cdrom'><target dev='hdc'/><readonly/></disk>
  <disk type='file'><source file='/s'/><target dev='sdb'/></disk>
  <interface type='network'><source network='default'/></interface>
  <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  <graphics type='vnc'/>`;
const xml = (machine: string) =>
  `<domain type='kvm'><name>t</name><memory>1048576</memory><os><type machine='${machine}'>hvm</type></os><devices>${devices}</devices></domain>`;

function pciKeys(def: DomainDef): string[] {
  const d = def.devices;
  const all = [
    ...d.disks,
    ...d.controllers,
    ...d.interfaces,
    ...d.videos,
    ...d.sounds,
    ...d.rngs,
    ...(d.memballoon ? [d.memballoon] : []),
  ];
  return all.flatMap((x) => (x.address?.type === 'pci' ? [addressKey(x.address)] : []));
}

test('diskNameToIndex', () => {
  assert.equal(diskNameToIndex('hda'), 0);
  assert.equal(diskNameToIndex('sdb'), 1);
  assert.equal(diskNameToIndex('vdaa'), 26);
  assert.equal(diskNameToIndex('nvme0n1'), -1);
});

for (const machine of ['pc-i440fx-9.1', 'pc-q35-9.1']) {
  test(`assign defaults for ${machine}`, () => {
    const q35 = machine.includes('q35');
    const def = parseDomain(xml(machine), { random });
    domainAssignDefaults(def, { arch: 'x86_64', machine });
    const d = def.devices;
    const ctrl = (type: string) => d.controllers.find((c) => c.type === type);
    assert.equal(def.os.arch, 'x86_64');
    assert.equal(ctrl('pci')?.model, q35 ? 'pcie-root' : 'pci-root');
    assert.equal(ctrl('usb')?.model, q35 ? 'qemu-xhci' : 'piix3-uhci');
    assert.ok(ctrl(q35 ? 'sata' : 'ide'));
    assert.ok(ctrl('scsi'));
    assert.ok(ctrl('virtio-serial'));
    assert.equal(d.disks[0]!.target.bus, 'virtio');
    assert.equal(d.disks[1]!.target.bus, 'ide');
    assert.deepEqual(d.disks[1]!.address, { type: 'drive', controller: 0, bus: 1, target: 0, unit: 0 });
    assert.equal(d.disks[2]!.address?.type, 'drive');
    assert.equal(d.disks[0]!.address?.type, 'pci');
    assert.equal(d.interfaces[0]!.model, 'rtl8139');
    assert.equal(d.interfaces[0]!.address?.type, 'pci');
    assert.equal(d.videos[0]!.type, 'vga');
    assert.deepEqual(d.videos[0]!.address, {
      type: 'pci',
      domain: 0,
      bus: 0,
      slot: q35 ? 1 : 2,
      function: 0,
    });
    assert.equal(d.memballoon?.model, 'virtio');
    assert.deepEqual(d.channels[0]!.address, { type: 'virtio-serial', controller: 0, bus: 0, port: 1 });
    const keys = pciKeys(def);
    assert.equal(new Set(keys).size, keys.length, `duplicate PCI addresses: ${keys}`);
    // Stable: a second run and a format/parse round trip change nothing.
    const text = formatDomain(def, { inactive: true });
    domainAssignDefaults(def, { arch: 'x86_64', machine });
    assert.equal(formatDomain(def, { inactive: true }), text);
    const again = parseDomain(text, { random });
    domainAssignDefaults(again, { arch: 'x86_64', machine });
    assert.equal(formatDomain(again, { inactive: true }), text);
  });
}
