// buildQemuCommand: a DomainDef plus runtime facts -> the QEMU command line (pure: no I/O, no clock).
import type { DomainDef } from '../../conf/domain/domain-def.js';
import { buildChardevs, buildParallelsAndRedirdevs } from './command-chardev.js';
import {
  type BuildState,
  type QemuBuildContext,
  type QemuCommand,
  internalError,
  reserveVideoSlot,
  usedRootSlots,
  notYet,
  unsupportedConfig,
} from './command-common.js';
import {
  buildControllers,
  buildHubs,
  buildInputs,
  buildMiscDevices,
  buildSounds,
  buildWatchdogs,
} from './command-devices.js';
import { buildDisks } from './command-disk.js';
import { buildGraphics, buildVideos } from './command-graphics.js';
import {
  buildBoot,
  buildClock,
  buildCpu,
  buildMachine,
  buildMemory,
  buildPm,
  buildSmp,
  chooseAccel,
} from './command-machine.js';
import { buildFirmware, buildSmbios } from './command-firmware.js';
import { buildInterfaces } from './command-net.js';
import { checkPerf, checkSeclabels, cpuPinning } from './command-tune.js';
import { jsonArg, qemuOpts } from './qemu-opts.js';

export type { QemuBuildContext, QemuCommand, ResolvedDiskSource, TapInfo } from './command-common.js';
export { channelSocketPath, defaultChannelPath } from './command-chardev.js';
export { chooseAccel } from './command-machine.js';
export { needsTap } from './command-net.js';
export { type CpuPinning, cpuPinning } from './command-tune.js';

/** Top-level elements tvirt cannot run yet: refused, never silently dropped. */
export const UNSUPPORTED_TOP_LEVEL = [
  'numatune',
  'memoryBacking',
  'iothreads',
  'iothreadids',
  'launchSecurity',
  'genid',
  'keywrap',
  'idmap',
  'commandline',
  'throttlegroups',
  'vcpus',
  // cgroup limits: tvirt does not manage cgroups, so these would be limits without effect.
  'memtune',
  'blkiotune',
];
/**
 * Top-level elements checked elsewhere, with no argv of their own: <sysinfo> (-smbios), <seclabel>
 * and <perf> (command-tune.ts); <bootloader> has no meaning for hvm guests.
 */
const HANDLED_ELSEWHERE = ['seclabel', 'sysinfo', 'perf', 'bootloader', 'bootloader_args'];

/** Device elements kept whole by the XML layer that tvirt cannot run yet. */
export const UNSUPPORTED_DEVICES = [
  'hostdev',
  'filesystem',
  'tpm',
  'smartcard',
  'shmem',
  'memory',
  'iommu',
  'vsock',
  'lease',
  'nvram',
  'crypto',
  'pstore',
];

/** Lifecycle actions the process layer implements for QEMU. */
const LIFECYCLE = ['destroy', 'restart', 'preserve'];

function checkSupported(def: DomainDef): void {
  for (const c of def.extra?.children ?? []) {
    if (c.node.type !== 'element') continue;
    const name = c.node.name;
    if (UNSUPPORTED_TOP_LEVEL.includes(name) || name.includes(':')) throw notYet(`<${name}>`);
    if (!HANDLED_ELSEWHERE.includes(name)) throw notYet(`<${name}>`);
  }
  for (const el of def.devices.others) {
    if (el.name === 'audio') {
      const t = el.attrs.type ?? 'none';
      if (t !== 'none' && t !== 'spice') throw notYet(`<audio type='${t}'>`);
      if (t === 'spice' && !def.devices.graphics.some((g) => g.type === 'spice')) {
        throw unsupportedConfig("<audio type='spice'> needs <graphics type='spice'>");
      }
      continue;
    }
    if (el.name === 'hub' && el.attrs.type === 'usb') continue;
    throw notYet(`<${el.name}>`, el.attrs.type ? `of type '${el.attrs.type}'` : '');
  }

  for (const [what, a] of [
    ['on_poweroff', def.onPoweroff],
    ['on_reboot', def.onReboot],
    ['on_crash', def.onCrash],
  ] as const) {
    if (a && !LIFECYCLE.includes(a)) throw notYet(`<${what}>${a}</${what}>`);
  }
  checkSeclabels(def);
  checkPerf(def);
  cpuPinning(def);
  if (def.os.type !== 'hvm')
    throw unsupportedConfig(`OS type '${def.os.type}' is not supported by the QEMU driver (only 'hvm')`);
  const arch = def.os.arch ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'i686') throw notYet(`architecture '${arch}'`);
}

/** Id of the one audiodev: audio<N> from the first <audio id='N'>, else audio1 (libvirt's naming). */
function audiodevId(def: DomainDef): string {
  const id = def.devices.others.find((e) => e.name === 'audio')?.attrs.id;
  return `audio${id !== undefined && /^[0-9]+$/.test(id) ? id : '1'}`;
}

