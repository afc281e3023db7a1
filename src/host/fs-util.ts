// File-system helpers for the daemon: directories with modes, autostart symlinks, tolerant reads.
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, symlink, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDir } from './atomic-file.js';

function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}

/** mkdir -p; the last component gets `mode` exactly (umask does not apply), parents get 0o755. */
export async function mkdirp(path: string, mode = 0o755): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o755 });
  await chmod(path, mode);
}

/** The file's text, or undefined when it does not exist. */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** Entries of a directory, or [] when the directory does not exist. */
export async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
}

/** Removes a file; true when it existed. */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
}

/** rm -rf */
export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** True when something (a file, dir, dangling symlink) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
}

/** Makes `link` a symlink to `target` (replacing whatever link is there), like libvirt's autostart links. */
export async function ensureSymlink(target: string, link: string): Promise<void> {
  try {
    if ((await readlink(link)) === target) return;
    await unlink(link);
  } catch (e) {
    if (!isErrno(e, 'ENOENT') && !isErrno(e, 'EINVAL')) throw e;
    if (isErrno(e, 'EINVAL')) await unlink(link);
  }
  await mkdir(dirname(link), { recursive: true, mode: 0o755 });
  await symlink(target, link);
  await syncDir(dirname(link));
}

/** Mode bits (permissions) of a path, or undefined if missing. */
export async function fileMode(path: string): Promise<number | undefined> {
  try {
    return (await lstat(path)).mode & 0o7777;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

export { isErrno };
