// libvirt qemuxmlconfdata as oracle: our argv fragments (-device/-blockdev/-netdev/-chardev/-m ...) vs libvirt .args, counts printed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { domainAssignDefaults, parseDomain } from '../../conf/domain/index.js';
import { isVirError } from '../../util/errors.js';
import { skipNoTestdata, readTestdata, testdataDir } from '../../../test/support/testdata.js';
import { buildQemuCommand } from './command.js';

const DIR = 'domain-qemu/qemuxmlconfdata';

/** Cases printed one by one (all x86_64-latest cases are counted in the totals). */
const CURATED = [
  'x86_64-pc-minimal',
  'x86_64-pc-headless',
  'x86_64-q35-headless',
  'x86_64-q35-graphics',
  'x86_64-q35-minimal',
  'disk-cache',
  'disk-cdrom-tray',
  'disk-boot-cdrom',
  'disk-readonly-disk',
  'disk-shared',
  'disk-usb-device',
  'disk-scsi',
  'disk-aio',
  'disk-virtio-queues',
  'disk-order',
  'controller-virtio-scsi',
  'controller-usb-order',
  'net-user',
  'net-virtio',
  'net-many-models',
  'net-mtu',
  'graphics-vnc',
  'graphics-vnc-socket',
  'graphics-vnc-policy',
  'graphics-vnc-websocket',
  'graphics-spice-no-args',
  'serial-pty-chardev',
  'serial-file-chardev',
  'serial-unix-chardev',
  'serial-tcp-telnet-chardev',
  'serial-vc-chardev',
  'console-compat2',
  'console-virtio',
  'channel-virtio-default',
  'channel-virtio-unix',
  'usb-controller-ich9-companion',
  'usb-controller-nec-xhci',
  'usb-controller-qemu-xhci',
  'usb-controller-piix3',
  'video-vga-device-vgamem',
  'video-qxl-device',
  'video-qxl-device-vram64',
  'video-virtio-vga',
  'video-none-device',
  'watchdog',
  'watchdog-device',
  'watchdog-dump',
  'balloon-device',
  'balloon-device-deflate',
  'virtio-rng-default',
  'virtio-rng-builtin',
  'virtio-rng-egd-unix',
  'sound-device',
  'input-usbtablet',
  'virtio-input',
  'boot-order',
  'boot-menu-enable-with-timeout',
  'boot-multi',
  'clock-utc',
  'clock-localtime',
  'cpu-host-passthrough',
  'cpu-topology3',
  'smbios',
  'panic-no-address',
  'pvpanic-pci-x86_64',
  'pcie-root-port',
  'pcie-root',
  'q35',
  'memory-hotplug',
  'name-escape',
  'misc-disable-suspends',
  'firmware-manual-efi',
];

type Frag = [string, string];

/** Splits a libvirt .args file into [option, value] pairs (values may be single-quoted). */
function parseArgsFile(text: string): Frag[] {
  const toks: string[] = [];
  for (const raw of text.replace(/ \\\n/g, '\n').split('\n')) {
    if (!raw || /^[A-Z_]+=/.test(raw) || raw.startsWith('/')) continue;
    const m = /^(-\S+)(?: (.*))?$/.exec(raw);
    if (!m) continue;
    toks.push(m[1]!);
    if (m[2] !== undefined) toks.push(m[2].startsWith("'") ? m[2].slice(1, -1).replace(/'\\''/g, "'") : m[2]);
  }
  return pairs(toks);
}
function pairs(args: string[]): Frag[] {
  const out: Frag[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      out.push([a, next]);
      i++;
    } else out.push([a, '']);
  }
  return out;
}

const JSON_OPTS = ['-device', '-blockdev', '-netdev', '-object'];
const SCALAR_OPTS = [
  '-m',
  '-smp',
  '-cpu',
  '-accel',
  '-rtc',
  '-boot',
  '-vnc',
  '-spice',
  '-uuid',
  '-name',
  '-smbios',
];

/** Normalizes one fragment to a key and a comparable value; undefined = not compared. */
function norm([opt, val]: Frag, idx: number): [string, string] | undefined {
  if (JSON_OPTS.includes(opt)) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(val) as Record<string, unknown>;
    } catch {
      return [`${opt} ${val}`, val]; // QemuOpts form in an old-style fixture
    }
    const id = (o.id ?? o['node-name'] ?? `${o.driver}#${idx}`) as string;
    if (id === 'masterKey0' || id === 'pc.ram' || String(o['qom-type'] ?? '').startsWith('memory-backend'))
      return undefined;
    // PCI and USB placement come from different address assignment; everything else must agree.
    if (typeof o.bus === 'string' && /^pcie?\.\d+$/.test(o.bus)) {
      delete o.bus;
      delete o.addr;
      delete o.multifunction;
    }
    if (typeof o.port === 'string') delete o.port;
    if (typeof o.bus === 'string' && /^usb\d*\.0$/.test(o.bus)) delete o.bus;
    const sorted = Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
    return [`${opt} ${id}`, JSON.stringify(sorted)];
  }
  if (opt === '-chardev') {
    const id = /id=([^,]+)/.exec(val)?.[1] ?? '';
    if (id === 'charmonitor') return undefined;
    // libvirt hands over sockets and files as fds; we pass paths: compare the rest.
    return [
      `-chardev ${id}`,
      val.replace(/,(path|fd)=(,,|[^,])*/g, '').replace(/,(server=on,wait=off)$/, ''),
    ];
  }
  if (opt === '-machine') return [opt, val.replace(/,memory-backend=pc\.ram/, '')];
  if (opt === '-global' || opt === '-watchdog-action') return [`${opt} ${val}`, val];
  if (opt === '-smbios') return [`${opt} ${val.split(',')[0]}`, val];
  if (SCALAR_OPTS.includes(opt)) return [opt, opt === '-uuid' ? val.toLowerCase() : val];
  return undefined;
}
function fragments(fr: Frag[]): Map<string, string> {
  const m = new Map<string, string>();
  const seen = new Map<string, number>();
  for (const f of fr) {
    // Devices without an id are keyed by driver and occurrence (pvpanic#0, ich9-usb-uhci1#1 ...).
    const drv = f[0] === '-device' ? (/"driver":"([^"]+)"/.exec(f[1])?.[1] ?? '') : '';
    const k = seen.get(drv) ?? 0;
    seen.set(drv, k + 1);
    const n = norm(f, k);
    if (n) m.set(n[0], n[1]);
  }
  return m;
}

