// Tests for buildQemuCommand: golden argv files (UPDATE_GOLDEN=1 rewrites), accelerator choice, refusals, escaping.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type DomainDef, domainAssignDefaults, parseDomain } from '../../conf/domain/index.js';
import { isVirError, type VirError } from '../../util/errors.js';
import {
  buildQemuCommand,
  channelSocketPath,
  type QemuBuildContext,
  renderCommandLines,
  UNSUPPORTED_DEVICES,
  UNSUPPORTED_TOP_LEVEL,
} from './command.js';
import { GOLDEN_CASES, goldenCtx, loadCase, testdata } from './command-cases.test.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

const MINI = `<domain type='qemu'><name>mini</name><uuid>11111111-2222-4333-8444-555555555555</uuid>
<memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>DEVICES</devices>TOP</domain>`;
function mini(devices = '', top = '', type = 'qemu'): DomainDef {
  const def = parseDomain(
    MINI.replace('DEVICES', devices).replace('TOP', top).replace("type='qemu'", `type='${type}'`),
  );
  domainAssignDefaults(def, { arch: 'x86_64', machine: 'pc' });
  return def;
}
const ctx = (over: Partial<QemuBuildContext> = {}): QemuBuildContext => ({
  ...goldenCtx('mini'),
  kvmAvailable: false,
  ...over,
});
function argAfter(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
}
function unsupported(re: RegExp) {
  return (e: unknown) =>
    isVirError(e, 'CONFIG_UNSUPPORTED') && (e as VirError).domain === 'QEMU' && re.test((e as Error).message);
}

describe('buildQemuCommand golden files', () => {
  for (const name of GOLDEN_CASES) {
    it(name, () => {
      const got = renderCommandLines(buildQemuCommand(loadCase(name), goldenCtx(name)));
      const file = join(testdata, `${name}.args`);
      if (UPDATE) writeFileSync(file, got);
      assert.equal(got, readFileSync(file, 'utf8'));
    });
  }
});

describe('accelerator and CPU', () => {
  it('type qemu uses TCG, type kvm uses KVM', () => {
    assert.deepEqual(argAfter(buildQemuCommand(mini(), ctx()).args, '-accel'), ['tcg']);
    assert.deepEqual(
      argAfter(buildQemuCommand(mini('', '', 'kvm'), ctx({ kvmAvailable: true })).args, '-accel'),
      ['kvm'],
    );
  });
  it('type kvm without usable /dev/kvm is refused naming /dev/kvm', () => {
    assert.throws(() => buildQemuCommand(mini('', '', 'kvm'), ctx()), unsupported(/\/dev\/kvm/));
  });
  it('host-passthrough needs KVM', () => {
    const def = mini('', "<cpu mode='host-passthrough'/>");
    assert.throws(
      () => buildQemuCommand(def, ctx({ kvmAvailable: true })),
      unsupported(/host-passthrough.*KVM/),
    );
    const k = mini('', "<cpu mode='host-passthrough'/>", 'kvm');
    assert.deepEqual(argAfter(buildQemuCommand(k, ctx({ kvmAvailable: true })).args, '-cpu'), [
      'host,migratable=on',
    ]);
  });
  it('other hypervisor types are refused', () => {
    assert.throws(() => buildQemuCommand(mini('', '', 'xen'), ctx()), unsupported(/domain type 'xen'/));
  });
});

