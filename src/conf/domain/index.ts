// Public API of the domain XML layer: parse (+ post-parse + validate), format, assign defaults, and the types.
import type { DomainDef } from './domain-def.js';
import { parseDomainXml } from './domain.js';
import { domainPostParse, type RandomSource } from './postparse.js';
import { domainValidate } from './validate.js';

export type * from './domain-def.js';
export type { RandomSource } from './postparse.js';
export { formatDomain } from './domain.js';
export { domainAssignDefaults, type AssignDefaultsOpts } from './defaults.js';
export { hasFeature } from './features.js';
export { parseBitmap, formatBitmap } from './bitmap.js';
export { diskNameToIndex } from './defaults.js';
export { addressKey, fmtPci } from './address.js';
export { domainPostParse } from './postparse.js';
export { domainValidate } from './validate.js';

/**
 * Parses domain XML: document -> DomainDef, then libvirt's generic post-parse (uuid and MACs when
 * missing, legacy graphics listen folding, controller indexes, console compat, video primary,
 * boot dev 'hd' by default, ...) and validation. Pure: no I/O; randomness comes from `opts.random`.
 * Everything not modeled is kept in `extra` fields and written back in place by formatDomain.
 * After this call every interface has a MAC and every controller an index >= 0.
 * @param opts.random randomness for generated UUIDs and MACs (tests pass fixed sources).
 * @throws VirError XML_ERROR for malformed or invalid XML, CONFIG_UNSUPPORTED for unknown enum values.
 */
export function parseDomain(xml: string, opts: { random?: RandomSource } = {}): DomainDef {
  const def = parseDomainXml(xml);
  domainPostParse(def, opts.random);
  domainValidate(def);
  return def;
}