/** Maps <os><boot dev=...> to per-device bootindex when no device has its own <boot order>. */
function bootIndexes(def: DomainDef): Map<string, number> {
  const m = new Map<string, number>();
  const d = def.devices;
  const perDevice =
    d.disks.some((x) => x.boot) || d.interfaces.some((x) => x.boot) || d.redirdevs.some((x) => x.boot);
  if (perDevice) {
    if (def.os.bootDevs.length)
      throw unsupportedConfig('per-device boot elements cannot be used together with os/boot elements');
    return m;
  }
  const devs = def.os.bootDevs.length ? def.os.bootDevs : def.os.kernel ? [] : ['hd' as const];
  devs.forEach((dev, i) => {
    let key: string | undefined;
    if (dev === 'network') key = d.interfaces.length ? 'net:0' : undefined;
    else {
      const want = dev === 'hd' ? 'disk' : dev === 'cdrom' ? 'cdrom' : 'floppy';
      const k = d.disks.findIndex((x) => x.device === want);
      key = k >= 0 ? `disk:${k}` : undefined;
    }
    if (key && !m.has(key)) m.set(key, i + 1);
  });
  return m;
}

/**
 * Builds the QEMU command line for starting `def` (libvirt's qemuBuildCommandLine), QEMU 7.2 semantics.
 * Pure: everything decided at run time (sockets, taps, ports, KVM) comes in `ctx`. QEMU starts paused
 * (-S) with a QMP monitor on ctx.monitorPath; passwords are never put in argv (set them over QMP).
 * Call with a definition that went through parseDomain and domainAssignDefaults.
 * @throws VirError CONFIG_UNSUPPORTED naming the element tvirt cannot run (or KVM missing), INTERNAL_ERROR
 *   when ctx lacks something the definition needs (a tap, a chosen VNC port, a resolved volume).
 */
export function buildQemuCommand(def: DomainDef, ctx: QemuBuildContext): QemuCommand {
  if (!ctx.monitorPath) throw internalError('no QMP monitor socket path in the build context');
  checkSupported(def);
  const accel = chooseAccel(def, ctx.kvmAvailable);
  const st: BuildState = {
    def,
    ctx,
    args: [],
    q35: /q35/.test(def.os.machine ?? ''),
    bootIndex: bootIndexes(def),
    audiodev: audiodevId(def),
    usedSlots: new Set(),
  };
  st.usedSlots = usedRootSlots(def, st.q35);
  reserveVideoSlot(st);
  const env: Record<string, string> = { LC_ALL: 'C', ...(ctx.env ?? {}) };
  const a = st.args;
  a.push(
    '-name',
    qemuOpts(undefined, [
      ['guest', def.name],
      ['debug-threads', true],
    ]),
    '-S',
  );
  const pflash = buildFirmware(st);
  buildMachine(st, accel, pflash);
  buildCpu(st, accel);
  buildMemory(st);
  buildSmp(st);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(def.uuid)) {
    throw unsupportedConfig(`domain UUID '${def.uuid}'`);
  }
  a.push('-uuid', def.uuid);
  buildSmbios(st);
  if (def.devices.graphics.length === 0) a.push('-display', 'none');
  a.push('-no-user-config', '-nodefaults');
  a.push(
    '-chardev',
    qemuOpts('socket', [
      ['id', 'charmonitor'],
      ['path', ctx.monitorPath],
      ['server', true],
      ['wait', false],
    ]),
  );
  a.push('-mon', 'chardev=charmonitor,id=monitor,mode=control');
  buildClock(st, env);
  a.push('-no-shutdown');
  // A guest reboot stops the domain for destroy and preserve alike (libvirt): QEMU must not reset.
  if (def.onReboot === 'destroy' || def.onReboot === 'preserve') a.push('-no-reboot');
  buildPm(st);
  buildBoot(st);
  buildControllers(st);
  buildHubs(st);
  buildDisks(st);
  buildInterfaces(st);
  buildChardevs(st);
  buildParallelsAndRedirdevs(st);
  buildInputs(st);
  // One audio backend feeds sound cards and VNC: the first <audio> (none or spice), else none.
  const audio = def.devices.others.find((e) => e.name === 'audio');
  a.push('-audiodev', jsonArg({ id: st.audiodev, driver: audio?.attrs.type ?? 'none' }));
  buildGraphics(st);
  buildVideos(st);
  buildSounds(st);
  buildWatchdogs(st);
  buildMiscDevices(st);
  a.push(
    '-sandbox',
    'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-msg',
    'timestamp=on',
  );
  const program = ctx.emulator ?? def.devices.emulator ?? 'qemu-system-x86_64';
  return { program, args: a, env };
}

/** Renders a command one argument per line (golden files, logs); arguments are not shell-quoted. */
export function renderCommandLines(cmd: QemuCommand): string {
  const envLines = Object.entries(cmd.env).map(([k, v]) => `${k}=${v}`);
  return [...envLines, cmd.program, ...cmd.args].join('\n') + '\n';
}
