// Storage: vol clone of a 1 GiB qcow2 holding ~200 MiB next to `qemu-img convert` and `cp --sparse=always`
// of the same file, and vol-create of a 100 GiB qcow2 (time inside the driver). Goals: clone within
// 1.1x of the faster tool; create under 50 ms.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore } from '../src/daemon/config-store.js';
import { StorageDriver } from '../src/drivers/storage/storage-driver.js';
import { fmt, has, type Stats, stats } from './harness.js';

if (!has('qemu-img')) {
  console.log('bench/storage: skipped, qemu-img not installed');
  process.exit(0);
}
const rounds = Number(process.env.ROUNDS ?? 7);
const base = process.env.TVIRT_BENCH_DIR ?? tmpdir();
const root = await mkdtemp(join(base, 'tvirt-bench-storage-'));
try {
  const images = join(root, 'images');
  const drv = new StorageDriver({
    store: new ConfigStore({
      dir: join(root, 'etc'),
      autostartDir: join(root, 'etc', 'autostart'),
      noSync: true,
    }),
  });
  await drv.storagePoolDefineXML(
    `<pool type='dir'><name>bench</name><target><path>${images}</path></target></pool>`,
  );
  await drv.storagePoolBuild('bench');
  await drv.storagePoolCreate('bench');

  // A 1 GiB raw with 200 MiB of random data in 4 MiB extents spread over the disk, converted to qcow2.
  const raw = join(root, 'seed.raw');
  const fh = await open(raw, 'w');
  await fh.truncate(1 << 30);
  for (let i = 0; i < 50; i++) await fh.write(randomBytes(4 << 20), 0, 4 << 20, i * (20 << 20));
  await fh.close();
  const src = join(images, 'src.qcow2');
  spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, src], { stdio: 'inherit' });
  const srcRaw = join(images, 'src.img');
  spawnSync('cp', ['--sparse=always', raw, srcRaw]);
  await unlink(raw);
  await drv.storagePoolRefresh('bench');
  const s = await stat(src);
  console.log(
    `source: 1 GiB qcow2, file ${(s.size / 2 ** 20).toFixed(0)} MiB, allocated ${((s.blocks * 512) / 2 ** 20).toFixed(0)} MiB (on ${base})`,
  );

  // The three contenders run interleaved (round-robin, rotating order) so that load from the rest
  // of the machine falls on all of them alike.
  const dst = join(root, 'dst.qcow2');
  const rmDst = () => rm(dst, { force: true });
  const run = (p: string, a: string[]) => async () => {
    const r = spawnSync(p, a, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${p} failed`);
  };
  let method = '';
  const contenders: {
    name: string;
    fn: () => Promise<unknown>;
    cleanup: () => Promise<unknown>;
    samples: number[];
  }[] = [
    {
      name: 'convert',
      fn: run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'qcow2', src, dst]),
      cleanup: rmDst,
      samples: [],
    },
    { name: 'cp', fn: run('cp', ['--sparse=always', src, dst]), cleanup: rmDst, samples: [] },
    {
      name: 'clone',
      fn: async () => {
        const v = await drv.storageVolCreateXMLFrom(
          'bench',
          "<volume><name>clone.qcow2</name><capacity>0</capacity><target><format type='qcow2'/></target></volume>",
          { pool: 'bench', name: 'src.qcow2' },
        );
        method = `${((await stat(v.path)).blocks * 512) / 2 ** 20} MiB allocated`;
      },
      cleanup: () => drv.storageVolDelete({ pool: 'bench', name: 'clone.qcow2' }),
      samples: [],
    },
  ];
  for (let i = 0; i < rounds + 1; i++) {
    for (let k = 0; k < 3; k++) {
      const c = contenders[(i + k) % 3]!;
      spawnSync('sync');
      const t0 = process.hrtime.bigint();
      await c.fn();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i > 0) c.samples.push(ms);
      await c.cleanup();
    }
  }
  // The same data as a sparse 1 GiB raw volume: holes make up 80% of it.
  const dstRaw = join(root, 'dst.img');
  contenders.push(
    {
      name: 'cp raw',
      fn: run('cp', ['--sparse=always', srcRaw, dstRaw]),
      cleanup: () => rm(dstRaw, { force: true }),
      samples: [],
    },
    {
      name: 'clone raw',
      fn: () =>
        drv.storageVolCreateXMLFrom(
          'bench',
          "<volume><name>clone.img</name><capacity>0</capacity><target><format type='raw'/></target></volume>",
          { pool: 'bench', name: 'src.img' },
        ),
      cleanup: () => drv.storageVolDelete({ pool: 'bench', name: 'clone.img' }),
      samples: [],
    },
  );
  for (let i = 0; i < rounds + 1; i++) {
    for (let k = 3; k < contenders.length; k++) {
      const c = contenders[3 + ((i + k) % 2)]!;
      const t0 = process.hrtime.bigint();
      await c.fn();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i > 0) c.samples.push(ms);
      await c.cleanup();
    }
  }
  const [convert, cp, clone, cpRaw, cloneRaw] = contenders.map((c) => stats(c.samples)) as Stats[] as [
    Stats,
    Stats,
    Stats,
    Stats,
    Stats,
  ];
  const time = async (fn: () => unknown, cleanup: () => Promise<unknown>): Promise<Stats> => {
    const samples: number[] = [];
    for (let i = 0; i < rounds + 1; i++) {
      const t0 = process.hrtime.bigint();
      await fn();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i > 0) samples.push(ms);
      await cleanup();
    }
    return stats(samples);
  };
  const best = Math.min(convert.median, cp.median);
  console.log(`qemu-img convert       ${fmt(convert)}`);
  console.log(`cp --sparse=always     ${fmt(cp)}`);
  console.log(`vol clone (driver)     ${fmt(clone)}  [clone ${method}]`);
  console.log(`clone / faster tool:   ${(clone.median / best).toFixed(2)}x (goal <= 1.1x)`);
  console.log(
    `raw 1 GiB (200 MiB data): cp --sparse=always ${fmt(cpRaw)}; vol clone ${fmt(cloneRaw)}; ratio ${(cloneRaw.median / cpRaw.median).toFixed(2)}x`,
  );

  const create = await time(
    () =>
      drv.storageVolCreateXML(
        'bench',
        "<volume><name>big.qcow2</name><capacity unit='G'>100</capacity><allocation>0</allocation><target><format type='qcow2'/></target></volume>",
      ),
    () => drv.storageVolDelete({ pool: 'bench', name: 'big.qcow2' }),
  );
  console.log(`vol-create 100 GiB qcow2 (driver time)  ${fmt(create)} (goal < 50 ms)`);
} finally {
  await rm(root, { recursive: true, force: true });
}
