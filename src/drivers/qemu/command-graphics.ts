// <graphics> (VNC, SPICE) -> `-vnc`/`-spice`, and <video> -> display adapter `-device`s.
import type { GraphicsDef, GraphicsListen, VideoDef } from '../../conf/domain/domain-def.js';
import {
  type BuildState,
  addressProps,
  refuseExtraChildren,
  pciBusName,
  internalError,
  notYet,
  unsupportedConfig,
} from './command-common.js';
import { checkHostAddress, hex, type JsonProps, jsonArg, type OptValue, qemuOpts } from './qemu-opts.js';

function listenAddress(g: GraphicsDef): { socket?: string; address: string } {
  const l: GraphicsListen | undefined = g.listens[0];
  if (g.listens.length > 1) throw notYet(`more than one <listen> for <graphics type='${g.type}'>`);
  if (!l || l.type === 'address') return { address: l?.address ?? '127.0.0.1' };
  if (l.type === 'socket') {
    if (!l.socket)
      throw notYet(`<listen type='socket'> without a socket path for <graphics type='${g.type}'>`);
    return { socket: l.socket, address: '' };
  }
  if (l.type === 'network') {
    if (l.address) return { address: l.address };
    throw internalError(`graphics listen network '${l.network}' was not resolved to an address`);
  }
  throw notYet(`<listen type='none'> for <graphics type='${g.type}'>`);
}

function portOf(g: GraphicsDef, chosen: number | undefined, what: string): number {
  const p = g.autoport || g.port === undefined || g.port < 0 ? chosen : g.port;
  if (p === undefined) throw internalError(`no ${what} port was chosen for autoport graphics`);
  return p;
}

function buildVnc(st: BuildState, g: GraphicsDef): void {
  refuseExtraChildren(g.extra, [], "graphics type='vnc'");
  const l = listenAddress(g);
  const o: [string, OptValue][] = [];
  let head: string;
  if (l.socket) {
    head = `vnc=unix:${l.socket}`;
  } else {
    const port = portOf(g, st.ctx.vncPort, 'VNC');
    if (port < 5900 || port > 65535) throw unsupportedConfig(`VNC port ${port} is outside 5900-65535`);
    head = `${checkHostAddress(l.address, 'VNC listen address', true)}:${port - 5900}`;
  }
  if (g.websocket !== undefined && g.websocket !== 0) {
    if (g.websocket < 0) throw internalError('no VNC websocket port was chosen');
    o.push(['websocket', g.websocket]);
  }
  if (g.sharePolicy) {
    if (!['allow-exclusive', 'force-shared', 'ignore'].includes(g.sharePolicy)) {
      throw unsupportedConfig(`VNC sharePolicy '${g.sharePolicy}'`);
    }
    o.push(['share', g.sharePolicy]);
  }
  // The password itself is set over QMP (set_password) after start, never on the command line.
  if (g.passwd !== undefined) o.push(['password', true]);
  o.push(['audiodev', st.audiodev]);
  // head holds a user socket path or address: escape it as a value (vnc=... form keeps it a value).
  st.args.push('-vnc', qemuOpts(head, o));
  if (g.keymap) st.args.push('-k', keymap(g.keymap));
}

function keymap(k: string): string {
  if (!/^[a-z]{2}(-[a-z]{2,3})?$/.test(k)) throw unsupportedConfig(`keymap '${k}'`);
  return k;
}

