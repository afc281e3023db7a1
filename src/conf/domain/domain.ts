// Top level <domain>: parse the document into a DomainDef and format it back in libvirt's element order.
import { VirError } from '../../util/errors.js';
import { scaleInteger, unitScale } from '../../util/units.js';
import { parseUuid } from '../../util/uuid.js';
import type { XmlElement } from '../../util/xml.js';
import { elem, formatXml, parseRoot, textElem, textOf, unknownParts } from '../../util/xml.js';
import { formatClock, parseClock } from './clock.js';
import { formatCpu, parseCpu } from './cpu.js';
import { formatCputune, parseCputune } from './cputune.js';
import type { FormatOpts } from './device-info.js';
import { emptyDevices, formatDevices, parseDevices } from './devices.js';
import type { DomainDef, LifecycleAction } from './domain-def.js';
import {
  formatFeatures,
  formatPm,
  formatResource,
  parseFeatures,
  parsePm,
  parseResource,
} from './features.js';
import { formatOs, parseOs } from './os.js';
import { domErr, enumAttr, internalErr, uintAttr, unsupported, xmlErr } from './parse-util.js';

export const VIRT_TYPES = [
  'none',
  'qemu',
  'kqemu',
  'kvm',
  'xen',
  'lxc',
  'uml',
  'openvz',
  'test',
  'vmware',
  'hyperv',
  'vbox',
  'phyp',
  'parallels',
  'bhyve',
  'vz',
  'hvf',
  'ch',
];
const LIFECYCLE: readonly LifecycleAction[] = [
  'destroy',
  'restart',
  'rename-restart',
  'preserve',
  'coredump-destroy',
  'coredump-restart',
];
const ROOT_ATTRS = ['type', 'id'];
const ROOT_CHILDREN = [
  'name',
  'uuid',
  'title',
  'description',
  'metadata',
  'maxMemory',
  'memory',
  'currentMemory',
  'vcpu',
  'cputune',
  'resource',
  'os',
  'features',
  'cpu',
  'clock',
  'on_poweroff',
  'on_reboot',
  'on_crash',
  'pm',
  'devices',
];

/** Memory value of an element in KiB (rounded up like virDomainParseMemory). */
function memKiB(el: XmlElement): number {
  const text = textOf(el).trim();
  // libvirt (virDomainParseScaledValue): the unit first, then the number, read by XPath.
  try {
    unitScale(el.attrs.unit, 1024);
  } catch {
    throw domErr('INVALID_ARG', `unknown suffix '${el.attrs.unit}'`);
  }
  if (!/^[0-9]+$/.test(text)) xmlErr(`Invalid value '${text}' for element or attribute './${el.name}[1]'`);
  try {
    const scale = unitScale(el.attrs.unit, 1024);
    if (scale >= 1024 && /^[0-9]+$/.test(text)) {
      const kib = Number(text) * (scale / 1024);
      if (Number.isSafeInteger(kib)) return kib;
    }
    return Math.ceil(scaleInteger(text, el.attrs.unit, 1024, `<${el.name}>`) / 1024);
  } catch (e) {
    throw new VirError(
      'XML_ERROR',
      `XML error: invalid value in element <${el.name}>: ${(e as Error).message}`,
      {
        domain: 'CONF',
        cause: e,
      },
    );
  }
}

function lifecycle(el: XmlElement): LifecycleAction {
  const v = textOf(el).trim();
  if (!(LIFECYCLE as readonly string[]).includes(v)) unsupported(`unknown ${el.name} action: ${v}`);
  return v as LifecycleAction;
}