describe('elements tvirt cannot run yet', () => {
  const cases: [string, string, RegExp][] = [
    [
      "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' slot='0' function='0'/></source></hostdev>",
      '',
      /<hostdev> of type 'pci'/,
    ],
    ["<filesystem type='mount'><source dir='/a'/><target dir='t'/></filesystem>", '', /<filesystem>/],
    ["<tpm model='tpm-crb'><backend type='emulator'/></tpm>", '', /<tpm>/],
    ['', "<numatune><memory mode='strict' nodeset='0'/></numatune>", /<numatune>/],
    ['', '<memoryBacking><hugepages/></memoryBacking>', /<memoryBacking>/],
    ['', '<iothreads>2</iothreads>', /<iothreads>/],
    [
      "<disk type='network' device='disk'><source protocol='rbd' name='pool/img'><host name='mon1'/></source><target dev='vda' bus='virtio'/></disk>",
      '',
      /<disk type='network'>/,
    ],
    [
      "<interface type='direct'><source dev='eth0' mode='bridge'/></interface>",
      '',
      /<interface type='direct'>/,
    ],
    ["<graphics type='sdl'/>", '', /<graphics type='sdl'>/],
    ["<shmem name='ivshmem0'><model type='ivshmem-plain'/></shmem>", '', /<shmem>/],
    [
      "<disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/><iotune><total_bytes_sec>1</total_bytes_sec></iotune></disk>",
      '',
      /<disk><iotune>/,
    ],
    ["<interface type='user'><filterref filter='clean-traffic'/></interface>", '', /<interface><filterref>/],
    ["<interface type='ethernet'><script path='/tmp/x.sh'/></interface>", '', /<interface><script>/],
    [
      "<disk type='file' device='disk'><driver name='qemu' type='raw' copy_on_read='on'/><source file='/a'/><target dev='vda' bus='virtio'/></disk>",
      '',
      /<disk><driver copy_on_read='on'>/,
    ],
    ['', "<features><hyperv mode='custom'><relaxed state='on'/></hyperv></features>", /<features><hyperv>/],
  ];
  for (const [dev, top, re] of cases) {
    it(re.source, () => {
      assert.throws(
        () => buildQemuCommand(mini(dev, top), ctx()),
        (e) => {
          assert.ok(unsupported(re)(e), String(e));
          assert.match((e as Error).message, /is not supported by tvirt yet/);
          return true;
        },
      );
    });
  }
  it('<os><acpi> tables are refused', () => {
    const def = mini();
    def.os.extra = { children: [{ node: { type: 'element', name: 'acpi', attrs: {}, children: [] } }] };
    assert.throws(() => buildQemuCommand(def, ctx()), unsupported(/<os><acpi>/));
  });
  it('every listed device element is refused by name', () => {
    for (const name of UNSUPPORTED_DEVICES) {
      const def = mini();
      def.devices.others.push({ type: 'element', name, attrs: {}, children: [] });
      assert.throws(() => buildQemuCommand(def, ctx()), unsupported(new RegExp(`<${name}>`)), name);
    }
    for (const name of UNSUPPORTED_TOP_LEVEL) {
      const def = mini();
      def.extra = { children: [{ node: { type: 'element', name, attrs: {}, children: [] } }] };
      assert.throws(() => buildQemuCommand(def, ctx()), unsupported(new RegExp(`<${name}>`)), name);
    }
  });
  it('network disks: nbd and http(s)', () => {
    const def = mini(
      "<disk type='network' device='disk'><driver name='qemu' type='qcow2'/><source protocol='nbd' name='exp'><host name='nbd.example.org' port='10810'/></source><target dev='vda' bus='virtio'/></disk>" +
        "<disk type='network' device='cdrom'><source protocol='https' name='isos/a b.iso'><host name='::1'/></source><target dev='hdc' bus='ide'/><readonly/></disk>" +
        "<disk type='network' device='disk'><source protocol='nbd'><host transport='unix' socket='/run/n,x.sock'/></source><target dev='vdb' bus='virtio'/></disk>",
    );
    const bd = argAfter(buildQemuCommand(def, ctx()).args, '-blockdev').map((s) => JSON.parse(s));
    assert.deepEqual(bd[0], {
      driver: 'nbd',
      server: { type: 'inet', host: 'nbd.example.org', port: '10810' },
      export: 'exp',
      'node-name': 'libvirt-3-storage',
      'auto-read-only': true,
      discard: 'unmap',
    });
    assert.equal(bd[2].url, 'https://[::1]:443/isos/a b.iso');
    assert.deepEqual(bd[3].server, { type: 'unix', path: '/run/n,x.sock' });
    const auth = mini(
      "<disk type='network' device='disk'><source protocol='http' name='x'><host name='h'/><cookies><cookie name='a'>b</cookie></cookies></source><target dev='vda' bus='virtio'/></disk>",
    );
    assert.throws(() => buildQemuCommand(auth, ctx()), unsupported(/<disk><source><cookies>/));
  });
  it('volume disks must be resolved by the caller', () => {
    const def = mini(
      "<disk type='volume' device='disk'><source pool='p' volume='v'/><target dev='vda' bus='virtio'/></disk>",
    );
    assert.throws(
      () => buildQemuCommand(def, ctx()),
      (e) => isVirError(e, 'INTERNAL_ERROR') && /pool 'p' volume 'v'/.test((e as Error).message),
    );
    const r = buildQemuCommand(
      def,
      ctx({ diskSources: [{ path: '/var/lib/p/v.img', kind: 'file', format: 'qcow2' }] }),
    );
    assert.ok(r.args.some((a) => a.includes('"filename":"/var/lib/p/v.img"')));
    assert.ok(r.args.some((a) => a.includes('"driver":"qcow2"')));
  });
  it('interfaces needing a tap must have one', () => {
    const def = mini("<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>");
    assert.throws(
      () => buildQemuCommand(def, ctx({ taps: [] })),
      (e) => isVirError(e, 'INTERNAL_ERROR'),
    );
    const r = buildQemuCommand(
      def,
      ctx({ taps: [{ fds: [23], vhost: true, vhostfds: [24] }], kvmAvailable: true }),
    );
    assert.ok(
      argAfter(r.args, '-netdev')[0]!.startsWith('{"type":"tap","fd":"23","vhost":true,"vhostfd":"24"'),
    );
  });
});

