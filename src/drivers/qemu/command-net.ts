// <interface> -> `-netdev` (tap from the process layer, or user) and the NIC `-device`.
import type { InterfaceDef } from '../../conf/domain/domain-def.js';
import {
  type BuildState,
  addressProps,
  bootProps,
  refuseExtraChildren,
  internalError,
  notYet,
  unsupportedConfig,
} from './command-common.js';
import { type JsonProps, jsonArg } from './qemu-opts.js';

const MODEL_DRIVER: Record<string, string> = {
  virtio: 'virtio-net-pci',
  'virtio-transitional': 'virtio-net-pci-transitional',
  'virtio-non-transitional': 'virtio-net-pci-non-transitional',
  e1000: 'e1000',
  e1000e: 'e1000e',
  rtl8139: 'rtl8139',
  ne2k_pci: 'ne2k_pci',
  pcnet: 'pcnet',
  vmxnet3: 'vmxnet3',
  'usb-net': 'usb-net',
};

/** QEMU device driver for a NIC model (libvirt passes unknown model names through, so do we, checked). */
export function nicDriver(model: string | undefined): string {
  const m = (model ?? 'rtl8139').toLowerCase();
  const known = MODEL_DRIVER[m];
  if (known) return known;
  if (!/^[a-zA-Z0-9_-]+$/.test(model!))
    throw unsupportedConfig(`interface model '${model}' is not a valid device name`);
  return model!;
}

/** True when an interface needs a tap device from the process layer (ctx.taps[i]): network, bridge, ethernet. */
export function needsTap(n: InterfaceDef): boolean {
  return n.type === 'network' || n.type === 'bridge' || n.type === 'ethernet';
}

/** <tune><sndbuf>N</sndbuf></tune>: the tap send buffer size in bytes. */
function tuneSndbuf(n: InterfaceDef): number | undefined {
  const tune = n.extra?.children?.map((c) => c.node).find((x) => x.type === 'element' && x.name === 'tune');
  if (tune?.type !== 'element') return undefined;
  let out: number | undefined;
  for (const c of tune.children) {
    if (c.type !== 'element') continue;
    if (c.name !== 'sndbuf') throw notYet(`<interface><tune><${c.name}>`);
    const t = c.children
      .map((x) => (x.type === 'text' ? x.text : ''))
      .join('')
      .trim();
    if (!/^[0-9]+$/.test(t)) throw unsupportedConfig(`interface sndbuf '${t}'`);
    out = Number(t);
  }
  return out;
}

function netdevOf(st: BuildState, n: InterfaceDef, i: number): JsonProps {
  const id = `hostnet${i}`;
  const what = `<interface type='${n.type}'>`;
  switch (n.type) {
    case 'user':
      return { type: 'user', id };
    case 'network':
    case 'bridge':
    case 'ethernet': {
      const tap = st.ctx.taps?.[i];
      if (!tap || (!tap.ifname && !tap.fds?.length)) {
        throw internalError(`no tap device was prepared for interface ${i} (${what}, mac ${n.mac})`);
      }
      const p: JsonProps = { type: 'tap' };
      const queues = n.driver?.queues ?? 1;
      if (tap.fds?.length) {
        if (tap.fds.length === 1) p.fd = String(tap.fds[0]);
        else p.fds = tap.fds.join(':');
      } else {
        p.ifname = tap.ifname;
        p.script = 'no';
        p.downscript = 'no';
        if (queues > 1) p.queues = queues;
      }
      if (tap.vhost && st.ctx.kvmAvailable && n.driver?.name !== 'qemu') {
        p.vhost = true;
        if (tap.vhostfds?.length) {
          if (tap.vhostfds.length === 1) p.vhostfd = String(tap.vhostfds[0]);
          else p.vhostfds = tap.vhostfds.join(':');
        }
      }
      const sndbuf = tuneSndbuf(n);
      if (sndbuf !== undefined) p.sndbuf = sndbuf;
      p.id = id;
      return p;
    }
    default:
      throw notYet(what);
  }
}

/** Emits -netdev/-device for every <interface>, ids hostnetN / netN. */
export function buildInterfaces(st: BuildState): void {
  st.def.devices.interfaces.forEach((n, i) => {
    // e.g. <filterref> (traffic filtering) or <virtualport>: refusing beats running without them.
    refuseExtraChildren(n.extra, ['bandwidth', 'tune'], 'interface');
    st.args.push('-netdev', jsonArg(netdevOf(st, n, i)));
    const driver = nicDriver(n.model);
    const dev: JsonProps = { driver };
    const virtio = driver.startsWith('virtio-net');
    const queues = n.driver?.queues ?? 1;
    // libvirt's qemuValidateDomainDeviceDefNetwork wording.
    if (queues > 1 && !virtio)
      throw unsupportedConfig(`multiqueue network is only supported for virtio (interface ${n.mac})`);
    if (queues > 1 && !needsTap(n))
      throw unsupportedConfig(`multiqueue network is not supported for: ${n.type} (interface ${n.mac})`);
    // txmode, ioeventfd, rx_queue_size, <host>/<guest> offloads ...: not passed on yet.
    for (const [k, v] of n.driver?.extra?.attrs ?? []) throw notYet(`<interface><driver ${k}='${v}'>`);
    refuseExtraChildren(n.driver?.extra, [], 'interface><driver');
    if (virtio && queues > 1) {
      dev.mq = true;
      dev.vectors = 2 * queues + 2;
    }
    dev.netdev = `hostnet${i}`;
    dev.id = `net${i}`;
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(n.mac))
      throw unsupportedConfig(`interface MAC address '${n.mac}'`);
    dev.mac = n.mac.toLowerCase();
    if (n.mtu !== undefined) {
      if (!virtio)
        throw unsupportedConfig(`setting MTU is only supported with the virtio model (interface ${n.mac})`);
      dev.host_mtu = n.mtu;
    }
    Object.assign(
      dev,
      addressProps(st, n.address, `interface ${n.mac}`, driver !== 'usb-net'),
      bootProps(st, n.boot?.order, `net:${i}`),
    );
    st.args.push('-device', jsonArg(dev));
  });
}
