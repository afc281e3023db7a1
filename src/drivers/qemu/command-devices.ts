// Controllers, input, sound, memballoon, rng, watchdog and panic devices -> `-device`/`-object`/`-global`.
import type { ControllerDef, SoundDef } from '../../conf/domain/domain-def.js';
import type { XmlElement } from '../../util/xml.js';
import { chardevArg, needsVirtioSerial } from './command-chardev.js';
import {
  type BuildState,
  addressProps,
  driverExtras,
  onOffValue,
  VIRTIO_OPTIONS,
  virtioOptionProps,
  notYet,
  unsupportedConfig,
  usbControllerId,
} from './command-common.js';
import { type JsonProps, jsonArg } from './qemu-opts.js';

const USB_MODELS: Record<string, string> = {
  'piix3-uhci': 'piix3-usb-uhci',
  'piix4-uhci': 'piix4-usb-uhci',
  ehci: 'usb-ehci',
  'ich9-ehci1': 'ich9-usb-ehci1',
  'ich9-uhci1': 'ich9-usb-uhci1',
  'ich9-uhci2': 'ich9-usb-uhci2',
  'ich9-uhci3': 'ich9-usb-uhci3',
  'vt82c686b-uhci': 'vt82c686b-usb-uhci',
  'pci-ohci': 'pci-ohci',
  'nec-xhci': 'nec-usb-xhci',
  'qemu-xhci': 'qemu-xhci',
};
const SCSI_MODELS: Record<string, string> = {
  'virtio-scsi': 'virtio-scsi-pci',
  'virtio-transitional': 'virtio-scsi-pci-transitional',
  'virtio-non-transitional': 'virtio-scsi-pci-non-transitional',
  lsilogic: 'lsi',
  lsisas1068: 'mptsas1068',
  lsisas1078: 'megasas',
  vmpvscsi: 'pvscsi',
};
const PCI_MODELS: Record<string, string> = {
  'pcie-root-port': 'pcie-root-port',
  'pci-bridge': 'pci-bridge',
  'dmi-to-pci-bridge': 'i82801b11-bridge',
  'pcie-to-pci-bridge': 'pcie-pci-bridge',
  'pcie-switch-upstream-port': 'x3130-upstream',
  'pcie-switch-downstream-port': 'xio3130-downstream',
};

/** True when some device sits on a USB bus, so a USB controller must exist. */
function needsUsb(st: BuildState): boolean {
  const d = st.def.devices;
  return (
    d.inputs.some((i) => i.bus === 'usb' || (i.type === 'tablet' && i.bus === undefined)) ||
    d.disks.some((k) => k.target.bus === 'usb') ||
    d.sounds.some((s) => s.model === 'usb') ||
    d.serials.some((s) => s.target?.type === 'usb-serial') ||
    d.redirdevs.length > 0 ||
    d.others.some((e) => e.name === 'hub')
  );
}

