// Storage forwarding: gives a whole-Connection class (test driver, daemon guard, host composite,
// remote client) the StorageConnection methods by calling another StorageConnection, in one line.
import type { StorageConnection } from './connection.js';

/** Every method of StorageConnection (a compile-time check below keeps the list complete). */
export const storageMethods = [
  'storagePoolGetCapabilities',
  'listStoragePools',
  'storagePoolLookup',
  'storagePoolLookupByVolume',
  'storagePoolDefineXML',
  'storagePoolCreateXML',
  'storagePoolBuild',
  'storagePoolCreate',
  'storagePoolDestroy',
  'storagePoolDelete',
  'storagePoolUndefine',
  'storagePoolSetAutostart',
  'storagePoolRefresh',
  'storagePoolGetInfo',
  'storagePoolGetXMLDesc',
  'listStorageVols',
  'storageVolLookupByName',
  'storageVolLookupByPath',
  'storageVolLookupByKey',
  'storageVolCreateXML',
  'storageVolCreateXMLFrom',
  'storageVolDelete',
  'storageVolWipe',
  'storageVolResize',
  'storageVolGetInfo',
  'storageVolGetXMLDesc',
  'storageVolGetPath',
  'storageVolUpload',
  'storageVolDownload',
] as const satisfies readonly (keyof StorageConnection)[];

type Missing = Exclude<keyof StorageConnection, (typeof storageMethods)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

/**
 * Defines the StorageConnection methods on `cls.prototype`, each calling the same method of
 * `target(this)` (looked up on every call, so the target may be created lazily). Methods the
 * class defines itself are kept. Pair it with an interface merge so TypeScript sees them:
 * `interface MyConn extends StorageConnection {}` next to `class MyConn`.
 */
export function forwardStorage<T extends object>(
  cls: { prototype: T },
  target: (self: T) => StorageConnection,
): void {
  for (const m of storageMethods) {
    if (Object.hasOwn(cls.prototype, m)) continue;
    Object.defineProperty(cls.prototype, m, {
      configurable: true,
      writable: true,
      value(this: T, ...args: unknown[]) {
        const t = target(this) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return t[m]!(...args);
      },
    });
  }
}

/** A StorageConnection that answers every call with NO_SUPPORT (a connection without storage). */
export function noStorage(uri: string, make: (message: string) => Error): StorageConnection {
  const obj: Record<string, () => Promise<never>> = {};
  for (const m of storageMethods)
    obj[m] = () =>
      Promise.reject(
        make(`this function is not supported by the connection driver: ${m} (${uri} has no storage)`),
      );
  return obj as unknown as StorageConnection;
}
