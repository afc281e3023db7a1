// A running guest's IP addresses by NIC (MAC), for the details page (virt-manager's "IP address"
// of a NIC). Asked for when the guest is running and again after each reload of the page's state
// (lifecycle events reload it), polled lightly while a NIC on a network has no DHCP lease yet,
// forgotten when the guest stops. Failures are never shown: a 409 while the guest stops is normal.
import { useEffect, useState } from 'react';
import { ApiError, api } from './api';
import type { GuestDevices } from './domain-xml';

/** "addr/prefix" strings by lower-case MAC. */
export type AddressMap = ReadonlyMap<string, string[]>;

/** Delays between polls while an address is missing: quick at first (DHCP takes seconds), then slower. */
const POLL_MS = [2000, 3000, 5000, 10_000];
/** How long to wait for a lease before giving up until the next reload (a guest may never ask for one). */
const POLL_FOR_MS = 3 * 60_000;

export function addressMap(interfaces: { hwaddr: string; addrs: { addr: string; prefix: number }[] }[]) {
  const m = new Map<string, string[]>();
  for (const i of interfaces) {
    const key = i.hwaddr.toLowerCase();
    m.set(key, [...(m.get(key) ?? []), ...i.addrs.map((a) => `${a.addr}/${a.prefix}`)]);
  }
  return m;
}

/**
 * The addresses of guest `name`'s NICs while `running`, or undefined (stopped, or not known yet).
 * `devices` comes from the page's (re)load; a new object means "look again".
 */
export function useGuestAddresses(
  name: string,
  running: boolean,
  devices: GuestDevices | undefined,
): AddressMap | undefined {
  const [addrs, setAddrs] = useState<AddressMap>();

  useEffect(() => {
    if (!running || !devices) {
      setAddrs(undefined);
      return;
    }
    // NICs on a libvirt network get a DHCP lease the lease source can see; wait for those only.
    const wanted = devices.interfaces
      .filter((i) => i.type === 'network' && i.mac)
      .map((i) => i.mac.toLowerCase());
    const until = Date.now() + POLL_FOR_MS;
    let stopped = false;
    let timer: number | undefined;
    let polls = 0;
    const poll = async () => {
      if (!document.hidden) {
        try {
          const m = addressMap((await api.interfaceAddresses(name)).interfaces);
          if (stopped) return;
          setAddrs(m);
          if (wanted.every((mac) => m.get(mac)?.length)) return;
        } catch (e) {
          if (stopped) return;
          // 409: stopping (the lifecycle event follows); 0 or 5xx: try again. Anything else (no
          // support for it, the guest gone) will not get better by asking again.
          const status = e instanceof ApiError ? e.status : 0;
          if (status === 409) setAddrs(undefined);
          else if (status !== 0 && status < 500) return;
        }
      }
      if (Date.now() >= until) return;
      timer = window.setTimeout(() => void poll(), POLL_MS[Math.min(polls++, POLL_MS.length - 1)]);
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [name, running, devices]);

  return addrs;
}
