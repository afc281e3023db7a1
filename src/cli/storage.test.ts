// Storage pool and volume commands against test:///default; expected texts were checked against
// virsh 9.0 (and are compared live with virsh when it is installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runTvirt } from '../../test/support/cli.js';
import { parseVolSize, progressLine, runVolumeJob } from './commands/storage-util.js';

const dir = mkdtempSync(join(tmpdir(), 'tvirt-storage-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const volXml = join(dir, 'c.xml');
writeFileSync(volXml, '<volume><name>c</name><capacity>1048576</capacity></volume>\n');
const domXml = join(dir, 'dv.xml');
writeFileSync(
  domXml,
  `<domain type='test'><name>vm1</name><memory>1048576</memory><os><type>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/default-pool/v'/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='disk'><source file='/other/x.img'/><target dev='vdb' bus='virtio'/></disk>
<disk type='volume' device='disk'><source pool='default-pool' volume='w'/><target dev='vdc' bus='virtio'/></disk>
<disk type='file' device='cdrom'><source file='/default-pool/iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
</devices></domain>
`,
);
const poolXml = join(dir, 'p.xml');
writeFileSync(poolXml, "<pool type='dir'><name>pp</name><target><path>/ppx</path></target></pool>\n");

/** tvirt -c test:///default ARGS, in process. */
const tvirt = (...args: string[]) => runTvirt('test:///default', ...args);
const mask = (s: string) =>
  s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID');

describe('pool and volume commands print what virsh prints', () => {
  it('pool-list, pool-info, pool-dumpxml of default-pool', async () => {
    const r = await tvirt(
      'pool-list --all --details; pool-list; pool-info default-pool; pool-dumpxml default-pool',
    );
    assert.equal(
      r.out,
      ` Name           State     Autostart   Persistent   Capacity     Allocation   Available
-----------------------------------------------------------------------------------------
 default-pool   running   no          yes          100.00 GiB   0.00 B       100.00 GiB

 Name           State    Autostart
------------------------------------
 default-pool   active   no

Name:           default-pool
UUID:           dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566
State:          running
Persistent:     yes
Autostart:      no
Capacity:       100.00 GiB
Allocation:     0.00 B
Available:      100.00 GiB

<pool type='dir'>
  <name>default-pool</name>
  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
  <capacity unit='bytes'>107374182400</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>107374182400</available>
  <source>
  </source>
  <target>
    <path>/default-pool</path>
  </target>
</pool>

`,
    );
    assert.equal(r.code, 0);
  });

  it('the classic session', async () => {
    const r = await tvirt(
      'pool-define-as vmdisk --type dir --target /vm; pool-build vmdisk; pool-list --all; pool-start vmdisk; pool-autostart vmdisk; vol-create-as vmdisk a.qcow2 1G --format qcow2; vol-list vmdisk --details; vol-clone a.qcow2 b.qcow2 --pool vmdisk; vol-info b.qcow2 --pool vmdisk --bytes; vol-delete b.qcow2 --pool vmdisk; pool-destroy vmdisk; pool-undefine vmdisk',
    );
    assert.equal(r.err, '');
    assert.equal(
      r.out,
      `Pool vmdisk defined

Pool vmdisk built

 Name           State      Autostart
--------------------------------------
 default-pool   active     no
 vmdisk         inactive   no

Pool vmdisk started

Pool vmdisk marked as autostarted

Vol a.qcow2 created

 Name      Path          Type   Capacity   Allocation
-------------------------------------------------------
 a.qcow2   /vm/a.qcow2   file   1.00 GiB   1.00 GiB

Vol b.qcow2 cloned from a.qcow2

Name:           b.qcow2
Type:           file
Capacity:       1073741824 bytes
Allocation:     1073741824 bytes

Vol b.qcow2 deleted

Pool vmdisk destroyed

Pool vmdisk has been undefined

`,
    );
  });

  it('--print-xml of pool-define-as and vol-create-as', async () => {
    const r = await tvirt(
      'pool-define-as p2 netfs h1 /exp --target /mnt/x --print-xml; vol-create-as default-pool w 1G --format qcow2 --allocation 1M --print-xml',
    );
    assert.equal(
      r.out,
      `<pool type='netfs'>
  <name>p2</name>
  <source>
    <host name='h1'/>
    <dir path='/exp'/>
  </source>
  <target>
    <path>/mnt/x</path>
  </target>
</pool>

<volume>
  <name>w</name>
  <capacity>1073741824</capacity>
  <allocation>1048576</allocation>
  <target>
    <format type='qcow2'/>
  </target>
</volume>

`,
    );
  });

  it('--json for pool-list, pool-info, vol-list, vol-info', async () => {
    const r = await tvirt('--json', 'pool-list');
    assert.deepEqual(JSON.parse(r.out), [
      {
        name: 'default-pool',
        uuid: 'dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566',
        type: 'dir',
        active: true,
        persistent: true,
        autostart: false,
      },
    ]);
    const i = await tvirt('--json', 'pool-info default-pool');
    assert.equal(JSON.parse(i.out).capacity, 107374182400);
    const v = await tvirt('--json', 'vol-create-as default-pool v 1M; vol-info v --pool default-pool');
    assert.equal(JSON.parse(v.out.slice(v.out.indexOf('{'))).capacity, 1048576);
  });
});

describe('bad input: virsh error text, exit 1, nothing changed', () => {
  it('missing pool and volume', async () => {
    assert.deepEqual(await tvirt('pool-info nosuch'), {
      out: '\n',
      err: "error: failed to get pool 'nosuch'\nerror: Storage pool not found: no storage pool with matching name 'nosuch'\n",
      code: 1,
    });
    assert.deepEqual(await tvirt('vol-info nosuch'), {
      out: '\n',
      err: "error: failed to get vol 'nosuch', specifying --pool might help\nerror: Storage volume not found: no storage vol with matching path 'nosuch'\n",
      code: 1,
    });
  });
  it('an inactive pool says so', async () => {
    const r = await tvirt('pool-define-as vmdisk dir --target /vm; vol-create-as vmdisk a 1G');
    assert.equal(
      r.err,
      "error: Failed to create vol a\nerror: Requested operation is not valid: storage pool 'vmdisk' is not active\n",
    );
    assert.equal(r.code, 1);
    const l = await tvirt('pool-define-as vmdisk dir --target /vm; vol-list vmdisk');
    assert.equal(
      l.err,
      'error: Failed to list volumes\nerror: Requested operation is not valid: storage pool is not active\n',
    );
  });
  it('bad capacity units', async () => {
    const r = await tvirt('vol-create-as default-pool c 1Q; vol-list default-pool');
    assert.equal(r.err, "error: Malformed size 1Q\nerror: invalid argument: unknown suffix 'Q'\n");
    assert.equal(r.out, '\n Name   Path\n--------------\n\n'); // nothing was made
    assert.deepEqual(await tvirt('vol-create-as default-pool c abc'), {
      out: '\n',
      err: 'error: Malformed size abc\n',
      code: 1,
    });
  });
  it('volume names with / or ..', async () => {
    for (const [name, why] of [
      ['../x', "Requested operation is not valid: volume name '../x' cannot contain '/'"],
      ['a/b', "Requested operation is not valid: volume name 'a/b' cannot contain '/'"],
      ['..', "invalid argument: invalid volume name '..'"],
    ]) {
      const r = await tvirt(`vol-create-as default-pool ${name} 1M; vol-list default-pool`);
      assert.equal(r.code, 0); // the batch goes on, as virsh's; the volume is not made
      assert.equal(r.err, `error: Failed to create vol ${name}\nerror: ${why}\n`);
      assert.equal(r.out, '\n Name   Path\n--------------\n\n');
    }
  });
  it("--prealloc-metadata: libvirt's test driver takes no volume-create flags, nor does ours", async () => {
    const r = await tvirt('vol-create-as default-pool pm.qcow2 1M --format qcow2 --prealloc-metadata');
    assert.equal(
      r.err,
      'error: Failed to create vol pm.qcow2\nerror: unsupported flags (0x1) in function testStorageVolCreateXML\n',
    );
    assert.equal(r.code, 1);
  });
  it('duplicate volume, wrong state, unsupported', async () => {
    const r = await tvirt(
      'vol-create-as default-pool a 1M; vol-create-as default-pool a 1M; pool-start default-pool',
    );
    assert.equal(
      r.err,
      "error: Failed to create vol a\nerror: operation failed: storage vol already exists\nerror: Failed to start pool default-pool\nerror: Requested operation is not valid: storage pool 'default-pool' is active\n",
    );
    const u = await tvirt('vol-create-as default-pool a 1M; vol-wipe a --pool default-pool');
    assert.equal(
      u.err,
      'error: Failed to wipe vol a\nerror: this function is not supported by the connection driver: virStorageVolWipe\n',
    );
    assert.equal(u.code, 1);
  });
  it('read-only connection', async () => {
    const r = await tvirt('-r', 'pool-destroy default-pool');
    assert.equal(
      r.err,
      'error: Failed to destroy pool default-pool\nerror: operation forbidden: read only access prevents virStoragePoolDestroy\n',
    );
  });
});

describe('undefine --remove-all-storage', () => {
  it('removes the volumes of the domain after undefining it', async () => {
    const r = await tvirt(
      `vol-create-as default-pool v 1M; vol-create-as default-pool w 1M; vol-create-as default-pool iso 1M; define ${domXml}; undefine vm1 --remove-all-storage; vol-list default-pool`,
    );
    assert.equal(
      r.err,
      "error: Storage volume 'vdb'(/other/x.img) is not managed by libvirt. Remove it manually.\n\n",
    );
    assert.match(
      r.out,
      /Domain 'vm1' has been undefined\nVolume 'vda'\(\/default-pool\/v\) removed\.\nVolume 'vdc'\(w\) removed\.\nVolume 'hdc'\(\/default-pool\/iso\) removed\.\n\n Name {3}Path\n--------------\n\n$/,
    );
  });
  it('a --storage name that is not a disk stops before anything is undefined', async () => {
    const r = await tvirt(`define ${domXml}; undefine vm1 --storage vdz; list --all --name`);
    assert.equal(r.err, "error: Volume 'vdz' was not found in domain's definition.\n\n");
    assert.match(r.out, /vm1/);
  });
});

describe('pool-edit', () => {
  it('redefines through $VISUAL; a running pool keeps its live definition (as virsh)', async () => {
    const saved = process.env.VISUAL;
    process.env.VISUAL = 'sed -i s#/default-pool#/dp2#';
    try {
      const batch = 'pool-edit default-pool; pool-destroy default-pool; pool-dumpxml default-pool';
      const r = await tvirt(batch);
      assert.equal(r.err, '');
      assert.match(
        r.out,
        /^Pool default-pool XML configuration edited\.\n\nPool default-pool destroyed\n\n<pool type='dir'>[\s\S]*<path>\/default-pool<\/path>/,
      );
      if (hasVirsh)
        assert.equal(
          r.out,
          spawnSync('virsh', ['-c', 'test:///default', batch], { encoding: 'utf8' }).stdout,
        );
      process.env.VISUAL = 'true';
      assert.equal(
        (await tvirt('pool-edit default-pool')).out,
        'Pool default-pool XML configuration not changed.\n\n',
      );
    } finally {
      if (saved === undefined) delete process.env.VISUAL;
      else process.env.VISUAL = saved;
    }
  });
});

describe('pool-event', () => {
  it('prints the lifecycle events of another connection, then the count', async () => {
    const waiting = tvirt('pool-event --event lifecycle --loop --timeout 1 --pool default-pool');
    await new Promise((r) => setTimeout(r, 100));
    const other = await tvirt(
      'pool-destroy default-pool; pool-start default-pool; pool-define-as x dir --target /x',
    );
    assert.equal(other.err, '');
    const r = await waiting;
    assert.equal(
      r.out,
      "event 'lifecycle' for storage pool default-pool: Stopped\nevent 'lifecycle' for storage pool default-pool: Started\nevent loop timed out\nevents received: 2\n\n",
    );
    assert.equal(r.code, 1, 'a wait ended by its timeout fails, as in virsh');
    const once = tvirt('pool-event --event lifecycle --timestamp');
    await new Promise((r) => setTimeout(r, 100));
    await tvirt('pool-define-as y dir --target /y');
    assert.match(
      (await once).out,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: event 'lifecycle' for storage pool y: Defined\nevents received: 1\n\n$/,
    );
  });
});

describe('completion of pool names', () => {
  it('after pool commands and --pool', async () => {
    const r = await tvirt(
      'complete "tvirt vol-list d"; complete "tvirt vol-info x --pool "; complete "tvirt pool-info --bytes "',
    );
    assert.equal(r.out, 'default-pool\n\ndefault-pool\n\ndefault-pool\n\n');
  });
});

describe('storage CLI helpers', () => {
  it('parseVolSize as virshVolSize', () => {
    assert.equal(parseVolSize('1G'), 1024 ** 3);
    assert.equal(parseVolSize('10MB'), 10_000_000);
    assert.equal(parseVolSize('512'), 512);
    assert.throws(() => parseVolSize('-1'), /Malformed size -1/);
  });
  it('a progress bar on a terminal, quiet otherwise', async () => {
    assert.equal(
      progressLine('Cloning a', 512 * 1024 ** 2, 1024 ** 3),
      `Cloning a [${'#'.repeat(15)}${' '.repeat(15)}]  50 % 512.00 MiB of 1.00 GiB`,
    );
    let shown = '';
    const term = { isTTY: true, write: (t: string) => (shown += t) };
    const v = await runVolumeJob(
      'Copy',
      async (job) => {
        job.progress?.(1, 2);
        job.progress?.(2, 2);
        return 42;
      },
      term,
    );
    assert.equal(v, 42);
    assert.match(shown, /\rCopy \[#+ *\] {2}50 %.*\rCopy \[#+\] 100 % 2\.00 B of 2\.00 B\n$/s);
    let quiet = '';
    await runVolumeJob('Copy', async (job) => job.progress?.(1, 2), {
      isTTY: false,
      write: (t) => (quiet += t),
    });
    assert.equal(quiet, '');
  });
  it('Ctrl+C aborts the job signal', async () => {
    const r = runVolumeJob(
      'Copy',
      (job) => {
        setImmediate(() => process.emit('SIGINT'));
        return new Promise((_, reject) =>
          job.signal!.addEventListener('abort', () => reject(new Error('cancelled'))),
        );
      },
      { isTTY: false, write: () => {} },
    );
    await assert.rejects(r, /cancelled/);
  });
});

// Live comparison with the real virsh, when it is installed.
const hasVirsh = spawnSync('virsh', ['--version']).status === 0;
describe('same output as virsh -c test:///default', {
  skip: hasVirsh ? false : 'virsh is not installed',
}, () => {
  const batches = [
    'pool-list --all --details; pool-list; pool-info default-pool; pool-dumpxml default-pool; vol-list default-pool; vol-list default-pool --details',
    'pool-define-as vmdisk --type dir --target /vm; pool-build vmdisk; pool-list --all; pool-list --all --details; pool-start vmdisk; pool-autostart vmdisk; pool-autostart vmdisk --disable; pool-info vmdisk; vol-create-as vmdisk a.qcow2 1G --format qcow2; vol-list vmdisk; vol-list vmdisk --details; vol-info a.qcow2 --pool vmdisk; vol-info --pool vmdisk a.qcow2 --bytes; vol-dumpxml --pool vmdisk a.qcow2; vol-clone a.qcow2 b.qcow2 --pool vmdisk; vol-path --pool vmdisk b.qcow2; vol-key --pool vmdisk b.qcow2; vol-name /vm/b.qcow2; vol-pool /vm/b.qcow2; vol-pool --uuid /vm/b.qcow2; vol-delete --pool vmdisk b.qcow2; vol-wipe --pool vmdisk a.qcow2; vol-resize --pool vmdisk a.qcow2 2G; pool-refresh vmdisk; pool-destroy vmdisk; pool-delete vmdisk; pool-undefine vmdisk; pool-name dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566; pool-uuid default-pool',
    'pool-define-as vmdisk --type dir --target /vm; vol-list vmdisk; vol-create-as vmdisk a 1G; pool-info nosuch; pool-start default-pool; pool-destroy vmdisk; pool-delete default-pool; pool-undefine nosuch; pool-start vmdisk; vol-create-as vmdisk a.qcow2 1G --format qcow2; vol-create-as vmdisk a.qcow2 1G --format qcow2; vol-create-as vmdisk c 1Q; vol-create-as vmdisk c abc; vol-info nosuch --pool vmdisk; vol-info /nosuch; vol-info nosuch; pool-info vmdisk; pool-list --all --details; pool-delete vmdisk; pool-undefine vmdisk; pool-list --all',
    'pool-define-as vmdisk dir --target /vm --print-xml; pool-define-as p2 netfs h1 /exp - - /mnt/x --print-xml; pool-define-as p3 logical --source-dev /dev/sdb --source-name vg0 --target /dev/vg0 --print-xml; pool-define-as p4 fs --source-dev /dev/sdc --source-format ext4 --target /mnt/p4 --print-xml; pool-create-as tp dir --target /tp; pool-list --all --details; pool-list --transient; pool-list --persistent --name; pool-list --uuid; pool-list --type dir; pool-list --autostart; pool-list --no-autostart --all; pool-list --inactive; pool-dumpxml tp; pool-info tp --bytes; vol-create-as tp v 10M --allocation 1M --print-xml; vol-create-as tp v 10M --allocation 1M; vol-create-as tp w 1G --format qcow2 --backing-vol v --backing-vol-format raw --print-xml; vol-list tp --details',
    `pool-create-as tp dir --target /tp; vol-create-as tp v 10M; vol-create-from tp ${volXml} v; vol-create-from tp ${volXml} v --inputpool default-pool; vol-create tp ${volXml}; vol-list tp; vol-upload v ${volXml} --pool tp; vol-download v ${join(dir, 'dl')} --pool tp; pool-build tp; pool-create-as tp dir --target /tp2; pool-define-as default-pool dir --target /x; pool-define-as x dir --target /default-pool; vol-delete nosuch --pool tp; vol-clone v v --pool tp; pool-destroy tp; pool-list --all; pool-start nosuch; pool-capabilities`,
    'pool-define-as vmdisk --type dir --target /vm; pool-info vmdisk; pool-dumpxml vmdisk; pool-start vmdisk; vol-create-as vmdisk a 1G; pool-destroy vmdisk; pool-start vmdisk; vol-list vmdisk --details; pool-info vmdisk; pool-create-as tp dir --target /tp; pool-autostart tp; vol-create-as vmdisk big 200G; pool-destroy vmdisk; pool-delete vmdisk; pool-undefine vmdisk; pool-dumpxml --inactive default-pool; pool-info dfe224cb-28fb-8dd0-c4b2-64eb3f0f4567; pool-refresh nosuch; pool-build default-pool --overwrite --no-overwrite; vol-pool nosuch',
    `pool-define ${poolXml}; pool-create ${poolXml}; pool-undefine pp; pool-create ${poolXml}; vol-create-as default-pool v 1M; vol-create-from default-pool ${volXml} v --inputpool default-pool; vol-info /default-pool/v; vol-pool v; vol-name /default-pool/v; vol-key v --pool default-pool; vol-info v --pool pp; vol-list default-pool; pool-list --details --all --type dir,fs; pool-list --type foo`,
    'pool-list --uuid --details',
    'vol-create-as default-pool w 1G --backing-vol nosuch; vol-create-as default-pool v 1M; vol-create-as default-pool w 1G --backing-vol /default-pool/v --format qcow2 --print-xml; vol-create-as nosuch v 1M',
    'pool-define-as p netfs --source-host h1:2049 --source-path /e --target /m --source-format nfs --source-protocol-ver 4 --print-xml; pool-define-as p iscsi --source-host h --source-dev iqn.x --source-path /d --source-initiator iqn.i --target /dev/disk/by-path --auth-type chap --auth-username u --secret-usage s --source-format f --source-name n --adapter-name host0 --source-protocol-ver 4 --print-xml',
    'pool-define-as p scsi --adapter-wwnn 1 --adapter-wwpn 2 --adapter-parent scsi_host1 --target /dev --print-xml; pool-define-as p rbd --source-host mon --source-name rbdpool --auth-type ceph --auth-username admin --secret-uuid 2ec115d7-3a88-3ceb-bc12-0ac909a6fd87 --print-xml; pool-define-as p dir --secret-usage a --secret-uuid b --target /x --print-xml',
    'pool-event --timeout 1; pool-event --list; pool-event --event foo; pool-event --event lifecycle --timeout 1; help pool-event',
    'vol-create-as default-pool v 1M; vol-info --pool default-pool v --physical; vol-info --pool default-pool v --bytes',
    'pool-create-as x dir; pool-define-as x foo --target /x; vol-create-as default-pool v 1M --format foo; pool-name default-pool; pool-name dfe224cb-28fb-8dd0-c4b2-64eb3f0f4567; pool-uuid dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566',
    'pool-define-as x dir --target /x; vol-info v --pool x',
    'pool-define-as x --target /x; vol-create-as default-pool v; pool-start; vol-list nosuch; vol-create-as default-pool v 1M; vol-resize v -1M --pool default-pool; vol-wipe v --pool default-pool --algorithm foo; pool-autostart nosuch',
    'vol-create-as default-pool v 1M; vol-key /default-pool/v; vol-path /default-pool/v; vol-name /default-pool/v; vol-info /default-pool/v --pool default-pool; vol-delete /default-pool/v; pool-destroy default-pool; vol-list default-pool; vol-info /default-pool/x',
    'vol-create-as default-pool a 1M; vol-clone a b --pool default-pool --print-xml; vol-create-as default-pool q 1G --format qcow2; vol-clone q r --pool default-pool --print-xml',
    `vol-create-as default-pool v 1M; vol-create-as default-pool w 1M; vol-create-as default-pool iso 1M; define ${domXml}; undefine vm1 --remove-all-storage; vol-list default-pool`,
    `vol-create-as default-pool v 1M; vol-create-as default-pool w 1M; define ${domXml}; undefine vm1 --storage vda,/other/x.img,vdz; vol-list default-pool`,
    `define ${domXml}; undefine vm1 --storage vda --remove-all-storage; undefine vm1 --wipe-storage; vol-create-as default-pool v 1M; undefine vm1 --storage vda; vol-list default-pool; list --all`,
    'vol-upload x y --offset abc; vol-download x y --length -1',
    'pool-list --name --uuid',
    'vol-create-as default-pool v -1',
    'vol-create-as default-pool v 1M --allocation 2M; vol-info v --pool default-pool',
    'help pool-list; help vol-create-as; help pool-define-as; help vol-upload; help vol-download',
    'connect test:///default --readonly; pool-destroy default-pool; vol-create-as default-pool a 1M; pool-refresh default-pool',
  ];
  for (const b of batches) {
    it(b, async () => {
      const v = spawnSync('virsh', ['-c', 'test:///default', b], { encoding: 'utf8' });
      const t = await tvirt(b);
      assert.equal(mask(t.out), mask(v.stdout));
      assert.equal(mask(t.err), mask(v.stderr));
      assert.equal(t.code, v.status);
    });
  }
});
