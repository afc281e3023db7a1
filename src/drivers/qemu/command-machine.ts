// Machine-level options: -machine/-accel, -cpu, -m, -smp, -rtc, -boot and direct kernel boot, <pm>.
import type { DomainDef } from '../../conf/domain/domain-def.js';
import type { XmlElement } from '../../util/xml.js';
import {
  type BuildState,
  internalError,
  notYet,
  refuseExtraChildren,
  unsupportedConfig,
} from './command-common.js';
import { type OptValue, qemuOpts } from './qemu-opts.js';

const KNOWN_FEATURES = [
  'acpi',
  'apic',
  'pae',
  'hap',
  'vmport',
  'smm',
  'privnet',
  'viridian',
  'pmu',
  'pvspinlock',
  'ps2',
];

/** Checks the hypervisor type against the host and returns the accelerator to use. */
export function chooseAccel(def: DomainDef, kvmAvailable: boolean): 'kvm' | 'tcg' {
  if (def.type === 'kvm') {
    if (!kvmAvailable) {
      throw unsupportedConfig(
        `domain '${def.name}' requires KVM (<domain type='kvm'>), but /dev/kvm is missing or not usable on this host; ` +
          `enable virtualization in the firmware and load the kvm module, or use <domain type='qemu'> (TCG emulation)`,
      );
    }
    return 'kvm';
  }
  if (def.type === 'qemu') return 'tcg';
  throw unsupportedConfig(
    `domain type '${def.type}' is not supported by the QEMU driver (use 'kvm' or 'qemu')`,
  );
}

function feature(def: DomainDef, name: string): { present: boolean; state?: string } {
  const f = def.features?.list.find((x) => x.name === name);
  return f ? { present: true, state: f.state } : { present: false };
}

/** -machine TYPE,usb=off,dump-guest-core=off[,smm=..][,vmport=..][,hpet=off][,pflash*][,acpi=..] and -accel. */
export function buildMachine(st: BuildState, accel: 'kvm' | 'tcg', pflash: boolean): void {
  const { def } = st;
  for (const f of def.features?.list ?? []) {
    if (!KNOWN_FEATURES.includes(f.name)) throw notYet(`<features><${f.name}>`);
  }
  const type = def.os.machine ?? 'pc';
  if (!/^[A-Za-z0-9._-]+$/.test(type)) throw unsupportedConfig(`machine type '${type}'`);
  const o: [string, OptValue][] = [
    ['usb', false],
    ['dump-guest-core', def.memory.dumpCore === 'on'],
  ];
  const smm = feature(def, 'smm');
  if (def.os.loader?.secure) {
    if (smm.present && smm.state === 'off')
      throw unsupportedConfig('secure boot requires SMM (<smm state="on"/>)');
    o.push(['smm', true]);
  } else if (smm.present) o.push(['smm', smm.state !== 'off']);
  const vmport = feature(def, 'vmport');
  if (vmport.present) o.push(['vmport', vmport.state !== 'off']);
  if (pflash) {
    o.push(['pflash0', 'libvirt-pflash0-format']);
    if (def.os.nvram?.path || st.ctx.nvramPath || def.os.nvram?.template)
      o.push(['pflash1', 'libvirt-pflash1-storage']);
  }
  if (def.devices.sounds.some((s) => s.model === 'pcspk')) o.push(['pcspk-audiodev', st.audiodev]);
  const ps2 = feature(def, 'ps2');
  if (ps2.present) o.push(['i8042', ps2.state !== 'off']);
  const hpet = def.clock?.timers.find((t) => t.name === 'hpet');
  if (hpet?.present === false) o.push(['hpet', false]);
  o.push(['acpi', feature(def, 'acpi').present && feature(def, 'acpi').state !== 'off']);
  st.args.push('-machine', qemuOpts(type, o), '-accel', accel);
}

