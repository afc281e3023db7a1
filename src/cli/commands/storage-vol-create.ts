// Volume creation commands (virsh-volume.c): vol-create-as (virsh builds the XML from arguments),
// vol-create from a file, vol-create-from and vol-clone (long copies: progress bar, Ctrl+C cancels).
import type { StorageVolCreateFlags, StorageVolSummary } from '../../drivers/connection.js';
import { CliError, type CmdContext, type CommandDef, errorText, failWith } from '../command.js';
import { lookupPool, lookupVol, parseVolSize, poolOpt, runVolumeJob, xmlEscape } from './storage-util.js';
import { readUserFile, validateIfAsked } from './util.js';

const ref = (v: StorageVolSummary) => ({ pool: v.pool, name: v.name });

/** vol-create-from / vol-clone flags: --prealloc-metadata, --reflink (a COW clone or a failure). */
function createFlags(ctx: CmdContext): StorageVolCreateFlags {
  return {
    ...(ctx.flag('prealloc-metadata') ? { preallocMetadata: true } : {}),
    ...(ctx.flag('reflink') ? { reflink: true } : {}),
  };
}

export const createAsCmd: CommandDef = {
  name: 'vol-create-as',
  summary: 'create a volume from a set of args',
  description: 'Create a vol.',
  options: [
    poolOpt('pool name'),
    { name: 'name', type: 'data', required: true, help: 'name of the volume' },
    {
      name: 'capacity',
      type: 'data',
      required: true,
      help: 'size of the vol, as scaled integer (default bytes)',
    },
    {
      name: 'allocation',
      type: 'string',
      help: 'initial allocation size, as scaled integer (default bytes)',
    },
    { name: 'format', type: 'string', help: 'file format type raw,bochs,qcow,qcow2,qed,vmdk' },
    { name: 'backing-vol', type: 'string', help: 'the backing volume if taking a snapshot' },
    { name: 'backing-vol-format', type: 'string', help: 'format of backing volume if taking a snapshot' },
    {
      name: 'prealloc-metadata',
      type: 'bool',
      help: 'preallocate metadata (for qcow2 instead of full allocation)',
    },
    { name: 'print-xml', type: 'bool', help: "print XML document, but don't define/create" },
  ],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const name = ctx.req('name');
    const capacity = parseVolSize(ctx.req('capacity'));
    const allocStr = ctx.str('allocation');
    const allocation = allocStr === undefined ? undefined : parseVolSize(allocStr);
    const format = ctx.str('format');
    const backing = ctx.str('backing-vol');
    const backingFormat = ctx.str('backing-vol-format');
    const conn = await ctx.conn();
    let backingPath: string | undefined;
    if (backing !== undefined) {
      // As virsh: the backing volume by name in this pool, then by key, then by path.
      let last: unknown;
      const found = await conn
        .storageVolLookupByName(pool.name, backing)
        .catch(() => conn.storageVolLookupByKey(backing))
        .catch(() => conn.storageVolLookupByPath(backing))
        .catch((e: unknown) => {
          last = e;
          return undefined;
        });
      if (!found) throw new CliError(`failed to get vol '${backing}'`, errorText(last));
      backingPath = found.path;
    }
    const e = xmlEscape;
    let xml = `<volume>\n  <name>${e(name)}</name>\n  <capacity>${capacity}</capacity>\n`;
    if (allocation !== undefined) xml += `  <allocation>${allocation}</allocation>\n`;
    if (format) xml += `  <target>\n    <format type='${e(format)}'/>\n  </target>\n`;
    if (backingPath !== undefined) {
      xml += `  <backingStore>\n    <path>${e(backingPath)}</path>\n`;
      if (backingFormat) xml += `    <format type='${e(backingFormat)}'/>\n`;
      xml += '  </backingStore>\n';
    }
    xml += '</volume>\n';
    if (ctx.flag('print-xml')) {
      ctx.print(xml);
      return;
    }
    try {
      await conn.storageVolCreateXML(
        pool.uuid,
        xml,
        ctx.flag('prealloc-metadata') ? { preallocMetadata: true } : {},
      );
    } catch (err) {
      failWith(`Failed to create vol ${name}`, err);
    }
    ctx.printExtra(`Vol ${name} created\n`);
  },
};

