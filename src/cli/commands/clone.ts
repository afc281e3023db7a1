// `tvirt clone` (and the tvirt-clone program): virt-clone's options, checks, messages and progress
// meter over Connection.domainClone; Ctrl+C cancels the clone job, which leaves nothing behind.
import { readFile } from 'node:fs/promises';
import type { CloneResult, Connection, DomainCloneOptions } from '../../drivers/connection.js';
import { isVirError } from '../../util/errors.js';
import { CloneMeter } from '../clone-meter.js';
import { CliError, type CommandGroup, type OptDef, errorText } from '../command.js';

/** virt-clone's options as the CLI collects them. */
export interface CloneCliOptions {
  original?: string;
  originalXml?: string;
  name?: string;
  autoClone?: boolean;
  files?: string[];
  macs?: string[];
  uuid?: string;
  reflink?: boolean;
  skipCopy?: string[];
  preserveData?: boolean;
  nonsparse?: boolean;
  nvram?: string;
  printXml?: boolean;
  replace?: boolean;
  /** --check values, e.g. 'path_exists=off' or 'all=off,mac_in_use=on'. */
  check?: string[];
  linked?: boolean;
  start?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

export interface CloneIo {
  /** Standard output (progress lines, the XML, the success message). */
  out(text: string): void;
  /** Warnings and debug lines. */
  err(text: string): void;
  /** A terminal: draw live progress lines. */
  live: boolean;
  width: number;
}

/** Parses --check values: NAME=on|off (comma lists allowed). */
export function parseChecks(values: string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const v of values)
    for (const part of v.split(',')) {
      if (!part) continue;
      const m = /^([a-z_]+)=(on|off|yes|no|true|false|1|0)$/i.exec(part);
      if (!m)
        throw new CliError(
          `Unknown --check value '${part}': expected NAME=on|off (path_exists, path_in_use, mac_in_use, all)`,
        );
      out[m[1]!.toLowerCase()] = /^(on|yes|true|1)$/i.test(m[2]!);
    }
  return out;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/**
 * Runs one clone as virt-clone does: checks the options, plans (dry run) to print warnings and lay
 * out the meter, then clones with progress; Ctrl+C (SIGINT) cancels.
 * @throws CliError with virt-clone's messages.
 */
export async function runClone(conn: Connection, o: CloneCliOptions, io: CloneIo): Promise<CloneResult> {
  // --linked makes overlays beside the originals, named after the clone, when no -f is given.
  if (o.files === undefined && !o.autoClone && !o.linked)
    throw new CliError(
      "Either --auto-clone or --file is required, use '--auto-clone or --file' and try again.",
    );
  if (!o.original && !o.originalXml)
    throw new CliError("An original machine name is required, use '--original src_name' and try again.");
  if (!o.name && !o.autoClone)
    throw new CliError(
      "A name is required for the new virtual machine, use '--name NEW_VM_NAME' to specify one.",
    );
  const opts: DomainCloneOptions = {};
  if (o.originalXml) {
    try {
      opts.originalXml = await readFile(o.originalXml, 'utf8');
    } catch (e) {
      throw new CliError(`Cannot read --original-xml '${o.originalXml}': ${errorText(e)}`);
    }
  }
  if (o.name) opts.name = o.name;
  if (o.files?.length) opts.files = o.files;
  if (o.macs?.length) opts.macs = o.macs;
  if (o.uuid) opts.uuid = o.uuid;
  if (o.skipCopy?.length) opts.skipCopy = o.skipCopy;
  if (o.nvram) opts.nvram = o.nvram;
  if (o.check?.length) opts.check = parseChecks(o.check);
  for (const k of ['reflink', 'preserveData', 'nonsparse', 'replace', 'linked', 'start'] as const)
    if (o[k]) opts[k] = true;
  const ref = o.original ?? '';
  const say = (t: string) => {
    if (!o.quiet) io.out(t);
  };

  let plan: CloneResult;
  try {
    plan = await conn.domainClone(ref, { ...opts, dryRun: true });
  } catch (e) {
    throw new CliError(errorText(e));
  }
  const copies = plan.disks.filter((d) => d.target !== 'nvram');
  if (
    !o.autoClone &&
    !o.preserveData &&
    !(o.linked && !o.files?.length) &&
    (o.files?.length ?? 0) < copies.length
  )
    throw new CliError(
      `--file is needed for every disk to clone (${copies.map((d) => d.target).join(', ')}), or use --auto-clone`,
    );
  // virt-clone prints its warnings on stderr, and none with --print-xml (stdout is only the XML).
  if (!o.printXml) for (const w of plan.warnings) if (!o.quiet) io.err(`WARNING  ${w}\n`);
  if (o.debug) {
    for (const d of plan.disks)
      io.err(`DEBUG    ${d.kind} ${d.target}: ${d.source} -> ${d.dest} (${d.bytes} bytes)\n`);
    for (const k of plan.kept) io.err(`DEBUG    keeping ${k.target}: ${k.reason}\n`);
  }
  if (o.printXml) {
    io.out(plan.xml);
    return plan;
  }

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  const meter = new CloneMeter(
    plan.disks.map((d) => ({ label: `Allocating '${baseName(d.dest)}'`, bytes: d.bytes })),
    { live: io.live && !o.quiet, width: io.width, write: say },
  );
  let result: CloneResult;
  try {
    result = await conn.domainClone(ref, {
      ...opts,
      name: plan.name,
      uuid: plan.uuid,
      signal: controller.signal,
      progress: (p) => meter.update(p),
    });
    meter.finish();
  } catch (e) {
    meter.abort();
    if (controller.signal.aborted || isVirError(e, 'OPERATION_ABORTED'))
      throw new CliError(
        `Clone aborted at user request: no domain, file or volume of '${plan.name}' was left behind.`,
      );
    throw new CliError(errorText(e));
  } finally {
    process.off('SIGINT', onSigint);
  }
  say('\n');
  say(`Clone '${result.name}' created successfully.\n`);
  if (result.started) say(`Domain '${result.name}' started.\n`);
  return result;
}

/** The options of `tvirt clone`, with virt-clone's one-letter aliases. */
export const cloneOptions: OptDef[] = [
  {
    name: 'original',
    short: 'o',
    type: 'string',
    help: 'Name of the original guest to clone.',
    complete: 'domain',
  },
  {
    name: 'original-xml',
    type: 'string',
    namedOnly: true,
    help: 'XML file to use as the original guest.',
    complete: 'file',
  },
  { name: 'name', short: 'n', type: 'string', namedOnly: true, help: 'Name for the new guest' },
  {
    name: 'auto-clone',
    type: 'bool',
    help: 'Auto generate clone name and storage paths from the original guest configuration.',
  },
  {
    name: 'file',
    short: 'f',
    type: 'argv',
    namedOnly: true,
    help: 'New file to use as the disk image for the new guest (one per disk)',
    complete: 'file',
  },
  {
    name: 'mac',
    short: 'm',
    type: 'argv',
    namedOnly: true,
    help: 'New fixed MAC address for the clone guest (one per interface, or RANDOM)',
  },
  { name: 'uuid', short: 'u', type: 'string', namedOnly: true, help: 'New UUID for the clone guest' },
  { name: 'reflink', type: 'bool', help: 'use COW lightweight copy (btrfs, xfs)' },
  {
    name: 'skip-copy',
    type: 'argv',
    namedOnly: true,
    help: 'Skip copy of the device target (e.g. --skip-copy vda shares that disk)',
  },
  {
    name: 'preserve-data',
    type: 'bool',
    help: 'Do not clone storage contents to the --file paths: use them as they are',
  },
  { name: 'nonsparse', type: 'bool', help: "Do not use a sparse file for the clone's disk image" },
  {
    name: 'nvram',
    type: 'string',
    namedOnly: true,
    help: 'New file to use as storage for nvram VARS',
    complete: 'file',
  },
  { name: 'print-xml', type: 'bool', help: 'Print the generated domain XML rather than cloning' },
  { name: 'replace', type: 'bool', help: 'Replace an existing domain of the same name' },
  {
    name: 'check',
    type: 'argv',
    namedOnly: true,
    help: 'Enable or disable validation checks, e.g. path_exists=off, all=off',
  },
  {
    name: 'linked',
    type: 'bool',
    help: 'Make qcow2 overlays backed by the original disks instead of copies (instant, small); without --file they go beside the originals',
  },
  { name: 'start', type: 'bool', help: 'Start the clone once it is created' },
  {
    name: 'connect',
    short: 'c',
    type: 'string',
    namedOnly: true,
    help: 'Connect to hypervisor with libvirt URI',
  },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress non-error output' },
  { name: 'debug', short: 'd', type: 'bool', help: 'Print debugging information' },
];

export const cloneGroup: CommandGroup = {
  keyword: 'clone',
  title: 'Domain Cloning (virt-clone)',
  commands: [
    {
      name: 'clone',
      summary: 'clone a domain (virt-clone)',
      description:
        'Duplicate a shut off or paused domain: new name, UUID and MAC addresses, disks copied beside the originals (sparse-aware) or, with --linked, qcow2 overlays backed by them.',
      options: cloneOptions,
      async handler(ctx) {
        const uri = ctx.str('connect');
        if (uri !== undefined && uri !== ctx.shell.uri) {
          ctx.shell.uri = uri;
          await ctx.shell.reconnect();
        }
        const files = ctx.argv('file');
        await runClone(
          await ctx.conn(),
          {
            original: ctx.str('original'),
            originalXml: ctx.str('original-xml'),
            name: ctx.str('name'),
            autoClone: ctx.flag('auto-clone'),
            files: ctx.opts.has('file') ? files : undefined,
            macs: ctx.argv('mac'),
            uuid: ctx.str('uuid'),
            reflink: ctx.flag('reflink'),
            skipCopy: ctx.argv('skip-copy'),
            preserveData: ctx.flag('preserve-data'),
            nonsparse: ctx.flag('nonsparse'),
            nvram: ctx.str('nvram'),
            printXml: ctx.flag('print-xml'),
            replace: ctx.flag('replace'),
            check: ctx.argv('check'),
            linked: ctx.flag('linked'),
            start: ctx.flag('start'),
            quiet: ctx.quiet || ctx.flag('quiet'),
            debug: ctx.flag('debug'),
          },
          {
            out: (t) => ctx.print(t),
            // virt-clone's WARNING and DEBUG lines go to stderr as they are (ctx.error would
            // make them "error: ..." lines); stdout stays the progress, the XML and the result.
            err: (t) => ctx.stderr(t),
            live: Boolean(process.stdout.isTTY) && !ctx.interactive,
            width: process.stdout.columns || 80,
          },
        );
      },
    },
  ],
};

/**
 * dominfo's linked-clone lines: 'Linked clones:' (clones backed by this domain's disks) and
 * 'Linked to:' (the bases this linked clone reads from). Empty for other domains.
 */
export async function linkedDomainPairs(conn: Connection, ref: string): Promise<[string, string][]> {
  const { linkedCloneInfo } = await import('../../drivers/clone/linked-guard.js');
  const { clones, bases } = await linkedCloneInfo(conn, ref);
  const out: [string, string][] = [];
  if (clones.length) out.push(['Linked clones:', clones.join(', ')]);
  for (const b of bases)
    out.push(['Linked to:', `${b.base}${b.original ? ` (${b.original}, ${b.target})` : ''}`]);
  return out;
}

/** vol-info's line: 'Backing of:' the linked clones whose overlays read this volume. */
export async function linkedVolumePairs(conn: Connection, path: string): Promise<[string, string][]> {
  const [{ linkedCloneDefs }, { linkedClonesOf }] = await Promise.all([
    import('../../drivers/clone/linked-guard.js'),
    import('../../drivers/clone/linked.js'),
  ]);
  const clones = linkedClonesOf(path, await linkedCloneDefs(conn));
  return clones.length ? [['Backing of:', clones.join(', ')]] : [];
}
