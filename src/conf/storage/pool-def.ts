// Typed model of libvirt's <pool> (formatstorage.html) and the per-type options table (storage_conf.c poolTypeInfo).
import type { Extra, XmlElement } from '../../util/xml.js';
import type { StoragePerms } from './perms.js';

/** Pool types (libvirt virStoragePoolType). */
export type PoolType =
  | 'dir'
  | 'fs'
  | 'netfs'
  | 'logical'
  | 'disk'
  | 'iscsi'
  | 'iscsi-direct'
  | 'scsi'
  | 'mpath'
  | 'rbd'
  | 'sheepdog'
  | 'gluster'
  | 'zfs'
  | 'vstorage';

/** A storage pool definition (libvirt virStoragePoolDef). Plain data. */
export interface PoolDef {
  type: PoolType;
  name: string;
  /** Lower-case 8-4-4-4-12; generated when absent. */
  uuid: string;
  /** Runtime sizes in bytes, filled by the driver on refresh; never read from XML (as libvirt). */
  capacity: number;
  allocation: number;
  available: number;
  /** <features><cow state/></features>, fs and dir pools only. */
  cow?: boolean;
  source: PoolSource;
  /** Absent for network pools (rbd, sheepdog, gluster, iscsi-direct). */
  target?: PoolTarget;
  /** <refresh><volume allocation='default|capacity'/></refresh>. */
  refreshAllocation?: 'default' | 'capacity';
  /** Unknown attributes/children of <pool> (xmlns:fs, fs:mount_opts, rbd:config_opts ...). */
  extra?: Extra;
}

/** <source> of a pool; which parts apply depends on the pool type (poolTypeInfo flags). */
export interface PoolSource {
  hosts: { name: string; port?: number; extra?: Extra }[];
  devices: { path: string; partSeparator?: boolean; extra?: Extra }[];
  dir?: string;
  adapter?: PoolAdapter;
  name?: string;
  /** <initiator><iqn name/></initiator>. */
  initiatorIqn?: string;
  /** Source format (fs type, netfs protocol, disk label, lvm2); defaulted per pool type. */
  format?: string;
  auth?: { type: 'chap' | 'ceph'; username?: string; secret?: XmlElement; extra?: Extra };
  /** NFS protocol version such as '3' or '4.1'. */
  protocolVer?: string;
  vendor?: string;
  product?: string;
  extra?: Extra;
}

/** SCSI/FC host adapter of a scsi pool (libvirt virStorageAdapter). */
export interface PoolAdapter {
  /** Undefined for a legacy adapter without type nor name (refused by validateAdapter). */
  type?: 'scsi_host' | 'fc_host';
  name?: string;
  parent?: string;
  parentWwnn?: string;
  parentWwpn?: string;
  parentFabricWwn?: string;
  managed?: boolean;
  wwnn?: string;
  wwpn?: string;
  /** <parentaddr unique_id><address type='pci' .../></parentaddr>: the PCI address is kept as an element. */
  parentaddr?: { uniqueId: number; address: XmlElement };
  extra?: Extra;
}

/** <target> of a local pool: the directory or device path and its permissions. */
export interface PoolTarget {
  path: string;
  perms?: StoragePerms;
  extra?: Extra;
}

const HOST = 1;
const DEVICE = 2;
const DIR = 4;
const ADAPTER = 8;
const NAME = 16;
const IQN = 32;
const NETWORK = 64;
/** Which <source> parts a pool type reads and writes (libvirt VIR_STORAGE_POOL_SOURCE_*). */
export const SourceFlag = { HOST, DEVICE, DIR, ADAPTER, NAME, IQN, NETWORK } as const;

/** Volume format types of file-based pools (virStorageFileFormat). */
export const fileFormats = [
  'none',
  'raw',
  'dir',
  'bochs',
  'cloop',
  'dmg',
  'iso',
  'vpc',
  'vdi',
  'fat',
  'vhd',
  'ploop',
  'cow',
  'qcow',
  'qcow2',
  'qed',
  'vmdk',
] as const;
const diskVolFormats = [
  'none',
  'linux',
  'fat16',
  'fat32',
  'linux-swap',
  'linux-lvm',
  'linux-raid',
  'extended',
];

/** Per-type options: source flags and formats, volume formats and defaults. */
export interface PoolTypeInfo {
  flags: number;
  /** Allowed <source><format type>, first is index 0; absent when the pool has no source format. */
  formats?: readonly string[];
  defaultFormat?: string;
  /** Allowed volume <format type> and the default, absent when volumes have no format. */
  volFormats?: readonly string[];
  volDefaultFormat?: string;
}

const fileVol = { volFormats: fileFormats.filter((f) => f !== 'none'), volDefaultFormat: 'raw' };
/** libvirt's poolTypeInfo table. */
export const poolTypeInfo: Record<PoolType, PoolTypeInfo> = {
  dir: { flags: 0, ...fileVol },
  fs: {
    flags: DEVICE,
    formats: [
      'auto',
      'ext2',
      'ext3',
      'ext4',
      'ufs',
      'iso9660',
      'udf',
      'gfs',
      'gfs2',
      'vfat',
      'hfs+',
      'xfs',
      'ocfs2',
      'vmfs',
    ],
    defaultFormat: 'auto',
    ...fileVol,
  },
  netfs: {
    flags: HOST | DIR,
    formats: ['auto', 'nfs', 'glusterfs', 'cifs'],
    defaultFormat: 'auto',
    ...fileVol,
  },
  logical: { flags: NAME | DEVICE, formats: ['unknown', 'lvm2'], defaultFormat: 'lvm2' },
  disk: {
    flags: DEVICE,
    formats: ['unknown', 'dos', 'dvh', 'gpt', 'mac', 'bsd', 'pc98', 'sun', 'lvm2'],
    defaultFormat: 'unknown',
    volFormats: diskVolFormats,
    volDefaultFormat: 'none',
  },
  iscsi: { flags: HOST | DEVICE | IQN },
  'iscsi-direct': { flags: HOST | DEVICE | NETWORK | IQN },
  scsi: { flags: ADAPTER },
  mpath: { flags: 0 },
  rbd: { flags: HOST | NETWORK | NAME, ...fileVol },
  sheepdog: { flags: HOST | NETWORK | NAME },
  gluster: { flags: HOST | NETWORK | NAME | DIR, ...fileVol },
  zfs: { flags: NAME | DEVICE },
  vstorage: { flags: NAME, ...fileVol },
};
