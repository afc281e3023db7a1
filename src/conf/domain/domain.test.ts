// Unit tests of parseDomain/formatDomain: units, defaults from post-parse, kept unknown parts, flags, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVirError } from '../../util/errors.js';
import { formatDomain, parseDomain, type RandomSource } from './index.js';

const random: RandomSource = {
  uuid: () => '11111111-2222-3333-4444-555555555555',
  bytes: () => Uint8Array.of(1, 2, 3),
};

function dom(body: string, devices = '', root = "type='kvm'"): string {
  return `<domain ${root}><name>t</name><memory unit='MiB'>512</memory>${body}<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${devices}</devices></domain>`;
}
function rejects(xml: string, code: string, re?: RegExp): void {
  assert.throws(
    () => parseDomain(xml, { random }),
    (e: unknown) => isVirError(e) && e.code === code && (re === undefined || re.test(e.message)),
  );
}

test('minimal domain: post-parse fills uuid, currentMemory and vcpu', () => {
  const d = parseDomain(dom(''), { random });
  assert.equal(d.uuid, '11111111-2222-3333-4444-555555555555');
  assert.equal(d.memory.kib, 524288);
  assert.equal(d.currentMemory, 524288);
  assert.deepEqual(d.vcpu, { max: 1, placement: 'static' });
  const out = formatDomain(d);
  assert.match(out, /<memory unit='KiB'>524288<\/memory>/);
  assert.match(out, /<vcpu placement='static'>1<\/vcpu>/);
  assert.match(out, /<type arch='x86_64' machine='pc'>hvm<\/type>/);
});

test('memory units are scaled to KiB and rounded up', () => {
  const d = parseDomain(
    `<domain type='qemu'><name>t</name><maxMemory slots='4' unit='GiB'>4</maxMemory><memory unit='G'>1</memory><currentMemory unit='b'>1000</currentMemory><os><type>hvm</type></os></domain>`,
    { random },
  );
  assert.equal(d.maxMemory?.kib, 4 * 1024 * 1024);
  assert.equal(d.maxMemory?.slots, 4);
  assert.equal(d.memory.kib, 1024 * 1024);
  assert.equal(d.currentMemory, 1);
  rejects(
    dom('').replace("unit='MiB'", "unit='parsecs'"),
    'INVALID_ARG',
    /^invalid argument: unknown suffix 'parsecs'$/,
  );
});

test('unknown elements, attributes, devices and comments survive a round trip in place', () => {
  const xml = dom(
    `<vcpu>2</vcpu><iothreads>2</iothreads><seclabel type='none' model='x'/>`,
    `<disk type='file' device='disk' newattr='1'><driver name='qemu' type='qcow2' future='x'/><source file='/a.qcow2'><seclabel model='dac' relabel='no'/></source><target dev='vda' bus='virtio'/><iotune><total_bytes_sec>1</total_bytes_sec></iotune></disk><!-- note --><tpm model='tpm-crb'><backend type='emulator'/></tpm><futuredevice x='1'/>`,
    "type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'",
  );
  const out = formatDomain(parseDomain(xml, { random }));
  for (const s of [
    "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'",
    '<iothreads>2</iothreads>',
    "<seclabel type='none' model='x'/>",
    "newattr='1'",
    "future='x'",
    "<seclabel model='dac' relabel='no'/>",
    '<total_bytes_sec>1</total_bytes_sec>',
    '<!-- note -->',
    "<tpm model='tpm-crb'>",
    "<futuredevice x='1'/>",
  ]) {
    assert.ok(out.includes(s), `missing ${s} in\n${out}`);
  }
  // iothreads stays right after vcpu; tpm goes to libvirt's place before graphics/video; unknown last.
  assert.ok(out.indexOf('<vcpu') < out.indexOf('<iothreads>'));
  assert.ok(out.indexOf('<tpm') < out.indexOf('<futuredevice'));
  assert.equal(formatDomain(parseDomain(out, { random })), out);
});

