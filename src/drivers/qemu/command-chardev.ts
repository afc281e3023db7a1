// Character devices: `-chardev` backends (pty, file, unix, tcp, udp, ...) and serial/console/channel frontends.
import type { ChardevDef, ChardevSource, DomainDef } from '../../conf/domain/domain-def.js';
import { type BuildState, addressProps, notYet, unsupportedConfig } from './command-common.js';
import {
  type JsonProps,
  type OptValue,
  checkHostAddress,
  checkPort,
  jsonArg,
  qemuOpts,
} from './qemu-opts.js';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Path of the UNIX socket of a virtio channel whose <source mode='bind'> has no path
 * (e.g. the guest agent): `<runtimeDir>/<target name>`. The process layer connects there.
 */
export function channelSocketPath(runtimeDir: string, targetName: string): string {
  if (!SAFE_NAME.test(targetName) || targetName.includes('..')) {
    throw unsupportedConfig(`channel target name '${targetName}' cannot be used in a socket path`);
  }
  return `${runtimeDir}/${targetName}`;
}

/**
 * The socket QEMU listens on for channel `i` of `def` when its unix <source> has no path
 * (libvirt's rule: the target name, or vioser-CC-BB-PP.sock for an unnamed one); undefined when
 * the channel gives its own path or is no unix channel.
 */
export function defaultChannelPath(runtimeDir: string, def: DomainDef, i: number): string | undefined {
  const c = def.devices.channels[i];
  if (c?.source.type !== 'unix' || c.source.path) return undefined;
  const a0 = c.address?.type === 'virtio-serial' ? c.address : undefined;
  const pp = (n: number | undefined) => String(n ?? 0).padStart(2, '0');
  return channelSocketPath(
    runtimeDir,
    c.target?.name ?? `vioser-${pp(a0?.controller)}-${pp(a0?.bus)}-${pp(a0?.port ?? i + 1)}.sock`,
  );
}

/**
 * QemuOpts text of a `-chardev` backend with id `id`. `defaultPath` is used for a unix source
 * without a path (guest agent channels); `what` names the device in errors.
 */
export function chardevArg(
  src: ChardevSource,
  id: string,
  what: string,
  defaultPath?: string,
  spiceName = 'vdagent',
): string {
  const o: [string, OptValue][] = [['id', id]];
  let backend: string;
  switch (src.type) {
    case 'null':
    case 'vc':
    case 'pty':
      backend = src.type;
      break;
    case 'file':
      backend = 'file';
      o.push(['path', need(src.path, what)]);
      if (src.append !== undefined) o.push(['append', src.append]);
      break;
    case 'dev':
      backend = 'serial';
      o.push(['path', need(src.path, what)]);
      break;
    case 'pipe':
      backend = 'pipe';
      o.push(['path', need(src.path, what)]);
      break;
    case 'unix': {
      backend = 'socket';
      // A channel without a source path gets a generated socket that QEMU listens on (libvirt's rule).
      const generated = !src.path && defaultPath !== undefined;
      o.push(['path', need(src.path ?? defaultPath, what)]);
      pushSocketMode(o, generated ? { ...src, mode: 'bind' } : src, what);
      break;
    }
    case 'tcp': {
      backend = 'socket';
      o.push(['host', checkHostAddress(need(src.host, what), `${what} host`)]);
      o.push(['port', checkPort(src.service, `${what} port`)]);
      if (src.protocol === 'telnet') o.push(['telnet', true]);
      else if (src.protocol && src.protocol !== 'raw')
        throw notYet(`<protocol type='${src.protocol}'>`, `of ${what}`);
      if (src.tls) throw notYet('TLS', `on ${what}`);
      pushSocketMode(o, src, what);
      break;
    }
    case 'udp':
      backend = 'udp';
      if (src.host) o.push(['host', checkHostAddress(src.host, `${what} host`)]);
      o.push(['port', checkPort(src.service, `${what} port`)]);
      if (src.bindHost) o.push(['localaddr', checkHostAddress(src.bindHost, `${what} bind host`)]);
      if (src.bindService) o.push(['localport', checkPort(src.bindService, `${what} bind port`)]);
      break;
    case 'spicevmc':
      backend = 'spicevmc';
      o.push(['name', spiceName]);
      break;
    case 'spiceport':
      backend = 'spiceport';
      o.push(['name', need(src.channel, what)]);
      break;
    default:
      throw notYet(`<source> type '${src.type}'`, `of ${what}`);
  }
  if (src.logFile) {
    o.push(['logfile', src.logFile]);
    if (src.logAppend !== undefined) o.push(['logappend', src.logAppend]);
  }
  return qemuOpts(backend, o);
}

function pushSocketMode(o: [string, OptValue][], src: ChardevSource, what: string): void {
  if (src.mode === 'connect') {
    if (src.reconnect?.enabled) o.push(['reconnect', src.reconnect.timeout ?? 1]);
  } else {
    if (src.reconnect?.enabled) throw unsupportedConfig(`reconnect is only valid in connect mode (${what})`);
    o.push(['server', true], ['wait', false]);
  }
}

function need(v: string | undefined, what: string): string {
  if (v === undefined || v === '')
    throw unsupportedConfig(`${what}: the character device source needs a path or host`);
  return v;
}

/** True when a virtio console or channel needs a virtio-serial controller. */
export function needsVirtioSerial(def: DomainDef): boolean {
  return (
    def.devices.channels.some((c) => (c.target?.type ?? 'virtio') === 'virtio') ||
    def.devices.consoles.some((c) => c.target?.type === 'virtio')
  );
}