function controllerDevice(st: BuildState, c: ControllerDef): JsonProps | undefined {
  const what = `<controller type='${c.type}' index='${c.index}'>`;
  if (c.driver?.iothread !== undefined) throw notYet(`<driver iothread=...> on ${what}`);
  const builtin =
    (c.type === 'sata' && st.q35 && c.index === 0) ||
    c.type === 'ide' ||
    c.type === 'fdc' ||
    c.type === 'isa' ||
    (c.type === 'pci' && (c.model === 'pci-root' || c.model === 'pcie-root' || c.index === 0)) ||
    c.model === 'none';
  const at = builtin ? {} : addressProps(st, c.address, what, true);
  switch (c.type) {
    case 'pci': {
      const model = c.model ?? (c.index === 0 ? (st.q35 ? 'pcie-root' : 'pci-root') : 'pci-bridge');
      if (model === 'pci-root' || model === 'pcie-root') {
        if (c.index !== 0) throw unsupportedConfig(`${what}: the ${model} controller must have index 0`);
        if ((model === 'pcie-root') !== st.q35)
          throw unsupportedConfig(`${what}: model '${model}' does not match the machine type`);
        return undefined;
      }
      const driver = c.modelName ?? PCI_MODELS[model];
      if (!driver || !/^[a-z0-9-]+$/.test(driver)) throw notYet(`<controller type='pci' model='${model}'>`);
      const p: JsonProps = { driver };
      const t = c.target ?? {};
      if (model === 'pcie-root-port' || model === 'pcie-switch-downstream-port') {
        const a = c.address?.type === 'pci' ? c.address : undefined;
        const port = t.port ?? (a ? (a.slot << 3) | a.function : undefined);
        if (port !== undefined) p.port = port;
        p.chassis = t.chassis ?? c.index;
      } else if (model === 'pci-bridge') {
        p.chassis_nr = t.chassisNr ?? c.index;
      }
      return { ...p, id: `pci.${c.index}`, ...at };
    }
    case 'usb': {
      const model = c.model ?? (st.q35 ? 'qemu-xhci' : 'piix3-uhci');
      if (model === 'none') return undefined;
      const driver = USB_MODELS[model];
      if (!driver) throw notYet(`<controller type='usb' model='${model}'>`);
      // ICH9 UHCI companions of an EHCI controller with the same index (libvirt's implicit <master>).
      const companion = /^ich9-uhci([1-6])$/.exec(model);
      const ehci = st.def.devices.controllers.some(
        (x) => x.type === 'usb' && x.index === c.index && x.model === 'ich9-ehci1',
      );
      const start = c.master?.startport ?? (companion && ehci ? (Number(companion[1]) - 1) * 2 : undefined);
      if (start !== undefined) {
        return { driver, masterbus: `${usbControllerId(c.index)}.0`, firstport: start, ...at };
      }
      const p: JsonProps = { driver };
      if (c.ports !== undefined && driver.endsWith('xhci')) {
        p.p2 = c.ports;
        p.p3 = c.ports;
      }
      return { ...p, id: usbControllerId(c.index), ...at };
    }
    case 'scsi': {
      const model = c.model ?? 'lsilogic';
      const driver = SCSI_MODELS[model];
      if (!driver) throw notYet(`<controller type='scsi' model='${model}'>`);
      const p: JsonProps = { driver, id: `scsi${c.index}` };
      if (c.driver?.queues !== undefined && driver.startsWith('virtio')) p.num_queues = c.driver.queues;
      const x = driverExtras(
        c.driver?.extra,
        ['cmd_per_lun', 'max_sectors', 'ioeventfd', ...Object.keys(VIRTIO_OPTIONS)],
        'controller',
      );
      if (x.cmd_per_lun !== undefined) p.cmd_per_lun = Number(x.cmd_per_lun);
      if (x.max_sectors !== undefined) p.max_sectors = Number(x.max_sectors);
      if (x.ioeventfd !== undefined) p.ioeventfd = onOffValue(x.ioeventfd);
      if (driver.startsWith('virtio')) Object.assign(p, virtioOptionProps(x));
      return { ...p, ...at };
    }
    case 'virtio-serial':
      return {
        driver: 'virtio-serial-pci',
        id: `virtio-serial${c.index}`,
        max_ports: c.maxPorts,
        vectors: c.vectors,
        ...at,
      };
    case 'sata':
      if (st.q35 && c.index === 0) return undefined; // the ICH9 AHCI built into q35
      return { driver: 'ahci', id: `sata${c.index}`, ...at };
    case 'ide':
      if (st.q35) throw unsupportedConfig(`${what}: IDE controllers are unsupported for machine type q35`);
      if (c.index === 0) return undefined; // PIIX3 IDE built into pc
      throw notYet(`a second IDE controller (${what})`);
    case 'fdc':
    case 'isa':
      return undefined;
    default:
      throw notYet(`<controller type='${c.type}'>`);
  }
}

/** Emits controllers: PCI first, then USB, then the rest; adds implicit USB/virtio-serial ones when needed. */
export function buildControllers(st: BuildState): void {
  const cs = st.def.devices.controllers;
  const rank = (c: ControllerDef) => (c.type === 'pci' ? 0 : c.type === 'usb' ? 1 : 2);
  const sorted = [...cs].sort(
    (a, b) => rank(a) - rank(b) || (a.type === 'pci' && b.type === 'pci' ? a.index - b.index : 0),
  );
  const implicit: ControllerDef[] = [];
  if (!cs.some((c) => c.type === 'usb') && needsUsb(st)) implicit.push({ type: 'usb', index: 0 });
  if (!cs.some((c) => c.type === 'virtio-serial') && needsVirtioSerial(st.def))
    implicit.push({ type: 'virtio-serial', index: 0 });
  for (const ch of [...st.def.devices.channels, ...st.def.devices.consoles]) {
    const a = ch.address;
    if (a?.type !== 'virtio-serial') continue;
    const known = [...cs, ...implicit].some((c) => c.type === 'virtio-serial' && c.index === a.controller);
    if (!known) implicit.push({ type: 'virtio-serial', index: a.controller });
  }
  for (const c of [...sorted, ...implicit]) {
    const dev = controllerDevice(st, c);
    if (dev) st.args.push('-device', jsonArg(dev));
  }
}

