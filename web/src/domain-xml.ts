// Domain XML in the browser: the devices shown on the details page, a well-formedness check
// before saving, and the XML of a new guest built from the create form.

export interface GuestDevices {
  disks: { device: string; type: string; source: string; target: string; bus: string }[];
  interfaces: { type: string; source: string; mac: string; model: string }[];
  graphics: { type: string; port: string; listen: string }[];
  boot: string;
}

function attr(el: Element | null | undefined, name: string): string {
  return el?.getAttribute(name) ?? '';
}

export function parseDevices(xml: string): GuestDevices {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const devices = doc.querySelector('domain > devices');
  const kids = (tag: string) => Array.from(devices?.children ?? []).filter((e) => e.tagName === tag);
  const os = doc.querySelector('domain > os');
  const kernel = os?.querySelector('kernel')?.textContent ?? '';
  return {
    disks: kids('disk').map((d) => {
      const s = d.querySelector('source');
      return {
        device: attr(d, 'device') || 'disk',
        type: attr(d, 'type'),
        source:
          attr(s, 'file') ||
          attr(s, 'dev') ||
          (attr(s, 'pool') ? `${attr(s, 'pool')}/${attr(s, 'volume')}` : '') ||
          attr(s, 'name') ||
          '(none)',
        target: attr(d.querySelector('target'), 'dev'),
        bus: attr(d.querySelector('target'), 'bus'),
      };
    }),
    interfaces: kids('interface').map((i) => {
      const s = i.querySelector('source');
      return {
        type: attr(i, 'type'),
        source: attr(s, 'network') || attr(s, 'bridge') || attr(s, 'dev') || '',
        mac: attr(i.querySelector('mac'), 'address'),
        model: attr(i.querySelector('model'), 'type'),
      };
    }),
    graphics: kids('graphics').map((g) => ({
      type: attr(g, 'type'),
      port: attr(g, 'port') || (attr(g, 'autoport') === 'yes' ? 'auto' : ''),
      listen: attr(g, 'listen') || attr(g.querySelector('listen'), 'address'),
    })),
    boot: kernel
      ? `kernel ${kernel}`
      : Array.from(os?.querySelectorAll('boot') ?? [])
          .map((b) => attr(b, 'dev'))
          .join(', ') || 'default',
  };
}

/** A problem found before sending the XML to the server, or undefined when it may be sent. */
export function checkDomainXml(xml: string, expectedName?: string): string | undefined {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const err = doc.querySelector('parsererror');
  if (err) {
    const text = (err.textContent ?? '').replace(/\s+/g, ' ').trim();
    const m = /line (\d+) at column (\d+): (.*)/i.exec(text);
    return m
      ? `XML is not well-formed: line ${m[1]}, column ${m[2]}: ${m[3]}`
      : `XML is not well-formed: ${text}`;
  }
  const root = doc.documentElement;
  if (root.tagName !== 'domain') return `the root element must be <domain>, not <${root.tagName}>`;
  const name = root.querySelector(':scope > name')?.textContent?.trim();
  if (!name) return 'the domain has no <name>';
  if (expectedName !== undefined && name !== expectedName)
    return `the name must stay '${expectedName}' (saving with '${name}' would define another guest)`;
  return undefined;
}

function esc(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

export interface NewGuest {
  name: string;
  memoryMiB: number;
  vcpus: number;
  boot: 'kernel' | 'disk' | 'cdrom';
  kernel: string;
  initrd: string;
  cmdline: string;
  disk: string;
  /** Path of an ISO image (boot 'cdrom'). */
  cdrom: string;
  /** A VNC display (and a VGA card) for the graphical console. */
  vnc: boolean;
  /** No NIC, QEMU's user-mode NIC, or a NIC on the host's virtual network `networkName`. */
  network: 'none' | 'user' | 'network';
  networkName: string;
  /** The existing disk's format (from its volume's XML); guessed from the file name when unset. */
  diskFormat?: string;
  /** Hypervisor domain type from the capabilities: kvm, qemu or test. */
  domainType: string;
  arch: string;
}

/** The XML of a new guest. */
export function newGuestXml(g: NewGuest): string {
  const os =
    g.boot === 'kernel'
      ? [
          `    <kernel>${esc(g.kernel)}</kernel>`,
          ...(g.initrd ? [`    <initrd>${esc(g.initrd)}</initrd>`] : []),
          ...(g.cmdline ? [`    <cmdline>${esc(g.cmdline)}</cmdline>`] : []),
        ]
      : g.boot === 'cdrom'
        ? ["    <boot dev='cdrom'/>", "    <boot dev='hd'/>"]
        : ["    <boot dev='hd'/>"];
  const format = g.diskFormat || (/\.qcow2$/i.test(g.disk) ? 'qcow2' : 'raw');
  const devices = [
    ...(g.boot === 'disk' || g.disk
      ? [
          "    <disk type='file' device='disk'>",
          `      <driver name='qemu' type='${format}'/>`,
          `      <source file='${esc(g.disk)}'/>`,
          "      <target dev='vda' bus='virtio'/>",
          '    </disk>',
        ]
      : []),
    ...(g.boot === 'cdrom'
      ? [
          "    <disk type='file' device='cdrom'>",
          "      <driver name='qemu' type='raw'/>",
          `      <source file='${esc(g.cdrom)}'/>`,
          "      <target dev='hdc' bus='ide'/>",
          '      <readonly/>',
          '    </disk>',
        ]
      : []),
    ...(g.network === 'user'
      ? ["    <interface type='user'>", "      <model type='virtio'/>", '    </interface>']
      : g.network === 'network'
        ? [
            "    <interface type='network'>",
            `      <source network='${esc(g.networkName)}'/>`,
            "      <model type='virtio'/>",
            '    </interface>',
          ]
        : []),
    "    <serial type='pty'/>",
    "    <console type='pty'/>",
    ...(g.vnc
      ? [
          "    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>",
          "    <video><model type='vga'/></video>",
        ]
      : []),
  ];
  return [
    `<domain type='${esc(g.domainType)}'>`,
    `  <name>${esc(g.name)}</name>`,
    `  <memory unit='MiB'>${g.memoryMiB}</memory>`,
    `  <vcpu>${g.vcpus}</vcpu>`,
    '  <os>',
    `    <type arch='${esc(g.arch)}'>hvm</type>`,
    ...os,
    '  </os>',
    '  <devices>',
    ...devices,
    '  </devices>',
    '</domain>',
    '',
  ].join('\n');
}

/** The domain type and arch to use, from the capabilities XML (kvm when the host offers it). */
export function pickDomainType(capsXml: string): { domainType: string; arch: string } {
  const doc = new DOMParser().parseFromString(capsXml, 'application/xml');
  const arches = Array.from(doc.querySelectorAll('guest > arch'));
  const arch = arches.find((a) => a.getAttribute('name') === 'x86_64') ?? arches[0];
  const types = Array.from(arch?.querySelectorAll('domain') ?? []).map((d) => d.getAttribute('type') ?? '');
  const domainType = types.includes('kvm') ? 'kvm' : (types[0] ?? 'qemu');
  return { domainType, arch: arch?.getAttribute('name') ?? 'x86_64' };
}

/** The format of a volume from its XML (<target><format type=.../>), or undefined. */
export function volumeFormat(volXml: string): string | undefined {
  const doc = new DOMParser().parseFromString(volXml, 'application/xml');
  return doc.querySelector('volume > target > format')?.getAttribute('type') || undefined;
}