test('interfaces get a 52:54:00 MAC when they have none (or an all-zero one)', () => {
  const d = parseDomain(
    dom(
      '',
      `<interface type='network'><source network='default'/></interface><interface type='bridge'><mac address='00:00:00:00:00:00'/><source bridge='br0'/><model type='virtio'/></interface>`,
    ),
    { random },
  );
  assert.equal(d.devices.interfaces[0]!.mac, '52:54:00:01:02:03');
  assert.equal(d.devices.interfaces[1]!.mac, '52:54:00:01:02:03');
  assert.equal(d.devices.interfaces[1]!.bridge, 'br0');
  assert.equal(d.devices.interfaces[1]!.model, 'virtio');
});

test('typed devices: disk, controller, chardev, graphics, video', () => {
  const d = parseDomain(
    dom(
      '',
      `<disk type='network' device='cdrom'><driver name='qemu' type='raw' cache='none' io='native' discard='unmap'/><source protocol='nbd' name='x'><host name='h' port='10809'/></source><target dev='sda' bus='sata'/><readonly/><shareable/><boot order='2'/><address type='drive' controller='0' bus='0' target='0' unit='1'/></disk>
       <controller type='usb' index='1' model='ich9-uhci1'><master startport='0'/><address type='pci' domain='0' bus='0' slot='7' function='0' multifunction='on'/></controller>
       <serial type='tcp'><source mode='bind' host='0.0.0.0' service='4444'/><protocol type='telnet'/><target port='0'/></serial>
       <channel type='unix'><source mode='bind' path='/tmp/ga.sock'/><target type='virtio' name='org.qemu.guest_agent.0'/><address type='virtio-serial' controller='0' bus='0' port='1'/></channel>
       <graphics type='spice' autoport='yes'><image compression='auto_glz'/></graphics>
       <video><model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1'/></video>`,
    ),
    { random },
  );
  const disk = d.devices.disks[0]!;
  assert.equal(disk.device, 'cdrom');
  assert.deepEqual(disk.source?.hosts, [{ name: 'h', port: 10809 }]);
  assert.equal(disk.driver?.cache, 'none');
  assert.equal(disk.boot?.order, 2);
  assert.deepEqual(disk.address, { type: 'drive', controller: 0, bus: 0, target: 0, unit: 1 });
  assert.ok(disk.readonly && disk.shareable);
  const usb = d.devices.controllers[0]!;
  assert.equal(usb.master?.startport, 0);
  assert.deepEqual(usb.address, {
    type: 'pci',
    domain: 0,
    bus: 0,
    slot: 7,
    function: 0,
    multifunction: true,
  });
  assert.equal(d.devices.serials[0]!.source.protocol, 'telnet');
  assert.equal(d.devices.consoles[0]!.target?.type, 'serial', 'console compat from the first serial');
  assert.equal(d.devices.channels[0]!.target?.name, 'org.qemu.guest_agent.0');
  assert.equal(d.devices.graphics[0]!.image?.compression, 'auto_glz');
  assert.equal(d.devices.videos[0]!.primary, true);
  const out = formatDomain(d);
  assert.match(
    out,
    /<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0' multifunction='on'\/>/,
  );
  assert.match(out, /<console type='tcp'>/);
});

test('secure and inactive flags', () => {
  const xml = dom(
    '',
    `<interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='default'/><target dev='vnet3'/></interface>
     <serial type='pty'><source path='/dev/pts/4'/></serial>
     <graphics type='vnc' port='5901' autoport='no' passwd='secret'/>
     <graphics type='vnc' autoport='yes'/>`,
  ).replace("type='kvm'", "type='kvm' id='7'");
  const d = parseDomain(xml, { random });
  d.devices.graphics[1]!.port = 5902; // chosen at start by the driver
  const live = formatDomain(d);
  assert.match(live, /<domain type='kvm' id='7'>/);
  assert.match(live, /passwd='secret'/);
  assert.match(live, /port='5902' autoport='yes'/);
  assert.match(live, /<target dev='vnet3'\/>/);
  assert.match(live, /<serial type='pty' tty='\/dev\/pts\/4'>\s*<source path='\/dev\/pts\/4'\/>/);
  const inactive = formatDomain(d, { inactive: true, secure: false });
  assert.doesNotMatch(inactive, /id='7'|passwd|vnet3|pts|5902/);
  assert.match(inactive, /port='5901' autoport='no'/);
  assert.match(inactive, /port='-1' autoport='yes'/);
});