function buildSpice(st: BuildState, g: GraphicsDef): void {
  if (st.ctx.spice === false) throw unsupportedConfig('this QEMU binary was built without SPICE support');
  for (const c of g.extra?.children ?? []) {
    const n = c.node;
    if (n.type === 'element' && !(n.name === 'gl' && n.attrs.enable === 'no')) {
      throw notYet(`<graphics type='spice'><${n.name}>`);
    }
  }
  const l = listenAddress(g);
  const o: [string, OptValue][] = [];
  if (l.socket) {
    o.push(['unix', true], ['addr', l.socket]);
  } else {
    const plain = g.autoport ? st.ctx.spicePort : g.port;
    const tls = g.autoport ? st.ctx.spiceTlsPort : g.tlsPort;
    if (g.autoport && plain === undefined)
      throw internalError('no SPICE port was chosen for autoport graphics');
    if (tls !== undefined && tls > 0) throw notYet('SPICE TLS (tlsPort)');
    // No port at all: a SPICE server without a TCP listener (libvirt's port=0).
    o.push(['port', plain ?? 0]);
    if (plain !== undefined) o.push(['addr', checkHostAddress(l.address, 'SPICE listen address')]);
  }
  if (g.image) o.push(['image-compression', spiceEnum(g.image.compression)]);
  if (g.passwd === undefined) o.push(['disable-ticketing', true]);
  o.push(['seamless-migration', true]);
  st.args.push('-spice', qemuOpts(undefined, o));
  if (g.keymap) st.args.push('-k', keymap(g.keymap));
}

function spiceEnum(v: string): string {
  if (!/^[a-z_]+$/.test(v)) throw unsupportedConfig(`SPICE option value '${v}'`);
  return v;
}

/** Emits -vnc/-spice for each <graphics>, or `-display none` when there is none. */
export function buildGraphics(st: BuildState): void {
  const gs = st.def.devices.graphics;
  const seen = new Set<string>();
  for (const g of gs) {
    if (seen.has(g.type)) throw unsupportedConfig(`only one <graphics type='${g.type}'> is supported`);
    seen.add(g.type);
    if (g.type === 'vnc') buildVnc(st, g);
    else if (g.type === 'spice') buildSpice(st, g);
    else throw notYet(`<graphics type='${g.type}'>`);
  }
}

/** QEMU device for one video adapter; primary selects the VGA-compatible variant. */
function videoDevice(v: VideoDef, primary: boolean, i: number): JsonProps | undefined {
  const type = v.type === 'default' || v.type === undefined ? 'cirrus' : v.type;
  const id = `video${i}`;
  const mb = (kib: number | undefined) => (kib === undefined ? undefined : Math.floor(kib / 1024));
  switch (type) {
    case 'none':
      return undefined;
    case 'vga':
      if (!primary) throw notYet(`secondary <video> model 'vga'`);
      return { driver: 'VGA', id, vgamem_mb: mb(v.vgamem) ?? 16 };
    case 'cirrus':
      if (!primary) throw notYet(`secondary <video> model 'cirrus'`);
      return { driver: 'cirrus-vga', id };
    case 'vmvga':
      if (!primary) throw notYet(`secondary <video> model 'vmvga'`);
      return { driver: 'vmware-svga', id, vgamem_mb: mb(v.vgamem) ?? 16 };
    case 'bochs':
      return { driver: 'bochs-display', id, vgamem: v.vram === undefined ? undefined : v.vram * 1024 };
    case 'qxl':
      return {
        driver: primary ? 'qxl-vga' : 'qxl',
        id,
        max_outputs: v.heads ?? 1,
        ram_size: (v.ram ?? 65536) * 1024,
        vram_size: (v.vram ?? 65536) * 1024,
        vram64_size_mb: mb(v.vram64) ?? 0,
        vgamem_mb: mb(v.vgamem) ?? 16,
      };
    case 'virtio':
      return { driver: primary ? 'virtio-vga' : 'virtio-gpu-pci', id, max_outputs: v.heads };
    default:
      throw notYet(`<video> model '${type}'`);
  }
}

/** Emits one -device per <video>; the first is the primary (VGA-compatible) adapter. */
export function buildVideos(st: BuildState): void {
  st.def.devices.videos.forEach((v, i) => {
    if (v.driver?.name && v.driver.name !== 'qemu') throw notYet(`<video><driver name='${v.driver.name}'>`);
    refuseExtraChildren(v.modelExtra, [], 'video><model');
    const primary = v.primary ?? i === 0;
    const dev = videoDevice(v, primary, i);
    if (!dev) return;
    const keep = primary && !v.address && st.videoSlot !== undefined;
    Object.assign(
      dev,
      keep
        ? { bus: pciBusName(st, 0), addr: hex(st.videoSlot!) }
        : addressProps(st, v.address, `video ${i}`, true),
    );
    st.args.push('-device', jsonArg(dev));
  });
}