/** Emits USB hubs (<hub type='usb'>, kept whole by the XML layer) as usb-hub devices. */
export function buildHubs(st: BuildState): void {
  st.def.devices.others
    .filter((e) => e.name === 'hub')
    .forEach((hub, i) => {
      const a = hub.children.find((c): c is XmlElement => c.type === 'element' && c.name === 'address');
      const p: JsonProps = { driver: 'usb-hub', id: `hub${i}` };
      if (a) {
        if (a.attrs.type !== 'usb') throw unsupportedConfig(`hub ${i}: address type '${a.attrs.type}'`);
        const bus = Number(a.attrs.bus ?? 0);
        if (!Number.isInteger(bus) || bus < 0) throw unsupportedConfig(`hub ${i}: USB bus '${a.attrs.bus}'`);
        p.bus = `${usbControllerId(bus)}.0`;
        if (a.attrs.port !== undefined) {
          if (!/^[0-9]+(\.[0-9]+)*$/.test(a.attrs.port))
            throw unsupportedConfig(`hub ${i}: USB port '${a.attrs.port}'`);
          p.port = a.attrs.port;
        }
      }
      st.args.push('-device', jsonArg(p));
    });
}

/** Emits input devices; PS/2 mouse and keyboard are built into the machine and need nothing. */
export function buildInputs(st: BuildState): void {
  st.def.devices.inputs.forEach((inp, i) => {
    const bus = inp.bus ?? (inp.type === 'tablet' ? 'usb' : 'ps2');
    let driver: string | undefined;
    if (inp.type === 'passthrough' || inp.type === 'evdev') throw notYet(`<input type='${inp.type}'>`);
    if (bus === 'ps2') {
      if (inp.type === 'tablet') throw unsupportedConfig(`<input type='tablet'> cannot use bus 'ps2'`);
      return;
    }
    if (bus === 'usb') driver = { mouse: 'usb-mouse', tablet: 'usb-tablet', keyboard: 'usb-kbd' }[inp.type];
    else if (bus === 'virtio') driver = `virtio-${inp.type}-pci`;
    else throw notYet(`<input bus='${bus}'>`);
    st.args.push(
      '-device',
      jsonArg({ driver, id: `input${i}`, ...addressProps(st, inp.address, `input ${i}`, bus === 'virtio') }),
    );
  });
}

const CODECS: Record<string, string> = { duplex: 'hda-duplex', micro: 'hda-micro', output: 'hda-output' };

function codecsOf(s: SoundDef): string[] {
  const out: string[] = [];
  for (const c of s.extra?.children ?? []) {
    const n = c.node;
    if (n.type === 'element' && n.name === 'codec') {
      const t = n.attrs.type ?? 'duplex';
      const drv = CODECS[t];
      if (!drv) throw notYet(`<codec type='${t}'>`);
      out.push(drv);
    }
  }
  return out.length ? out : ['hda-duplex'];
}

/** Emits sound cards (and HDA codecs), all fed by the audiodev. */
export function buildSounds(st: BuildState): void {
  st.def.devices.sounds.forEach((s, i) => {
    const id = `sound${i}`;
    const isa = s.model === 'sb16' || s.model === 'usb';
    const at = isa ? {} : addressProps(st, s.address, `sound ${i}`, true);
    const simple: Record<string, string> = { ac97: 'AC97', es1370: 'ES1370', sb16: 'sb16', usb: 'usb-audio' };
    if (s.model === 'pcspk') return; // on -machine pcspk-audiodev
    if (simple[s.model]) {
      st.args.push('-device', jsonArg({ driver: simple[s.model], id, audiodev: st.audiodev, ...at }));
      return;
    }
    const hda: Record<string, string> = { ich6: 'intel-hda', ich7: 'intel-hda', ich9: 'ich9-intel-hda' };
    const driver = hda[s.model];
    if (!driver) throw notYet(`<sound model='${s.model}'>`);
    st.args.push('-device', jsonArg({ driver, id, ...at }));
    codecsOf(s).forEach((codec, cad) => {
      st.args.push(
        '-device',
        jsonArg({ driver: codec, id: `${id}-codec${cad}`, bus: `${id}.0`, cad, audiodev: st.audiodev }),
      );
    });
  });
}

