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
  cpuPinning,
  defaultChannelPath,
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

describe('issue #3: accepted elements are honoured or refused, never dropped', () => {
  const fileDisk = (src: string) =>
    `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/a.qcow2'>${src}</source><target dev='vda' bus='virtio'/></disk>`;
  it('local disk <source> children: encryption, slices, reservations are refused by name', () => {
    const cases: [string, RegExp][] = [
      [
        "<encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption>",
        /<disk><source><encryption format='luks'> \(disk vda: encrypted images need the secret driver\)/,
      ],
      [
        "<slices><slice type='storage' offset='512' size='1024'/></slices>",
        /<disk><source><slices> \(disk vda\)/,
      ],
      ["<reservations managed='yes'/>", /<disk><source><reservations> \(disk vda: .*qemu-pr-helper/],
      ["<seclabel model='selinux' relabel='yes'/>", /<disk><source><seclabel>/],
    ];
    for (const [src, re] of cases)
      assert.throws(() => buildQemuCommand(mini(fileDisk(src)), ctx()), unsupported(re));
    const block = mini(
      "<disk type='block' device='disk'><source dev='/dev/sdz'><encryption format='luks'/></source><target dev='vda' bus='virtio'/></disk>",
    );
    assert.throws(() => buildQemuCommand(block, ctx()), unsupported(/<encryption format='luks'>/));
    // Nothing is relabelled anyway: relabel='no' asks for exactly that.
    buildQemuCommand(mini(fileDisk("<seclabel model='dac' relabel='no'/>")), ctx());
  });
  it("<timer name='tsc' frequency='N'/> is tsc-frequency=N on -cpu; other timer knobs are refused", () => {
    const r = buildQemuCommand(
      mini('', "<clock offset='utc'><timer name='tsc' frequency='2500000000'/></clock>"),
      ctx(),
    );
    assert.deepEqual(argAfter(r.args, '-cpu'), ['qemu64,tsc-frequency=2500000000']);
    const k = mini(
      '',
      "<cpu mode='host-passthrough'/><clock offset='utc'><timer name='kvmclock' present='yes'/><timer name='tsc' frequency='1000'/></clock>",
      'kvm',
    );
    assert.deepEqual(argAfter(buildQemuCommand(k, ctx({ kvmAvailable: true })).args, '-cpu'), [
      'host,migratable=on,kvmclock=on,tsc-frequency=1000',
    ]);
    for (const [t, re] of [
      ["<timer name='tsc' frequency='fast'/>", /frequency='fast'/],
      ["<timer name='tsc' mode='native'/>", /<timer name='tsc' mode='native'>/],
      ["<timer name='rtc' frequency='5'/>", /<timer name='rtc' frequency='5'>/],
      ["<timer name='rtc' tickpolicy='catchup'><catchup threshold='1'/></timer>", /<timer><catchup>/],
    ] as const)
      assert.throws(
        () => buildQemuCommand(mini('', `<clock offset='utc'>${t}</clock>`), ctx()),
        unsupported(re),
        t,
      );
  });
  it('<cputune>: vcpupin, emulatorpin and <vcpu cpuset> become a pinning plan; cgroup knobs are refused', () => {
    const top = (x: string, vcpu = "<vcpu cpuset='0-1,^1,3'>3</vcpu>") => `${vcpu}<cputune>${x}</cputune>`;
    const def = mini('', top("<vcpupin vcpu='1' cpuset='2'/><emulatorpin cpuset='0-1'/>"));
    buildQemuCommand(def, ctx());
    assert.deepEqual(cpuPinning(def), { vcpus: ['0,3', '2', '0,3'], emulator: '0-1' });
    // Without emulatorpin the emulator threads follow <vcpu cpuset>, as in libvirt.
    assert.deepEqual(cpuPinning(mini('', "<vcpu cpuset='1'>2</vcpu>")), { vcpus: ['1', '1'], emulator: '1' });
    assert.equal(cpuPinning(mini('', '<vcpu>2</vcpu>')), undefined);
    for (const [x, re] of [
      ['<shares>2048</shares>', /<cputune><shares>/],
      ['<period>1000000</period><quota>-1</quota>', /<cputune><period>/],
      ['<emulator_period>1000</emulator_period>', /<cputune><emulator_period>/],
      ["<vcpusched vcpus='0' scheduler='fifo' priority='1'/>", /<cputune><vcpusched>/],
      ["<vcpupin vcpu='3' cpuset='1'/>", /vcpupin vcpu='3'> names no vCPU/],
      ["<vcpupin vcpu='0' cpuset='x'/>", /invalid <vcpupin vcpu='0'> cpuset 'x'/],
    ] as const)
      assert.throws(() => buildQemuCommand(mini('', top(x)), ctx()), unsupported(re), x);
    assert.throws(
      () => buildQemuCommand(mini('', "<vcpu placement='auto'>1</vcpu>"), ctx()),
      unsupported(/<vcpu placement='auto'>/),
    );
  });
  it('<memtune>, <blkiotune>, <numatune> are refused (no cgroups, no NUMA policy)', () => {
    for (const [top, re] of [
      ['<memtune><hard_limit>1048576</hard_limit></memtune>', /<memtune>/],
      ['<blkiotune><weight>800</weight></blkiotune>', /<blkiotune>/],
      ["<numatune><memory mode='strict' nodeset='0'/></numatune>", /<numatune>/],
    ] as const)
      assert.throws(() => buildQemuCommand(mini('', top), ctx()), unsupported(re), top);
  });
  it('<seclabel>: none and a default dynamic label are accepted; labels that promise confinement are refused', () => {
    for (const ok of [
      "<seclabel type='none'/>",
      "<seclabel type='none' model='selinux'/>",
      "<seclabel type='dynamic' relabel='yes'/>",
      "<seclabel type='dynamic' model='none'/>",
    ])
      buildQemuCommand(mini('', ok), ctx());
    for (const [bad, re] of [
      [
        "<seclabel type='dynamic' model='selinux' relabel='yes'/>",
        /<seclabel type='dynamic' model='selinux'>.*no 'selinux' security driver/,
      ],
      [
        "<seclabel type='static' model='selinux' relabel='no'><label>system_u:system_r:svirt_t:s0:c1</label></seclabel>",
        /<seclabel type='static' model='selinux'>/,
      ],
      [
        "<seclabel type='dynamic'><baselabel>system_u:system_r:svirt_custom_t:s0</baselabel></seclabel>",
        /<baselabel>/,
      ],
      ["<seclabel type='dynamic' model='apparmor'/>", /apparmor/],
    ] as const)
      assert.throws(() => buildQemuCommand(mini('', bad), ctx()), unsupported(re), bad);
  });
  it('<perf> events that are enabled are refused', () => {
    buildQemuCommand(mini('', "<perf><event name='cmt' enabled='no'/></perf>"), ctx());
    assert.throws(
      () => buildQemuCommand(mini('', "<perf><event name='cmt' enabled='yes'/></perf>"), ctx()),
      unsupported(/<perf><event name='cmt' enabled='yes'>/),
    );
  });
  it("<driver queues='N'> needs a virtio NIC with a tap backend (libvirt's wording); other driver knobs are refused", () => {
    const nic = (x: string, type = 'bridge') =>
      mini(`<interface type='${type}'><source bridge='br0'/>${x}</interface>`);
    assert.throws(
      () => buildQemuCommand(nic("<model type='e1000'/><driver queues='4'/>"), ctx()),
      unsupported(/multiqueue network is only supported for virtio/),
    );
    assert.throws(
      () => buildQemuCommand(nic("<model type='virtio'/><driver queues='2'/>", 'user'), ctx()),
      unsupported(/multiqueue network is not supported for: user/),
    );
    const ok = buildQemuCommand(nic("<model type='virtio'/><driver queues='2'/>"), ctx());
    assert.ok(argAfter(ok.args, '-device').some((d) => d.includes('"mq":true')));
    buildQemuCommand(nic("<model type='e1000'/><driver queues='1'/>"), ctx());
    assert.throws(
      () => buildQemuCommand(nic("<model type='virtio'/><driver txmode='iothread'/>"), ctx()),
      unsupported(/<interface><driver txmode='iothread'>/),
    );
    assert.throws(
      () => buildQemuCommand(nic("<model type='virtio'/><driver><host csum='off'/></driver>"), ctx()),
      unsupported(/<interface><driver><host>/),
    );
  });
  it('on_reboot destroy and preserve both keep QEMU from resetting (-no-reboot); restart does not', () => {
    for (const [a, want] of [
      ['destroy', true],
      ['preserve', true],
      ['restart', false],
    ] as const) {
      const r = buildQemuCommand(mini('', `<on_reboot>${a}</on_reboot>`), ctx());
      assert.equal(r.args.includes('-no-reboot'), want, a);
    }
  });
  it('link state and balloon stats period need no argv (set over QMP after the start)', () => {
    const def = mini(
      "<interface type='user'><model type='virtio'/><link state='down'/></interface><memballoon model='virtio'><stats period='5'/></memballoon>",
    );
    const r = buildQemuCommand(def, ctx());
    assert.ok(argAfter(r.args, '-device').some((d) => d.includes('"id":"net0"')));
    assert.ok(argAfter(r.args, '-device').some((d) => d.includes('"id":"balloon0"')));
  });
  it('an agent channel without a path listens in the runtime dir (the live XML shows that path)', () => {
    const def = mini(
      "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel><channel type='unix'><target type='virtio'/></channel>",
    );
    assert.equal(defaultChannelPath('/run/x', def, 0), '/run/x/org.qemu.guest_agent.0');
    assert.equal(defaultChannelPath('/run/x', def, 1), '/run/x/vioser-00-00-02.sock');
    const cd = argAfter(buildQemuCommand(def, ctx({ runtimeDir: '/run/x' })).args, '-chardev');
    assert.ok(
      cd.includes('socket,id=charchannel0,path=/run/x/org.qemu.guest_agent.0,server=on,wait=off'),
      cd.join('\n'),
    );
  });
});
