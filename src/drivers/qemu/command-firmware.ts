// Firmware and platform identity: -bios / pflash -blockdev nodes for UEFI, and -smbios from <sysinfo>.
import type { XmlElement } from '../../util/xml.js';
import { type BuildState, internalError, notYet, unsupportedConfig } from './command-common.js';
import { escapeOptValue, jsonArg, type OptValue, qemuOpts } from './qemu-opts.js';

/** Firmware: -bios for a ROM loader, or pflash -blockdev nodes (code read-only + NVRAM). Returns true for pflash. */
export function buildFirmware(st: BuildState): boolean {
  const os = st.def.os;
  const l = os.loader;
  if (os.firmware && !l?.path) {
    throw notYet(
      `<os firmware='${os.firmware}'> without a <loader> path (firmware autoselection)`,
      '- give <loader> and <nvram> paths',
    );
  }
  if (!l?.path) return false;
  if ((l.type ?? 'rom') === 'rom') {
    st.args.push('-bios', l.path);
    return false;
  }
  const ro = l.readonly ?? false;
  st.args.push(
    '-blockdev',
    jsonArg({
      driver: 'file',
      filename: l.path,
      'node-name': 'libvirt-pflash0-storage',
      'auto-read-only': true,
      discard: 'unmap',
    }),
    '-blockdev',
    jsonArg({
      'node-name': 'libvirt-pflash0-format',
      'read-only': ro,
      driver: 'raw',
      file: 'libvirt-pflash0-storage',
    }),
  );
  const nv = os.nvram?.path ?? st.ctx.nvramPath;
  if (os.nvram?.template && !nv)
    throw internalError('the NVRAM file was not created from its template before building the QEMU command');
  if (nv) {
    st.args.push(
      '-blockdev',
      jsonArg({ driver: 'file', filename: nv, 'node-name': 'libvirt-pflash1-storage', 'read-only': false }),
    );
  }
  if (l.secure) st.args.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
  return true;
}

const SMBIOS_TYPES: Record<string, [number, Record<string, string>]> = {
  bios: [0, { vendor: 'vendor', version: 'version', date: 'date', release: 'release' }],
  system: [
    1,
    {
      manufacturer: 'manufacturer',
      product: 'product',
      version: 'version',
      serial: 'serial',
      uuid: 'uuid',
      sku: 'sku',
      family: 'family',
    },
  ],
  baseBoard: [
    2,
    {
      manufacturer: 'manufacturer',
      product: 'product',
      version: 'version',
      serial: 'serial',
      asset: 'asset',
      location: 'location',
    },
  ],
  chassis: [
    3,
    { manufacturer: 'manufacturer', version: 'version', serial: 'serial', asset: 'asset', sku: 'sku' },
  ],
};

function childEls(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => c.type === 'element');
}
function textOfEl(el: XmlElement): string {
  return el.children.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

/** -smbios type=N,... from <sysinfo type='smbios'> when <os><smbios mode='sysinfo'/>. */
export function buildSmbios(st: BuildState): void {
  const { def } = st;
  const smbios = def.os.extra?.children
    ?.map((c) => c.node)
    .find((n): n is XmlElement => n.type === 'element' && n.name === 'smbios');
  const mode = smbios?.attrs.mode;
  if (!mode || mode === 'emulate') return;
  if (mode !== 'sysinfo') throw notYet(`<smbios mode='${mode}'>`);
  const sys = def.extra?.children
    ?.map((c) => c.node)
    .find((n): n is XmlElement => n.type === 'element' && n.name === 'sysinfo' && n.attrs.type === 'smbios');
  if (!sys) throw unsupportedConfig("<smbios mode='sysinfo'> needs a <sysinfo type='smbios'> element");
  for (const block of childEls(sys)) {
    if (block.name === 'oemStrings') {
      const vals = childEls(block).map((e) => `value=${escapeOptValue(textOfEl(e))}`);
      if (vals.length) st.args.push('-smbios', `type=11,${vals.join(',')}`);
      continue;
    }
    const spec = SMBIOS_TYPES[block.name];
    if (!spec) throw notYet(`<sysinfo><${block.name}>`);
    const o: [string, OptValue][] = [];
    for (const e of childEls(block)) {
      const key = spec[1][e.attrs.name ?? ''];
      if (!key) throw notYet(`<sysinfo><${block.name}><entry name='${e.attrs.name}'>`);
      o.push([key, textOfEl(e)]);
    }
    if (o.length) st.args.push('-smbios', qemuOpts(undefined, [['type', spec[0]], ...o]));
  }
}