test('graphics listen attribute and elements are kept consistent', () => {
  const d = parseDomain(dom('', `<graphics type='vnc' listen='127.0.0.1'/>`), { random });
  assert.deepEqual(d.devices.graphics[0]!.listens, [{ type: 'address', address: '127.0.0.1' }]);
  rejects(
    dom('', `<graphics type='vnc' listen='1.1.1.1'><listen type='address' address='2.2.2.2'/></graphics>`),
    'CONFIG_UNSUPPORTED',
    /listen/,
  );
  rejects(dom('', `<graphics type='vnc'><listen type='network'/></graphics>`), 'XML_ERROR', /network/);
});

test('validation errors carry libvirt codes and name the element', () => {
  rejects(
    dom('', `<disk type='file'><source file='/a'/><target bus='virtio'/></disk>`),
    'NO_TARGET',
    /^missing target information for device \/a$/,
  );
  rejects(dom('', `<disk type='file'><source file='/a'/></disk>`), 'NO_TARGET', /target/);
  rejects(
    dom(
      '',
      `<disk type='file'><source file='/a'/><target dev='vda'/></disk><disk type='file'><source file='/b'/><target dev='vda'/></disk>`,
    ),
    'XML_ERROR',
    /^XML error: target 'vda' duplicated for disk sources '\/a' and '\/b'$/,
  );
  // A balloon target above the maximum is an error that says so (libvirt lowers it quietly).
  rejects(
    dom(`<currentMemory unit='GiB'>1</currentMemory>`),
    'XML_ERROR',
    /^XML error: current memory \(<currentMemory> 1048576 KiB\) must not be above maximum memory \(<memory> 524288 KiB\)$/,
  );
  rejects(
    dom('', `<disk type='file'><source file='/a'/><target dev='vda' bus='floppy9'/></disk>`),
    'XML_ERROR',
    /^XML error: Invalid value for attribute 'bus' in element 'target': 'floppy9'\.$/,
  );
  rejects(
    dom('', `<interface type='user'><model type='e1000 evil'/></interface>`),
    'INVALID_ARG',
    /^invalid argument: Model name contains invalid characters$/,
  );
  rejects(dom('', `<interface type='teleport'/>`), 'XML_ERROR', /attribute 'type' in element 'interface'/);
  rejects(
    dom('', `<video><model type='hologram'/></video>`),
    'CONFIG_UNSUPPORTED',
    /^unsupported configuration: unknown video model 'hologram'$/,
  );
  rejects(dom('', `<graphics type='telepathy'/>`), 'XML_ERROR', /attribute 'type' in element 'graphics'/);
  rejects(
    dom('', `<interface type='user'><mac address='01:00:00:00:00:01'/></interface>`),
    'XML_ERROR',
    /multicast/,
  );
  rejects(dom('', `<interface type='user'><mac address='zz'/></interface>`), 'XML_ERROR', /mac/);
  rejects(dom(`<vcpu current='4'>2</vcpu>`), 'CONFIG_UNSUPPORTED', /vCPU count/);
  rejects(dom('').replace('<name>t</name>', '<name>a/b</name>'), 'XML_ERROR', /'\/'/);
  rejects(
    dom('').replace('<name>t</name>', '<name>t</name><uuid>not-a-uuid</uuid>'),
    'INTERNAL_ERROR',
    /^internal error: malformed uuid element$/,
  );
  rejects(
    dom('').replace("type='kvm'", "type='warp'"),
    'CONFIG_UNSUPPORTED',
    /^unsupported configuration: invalid domain type warp$/,
  );
  rejects(dom('').replace('<name>t</name>', ''), 'NO_NAME');
  rejects(
    dom(
      '',
      `<address type='pci' slot='0x40'/>`
        .replace('address', 'controller type="pci"><address')
        .replace('/>', '/></controller>'),
    ),
    'XML_ERROR',
  );
});