/** Parses a domain document into a DomainDef (no defaults, no validation: see parseDomain). */
export function parseDomainXml(xml: string): DomainDef {
  const root = parseRoot(xml, 'domain');
  const type = root.attrs.type;
  if (type === undefined) return internalErr('missing domain type attribute');
  if (!VIRT_TYPES.includes(type)) unsupported(`invalid domain type ${type}`);
  const el: Record<string, XmlElement> = {};
  for (const c of root.children)
    if (c.type === 'element' && ROOT_CHILDREN.includes(c.name) && !el[c.name]) el[c.name] = c;
  if (!el.name)
    throw new VirError('NO_NAME', 'missing name information', {
      domain: 'CONF',
    });
  const def: DomainDef = {
    type,
    name: textOf(el.name).trim(),
    uuid: '',
    memory: { kib: 0 },
    currentMemory: 0,
    vcpu: { max: 1, placement: 'static' },
    os: parseOs(el.os),
    clock: { offset: 'utc', timers: [] },
    onPoweroff: 'destroy',
    onReboot: 'restart',
    onCrash: 'destroy',
    devices: emptyDevices(),
  };
  const id = root.attrs.id;
  if (id !== undefined && id !== '-1') {
    const n = Number(id);
    // libvirt ignores an id it cannot read (virXPathLong failing leaves it -1).
    if (Number.isInteger(n) && n >= 0) def.id = n;
  }
  if (el.uuid) {
    const u = textOf(el.uuid);
    try {
      def.uuid = parseUuid(u);
    } catch (e) {
      throw new VirError('INTERNAL_ERROR', 'internal error: malformed uuid element', {
        domain: 'CONF',
        cause: e,
      });
    }
  }
  if (el.title) def.title = textOf(el.title);
  if (el.description) def.description = textOf(el.description);
  if (el.metadata) def.metadata = el.metadata;
  if (el.maxMemory) {
    def.maxMemory = { kib: memKiB(el.maxMemory) };
    const slots = uintAttr(el.maxMemory, 'slots');
    if (slots !== undefined) def.maxMemory.slots = slots;
  }
  if (el.memory) {
    def.memory.kib = memKiB(el.memory);
    const dc = enumAttr(el.memory, 'dumpCore', ['on', 'off'] as const);
    if (dc) def.memory.dumpCore = dc;
  }
  if (el.currentMemory) def.currentMemory = memKiB(el.currentMemory);
  if (el.vcpu) {
    const v = el.vcpu;
    const t = textOf(v).trim();
    const max = t === '' ? 1 : Number(t);
    if (!/^[0-9]+$/.test(t === '' ? '1' : t) || max === 0) xmlErr('maximum vcpus count must be an integer');
    const placement = enumAttr(v, 'placement', ['static', 'auto'] as const);
    def.vcpu = { max, placement: placement ?? 'static' };
    if (v.attrs.cpuset !== undefined) def.vcpu.cpuset = v.attrs.cpuset;
    const cur = uintAttr(v, 'current');
    if (cur !== undefined) def.vcpu.current = cur;
  }
  if (el.cputune) def.cputune = parseCputune(el.cputune);
  if (el.resource) def.resource = parseResource(el.resource);
  if (el.features) def.features = parseFeatures(el.features);
  if (el.cpu) def.cpu = parseCpu(el.cpu);
  if (el.clock) def.clock = parseClock(el.clock);
  if (el.on_poweroff) def.onPoweroff = lifecycle(el.on_poweroff);
  if (el.on_reboot) def.onReboot = lifecycle(el.on_reboot);
  if (el.on_crash) def.onCrash = lifecycle(el.on_crash);
  if (el.pm) def.pm = parsePm(el.pm);
  def.devices = parseDevices(el.devices);
  const extra = unknownParts(root, ROOT_ATTRS, ROOT_CHILDREN);
  if (extra) def.extra = extra;
  return def;
}

/** Builds the <domain> element tree. */
export function formatDomainElement(def: DomainDef, opts: FormatOpts): XmlElement {
  const v = def.vcpu;
  const kid = [
    textElem('name', def.name),
    textElem('uuid', def.uuid || undefined),
    textElem('title', def.title),
    textElem('description', def.description),
    def.metadata,
    def.maxMemory && textElem('maxMemory', def.maxMemory.kib, { slots: def.maxMemory.slots, unit: 'KiB' }),
    textElem('memory', def.memory.kib, { dumpCore: def.memory.dumpCore, unit: 'KiB' }),
    textElem('currentMemory', def.currentMemory || def.memory.kib, { unit: 'KiB' }),
    textElem('vcpu', v.max, { placement: v.placement, cpuset: v.cpuset, current: v.current }),
    def.cputune && formatCputune(def.cputune),
    def.resource && formatResource(def.resource),
    formatOs(def.os),
    def.features && formatFeatures(def.features),
    def.cpu && formatCpu(def.cpu),
    formatClock(def.clock),
    textElem('on_poweroff', def.onPoweroff),
    textElem('on_reboot', def.onReboot),
    textElem('on_crash', def.onCrash),
    def.pm && formatPm(def.pm),
    formatDevices(def.devices, opts),
  ];
  return elem('domain', { type: def.type, id: opts.inactive ? undefined : def.id }, kid, def.extra);
}

/**
 * Formats a DomainDef in libvirt's element order and style. `inactive` leaves out live-only facts
 * (domain id, autoport-chosen ports, pty paths, generated tap names, live aliases, channel state);
 * `secure` writes graphics passwords (virsh dumpxml --security-info). Defaults: live and secure.
 */
export function formatDomain(def: DomainDef, opts: { inactive?: boolean; secure?: boolean } = {}): string {
  const text = formatXml(
    formatDomainElement(def, { inactive: opts.inactive ?? false, secure: opts.secure ?? true }),
  );
  return def.metadata && def.metadata.children.length > 0 ? metadataQuotes(text) : text;
}

const TAG_RE = /<[^>]*>/g;
const ATTR_RE = /='([^']*)'/g;
/** libvirt writes <metadata> content with libxml2, which quotes attributes with '"'. */
function metadataQuotes(text: string): string {
  const start = text.indexOf('\n  <metadata>\n');
  const end = text.indexOf('\n  </metadata>\n', start);
  if (start < 0 || end < 0) return text;
  const body = text
    .slice(start + 14, end)
    .replace(TAG_RE, (tag) => tag.replace(ATTR_RE, (_m, v: string) => `="${v.replace(/&apos;/g, "'")}"`));
  return text.slice(0, start + 14) + body + text.slice(end);
}