describe('escaping (no option injection)', () => {
  const evil = '/tmp/a,format=raw,file=/etc/shadow';
  it('disk path', () => {
    const def = mini(
      `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${evil}'/><target dev='vda' bus='virtio'/></disk>`,
    );
    const bd = argAfter(buildQemuCommand(def, ctx()).args, '-blockdev');
    assert.equal(bd.length, 1);
    assert.equal(JSON.parse(bd[0]!).filename, evil);
    assert.equal(JSON.parse(bd[0]!).driver, 'file');
  });
  it('chardev paths', () => {
    const def = mini(
      `<serial type='file'><source path='${evil},server=on'/></serial><channel type='unix'><source mode='bind' path='/x,mux=on'/><target type='virtio' name='a'/></channel>`,
    );
    const cd = argAfter(buildQemuCommand(def, ctx()).args, '-chardev');
    assert.ok(
      cd.includes(`file,id=charserial0,path=/tmp/a,,format=raw,,file=/etc/shadow,,server=on`),
      cd.join('\n'),
    );
    assert.ok(cd.includes('socket,id=charchannel0,path=/x,,mux=on,server=on,wait=off'));
  });
  it('domain name', () => {
    const def = mini();
    def.name = 'x,debug-threads=off,process=evil';
    assert.deepEqual(argAfter(buildQemuCommand(def, ctx()).args, '-name'), [
      'guest=x,,debug-threads=off,,process=evil,debug-threads=on',
    ]);
  });
  it('monitor path', () => {
    const r = buildQemuCommand(mini(), ctx({ monitorPath: '/run/a,server=off' }));
    assert.ok(
      argAfter(r.args, '-chardev').includes(
        'socket,id=charmonitor,path=/run/a,,server=off,server=on,wait=off',
      ),
    );
  });
  it('VNC listen address and password', () => {
    for (const addr of ['127.0.0.1,password=off', 'unix:/etc/x', '0.0.0.0:1']) {
      const def = mini(
        `<graphics type='vnc' autoport='yes'><listen type='address' address='${addr}'/></graphics>`,
      );
      assert.throws(() => buildQemuCommand(def, ctx()), unsupported(/VNC listen address/), addr);
    }
    const def = mini(`<graphics type='vnc' autoport='yes' passwd='hunter2,x' listen='::1'/>`);
    const r = buildQemuCommand(def, ctx({ vncPort: 5907 }));
    assert.deepEqual(argAfter(r.args, '-vnc'), ['[::1]:7,password=on,audiodev=audio1']);
    assert.ok(!r.args.join(' ').includes('hunter2'));
    const sock = mini(`<graphics type='vnc'><listen type='socket' socket='/run/v,x=1.sock'/></graphics>`);
    assert.deepEqual(argAfter(buildQemuCommand(sock, ctx()).args, '-vnc'), [
      'vnc=unix:/run/v,,x=1.sock,audiodev=audio1',
    ]);
  });
  it('disk serial and tcp host', () => {
    const def = mini(
      `<disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/><serial>ab,drive=x</serial></disk>`,
    );
    const dev = argAfter(buildQemuCommand(def, ctx()).args, '-device').find((d) => d.includes('virtio-blk'))!;
    assert.equal(JSON.parse(dev).serial, 'ab,drive=x');
    const tcp = mini(`<serial type='tcp'><source mode='bind' host='h,x=1' service='4555'/></serial>`);
    assert.throws(() => buildQemuCommand(tcp, ctx()), unsupported(/host/));
  });
  it('channel names cannot escape the runtime dir', () => {
    assert.throws(() => channelSocketPath('/run/x', '../../etc/passwd'), unsupported(/socket path/));
    assert.equal(channelSocketPath('/run/x', 'org.qemu.guest_agent.0'), '/run/x/org.qemu.guest_agent.0');
  });
});