/** -cpu: host-passthrough needs KVM; custom models with feature policies; qemu64 by default. */
export function buildCpu(st: BuildState, accel: 'kvm' | 'tcg'): void {
  const cpu = st.def.cpu;
  if (cpu?.extra?.children?.some((c) => c.node.type === 'element' && c.node.name === 'numa'))
    throw notYet('<cpu><numa>');
  if (cpu?.extra?.children?.some((c) => c.node.type === 'element' && c.node.name === 'cache'))
    throw notYet('<cpu><cache>');
  const mode = cpu?.mode ?? (cpu?.model ? 'custom' : undefined);
  let head: string;
  const o: [string, OptValue][] = [];
  switch (mode) {
    case undefined:
      head = 'qemu64';
      break;
    case 'host-passthrough':
      if (accel !== 'kvm') {
        throw unsupportedConfig(
          `CPU mode 'host-passthrough' requires KVM, but domain '${st.def.name}' has type '${st.def.type}' (TCG); ` +
            `use <domain type='kvm'> on a host with /dev/kvm, or <cpu mode='maximum'/> under TCG`,
        );
      }
      head = 'host';
      o.push(['migratable', cpu?.migratable ?? true]);
      break;
    case 'host-model':
      head = accel === 'kvm' ? 'host' : 'max';
      break;
    case 'maximum':
      head = 'max';
      if (accel === 'kvm') o.push(['migratable', cpu?.migratable ?? true]);
      break;
    case 'custom':
      head = cpu?.model ?? 'qemu64';
      if (!/^[A-Za-z0-9._-]+$/.test(head)) throw unsupportedConfig(`CPU model '${head}'`);
      break;
    default:
      throw notYet(`<cpu mode='${mode}'>`);
  }
  for (const f of cpu?.features ?? []) {
    if (!/^[A-Za-z0-9._-]+$/.test(f.name)) throw unsupportedConfig(`CPU feature '${f.name}'`);
    const p = f.policy ?? 'require';
    if (p === 'optional') continue;
    o.push([f.name, p === 'require' || p === 'force']);
  }
  // Hypervisor features and timers that QEMU exposes as CPU properties.
  const kvmclock = st.def.clock?.timers.find((t) => t.name === 'kvmclock');
  if (kvmclock?.present !== undefined) o.push(['kvmclock', kvmclock.present]);
  const tscHz = tscFrequency(st.def);
  if (tscHz !== undefined) o.push(['tsc-frequency', tscHz]);
  const pvspin = feature(st.def, 'pvspinlock');
  if (pvspin.present) o.push(['kvm-pv-unhalt', pvspin.state !== 'off']);
  const pmu = feature(st.def, 'pmu');
  if (pmu.present) o.push(['pmu', pmu.state !== 'off']);
  st.args.push('-cpu', qemuOpts(head, o));
}

/** <timer name='tsc' frequency='N'/> in Hz (libvirt: tsc-frequency=N on -cpu). */
function tscFrequency(def: DomainDef): number | undefined {
  const t = def.clock?.timers.find((x) => x.name === 'tsc');
  const f = t?.extra?.attrs?.find(([k]) => k === 'frequency')?.[1];
  if (f === undefined) return undefined;
  if (!/^[0-9]+$/.test(f) || Number(f) === 0 || !Number.isSafeInteger(Number(f)))
    throw unsupportedConfig(`<timer name='tsc' frequency='${f}'> is not a frequency in Hz`);
  return Number(f);
}

/** -m size=Nk[,slots=S,maxmem=Mk] and -overcommit. */
export function buildMemory(st: BuildState): void {
  const { def } = st;
  // QEMU on x86 wants RAM in whole MiB: round up like libvirt (qemuDomainAlignMemorySizes).
  const mib = (kib: number) => Math.ceil(kib / 1024) * 1024;
  const o: [string, OptValue][] = [['size', `${mib(def.memory.kib)}k`]];
  if (def.maxMemory) {
    if (!def.maxMemory.slots) throw unsupportedConfig('<maxMemory> needs a slots count');
    o.push(['slots', def.maxMemory.slots], ['maxmem', `${mib(def.maxMemory.kib)}k`]);
  }
  st.args.push('-m', qemuOpts(undefined, o), '-overcommit', 'mem-lock=off');
}

