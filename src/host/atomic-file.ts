// Atomic file replacement: temp file in the same directory, write, fsync, rename, fsync the directory.
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o600; configuration may hold secrets). */
  mode?: number;
  /** Skip the fsyncs (tests, scratch files). Default false. */
  noSync?: boolean;
}

/**
 * Replaces `path` with `data` so that a reader (or a crash at any moment) sees either the whole old
 * file or the whole new one, never a partial write. The temp file lives next to the target so the
 * final rename stays within one file system.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    // open() applies the umask; set the requested mode exactly.
    await fh.chmod(mode);
    if (!options.noSync) await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  if (!options.noSync) await syncDir(dir);
}

/** fsync a directory so a rename or unlink in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
