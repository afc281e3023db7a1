// <os>: type/arch/machine, boot device order, bootmenu, kernel/initrd/cmdline/dtb, loader and nvram.
import type { XmlElement } from '../../util/xml.js';
import { elem, textElem, textOf, unknownParts } from '../../util/xml.js';
import type { OsDef } from './domain-def.js';
import { enumAttr, missingAttr, uintAttr, unsupported, xmlErr, yesNoAttr } from './parse-util.js';

const BOOT_DEVS = ['fd', 'hd', 'cdrom', 'network'] as const;
const CHILDREN = ['type', 'loader', 'nvram', 'kernel', 'initrd', 'cmdline', 'dtb', 'boot', 'bootmenu'];
const TYPE_ATTRS = ['arch', 'machine'];
const LOADER_ATTRS = ['readonly', 'type', 'secure'];
const NVRAM_ATTRS = ['template'];
const NONE: string[] = [];

/** Parses <os>. */
export function parseOs(el: XmlElement | undefined): OsDef {
  if (!el) return xmlErr('an os <type> must be specified');
  const os: OsDef = { type: '', bootDevs: [] };
  if (el.attrs.firmware !== undefined) os.firmware = el.attrs.firmware;
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    switch (c.name) {
      case 'type': {
        os.type = textOf(c).trim();
        if (c.attrs.arch !== undefined) os.arch = c.attrs.arch;
        if (c.attrs.machine !== undefined) os.machine = c.attrs.machine;
        const e = unknownParts(c, TYPE_ATTRS, NONE);
        if (e) os.typeExtra = e;
        break;
      }
      case 'boot': {
        const dev = enumAttr(c, 'dev', BOOT_DEVS);
        if (!dev) return missingAttr(c, 'dev');
        if (os.bootDevs.length < 4) os.bootDevs.push(dev);
        break;
      }
      case 'bootmenu': {
        const enable = yesNoAttr(c, 'enable');
        os.bootMenu = { enable: enable ?? false };
        const t = uintAttr(c, 'timeout');
        if (t !== undefined) {
          if (t > 65535) unsupported('invalid value for boot menu timeout, must be in range [0,65535]');
          os.bootMenu.timeout = t;
        }
        const e = unknownParts(c, ['enable', 'timeout'], NONE);
        if (e) os.bootMenu.extra = e;
        break;
      }
      case 'kernel':
        os.kernel = textOf(c);
        break;
      case 'initrd':
        os.initrd = textOf(c);
        break;
      case 'cmdline':
        os.cmdline = textOf(c);
        break;
      case 'dtb':
        os.dtb = textOf(c);
        break;
      case 'loader': {
        os.loader = {};
        const p = textOf(c).trim();
        if (p) os.loader.path = p;
        const ro = yesNoAttr(c, 'readonly');
        if (ro !== undefined) os.loader.readonly = ro;
        const t = enumAttr(c, 'type', ['rom', 'pflash'] as const);
        if (t) os.loader.type = t;
        const s = yesNoAttr(c, 'secure');
        if (s !== undefined) os.loader.secure = s;
        const e = unknownParts(c, LOADER_ATTRS, NONE);
        if (e) os.loader.extra = e;
        break;
      }
      case 'nvram': {
        os.nvram = {};
        const p = textOf(c).trim();
        if (p) os.nvram.path = p;
        if (c.attrs.template !== undefined) os.nvram.template = c.attrs.template;
        const e = unknownParts(c, NVRAM_ATTRS, NONE);
        if (e) os.nvram.extra = e;
        break;
      }
    }
  }
  if (!os.type) xmlErr('an os <type> must be specified');
  const extra = unknownParts(el, ['firmware'], CHILDREN);
  if (extra) os.extra = extra;
  return os;
}

function pathElem(
  name: string,
  path: string | undefined,
  attrs: Record<string, string | boolean | undefined>,
  extra: OsDef['extra'],
) {
  return path !== undefined
    ? elem(name, attrs, [{ type: 'text', text: path }], extra)
    : elem(name, attrs, undefined, extra);
}

/** Formats <os>. */
export function formatOs(os: OsDef): XmlElement {
  const l = os.loader;
  const n = os.nvram;
  const kids = [
    elem('type', { arch: os.arch, machine: os.machine }, [{ type: 'text', text: os.type }], os.typeExtra),
    l && pathElem('loader', l.path, { readonly: l.readonly, secure: l.secure, type: l.type }, l.extra),
    n && pathElem('nvram', n.path, { template: n.template }, n.extra),
    textElem('kernel', os.kernel),
    textElem('initrd', os.initrd),
    textElem('cmdline', os.cmdline),
    textElem('dtb', os.dtb),
    ...os.bootDevs.map((d) => elem('boot', { dev: d })),
    os.bootMenu &&
      elem(
        'bootmenu',
        { enable: os.bootMenu.enable, timeout: os.bootMenu.timeout },
        undefined,
        os.bootMenu.extra,
      ),
  ];
  return elem('os', { firmware: os.firmware }, kids, os.extra);
}