test('malformed documents are XML_ERROR, never a crash', () => {
  const good = dom(
    `<vcpu>2</vcpu>`,
    `<disk type='file'><source file='/a'/><target dev='vda'/></disk><graphics type='vnc'/>`,
  );
  rejects('<domain', 'XML_ERROR');
  rejects('<network/>', 'XML_ERROR', /domain/);
  rejects('<!DOCTYPE x [<!ENTITY a "b">]><domain/>', 'XML_ERROR');
  for (let i = 1; i < good.length; i += 7) {
    try {
      parseDomain(good.slice(0, i), { random });
    } catch (e) {
      assert.ok(isVirError(e), `non-VirError at ${i}: ${String(e)}`);
    }
  }
});

test('controllers without index get the next free one; USB companions share their group', () => {
  const d = parseDomain(
    dom(
      '',
      `<controller type='usb' model='ich9-ehci1'/><controller type='usb' model='ich9-uhci1'/><controller type='usb' model='ich9-uhci1'/>
       <controller type='pci' model='pci-root'/><controller type='pci' model='pci-bridge'/><controller type='usb' model='nec-xhci'/>`,
    ),
    { random },
  );
  assert.deepEqual(
    d.devices.controllers.map((c) => `${c.type}${c.index}:${c.model}`),
    [
      'usb0:ich9-ehci1',
      'usb0:ich9-uhci1',
      'usb1:ich9-uhci1',
      'usb2:nec-xhci',
      'pci0:pci-root',
      'pci1:pci-bridge',
    ],
  );
  rejects(
    dom('', `<controller type='sata' index='1'/><controller type='sata' index='1'/>`),
    'XML_ERROR',
    /Multiple 'sata'/,
  );
  rejects(dom('', `<controller type='pci' index='1' model='pci-root'/>`), 'XML_ERROR', /index 0/);
});

test('boot order, disk target and chardev rules', () => {
  const disk = (dev: string, extra = '') =>
    `<disk type='file'><source file='/${dev}'/><target dev='${dev}'/>${extra}</disk>`;
  rejects(
    dom('', disk('vda', "<boot order='1'/>") + disk('vdb', "<boot order='1'/>")),
    'CONFIG_UNSUPPORTED',
    /boot order/,
  );
  rejects(
    dom('', disk('vda', "<boot order='1'/>")).replace('</type>', "</type><boot dev='hd'/>"),
    'CONFIG_UNSUPPORTED',
    /per-device boot/,
  );
  rejects(dom('', disk('vdb1')), 'CONFIG_UNSUPPORTED', /partitions/);
  rejects(
    dom('', `<disk type='network'><source name='x'/><target dev='vda'/></disk>`),
    'XML_ERROR',
    /protocol/,
  );
  rejects(dom('', `<interface type='bridge'><source/></interface>`), 'XML_ERROR', /bridge/);
  rejects(
    dom('', `<serial type='tcp'><source mode='connect' service='1'/></serial>`),
    'INTERNAL_ERROR',
    /^internal error: Missing source host attribute for char device$/,
  );
  rejects(dom('', `<serial type='file'/>`), 'INTERNAL_ERROR', /path/);
  rejects(
    dom(
      '',
      `<serial type='tcp'><source mode='connect' host='h' service='1'><reconnect enabled='yes' timeout='0'/></source></serial>`,
    ),
    'INVALID_ARG',
  );
});
