#!/usr/bin/env node
// tvirt-clone: virt-clone's command line (GNU-style options, -o/-n/-f/-u/-m short forms) over tvirt.
import { parseArgs } from 'node:util';
import { CliError, errorText } from './command.js';
import { type CloneCliOptions, runClone } from './commands/clone.js';
import { defaultUri, openConnection } from './connect.js';

const USAGE = `usage: tvirt-clone --original [NAME] ...

Duplicate a virtual machine, changing all the unique host side configuration like MAC address, name, etc.

options:
  -h, --help            show this help message and exit
  -c URI, --connect URI
                        Connect to hypervisor with libvirt URI

General Options:
  -o ORIGINAL_GUEST, --original ORIGINAL_GUEST
                        Name of the original guest to clone.
  --original-xml ORIGINAL_XML
                        XML file to use as the original guest.
  --auto-clone          Auto generate clone name and storage paths from the original guest configuration.
  -n NEW_NAME, --name NEW_NAME
                        Name for the new guest
  -u NEW_UUID, --uuid NEW_UUID
                        New UUID for the clone guest
  --reflink             use btrfs COW lightweight copy

Storage Configuration:
  -f NEW_DISKFILE, --file NEW_DISKFILE
                        New file to use as the disk image for the new guest
  --skip-copy SKIP_COPY
                        Skip copy of the device target. (eg, if 'vda' is a disk you don't want to copy
                        and use the same path in the new VM, use --skip-copy=vda)
  --nonsparse           Do not use a sparse file for the clone's disk image
  --preserve-data       Do not clone storage contents to specified file paths, their contents will be
                        left untouched. This requires specifying existing paths for every cloneable disk image.
  --nvram NEW_NVRAM     New file to use as storage for nvram VARS
  --linked              Make qcow2 overlays backed by the original's disks (instant, small); without
                        --file they go beside the originals, named after the clone (tvirt)

Networking Configuration:
  -m NEW_MAC, --mac NEW_MAC
                        New fixed MAC address for the clone guest. Default is a randomly generated MAC

Miscellaneous Options:
  --start               Start the clone once it is created (tvirt)
  --print-xml           Print the generated domain XML rather than create the guest.
  --replace             Don't check name collision, overwrite any guest with the same name.
  --check CHECK         Enable or disable validation checks, e.g. --check path_exists=off
  -q, --quiet           Suppress non-error output
  -d, --debug           Print debugging information
`;

/** Parses virt-clone's arguments. @throws CliError on unknown options. */
export function parseCloneArgs(argv: string[]): (CloneCliOptions & { connect?: string }) | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        connect: { type: 'string', short: 'c' },
        original: { type: 'string', short: 'o' },
        'original-xml': { type: 'string' },
        'auto-clone': { type: 'boolean' },
        name: { type: 'string', short: 'n' },
        uuid: { type: 'string', short: 'u' },
        reflink: { type: 'boolean' },
        file: { type: 'string', short: 'f', multiple: true },
        'skip-copy': { type: 'string', multiple: true },
        nonsparse: { type: 'boolean' },
        'preserve-data': { type: 'boolean' },
        nvram: { type: 'string' },
        mac: { type: 'string', short: 'm', multiple: true },
        'print-xml': { type: 'boolean' },
        replace: { type: 'boolean' },
        check: { type: 'string', multiple: true },
        linked: { type: 'boolean' },
        start: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        debug: { type: 'boolean', short: 'd' },
      },
    }));
  } catch (e) {
    throw new CliError(errorText(e));
  }
  if (values.help) return 'help';
  const s = (k: string) => values[k] as string | undefined;
  const b = (k: string) => values[k] === true;
  const l = (k: string) => values[k] as string[] | undefined;
  return {
    connect: s('connect'),
    original: s('original'),
    originalXml: s('original-xml'),
    name: s('name'),
    autoClone: b('auto-clone'),
    files: l('file'),
    macs: l('mac'),
    uuid: s('uuid'),
    reflink: b('reflink'),
    skipCopy: l('skip-copy'),
    preserveData: b('preserve-data'),
    nonsparse: b('nonsparse'),
    nvram: s('nvram'),
    printXml: b('print-xml'),
    replace: b('replace'),
    check: l('check'),
    linked: b('linked'),
    start: b('start'),
    quiet: b('quiet'),
    debug: b('debug'),
  };
}

export interface CloneMainIo {
  stdout(t: string): void;
  stderr(t: string): void;
  live: boolean;
  width: number;
}

/** tvirt-clone's main: returns the exit status (virt-clone prints errors as 'ERROR    ...'). */
export async function cloneMain(argv: string[], io: CloneMainIo): Promise<number> {
  let conn: Awaited<ReturnType<typeof openConnection>> | undefined;
  try {
    const o = parseCloneArgs(argv);
    if (o === 'help') {
      io.stdout(USAGE);
      return 0;
    }
    conn = await openConnection(o.connect ?? defaultUri());
    await runClone(conn, o, { out: io.stdout, err: io.stderr, live: io.live, width: io.width });
    return 0;
  } catch (e) {
    const lines = e instanceof CliError ? e.lines : [errorText(e)];
    for (const l of lines) io.stderr(`ERROR    ${l}\n`);
    return 1;
  } finally {
    await conn?.close().catch(() => {});
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/tvirt-clone')) {
  cloneMain(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    live: Boolean(process.stdout.isTTY),
    width: process.stdout.columns || 80,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`ERROR    ${errorText(e)}\n`);
      process.exitCode = 1;
    },
  );
}