interface Result {
  name: string;
  agree: number;
  total: number;
  refused?: string;
  diff: string[];
}

function runCase(name: string): Result {
  const expected = fragments(parseArgsFile(readTestdata(`${DIR}/${name}.x86_64-latest.args`)));
  let def: ReturnType<typeof parseDomain>;
  try {
    def = parseDomain(readTestdata(`${DIR}/${name}.xml`));
    domainAssignDefaults(def, { arch: 'x86_64', machine: def.os.machine ?? 'pc' });
  } catch (e) {
    return { name, agree: 0, total: expected.size, refused: `parse: ${(e as Error).message}`, diff: [] };
  }
  let args: string[];
  try {
    const n = def.devices.interfaces.length;
    args = buildQemuCommand(def, {
      monitorPath: '/run/tvirt/mon.sock',
      runtimeDir: `/var/lib/libvirt/qemu/domain--1-${def.name}`,
      kvmAvailable: true,
      taps: Array.from({ length: n }, (_, i) => ({ ifname: `vnet${i}` })),
      vncPort: 5900,
      spicePort: 5900,
      now: 0,
    }).args;
  } catch (e) {
    if (!isVirError(e)) throw e;
    return { name, agree: 0, total: expected.size, refused: `${e.code}: ${e.message}`, diff: [] };
  }
  const ours = fragments(pairs(args));
  let agree = 0;
  const diff: string[] = [];
  for (const [k, v] of expected) {
    if (ours.get(k) === v) agree++;
    else diff.push(`${k}\n    libvirt: ${v}\n    tvirt:   ${ours.get(k) ?? '(none)'}`);
  }
  return { name, agree, total: expected.size, diff };
}

describe('argv fragments agree with libvirt (qemuxmlconfdata x86_64-latest)', {
  skip: skipNoTestdata,
}, () => {
  it('curated cases and totals', () => {
    const all = readdirSync(join(testdataDir!, DIR))
      .filter((f) => f.endsWith('.x86_64-latest.args'))
      .map((f) => f.slice(0, -'.x86_64-latest.args'.length))
      .filter((n) => existsSync(join(testdataDir!, DIR, `${n}.xml`)));
    const results = all.map(runCase);
    // TVIRT_FIXTURE_DIFF=1 prints the differing fragments of curated cases, =all of every case.
    const verbose = process.env.TVIRT_FIXTURE_DIFF;
    const lines: string[] = [];
    for (const r of results) {
      if (!CURATED.includes(r.name) && verbose !== 'all') continue;
      lines.push(
        `${r.refused ? 'refused' : `${r.agree}/${r.total}`.padStart(7)}  ${r.name}${r.refused ? `  (${r.refused})` : ''}`,
      );
      if (verbose) for (const d of r.diff) lines.push(`      ${d}`);
    }
    const built = results.filter((r) => !r.refused);
    const agree = built.reduce((s, r) => s + r.agree, 0);
    const total = built.reduce((s, r) => s + r.total, 0);
    const cur = built.filter((r) => CURATED.includes(r.name));
    const cAgree = cur.reduce((s, r) => s + r.agree, 0);
    const cTotal = cur.reduce((s, r) => s + r.total, 0);
    lines.push(
      `curated: ${cur.length}/${CURATED.length} built, fragments ${cAgree}/${cTotal}; all: ${built.length}/${results.length} built (rest refused as unsupported), fragments ${agree}/${total}`,
    );
    console.log(lines.join('\n'));
    // Regression floors: raise them as coverage grows.
    assert.ok(cur.length >= FLOOR.curatedBuilt, `curated built ${cur.length} < ${FLOOR.curatedBuilt}`);
    assert.ok(cAgree / cTotal >= FLOOR.curatedRatio, `curated agreement ${cAgree}/${cTotal}`);
  });
});

const FLOOR = { curatedBuilt: 64, curatedRatio: 0.93 };