/** -smp CUR[,maxcpus=MAX],sockets=,dies=,clusters=,cores=,threads= (libvirt's flat topology by default). */
export function buildSmp(st: BuildState): void {
  const { def } = st;
  const max = def.vcpu?.max ?? 1;
  const cur = def.vcpu?.current ?? max;
  const t = def.cpu?.topology;
  const o: [string, OptValue][] = [];
  if (cur !== max) o.push(['maxcpus', max]);
  if (t) {
    const total = t.sockets * (t.dies ?? 1) * (t.clusters ?? 1) * t.cores * t.threads;
    if (total !== max)
      throw unsupportedConfig(`CPU topology (${total} vCPUs) does not match the maximum vCPU count ${max}`);
    o.push(['sockets', t.sockets], ['dies', t.dies ?? 1]);
    if (t.clusters !== undefined) o.push(['clusters', t.clusters]);
    o.push(['cores', t.cores], ['threads', t.threads]);
  } else o.push(['sockets', max], ['cores', 1], ['threads', 1]);
  st.args.push('-smp', qemuOpts(String(cur), o));
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** -rtc base=...[,driftfix=slew] plus the PIT policy global; TZ env for offset='timezone'. */
export function buildClock(st: BuildState, env: Record<string, string>): void {
  const c = st.def.clock;
  let base = 'utc';
  if (c) {
    switch (c.offset) {
      case 'utc':
        break;
      case 'localtime':
        base = 'localtime';
        break;
      case 'timezone':
        if (!c.timezone || !/^[A-Za-z0-9_+/-]+$/.test(c.timezone))
          throw unsupportedConfig(`clock timezone '${c.timezone}'`);
        base = 'localtime';
        env.TZ = c.timezone;
        break;
      case 'variable': {
        if ((c.basis ?? 'utc') !== 'utc') throw notYet(`<clock offset='variable' basis='${c.basis}'>`);
        if (st.ctx.now === undefined)
          throw internalError('a variable clock needs the current time in the build context (ctx.now)');
        const d = new Date(st.ctx.now + Number(c.adjustment ?? 0) * 1000);
        base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
        break;
      }
      default:
        throw notYet(`<clock offset='${c.offset}'>`);
    }
  }
  const o: [string, OptValue][] = [['base', base]];
  const timers = c?.timers ?? [];
  const globals: string[] = [];
  for (const t of timers) {
    // frequency is read for tsc (on -cpu); mode and <catchup> are not passed on yet.
    for (const [k, v] of t.extra?.attrs ?? [])
      if (!(t.name === 'tsc' && k === 'frequency')) throw notYet(`<timer name='${t.name}' ${k}='${v}'>`);
    refuseExtraChildren(t.extra, [], 'timer');
    if (t.name === 'rtc') {
      if (t.tickpolicy === 'catchup') o.push(['driftfix', 'slew']);
      else if (t.tickpolicy && t.tickpolicy !== 'delay')
        throw notYet(`<timer name='rtc' tickpolicy='${t.tickpolicy}'>`);
      if (t.track === 'guest') o.push(['clock', 'vm']);
      else if (t.track === 'wall') o.push(['clock', 'host']);
    } else if (t.name === 'pit') {
      if (t.tickpolicy === 'delay') globals.push('-global', 'kvm-pit.lost_tick_policy=delay');
      else if (t.tickpolicy === 'discard') globals.push('-global', 'kvm-pit.lost_tick_policy=discard');
      else if (t.tickpolicy) throw notYet(`<timer name='pit' tickpolicy='${t.tickpolicy}'>`);
    } else if (t.name === 'hpet') {
      // handled on -machine
    } else if (t.name === 'kvmclock') {
      // a CPU property, on -cpu
    } else if (t.name === 'tsc' || t.name === 'hypervclock') {
      if (t.present !== undefined) throw notYet(`<timer name='${t.name}' present=...>`);
    } else throw notYet(`<timer name='${t.name}'>`);
  }
  st.args.push('-rtc', qemuOpts(undefined, o), ...globals);
}

/** -global ...disable_s3/disable_s4 from <pm>. */
export function buildPm(st: BuildState): void {
  const pm = st.def.pm;
  const dev = st.q35 ? 'ICH9-LPC' : 'PIIX4_PM';
  if (pm?.suspendToMem !== undefined) st.args.push('-global', `${dev}.disable_s3=${pm.suspendToMem ? 0 : 1}`);
  if (pm?.suspendToDisk !== undefined)
    st.args.push('-global', `${dev}.disable_s4=${pm.suspendToDisk ? 0 : 1}`);
}

/** -boot menu/strict (boot order itself goes to per-device bootindex), and direct kernel boot. */
export function buildBoot(st: BuildState): void {
  const os = st.def.os;
  const o: [string, OptValue][] = [];
  refuseExtraChildren(os.extra, ['smbios', 'bios', 'acpi'], 'os');
  const osChild = (name: string) =>
    os.extra?.children
      ?.map((c) => c.node)
      .find((n): n is XmlElement => n.type === 'element' && n.name === name);
  const bios = osChild('bios');
  if (bios?.attrs.useserial === 'yes') throw notYet("<bios useserial='yes'>");
  if (osChild('acpi')) throw notYet('<os><acpi> tables');
  if (os.bootMenu) {
    o.push(['menu', os.bootMenu.enable]);
    if (os.bootMenu.enable && os.bootMenu.timeout !== undefined) o.push(['splash-time', os.bootMenu.timeout]);
  }
  const rt = bios?.attrs.rebootTimeout;
  if (rt !== undefined) {
    if (!/^-?[0-9]+$/.test(rt) || Number(rt) < -1 || Number(rt) > 65535)
      throw unsupportedConfig(`rebootTimeout '${rt}'`);
    o.push(['reboot-timeout', Number(rt)]);
  }
  o.push(['strict', true]);
  st.args.push('-boot', qemuOpts(undefined, o));
  // These options take a raw path/string: QEMU does not parse them as QemuOpts.
  if (os.kernel) st.args.push('-kernel', os.kernel);
  if (os.initrd) st.args.push('-initrd', os.initrd);
  if (os.cmdline) st.args.push('-append', os.cmdline);
  if (os.dtb) st.args.push('-dtb', os.dtb);
}
