// The host side of cloning: files copied sparse-aware (holes stay holes, reflink where possible),
// qcow2 overlays made with qemu-img, and pool volumes through the storage driver when there is one.
import { pathExists, removeIfExists, listDir } from '../../host/fs-util.js';
import { processRunner, type Runner } from '../../host/run.js';
import { copyVolumeFile, reflinkCopy, rename, statFile } from '../../host/storage-file.js';
import { VirError } from '../../util/errors.js';
import type { StorageApi } from '../storage/storage-api.js';
import { parseImageInfo, qemuImgInfoCommand } from '../storage/qemu-img.js';
import type { CloneHost, CloneJob } from './clone.js';
import type { CloneDiskAction } from './clone-plan.js';

export interface LocalCloneHostOptions {
  runner?: Runner;
  qemuImg?: string;
  /** The storage driver, for disks that are pool volumes. */
  storage?: Pick<
    StorageApi,
    'listStorageVols' | 'storageVolCreateXMLFrom' | 'storageVolCreateXML' | 'storageVolDelete'
  >;
}

/** `qemu-img create -f qcow2 -F FMT -b BASE DEST`: an overlay whose size is the base's. */
export function overlayCommand(base: string, baseFormat: string, dest: string, program = 'qemu-img') {
  return { program, args: ['create', '-q', '-f', 'qcow2', '-F', baseFormat, '-b', base, dest] };
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

function sig(job: CloneJob): { signal?: AbortSignal } {
  return job.signal ? { signal: job.signal } : {};
}

function jobOf(job: CloneJob): { signal?: AbortSignal; progress: (n: number) => void } {
  return { ...sig(job), progress: (n) => job.progress?.(n) };
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Clone host over local files (and the storage driver's volumes). */
export function localCloneHost(opts: LocalCloneHostOptions = {}): CloneHost {
  const runner = opts.runner ?? processRunner;
  const qemuImg = opts.qemuImg ?? 'qemu-img';
  const formatOf = async (a: CloneDiskAction): Promise<string> => {
    if (a.source.format) return a.source.format;
    const r = await runner.run(qemuImgInfoCommand(a.source.path, qemuImg));
    return parseImageInfo(r.stdout).format;
  };
  const host: CloneHost = {
    exists: (p) => pathExists(p),
    list: (d) => listDir(d),
    async size(p) {
      return (await statFile(p)).size;
    },
    async copy(a, to, job) {
      if (a.reflink) {
        // --reflink: a copy-on-write copy or nothing (virt-clone runs cp --reflink=always).
        if (!(await reflinkCopy(a.source.path, to, jobOf(job))))
          throw new VirError(
            'OPERATION_UNSUPPORTED',
            `Operation not supported: reflink is not supported by the file system of '${dirOf(to)}'`,
            { domain: 'STORAGE' },
          );
        return;
      }
      await copyVolumeFile(runner, a.source.path, to, jobOf(job));
      if (!a.sparse) {
        // --nonsparse: allocate every block (fallocate keeps the data, fills the holes).
        const size = (await statFile(to)).size;
        if (size > 0) await runner.run({ program: 'fallocate', args: ['-l', String(size), to] }, sig(job));
      }
    },
    async overlay(a, to, job) {
      await runner.run(overlayCommand(a.source.path, await formatOf(a), to, qemuImg), sig(job));
    },
    async publish(tmp, final, overwrite) {
      if (!overwrite && (await pathExists(final)))
        throw new VirError('STORAGE_VOL_EXIST', `storage volume '${final}' exists already`, {
          domain: 'STORAGE',
        });
      await rename(tmp, final);
    },
    async remove(p) {
      await removeIfExists(p);
    },
  };
  const st = opts.storage;
  if (st) {
    const jobOpts = (job: CloneJob) => ({
      ...(job.signal ? { signal: job.signal } : {}),
      progress: (n: number) => job.progress?.(n),
    });
    host.volumes = {
      async list(pool) {
        return (await st.listStorageVols(pool)).map((v) => ({ name: v.name, path: v.path }));
      },
      async size(pool, name) {
        const v = (await st.listStorageVols(pool)).find((x) => x.name === name);
        return v ? (v.physical ?? v.allocation) : 0;
      },
      async copy(a, job) {
        const fmt = a.dest.format ? `<target><format type='${xmlEscape(a.dest.format)}'/></target>` : '';
        const alloc = a.sparse ? '<allocation>0</allocation>' : '';
        await st.storageVolCreateXMLFrom(
          a.dest.pool!,
          `<volume><name>${xmlEscape(a.dest.volume!)}</name><capacity>0</capacity>${alloc}${fmt}</volume>`,
          { pool: a.source.pool!, name: a.source.volume! },
          // --reflink: a copy-on-write clone or a failure, as for files.
          a.reflink ? { reflink: true } : {},
          jobOpts(job),
        );
      },
      async overlay(a, job) {
        const base = await formatOf(a);
        const size = (await st.listStorageVols(a.source.pool!)).find(
          (v) => v.name === a.source.volume,
        )?.capacity;
        await st.storageVolCreateXML(
          a.dest.pool!,
          `<volume><name>${xmlEscape(a.dest.volume!)}</name><capacity>${size ?? 0}</capacity>` +
            `<target><format type='qcow2'/></target><backingStore><path>${xmlEscape(a.source.path)}</path>` +
            `<format type='${xmlEscape(base)}'/></backingStore></volume>`,
          {},
          jobOpts(job),
        );
      },
      async remove(pool, name) {
        await st.storageVolDelete({ pool, name });
      },
    };
  }
  return host;
}
