// Guest NIC backends from the network driver: <interface type='network'|'bridge'> get a tap device
// (vnetN, on the network's bridge or the named host bridge) before QEMU starts, released at stop.
import type { DomainDef } from '../../conf/domain/domain-def.js';
import { VirError } from '../../util/errors.js';
import type { TapInfo } from './command.js';
import type { InterfaceHook } from './process.js';

/** What the QEMU driver needs of the network driver (src/drivers/network NetworkDriver has it). */
export interface TapProvider {
  /**
   * Creates a tap joined to the bridge of network `networkOrBridge`, or to that host bridge when
   * `opts.bridge` (<interface type='bridge'>); named `opts.name` when given, else vnetN. Returns its name.
   */
  allocateTap(
    networkOrBridge: string,
    mac: string,
    opts?: { bridge?: boolean; name?: string },
  ): Promise<string>;
  releaseTap(tap: string): Promise<void>;
}

/**
 * An InterfaceHook backed by the network driver: network and bridge interfaces get taps; user
 * networking needs nothing; other types are refused with CONFIG_UNSUPPORTED naming the interface.
 * On a failure the taps made so far are released.
 */
export function tapInterfaceHook(net: TapProvider): InterfaceHook {
  return {
    async prepareInterfaces(def: DomainDef): Promise<(TapInfo | undefined)[]> {
      const made: string[] = [];
      try {
        const out: (TapInfo | undefined)[] = [];
        for (const [i, n] of def.devices.interfaces.entries()) {
          if (n.type === 'user') {
            out.push(undefined);
            continue;
          }
          const target = n.type === 'network' ? n.network : n.type === 'bridge' ? n.bridge : undefined;
          if (!target)
            throw new VirError(
              'CONFIG_UNSUPPORTED',
              `unsupported configuration: interface ${i} of type '${n.type}' is not supported by tvirt yet`,
              { domain: 'QEMU' },
            );
          // A <target dev> of the user's is kept; vnetN names (and libvirt's vnet prefix) are ours to pick.
          const own = n.targetDev && !n.targetDev.startsWith('vnet') ? n.targetDev : undefined;
          const tap = await net.allocateTap(target, n.mac, {
            bridge: n.type === 'bridge',
            ...(own ? { name: own } : {}),
          });
          made.push(tap);
          out.push({ ifname: tap });
        }
        return out;
      } catch (e) {
        for (const t of made) await net.releaseTap(t).catch(() => {});
        throw e;
      }
    },
    async releaseInterfaces(def: DomainDef): Promise<void> {
      for (const n of def.devices.interfaces) {
        if ((n.type === 'network' || n.type === 'bridge') && n.targetDev) await net.releaseTap(n.targetDev);
      }
    },
  };
}

/**
 * The taps (live <target dev>) of a running domain's interfaces that belong on network `network`,
 * whose bridge is `bridge`: <interface type='network'> with that source network, and
 * <interface type='bridge'> naming that bridge directly. For re-attaching them when the network
 * starts again (NetworkDriver.setGuestPorts).
 */
export function tapsOnNetwork(def: DomainDef, network: string, bridge: string): string[] {
  return def.devices.interfaces
    .filter(
      (n) => (n.type === 'network' && n.network === network) || (n.type === 'bridge' && n.bridge === bridge),
    )
    .flatMap((n) => (n.targetDev ? [n.targetDev] : []));
}
