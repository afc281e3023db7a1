// Pure clone planning: names, uuids, MACs, disk paths, kept disks, warnings, option errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDomain, parseDomain } from '../../conf/domain/index.js';
import { isVirError } from '../../util/errors.js';
import {
  AUTOPORT_WARNING,
  type ClonePlanEnv,
  generateCloneDiskPath,
  generateCloneName,
  planClone,
} from './clone-plan.js';
import { checkDeleteAllowed, checkStartAllowed, linkedBasesOf, linkedClonesOf } from './linked.js';

const XML = `<domain type='kvm'>
  <name>vm1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <title>golden image</title>
  <memory>262144</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type><nvram>/var/lib/tvirt/nvram/vm1_VARS.fd</nvram></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/images/vm1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/images/data.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/iso/debian.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/images/shared.img'/>
      <target dev='vdc' bus='virtio'/>
      <shareable/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:01'/>
      <source network='default'/>
      <target dev='vnet7'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:02'/>
      <source network='default'/>
    </interface>
    <graphics type='vnc' port='5901' autoport='no'/>
    <serial type='pty'><log file='/var/log/tvirt/vm1.serial' append='on'/><target port='0'/></serial>
    <serial type='file'><source path='/var/log/vm1-extra.log'/><target port='1'/></serial>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/tvirt/qemu/channel/target/vm1.org.qemu.guest_agent.0'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
  </devices>
</domain>`;

function env(over: Partial<ClonePlanEnv> & { paths?: string[] } = {}): ClonePlanEnv {
  const paths = new Set(
    over.paths ?? ['/images/vm1.qcow2', '/images/data.img', '/iso/debian.iso', '/images/shared.img'],
  );
  let n = 0;
  return {
    domainNames: new Set(['vm1']),
    pathExists: (p) => paths.has(p),
    usedMacs: new Set(),
    uuid: () => `00000000-0000-0000-0000-${String(++n).padStart(12, '0')}`,
    ...over,
  };
}