/** Emits watchdogs and the one -watchdog-action. */
export function buildWatchdogs(st: BuildState): void {
  const ws = st.def.devices.watchdogs;
  ws.forEach((w, i) => {
    const id = `watchdog${i}`;
    if (w.model === 'i6300esb')
      st.args.push('-device', jsonArg({ driver: 'i6300esb', id, ...addressProps(st, w.address, id, true) }));
    else if (w.model === 'ib700') st.args.push('-device', jsonArg({ driver: 'ib700', id }));
    else if (w.model === 'itco') {
      if (!st.q35) throw unsupportedConfig(`watchdog model 'itco' needs machine type q35`);
      st.args.push('-global', 'ICH9-LPC.noreboot=off');
    } else throw notYet(`<watchdog model='${w.model}'>`);
  });
  if (ws.length === 0) {
    // q35's ICH9 has the iTCO watchdog built in; libvirt lets it reset the guest by default.
    if (st.q35) st.args.push('-global', 'ICH9-LPC.noreboot=off', '-watchdog-action', 'reset');
    return;
  }
  const actions = new Set(ws.map((w) => w.action ?? 'reset'));
  if (actions.size > 1) throw unsupportedConfig('all watchdogs must have the same action');
  let action = [...actions][0]!;
  if (action === 'dump') action = 'pause'; // the dump is taken by the daemon on the pause event, like libvirt
  if (!['reset', 'shutdown', 'poweroff', 'pause', 'none', 'inject-nmi', 'debug'].includes(action)) {
    throw unsupportedConfig(`watchdog action '${action}'`);
  }
  st.args.push('-watchdog-action', action);
}

/** Emits the memballoon, rng devices and panic notifiers. */
export function buildMiscDevices(st: BuildState): void {
  const d = st.def.devices;
  const mb = d.memballoon;
  if (mb && mb.model !== 'none') {
    const drv: Record<string, string> = {
      virtio: 'virtio-balloon-pci',
      'virtio-transitional': 'virtio-balloon-pci-transitional',
      'virtio-non-transitional': 'virtio-balloon-pci-non-transitional',
    };
    if (!drv[mb.model]) throw notYet(`<memballoon model='${mb.model}'>`);
    const p: JsonProps = {
      driver: drv[mb.model],
      id: 'balloon0',
      ...addressProps(st, mb.address, 'memballoon', true),
    };
    if (mb.autodeflate !== undefined) p['deflate-on-oom'] = mb.autodeflate;
    if (mb.freePageReporting !== undefined) p['free-page-reporting'] = mb.freePageReporting;
    st.args.push('-device', jsonArg(p));
  }
  d.rngs.forEach((r, i) => {
    const obj = `objrng${i}`;
    if (r.backendModel === 'random') {
      st.args.push(
        '-object',
        jsonArg({ 'qom-type': 'rng-random', id: obj, filename: r.device ?? '/dev/random' }),
      );
    } else if (r.backendModel === 'builtin') {
      st.args.push('-object', jsonArg({ 'qom-type': 'rng-builtin', id: obj }));
    } else if (r.backendModel === 'egd') {
      if (!r.source) throw unsupportedConfig(`rng ${i}: the egd backend needs a <backend type=...> source`);
      st.args.push('-chardev', chardevArg(r.source, `charrng${i}`, `rng ${i}`));
      st.args.push('-object', jsonArg({ 'qom-type': 'rng-egd', id: obj, chardev: `charrng${i}` }));
    } else throw notYet(`<rng><backend model='${r.backendModel}'>`);
    const drv: Record<string, string> = {
      virtio: 'virtio-rng-pci',
      'virtio-transitional': 'virtio-rng-pci-transitional',
      'virtio-non-transitional': 'virtio-rng-pci-non-transitional',
    };
    if (!drv[r.model]) throw notYet(`<rng model='${r.model}'>`);
    const p: JsonProps = { driver: drv[r.model], rng: obj, id: `rng${i}` };
    if (r.rate) {
      p['max-bytes'] = r.rate.bytes;
      p.period = r.rate.period ?? 1000;
    }
    st.args.push('-device', jsonArg({ ...p, ...addressProps(st, r.address, `rng ${i}`, true) }));
  });
  for (const p of d.panics) {
    const model = p.model ?? 'isa';
    if (model === 'isa') {
      const a = p.address?.type === 'isa' ? p.address : undefined;
      const ioport = a?.attrs.iobase !== undefined ? Number.parseInt(a.attrs.iobase, 16) : undefined;
      st.args.push('-device', jsonArg({ driver: 'pvpanic', ioport }));
    } else if (model === 'pci' || model === 'pvpanic') {
      st.args.push(
        '-device',
        jsonArg({ driver: 'pvpanic-pci', ...addressProps(st, p.address, 'panic', true) }),
      );
    } else throw notYet(`<panic model='${model}'>`);
  }
}