export const createCmd: CommandDef = {
  name: 'vol-create',
  summary: 'create a vol from an XML file',
  description: 'Create a vol.',
  options: [
    poolOpt('pool name'),
    {
      name: 'file',
      type: 'data',
      required: true,
      help: 'file containing an XML vol description',
      complete: 'file',
    },
    {
      name: 'prealloc-metadata',
      type: 'bool',
      help: 'preallocate metadata (for qcow2 instead of full allocation)',
    },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const file = ctx.req('file');
    const xml = await readUserFile(file);
    const conn = await ctx.conn();
    let vol: StorageVolSummary;
    try {
      await validateIfAsked(ctx, 'storagevol', xml);
      vol = await conn.storageVolCreateXML(
        pool.uuid,
        xml,
        ctx.flag('prealloc-metadata') ? { preallocMetadata: true } : {},
      );
    } catch (e) {
      failWith(`Failed to create vol from ${file}`, e);
    }
    ctx.printExtra(`Vol ${vol.name} created from ${file}\n`);
  },
};

export const createFromCmd: CommandDef = {
  name: 'vol-create-from',
  summary: 'create a vol, using another volume as input',
  description: 'Create a vol from an existing volume.',
  options: [
    poolOpt(),
    {
      name: 'file',
      type: 'data',
      required: true,
      help: 'file containing an XML vol description',
      complete: 'file',
    },
    { name: 'vol', type: 'data', required: true, help: 'vol name, key or path' },
    {
      name: 'inputpool',
      type: 'string',
      namedOnly: true,
      help: "pool name or uuid of the input volume's pool",
    },
    {
      name: 'prealloc-metadata',
      type: 'bool',
      help: 'preallocate metadata (for qcow2 instead of full allocation)',
    },
    { name: 'reflink', type: 'bool', help: 'use btrfs COW lightweight copy' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async handler(ctx) {
    const pool = await lookupPool(ctx);
    const file = ctx.req('file');
    const input = await lookupVol(ctx, 'vol', 'inputpool');
    const xml = await readUserFile(file);
    const conn = await ctx.conn();
    let vol: StorageVolSummary;
    try {
      await validateIfAsked(ctx, 'storagevol', xml);
      vol = await runVolumeJob(`Creating from ${input.name}`, (job) =>
        conn.storageVolCreateXMLFrom(pool.uuid, xml, ref(input), createFlags(ctx), job),
      );
    } catch (e) {
      failWith(`Failed to create vol from ${file}`, e);
    }
    ctx.printExtra(`Vol ${vol.name} created from input vol ${input.name}\n`);
  },
};

/** Replaces the volume XML's <name> and drops what belongs to the original (key, path). */
function cloneXml(xml: string, newName: string): string {
  return xml
    .replace(/<name>[^<]*<\/name>/, `<name>${xmlEscape(newName)}</name>`)
    .replace(/\s*<key>[^<]*<\/key>/, '')
    .replace(/(<target>[\s\S]*?)\s*<path>[^<]*<\/path>/, '$1');
}

/** Attributes in double quotes and no final newline, as virsh prints a document libxml2 wrote. */
function libxmlStyle(xml: string): string {
  return xml
    .replace(
      /(\s[\w:-]+)='([^']*)'/g,
      (_m, name: string, v: string) => `${name}="${v.replace(/&apos;/g, "'").replace(/"/g, '&quot;')}"`,
    )
    .trimEnd();
}

export const cloneCmd: CommandDef = {
  name: 'vol-clone',
  summary: 'clone a volume.',
  description: 'Clone an existing volume within the parent pool.',
  options: [
    { name: 'vol', type: 'data', required: true, help: 'vol name, key or path' },
    { name: 'newname', type: 'data', required: true, help: 'clone name' },
    { name: 'pool', type: 'string', namedOnly: true, help: 'pool name or uuid', complete: 'pool' },
    {
      name: 'prealloc-metadata',
      type: 'bool',
      help: 'preallocate metadata (for qcow2 instead of full allocation)',
    },
    { name: 'reflink', type: 'bool', help: 'use btrfs COW lightweight copy' },
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than clone the volume' },
  ],
  async handler(ctx) {
    const orig = await lookupVol(ctx);
    const newName = ctx.req('newname');
    const conn = await ctx.conn();
    const origXml = await conn.storageVolGetXMLDesc(ref(orig));
    if (ctx.flag('print-xml')) {
      // As virsh (virshMakeCloneXML): the original's XML with the new name, as libxml2 writes it.
      ctx.print(libxmlStyle(origXml.replace(/<name>[^<]*<\/name>/, `<name>${xmlEscape(newName)}</name>`)));
      return;
    }
    const xml = cloneXml(origXml, newName);
    try {
      await runVolumeJob(`Cloning ${orig.name}`, (job) =>
        conn.storageVolCreateXMLFrom(orig.pool, xml, ref(orig), createFlags(ctx), job),
      );
    } catch (e) {
      failWith(`Failed to clone vol from ${orig.name}`, e);
    }
    ctx.printExtra(`Vol ${newName} cloned from ${orig.name}\n`);
  },
};