function throwsCode(fn: () => unknown, code: string, re?: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isVirError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

describe('generateCloneName', () => {
  it('NAME-clone, then NAME-clone1, NAME-clone2', () => {
    assert.equal(
      generateCloneName('vm', () => false),
      'vm-clone',
    );
    const taken = new Set(['vm-clone']);
    assert.equal(
      generateCloneName('vm', (n) => taken.has(n)),
      'vm-clone1',
    );
    taken.add('vm-clone1');
    assert.equal(
      generateCloneName('vm', (n) => taken.has(n)),
      'vm-clone2',
    );
  });
  it('a clone of a clone counts on instead of nesting', () => {
    assert.equal(
      generateCloneName('vm-clone', () => false),
      'vm-clone1',
    );
    assert.equal(
      generateCloneName('vm-clone3', () => false),
      'vm-clone4',
    );
  });
});

describe('generateCloneDiskPath', () => {
  it('a file named after the domain takes the clone name; others get -clone; taken ones -1, -2', () => {
    const none = () => false;
    assert.equal(generateCloneDiskPath('vm1', 'vm2', '/i/vm1.qcow2', none), '/i/vm2.qcow2');
    assert.equal(generateCloneDiskPath('vm1', 'vm2', '/i/data.img', none), '/i/data-clone.img');
    assert.equal(generateCloneDiskPath('vm1', 'vm2', '/i/disk', none), '/i/disk-clone');
    assert.equal(
      generateCloneDiskPath('vm1', 'vm2', '/i/vm1.longextension', none),
      '/i/vm1.longextension-clone',
    );
    const taken = new Set(['/i/vm2.qcow2', '/i/vm2-1.qcow2']);
    assert.equal(
      generateCloneDiskPath('vm1', 'vm2', '/i/vm1.qcow2', (p) => taken.has(p)),
      '/i/vm2-2.qcow2',
    );
    assert.equal(generateCloneDiskPath('vm1', 'vm2', '/i/vm1.img', none, '.qcow2'), '/i/vm2.qcow2');
  });
});

describe('planClone', () => {
  const orig = parseDomain(XML);

  it('auto clone: name, uuid, MACs, graphics, channel, title, disks, nvram path (no file: nothing to copy)', () => {
    const p = planClone(orig, {}, env());
    assert.equal(p.def.name, 'vm1-clone');
    assert.equal(p.def.uuid, '00000000-0000-0000-0000-000000000001');
    assert.equal(p.def.title, undefined);
    const macs = p.def.devices.interfaces.map((i) => i.mac);
    assert.equal(new Set(macs).size, 2);
    for (const m of macs) {
      assert.match(m, /^52:54:00:/);
      assert.ok(!['52:54:00:aa:bb:01', '52:54:00:aa:bb:02'].includes(m));
    }
    assert.equal(p.def.devices.interfaces[0]!.targetDev, undefined);
    assert.equal(p.def.devices.graphics[0]!.port, undefined);
    assert.equal(p.def.devices.graphics[0]!.autoport, true);
    assert.deepEqual(p.warnings, [AUTOPORT_WARNING]);
    assert.equal(p.def.devices.channels[0]!.source.path, undefined);
    assert.equal(p.def.devices.serials[0]!.source.logFile, '/var/log/tvirt/vm1-clone.serial');
    assert.equal(p.def.devices.serials[1]!.source.path, '/var/log/vm1-clone-extra.log');
    assert.deepEqual(
      p.actions.map((a) => [a.target, a.kind, a.source.path, a.dest.path, a.dest.format]),
      [
        ['vda', 'copy', '/images/vm1.qcow2', '/images/vm1-clone.qcow2', 'qcow2'],
        ['vdb', 'copy', '/images/data.img', '/images/data-clone.img', 'raw'],
      ],
    );
    assert.deepEqual(p.kept, [
      { target: 'sda', reason: 'Read Only' },
      { target: 'vdc', reason: 'Marked as shareable' },
    ]);
    assert.equal(p.def.os.nvram?.path, '/var/lib/tvirt/nvram/vm1-clone_VARS.fd');
    const xml = formatDomain(p.def);
    assert.match(xml, /<source file='\/images\/vm1-clone.qcow2'\/>/);
    assert.match(xml, /<source file='\/iso\/debian.iso'\/>/);
    assert.doesNotMatch(xml, /vm1.qcow2'/);
    // the original is untouched
    assert.equal(orig.devices.graphics[0]!.port, 5901);
    assert.equal(orig.devices.interfaces[0]!.mac, '52:54:00:aa:bb:01');
  });

  it('nvram is copied when the file exists', () => {
    const p = planClone(
      orig,
      { name: 'vm2' },
      env({ paths: ['/images/vm1.qcow2', '/images/data.img', '/var/lib/tvirt/nvram/vm1_VARS.fd'] }),
    );
    const nv = p.actions.find((a) => a.target === 'nvram');
    assert.equal(nv?.dest.path, '/var/lib/tvirt/nvram/vm2_VARS.fd');
  });

  it('names and files skip what exists', () => {
    const p = planClone(
      orig,
      { name: 'vm2' },
      env({
        domainNames: new Set(['vm1', 'vm1-clone']),
        paths: ['/images/vm1.qcow2', '/images/data.img', '/images/vm2.qcow2', '/images/data-clone.img'],
      }),
    );
    assert.deepEqual(
      p.actions.map((a) => a.dest.path),
      ['/images/vm2-1.qcow2', '/images/data-clone-1.img'],
    );
    const q = planClone(orig, {}, env({ domainNames: new Set(['vm1', 'vm1-clone', 'vm1-clone1']) }));
    assert.equal(q.def.name, 'vm1-clone2');
  });

  it('-u and --mac', () => {
    const p = planClone(
      orig,
      { uuid: 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE', macs: ['52:54:00:00:00:09'] },
      env(),
    );
    assert.equal(p.def.uuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
    assert.equal(p.def.devices.interfaces[0]!.mac, '52:54:00:00:00:09');
    assert.match(p.def.devices.interfaces[1]!.mac, /^52:54:00:/);
    const r = planClone(orig, { macs: ['RANDOM'] }, env());
    assert.equal(r.def.devices.interfaces.length, 2);
    throwsCode(() => planClone(orig, { macs: ['a', 'b', 'c'] }, env()), 'INVALID_ARG', /3 --mac/);
    throwsCode(() => planClone(orig, { macs: ['zz'] }, env()), 'INVALID_MAC');
    throwsCode(
      () => planClone(orig, { macs: ['52:54:00:aa:bb:02'] }, env()),
      'INVALID_ARG',
      /in use by another virtual machine.*mac_in_use=off/,
    );
    const ok = planClone(orig, { macs: ['52:54:00:aa:bb:02'], check: { mac_in_use: false } }, env());
    assert.equal(ok.def.devices.interfaces[0]!.mac, '52:54:00:aa:bb:02');
    throwsCode(() => planClone(orig, { uuid: orig.uuid }, env()), 'INVALID_ARG');
  });

  it('generated MACs avoid MACs used by other domains', () => {
    let i = 0;
    const seq = [
      [1, 2, 3],
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ];
    const p = planClone(
      orig,
      {},
      env({ usedMacs: new Set(['52:54:00:01:02:03']), random: () => Uint8Array.from(seq[i++]!) }),
    );
    assert.deepEqual(
      p.def.devices.interfaces.map((x) => x.mac),
      ['52:54:00:04:05:06', '52:54:00:07:08:09'],
    );
  });

  it('-f: one per disk to clone, in order; count mismatches and existing files are errors', () => {
    const p = planClone(orig, { name: 'vm2', files: ['/new/a.qcow2', '/new/b.img'] }, env());
    assert.deepEqual(
      p.actions.map((a) => a.dest.path),
      ['/new/a.qcow2', '/new/b.img'],
    );
    // fewer: the rest is generated (virt-clone with --auto-clone)
    const q = planClone(orig, { name: 'vm2', files: ['/new/a.qcow2'] }, env());
    assert.deepEqual(
      q.actions.map((a) => a.dest.path),
      ['/new/a.qcow2', '/images/data-clone.img'],
    );
    throwsCode(
      () => planClone(orig, { name: 'vm2', files: ['/a', '/b', '/c'] }, env()),
      'INVALID_ARG',
      /3 --file paths given but the original has 2 disk\(s\) to clone \(vda, vdb\)/,
    );
    throwsCode(
      () => planClone(orig, { name: 'vm2', files: ['/images/data.img'] }, env()),
      'INVALID_ARG',
      /This will overwrite the existing path '\/images\/data.img' \(Use --check path_exists=off/,
    );
    throwsCode(
      () => planClone(orig, { name: 'vm2', files: ['/x', '/x'] }, env()),
      'INVALID_ARG',
      /two disks/,
    );
    throwsCode(() => planClone(orig, { name: 'vm2', files: ['rel.img'] }, env()), 'INVALID_ARG', /absolute/);
    throwsCode(
      () =>
        planClone(
          orig,
          { name: 'vm2', files: ['/other/disk.img'] },
          env({ pathsInUse: new Map([['/other/disk.img', ['other']]]) }),
        ),
      'INVALID_ARG',
      /Disk \/other\/disk.img is already in use by other guests 'other'\. \(Use --check path_in_use=off/,
    );
    const w = planClone(
      orig,
      { name: 'vm2', files: ['/images/data.img'], check: { path_exists: false } },
      env(),
    );
    assert.equal(w.actions[0]!.overwrite, true);
    assert.match(w.warnings.join('\n'), /overwrite the existing path/);
  });

  it('--skip-copy keeps a disk; an unknown target is an error', () => {
    const p = planClone(orig, { skipCopy: ['vdb'] }, env());
    assert.deepEqual(
      p.actions.map((a) => a.target),
      ['vda'],
    );
    assert.equal(p.def.devices.disks[1]!.source?.file, '/images/data.img');
    assert.ok(p.kept.some((k) => k.target === 'vdb'));
    throwsCode(() => planClone(orig, { skipCopy: ['vdz'] }, env()), 'INVALID_ARG', /vdz/);
  });

  it('--preserve-data uses existing files as they are', () => {
    const paths = ['/images/vm1.qcow2', '/images/data.img', '/keep/a', '/keep/b'];
    const p = planClone(
      orig,
      { name: 'vm2', preserveData: true, files: ['/keep/a', '/keep/b'] },
      env({ paths }),
    );
    assert.equal(p.actions.length, 0);
    assert.equal(p.def.devices.disks[0]!.source?.file, '/keep/a');
    throwsCode(
      () => planClone(orig, { name: 'vm2', preserveData: true, files: ['/keep/a'] }, env({ paths })),
      'INVALID_ARG',
      /every disk/,
    );
    throwsCode(
      () => planClone(orig, { name: 'vm2', preserveData: true, files: ['/keep/a', '/nope'] }, env({ paths })),
      'INVALID_ARG',
      /does not exist/,
    );
  });

  it('--nonsparse and --reflink reach the actions', () => {
    const p = planClone(orig, { nonsparse: true, reflink: true }, env());
    assert.ok(p.actions.every((a) => !a.sparse && a.reflink));
  });

  it('name errors: taken (unless --replace), the original, empty', () => {
    const e = env({ domainNames: new Set(['vm1', 'vm2']) });
    throwsCode(() => planClone(orig, { name: 'vm2' }, e), 'DOM_EXIST', /already in use/);
    assert.equal(planClone(orig, { name: 'vm2', replace: true }, e).replaces, 'vm2');
    throwsCode(() => planClone(orig, { name: 'vm1' }, e), 'DOM_EXIST');
    throwsCode(() => planClone(orig, { name: ' ' }, e), 'INVALID_ARG');
  });

  it('a missing source file or a network disk cannot be cloned', () => {
    throwsCode(
      () => planClone(orig, {}, env({ paths: ['/images/data.img'] })),
      'OPERATION_INVALID',
      /Disk path '\/images\/vm1.qcow2' does not exist/,
    );
    const net = parseDomain(
      `<domain type='kvm'><name>n</name><memory>1024</memory><os><type>hvm</type></os><devices>
      <disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd' name='x'><host name='h' port='10809'/></source><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`,
    );
    throwsCode(() => planClone(net, {}, env()), 'OPERATION_INVALID', /not cloneable.*--skip-copy vda/);
    assert.equal(planClone(net, { skipCopy: ['vda'] }, env()).actions.length, 0);
  });

  it('pool volumes stay volumes in the same pool', () => {
    const vol = parseDomain(
      `<domain type='kvm'><name>v1</name><memory>1024</memory><os><type>hvm</type></os><devices>
      <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='p' volume='v1.qcow2'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`,
    );
    const p = planClone(
      vol,
      { name: 'v2' },
      env({
        volumeExists: (pool, n) => pool === 'p' && (n === 'v1.qcow2' || n === 'v2.qcow2'),
        volumePath: (pool, n) => `/pools/${pool}/${n}`,
      }),
    );
    assert.deepEqual(p.actions[0]!.source, {
      path: '/pools/p/v1.qcow2',
      format: 'qcow2',
      pool: 'p',
      volume: 'v1.qcow2',
    });
    assert.deepEqual(p.actions[0]!.dest, {
      path: '/pools/p/v2-1.qcow2',
      pool: 'p',
      volume: 'v2-1.qcow2',
      format: 'qcow2',
    });
    assert.match(formatDomain(p.def), /<source pool='p' volume='v2-1.qcow2'\/>/);
  });

  it('--linked: qcow2 overlays recorded in metadata; the bases are protected', () => {
    const p = planClone(orig, { name: 'vm2', linked: true }, env());
    assert.deepEqual(
      p.actions.map((a) => [a.kind, a.dest.path, a.dest.format]),
      [
        ['overlay', '/images/vm2.qcow2', 'qcow2'],
        ['overlay', '/images/data-clone.qcow2', 'qcow2'],
      ],
    );
    assert.equal(p.def.devices.disks[1]!.driver?.type, 'qcow2');
    // survives a format/parse round trip
    const back = parseDomain(formatDomain(p.def));
    assert.deepEqual(linkedBasesOf(back), [
      { target: 'vda', base: '/images/vm1.qcow2', format: 'qcow2', original: 'vm1' },
      { target: 'vdb', base: '/images/data.img', format: 'raw', original: 'vm1' },
    ]);
    assert.deepEqual(linkedClonesOf('/images/vm1.qcow2', [orig, back]), ['vm2']);
    assert.deepEqual(linkedClonesOf('/images/other', [orig, back]), []);
    throwsCode(() => checkStartAllowed(orig, [orig, back]), 'OPERATION_INVALID', /linked clone\(s\) vm2/);
    checkStartAllowed(back, [orig, back]);
    throwsCode(() => checkDeleteAllowed('/images/data.img', [orig, back]), 'OPERATION_INVALID', /vm2/);
    checkDeleteAllowed('/iso/debian.iso', [orig, back]);
    throwsCode(
      () => planClone(orig, { name: 'vm2', linked: true, preserveData: true, files: ['/a', '/b'] }, env()),
      'INVALID_ARG',
    );
  });
});
