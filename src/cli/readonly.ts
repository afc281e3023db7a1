// A read-only view of a Connection (virsh -r): every modifying call fails as libvirt's read-only
// connections do, naming the libvirt API.
import type { Connection } from '../drivers/connection.js';
import { VirError } from '../util/errors.js';

/** Modifying methods and the libvirt API name the error message uses. */
const modifying: Partial<Record<keyof Connection, string>> = {
  domainDefineXML: 'virDomainDefineXML',
  domainUndefine: 'virDomainUndefine',
  domainCreateXML: 'virDomainCreateXML',
  domainCreate: 'virDomainCreate',
  domainShutdown: 'virDomainShutdown',
  domainReboot: 'virDomainReboot',
  domainReset: 'virDomainReset',
  domainDestroy: 'virDomainDestroy',
  domainSuspend: 'virDomainSuspend',
  domainResume: 'virDomainResume',
  domainSetAutostart: 'virDomainSetAutostart',
  domainSetMemory: 'virDomainSetMemoryFlags',
  domainSetMaxMemory: 'virDomainSetMaxMemory',
  domainSetVcpus: 'virDomainSetVcpus',
  domainSetMetadata: 'virDomainSetMetadata',
  domainOpenConsole: 'virDomainOpenConsole',
  storagePoolDefineXML: 'virStoragePoolDefineXML',
  storagePoolCreateXML: 'virStoragePoolCreateXML',
  storagePoolBuild: 'virStoragePoolBuild',
  storagePoolCreate: 'virStoragePoolCreate',
  storagePoolDestroy: 'virStoragePoolDestroy',
  storagePoolDelete: 'virStoragePoolDelete',
  storagePoolUndefine: 'virStoragePoolUndefine',
  storagePoolSetAutostart: 'virStoragePoolSetAutostart',
  storagePoolRefresh: 'virStoragePoolRefresh',
  storageVolCreateXML: 'virStorageVolCreateXML',
  storageVolCreateXMLFrom: 'virStorageVolCreateXMLFrom',
  storageVolDelete: 'virStorageVolDelete',
  storageVolWipe: 'virStorageVolWipe',
  storageVolResize: 'virStorageVolResize',
  storageVolUpload: 'virStorageVolUpload',
  storageVolDownload: 'virStorageVolDownload',
  networkDefineXML: 'virNetworkDefineXML',
  networkCreateXML: 'virNetworkCreateXML',
  networkCreate: 'virNetworkCreate',
  networkDestroy: 'virNetworkDestroy',
  networkUndefine: 'virNetworkUndefine',
  networkSetAutostart: 'virNetworkSetAutostart',
  networkUpdate: 'virNetworkUpdate',
  ifaceBridge: 'virInterfaceDefineXML',
  ifaceUnbridge: 'virInterfaceUndefine',
};

/** Wraps `conn` so that modifying calls throw OPERATION_DENIED. */
export function readOnly(conn: Connection): Connection {
  return new Proxy(conn, {
    get(target, prop, receiver) {
      const api = modifying[prop as keyof Connection];
      if (api) {
        return async () => {
          throw new VirError('OPERATION_DENIED', `operation forbidden: read only access prevents ${api}`);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
