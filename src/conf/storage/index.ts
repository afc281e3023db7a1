// Public entry of the storage XML layer: pools (parsePool/formatPool) and volumes (parseVolume/formatVolume).
export { formatPerms, parsePerms, sanitizePath, type StoragePerms } from './perms.js';
export * from './pool-def.js';
export { type ParsePoolOptions, formatPool, parsePool, poolHasTarget } from './pool.js';
export { validateAdapter } from './pool-source.js';
export {
  formatVolume,
  type ParseVolumeOptions,
  parseVolume,
  type VolumeDef,
  type VolumeTarget,
  type VolumeType,
  volumeFeatures,
} from './volume.js';
