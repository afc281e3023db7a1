// Parts shared by every device: <boot order>, <alias>, <address>; and the format options.
import type { XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import { formatAddress, parseAddress } from './address.js';
import type { DeviceCommon } from './domain-def.js';
import { missingAttr, uintAttr, xmlErr } from './parse-util.js';

/** Format flags (virsh dumpxml --inactive / --security-info). */
export interface FormatOpts {
  inactive: boolean;
  secure: boolean;
}

export const INFO_CHILDREN = ['boot', 'alias', 'address'] as const;
const BOOT_ATTRS = ['order', 'loadparm'];
const NONE: string[] = [];

/** Reads boot/alias/address of a device element into `dev`. */
export function parseDeviceInfo(el: XmlElement, dev: DeviceCommon, allowBoot = true): void {
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === 'address') dev.address = parseAddress(c);
    else if (c.name === 'alias') {
      const n = c.attrs.name;
      if (n !== undefined) dev.alias = n;
    } else if (c.name === 'boot' && allowBoot) {
      const order = uintAttr(c, 'order');
      if (order === undefined) missingAttr(c, 'order');
      if (order === 0) xmlErr("Invalid value for attribute 'order' in element 'boot': Zero is not permitted");
      dev.boot = { order };
      const lp = c.attrs.loadparm;
      if (lp !== undefined) dev.boot.loadparm = lp;
      const extra = unknownParts(c, BOOT_ATTRS, NONE);
      if (extra) dev.boot.extra = extra;
    }
  }
}

/** boot, alias, address children in libvirt's order. Live aliases are written only when not inactive. */
export function formatDeviceInfo(dev: DeviceCommon, opts: FormatOpts): XmlElement[] {
  const out: XmlElement[] = [];
  if (dev.boot)
    out.push(elem('boot', { order: dev.boot.order, loadparm: dev.boot.loadparm }, undefined, dev.boot.extra));
  if (dev.alias !== undefined && (!opts.inactive || dev.alias.startsWith('ua-')))
    out.push(elem('alias', { name: dev.alias }));
  if (dev.address) out.push(formatAddress(dev.address));
  return out;
}
