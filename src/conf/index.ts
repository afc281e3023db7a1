// tvirt/conf: libvirt's domain, network, storage pool and volume XML as typed definitions.
// parse -> post-parse defaults -> validate -> format; nothing unknown is lost on a round trip.
export * from './domain/index.js';
export * from './network/index.js';
export * from './storage/index.js';
export { ErrorCodes, type ErrorCode, type ErrorDomain, isVirError, VirError } from '../util/errors.js';
