// Resource and confinement elements without a QEMU argument: <cputune>, <vcpu cpuset/placement>,
// <memtune>/<blkiotune> (cgroups, which tvirt does not manage), <seclabel> (no security driver) and
// <perf>. What tvirt can honour is checked here and returned as a plan (CPU pinning, applied by the
// process layer with taskset once QEMU's threads exist); everything else is refused by name.
import { formatBitmap, parseBitmap } from '../../conf/domain/bitmap.js';
import type { DomainDef } from '../../conf/domain/domain-def.js';
import type { XmlElement } from '../../util/xml.js';
import { notYet, unsupportedConfig } from './command-common.js';

/** Host CPU affinity to give QEMU's threads after the spawn (libvirt's qemuProcessSetupVcpus/Emulator). */
export interface CpuPinning {
  /** Host CPU list (taskset -c syntax) per vCPU id; undefined: not pinned. */
  vcpus: (string | undefined)[];
  /** Host CPU list for every other QEMU thread (main loop, I/O, ...). */
  emulator?: string;
}

function cpuList(text: string, what: string): string {
  let ids: number[];
  try {
    ids = parseBitmap(text, what);
  } catch {
    throw unsupportedConfig(`invalid ${what} '${text}'`);
  }
  if (ids.length === 0) throw unsupportedConfig(`${what} '${text}' names no host CPU`);
  return formatBitmap(ids);
}

function elements(def: DomainDef, name: string): XmlElement[] {
  return (def.extra?.children ?? [])
    .map((c) => c.node)
    .filter((n): n is XmlElement => n.type === 'element' && n.name === name);
}

/**
 * Checks <cputune> and <vcpu placement/cpuset> and returns the pinning they ask for (undefined when
 * none). vcpupin, emulatorpin and <vcpu cpuset> are honoured; CFS shares/period/quota, schedulers,
 * iothreadpin and cache/memory tunes need cgroups or resctrl and are refused.
 */
export function cpuPinning(def: DomainDef): CpuPinning | undefined {
  const max = def.vcpu?.max ?? 1;
  if (def.vcpu?.placement === 'auto') throw notYet(`<vcpu placement='auto'>`, '(automatic NUMA placement)');
  const t = def.cputune;
  if (t?.vcpusched.length) throw notYet('<cputune><vcpusched>');
  if (t?.iothreadsched.length) throw notYet('<cputune><iothreadsched>');
  if (t?.cachetunes.length || t?.memorytunes.length) throw notYet('<cputune><cachetune>/<memorytune>');
  for (const [k] of t?.extra?.attrs ?? []) throw notYet(`<cputune ${k}=...>`);
  const dflt = def.vcpu?.cpuset !== undefined ? cpuList(def.vcpu.cpuset, '<vcpu cpuset>') : undefined;
  const vcpus: (string | undefined)[] = Array.from({ length: max }, () => dflt);
  let emulator = dflt;
  const pinned = new Set<number>();
  for (const c of t?.extra?.children ?? []) {
    const n = c.node;
    if (n.type !== 'element') continue;
    if (n.name === 'vcpupin') {
      const v = Number(n.attrs.vcpu);
      if (!/^[0-9]+$/.test(n.attrs.vcpu ?? '') || v >= max)
        throw unsupportedConfig(
          `<cputune><vcpupin vcpu='${n.attrs.vcpu ?? ''}'> names no vCPU (maximum ${max})`,
        );
      if (pinned.has(v)) throw unsupportedConfig(`duplicate <cputune><vcpupin> for vCPU ${v}`);
      pinned.add(v);
      vcpus[v] = cpuList(n.attrs.cpuset ?? '', `<vcpupin vcpu='${v}'> cpuset`);
    } else if (n.name === 'emulatorpin') {
      emulator = cpuList(n.attrs.cpuset ?? '', '<emulatorpin> cpuset');
    } else {
      // shares, period, quota, global_*, emulator_*, iothread_*, iothreadpin, emulatorsched ...
      throw notYet(`<cputune><${n.name}>`, '(needs cgroups or a scheduler policy tvirt does not set)');
    }
  }
  if (emulator === undefined && vcpus.every((v) => v === undefined)) return undefined;
  return emulator === undefined ? { vcpus } : { vcpus, emulator };
}

/**
 * <seclabel>: tvirt has no security driver (like libvirt's 'none'), so QEMU runs unconfined and
 * nothing is labelled. Accepted: type='none' (asks for exactly that) and a type='dynamic' label
 * that only asks for the host's default model (no model, or model='none', no <baselabel>): with no
 * security driver the host default is no label. The element stays in the XML as written. Refused:
 * a static label, a named model (selinux, apparmor, dac) or a base label, which would promise a
 * confinement tvirt does not apply.
 */
export function checkSeclabels(def: DomainDef): void {
  for (const s of elements(def, 'seclabel')) {
    const type = s.attrs.type ?? 'dynamic';
    const model = s.attrs.model;
    const what = `<seclabel type='${type}'${model ? ` model='${model}'` : ''}>`;
    if (type === 'none') continue;
    if (type !== 'dynamic') throw notYet(what, '(no security driver: QEMU would run without that label)');
    if (model !== undefined && model !== 'none')
      throw notYet(what, `(no '${model}' security driver on this host)`);
    const kids = s.children.filter((c) => c.type === 'element') as XmlElement[];
    const bad = kids.find((c) => c.name === 'baselabel');
    if (bad) throw notYet(`${what}<baselabel>`, '(no security driver)');
  }
}

/** <perf>: counters need perf_event_open per vCPU thread, which tvirt does not do; disabled ones are fine. */
export function checkPerf(def: DomainDef): void {
  for (const p of elements(def, 'perf'))
    for (const e of p.children)
      if (e.type === 'element' && e.name === 'event' && e.attrs.enabled === 'yes')
        throw notYet(`<perf><event name='${e.attrs.name ?? ''}' enabled='yes'>`);
}