/** Emits serial ports, then channels, then consoles (libvirt's order). */
export function buildChardevs(st: BuildState): void {
  const d = st.def.devices;

  const serials = [...d.serials];
  // <console type='serial'> (or without a target type) aliases the first serial port; with no
  // serial port it becomes one (libvirt's compat rule).
  d.consoles.forEach((c, i) => {
    const t = c.target?.type ?? 'serial';
    if (t === 'serial' && i === 0 && serials.length === 0) serials.push({ ...c, kind: 'serial' });
  });
  for (const [i, s] of serials.entries()) buildSerial(st, s, i);
  const used = new Set<number>();
  for (const c of d.channels)
    if (c.address?.type === 'virtio-serial' && c.address.port !== undefined) used.add(c.address.port);
  let nextNr = 1;
  d.channels.forEach((c, i) => {
    const t = c.target?.type ?? 'virtio';
    if (t !== 'virtio') throw notYet(`<channel> target type '${t}'`);
    const name = c.target?.name;
    const id = `charchannel${i}`;
    const dflt = defaultChannelPath(st.ctx.runtimeDir, st.def, i);
    st.args.push('-chardev', chardevArg(c.source, id, `channel ${i}`, dflt));
    const dev: JsonProps = { driver: 'virtserialport' };
    const a = c.address?.type === 'virtio-serial' ? c.address : undefined;
    dev.bus = `virtio-serial${a?.controller ?? 0}.${a?.bus ?? 0}`;
    let nr = a?.port;
    if (nr === undefined) {
      while (used.has(nextNr)) nextNr++;
      nr = nextNr++;
    }
    dev.nr = nr;
    dev.chardev = id;
    dev.id = `channel${i}`;
    // The SPICE agent channel has a well-known port name.
    const portName = name ?? (c.source.type === 'spicevmc' ? 'com.redhat.spice.0' : undefined);
    if (portName !== undefined) dev.name = portName;
    if (c.address && c.address.type !== 'virtio-serial')
      throw unsupportedConfig(`channel ${i}: address type '${c.address.type}'`);
    st.args.push('-device', jsonArg(dev));
  });
  // libvirt keeps consoles[0] for the serial console when there is a serial port: virtio
  // consoles are then numbered from 1 (charconsole1, console1).
  const offset = serials.length > 0 && (d.consoles[0]?.target?.type ?? 'serial') !== 'serial' ? 1 : 0;
  d.consoles.forEach((c, j) => {
    const i = j + offset;
    const t = c.target?.type ?? 'serial';
    if (t === 'serial') {
      if (j === 0) return;
      throw unsupportedConfig(`only the first <console> may have target type 'serial'`);
    }
    if (t !== 'virtio') throw notYet(`<console> target type '${t}'`);
    const id = `charconsole${i}`;
    st.args.push('-chardev', chardevArg(c.source, id, `console ${i}`));
    const dev: JsonProps = { driver: 'virtconsole' };
    if (c.address?.type === 'virtio-serial') {
      dev.bus = `virtio-serial${c.address.controller}.${c.address.bus}`;
      if (c.address.port !== undefined) dev.nr = c.address.port;
    }
    dev.chardev = id;
    dev.id = `console${i}`;
    st.args.push('-device', jsonArg(dev));
  });
}

/** Emits parallel ports (isa-parallel) and USB redirection devices (usb-redir). */
export function buildParallelsAndRedirdevs(st: BuildState): void {
  const d = st.def.devices;
  d.parallels.forEach((p, i) => {
    const id = `charparallel${i}`;
    if (p.target?.type && p.target.type !== 'parallel')
      throw notYet(`<parallel> target type '${p.target.type}'`);
    st.args.push('-chardev', chardevArg(p.source, id, `parallel ${i}`));
    st.args.push('-device', jsonArg({ driver: 'isa-parallel', chardev: id, id: `parallel${i}` }));
  });
  d.redirdevs.forEach((r, i) => {
    if (r.bus !== 'usb') throw notYet(`<redirdev bus='${r.bus}'>`);
    const id = `charredir${i}`;
    st.args.push('-chardev', chardevArg(r.source, id, `redirdev ${i}`, undefined, 'usbredir'));
    const dev: JsonProps = {
      driver: 'usb-redir',
      chardev: id,
      id: `redir${i}`,
      ...addressProps(st, r.address, `redirdev ${i}`),
    };
    if (r.boot) dev.bootindex = r.boot.order;
    st.args.push('-device', jsonArg(dev));
  });
}

function buildSerial(st: BuildState, s: ChardevDef, i: number): void {
  const id = `charserial${i}`;
  st.args.push('-chardev', chardevArg(s.source, id, `serial ${i}`));
  const t = s.target?.type;
  const model = s.target?.model ?? (t && t !== 'isa' && t !== 'serial' ? t : 'isa-serial');
  const driver = model === 'isa' ? 'isa-serial' : model;
  const dev: JsonProps = { driver };
  if (driver === 'isa-serial') {
    dev.chardev = id;
    dev.id = `serial${i}`;
    dev.index = s.target?.port ?? i;
  } else if (driver === 'usb-serial' || driver === 'pci-serial') {
    dev.chardev = id;
    dev.id = `serial${i}`;
    Object.assign(dev, addressProps(st, s.address, `serial ${i}`, driver === 'pci-serial'));
  } else {
    throw notYet(`<serial> target model '${driver}'`);
  }
  st.args.push('-device', jsonArg(dev));
}
