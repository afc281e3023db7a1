// Helpers shared by command handlers: domain lookup with virsh's message, file reading, common options.
import { readFileSync } from 'node:fs';
import type { DomainSummary } from '../../drivers/connection.js';
import { errnoText, isVirError } from '../../util/errors.js';
import { CliError, type CmdContext, type OptDef } from '../command.js';

/** The usual first option: `[--domain] <string>`. */
export const domainOpt = (help = 'domain name, id or uuid'): OptDef => ({
  name: 'domain',
  type: 'data',
  required: true,
  help,
  complete: 'domain',
});

/** --config/--live/--current, as many modifying commands take them. */
export const modifyOpts = (config = 'affect next boot', live = 'affect running domain'): OptDef[] => [
  { name: 'config', type: 'bool', help: config },
  { name: 'live', type: 'bool', help: live },
  { name: 'current', type: 'bool', help: 'affect current domain' },
];

/** How a domain argument may be matched (virsh's VIRSH_BYID | VIRSH_BYUUID | VIRSH_BYNAME). */
export interface LookupBy {
  id?: boolean;
  uuid?: boolean;
  name?: boolean;
}
const anyWay: LookupBy = { id: true, uuid: true, name: true };

/**
 * Resolves the domain option like virsh (id, uuid, name, as `by` allows); a domain that cannot be
 * found, or only in a way `by` excludes, gives virsh's "failed to get domain".
 */
export async function lookupDomain(
  ctx: CmdContext,
  opt = 'domain',
  by: LookupBy = anyWay,
): Promise<DomainSummary> {
  const ref = ctx.req(opt);
  const conn = await ctx.conn();
  const missing = () => new CliError(`failed to get domain '${ref}'`);
  let dom: DomainSummary;
  try {
    dom = await conn.domainLookup(ref);
  } catch (e) {
    if (isVirError(e, 'NO_DOMAIN')) throw missing();
    throw e;
  }
  const matched =
    (by.id && dom.id !== null && ref === String(dom.id)) ||
    (by.uuid && ref.toLowerCase() === dom.uuid) ||
    (by.name && ref === dom.name);
  if (!matched) throw missing();
  return dom;
}

/**
 * The domain option when the daemon's own resolution (id, then UUID, then name) is sure to pick
 * the domain lookupDomain() would accept: a canonical id, a canonical UUID, or a name. A command
 * may then pass it straight to its call (one round trip instead of two) and map NO_DOMAIN with
 * domainMissing(). Undefined for other forms (leading zeros, UUIDs without their dashes ...),
 * which keep the lookup first.
 */
export function directDomainRef(ctx: CmdContext, opt = 'domain'): string | undefined {
  const ref = ctx.req(opt);
  if (/^\d+$/.test(ref)) return String(Number(ref)) === ref ? ref : undefined;
  if (/^[0-9a-f]{32}$/i.test(ref.replace(/-/g, '')))
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref) ? ref : undefined;
  return ref;
}

/** A NO_DOMAIN error from a call made with directDomainRef()'s ref as lookupDomain() reports it. */
export function domainMissing(ref: string, e: unknown): unknown {
  return isVirError(e, 'NO_DOMAIN') ? new CliError(`failed to get domain '${ref}'`) : e;
}

/** Reads a file given on the command line, with virsh's message when it cannot. */
export async function readUserFile(path: string): Promise<string> {
  try {
    // Read in place: four thread-pool round trips cost more than the read of a small file.
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`Failed to open file '${path}': ${errnoText(e)}`);
  }
}

/** Mutually exclusive --current with --live/--config, then the flags for the driver. */
export function modifyFlags(ctx: CmdContext): { config?: boolean; live?: boolean; current?: boolean } {
  if (ctx.flag('current') && ctx.flag('live')) {
    throw new CliError('Options --current and --live are mutually exclusive');
  }
  if (ctx.flag('current') && ctx.flag('config')) {
    throw new CliError('Options --current and --config are mutually exclusive');
  }
  const f: { config?: boolean; live?: boolean; current?: boolean } = {};
  if (ctx.flag('config')) f.config = true;
  if (ctx.flag('live')) f.live = true;
  if (!f.config && !f.live) f.current = true;
  return f;
}

/**
 * `--validate`: checks `xml` against libvirt's schema names for `kind` (src/conf/schema.ts, loaded
 * only when asked). @throws VirError XML_INVALID_SCHEMA naming what the schema does not allow.
 */
export async function validateIfAsked(
  ctx: CmdContext,
  kind: 'domain' | 'network' | 'storagepool' | 'storagevol',
  xml: string,
): Promise<void> {
  if (ctx.flag('validate')) (await import('../../conf/schema.js')).validateSchema(kind, xml);
}
