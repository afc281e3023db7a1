// Helpers of the storage commands: pool and volume lookup with virsh's messages (virshCommandOptPool,
// virshCommandOptVol), sizes (virshVolSize), and long volume jobs with a progress bar and Ctrl+C.
import type { StorageJobOptions, StoragePoolSummary, StorageVolSummary } from '../../drivers/connection.js';
import { isVirError } from '../../util/errors.js';
import { formatBytesHuman, unitScale } from '../../util/units.js';
import { CliError, type CmdContext, type OptDef, errorText } from '../command.js';

/** `[--pool] <string>` as the first option. */
export const poolOpt = (help = 'pool name or uuid'): OptDef => ({
  name: 'pool',
  type: 'data',
  required: true,
  help,
  complete: 'pool',
});

/** `[--vol] <string>` then `--pool <string>` (named only), as most vol-* commands take them. */
export const volOpts = (help = 'vol name, key or path'): OptDef[] => [
  { name: 'vol', type: 'data', required: true, help },
  { name: 'pool', type: 'string', namedOnly: true, help: 'pool name or uuid', complete: 'pool' },
];

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/**
 * Resolves a pool option like virsh (UUID, then name, as `by` allows): "failed to get pool 'X'"
 * followed by the driver's message.
 */
export async function lookupPool(
  ctx: CmdContext,
  opt = 'pool',
  by: { uuid?: boolean; name?: boolean } = { uuid: true, name: true },
): Promise<StoragePoolSummary> {
  const ref = ctx.req(opt);
  return lookupPoolRef(ctx, ref, by);
}

export async function lookupPoolRef(
  ctx: CmdContext,
  ref: string,
  by: { uuid?: boolean; name?: boolean } = { uuid: true, name: true },
): Promise<StoragePoolSummary> {
  const conn = await ctx.conn();
  // By UUID only, a word that is no UUID is not looked up at all (virshCommandOptPoolBy).
  if (!by.name && !UUID_RE.test(ref)) throw new CliError(`failed to get pool '${ref}'`);
  let pool: StoragePoolSummary;
  try {
    pool = await conn.storagePoolLookup(ref);
  } catch (e) {
    if (!by.name && isVirError(e, 'NO_STORAGE_POOL'))
      throw new CliError(
        `failed to get pool '${ref}'`,
        `Storage pool not found: no storage pool with matching uuid '${ref}'`,
      );
    throw new CliError(`failed to get pool '${ref}'`, errorText(e));
  }
  const matched =
    (by.uuid && UUID_RE.test(ref) && ref.toLowerCase().replace(/-/g, '') === pool.uuid.replace(/-/g, '')) ||
    (by.name && ref === pool.name);
  if (!matched)
    throw new CliError(
      `failed to get pool '${ref}'`,
      `Storage pool not found: no storage pool with matching ${by.uuid ? 'uuid' : 'name'} '${ref}'`,
    );
  return pool;
}

/**
 * Resolves a volume as virsh's virshCommandOptVolBy: by name in the pool of `poolOpt` (when
 * given), then by key, then by path. The last lookup's error is printed under "failed to get vol".
 */
export async function lookupVol(
  ctx: CmdContext,
  volOpt = 'vol',
  poolOptName: string | null = 'pool',
  byName = true,
): Promise<StorageVolSummary> {
  const ref = ctx.req(volOpt);
  const poolRef = poolOptName ? ctx.str(poolOptName) : undefined;
  const conn = await ctx.conn();
  const pool = poolRef !== undefined ? await lookupPoolRef(ctx, poolRef) : undefined;
  if (pool && !pool.active) throw new CliError(`pool '${poolRef}' is not active`);
  let last: unknown;
  const attempts: (() => Promise<StorageVolSummary>)[] = [];
  if (pool && byName) attempts.push(() => conn.storageVolLookupByName(pool.name, ref));
  attempts.push(() => conn.storageVolLookupByKey(ref));
  attempts.push(() => conn.storageVolLookupByPath(ref));
  for (const a of attempts) {
    try {
      const vol = await a();
      if (pool && vol.pool !== pool.name)
        throw new CliError(`Requested volume '${ref}' is not in pool '${pool.name}'`);
      return vol;
    } catch (e) {
      if (e instanceof CliError) throw e;
      last = e;
    }
  }
  const head =
    pool || !poolOptName
      ? `failed to get vol '${ref}'`
      : `failed to get vol '${ref}', specifying --${poolOptName} might help`;
  throw new CliError(head, errorText(last));
}

/**
 * A size as virsh's virshVolSize: digits and an optional unit (bytes by default).
 * @throws CliError "Malformed size X" (with the unit error on a second line).
 */
export function parseVolSize(text: string): number {
  const m = /^(\d+)(.*)$/.exec(text);
  if (!m) throw new CliError(`Malformed size ${text}`);
  let scale: number;
  try {
    scale = m[2] === '' ? 1 : unitScale(m[2], 1);
  } catch {
    throw new CliError(`Malformed size ${text}`, `invalid argument: unknown suffix '${m[2]}'`);
  }
  const n = Number(m[1]) * scale;
  if (!Number.isSafeInteger(n)) throw new CliError(`Malformed size ${text}`);
  return n;
}

/** Escapes text for XML attribute values and element text. */
export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;');
}

/** One progress line: `[ 42 %] 430.00 MiB of 1.00 GiB`. */
export function progressLine(label: string, processed: number, total: number): string {
  const pct = total > 0 ? Math.min(100, Math.floor((processed * 100) / total)) : 0;
  const width = 30;
  const filled = Math.round((pct * width) / 100);
  return `${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(pct).padStart(3)} % ${formatBytesHuman(processed)} of ${formatBytesHuman(total)}`;
}

export interface JobTerminal {
  isTTY: boolean;
  write(text: string): void;
}

const stderrTerminal: JobTerminal = {
  get isTTY() {
    return Boolean(process.stderr.isTTY);
  },
  write: (t) => {
    process.stderr.write(t);
  },
};

/**
 * Runs a long volume operation: on a terminal a progress bar (bytes and percent) on stderr, and
 * Ctrl+C cancels the job (the driver removes what it started); without a terminal it runs quietly.
 */
export async function runVolumeJob<T>(
  label: string,
  work: (job: StorageJobOptions) => Promise<T>,
  term: JobTerminal = stderrTerminal,
): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    if (term.isTTY) term.write('\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let shown = false;
  let lastDraw = 0;
  const job: StorageJobOptions = {
    signal: controller.signal,
    progress: (processed, total) => {
      if (!term.isTTY) return;
      const now = Date.now();
      if (now - lastDraw < 100 && processed < total) return;
      lastDraw = now;
      shown = true;
      term.write(`\r${progressLine(label, processed, total)}`);
    },
  };
  try {
    return await work(job);
  } finally {
    process.off('SIGINT', onSigint);
    if (shown && !controller.signal.aborted) term.write('\n');
  }
}
