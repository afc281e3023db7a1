// DELETE /v1/domains/{ref}?removeAllStorage (the web UI's "delete its disks too") through the daemon
// guard and the remote client: the volumes behind the disks go with the domain; a running domain,
// or a disk that is the base of a linked clone, is refused and nothing changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVirError } from '../util/errors.js';
import type { RemoteConnection } from './client.js';
import { startTestApi, type TestApi } from './test-api.test-util.js';

let api: TestApi;
let client: RemoteConnection;

const domXml = (name: string, disks: string) =>
  `<domain type='test'><name>${name}</name><memory>131072</memory><os><type>hvm</type></os><devices>${disks}</devices></domain>`;
const fileDisk = (path: string, dev: string) =>
  `<disk type='file' device='disk'><source file='${path}'/><target dev='${dev}' bus='virtio'/></disk>`;
const volDisk = (pool: string, vol: string, dev: string) =>
  `<disk type='volume' device='disk'><source pool='${pool}' volume='${vol}'/><target dev='${dev}' bus='virtio'/></disk>`;
const volXml = (name: string) => `<volume><name>${name}</name><capacity>1048576</capacity></volume>`;

before(async () => {
  api = await startTestApi({ name: 'undefine-storage-api' });
  client = api.client;
});
after(() => api?.close());

const volNames = async () => (await client.listStorageVols('default-pool')).map((v) => v.name).sort();

describe('undefine with removeAllStorage through tvirtd', () => {
  it('deletes the volumes behind file and volume disks, and leaves other files alone', async () => {
    const a = await client.storageVolCreateXML('default-pool', volXml('a.img'));
    await client.storageVolCreateXML('default-pool', volXml('b.img'));
    await client.storageVolCreateXML('default-pool', volXml('keep.img'));
    await client.domainDefineXML(
      domXml(
        'vm1',
        fileDisk(a.path, 'vda') +
          volDisk('default-pool', 'b.img', 'vdb') +
          fileDisk('/elsewhere/x.img', 'vdc'),
      ),
    );
    const r = await client.domainUndefine('vm1', { removeAllStorage: true });
    assert.deepEqual(r, { becameTransient: false });
    await assert.rejects(client.domainLookup('vm1'), (e) => isVirError(e, 'NO_DOMAIN'));
    assert.deepEqual(await volNames(), ['keep.img']);
  });

  it('refuses a running domain and changes nothing', async () => {
    const v = await client.storageVolCreateXML('default-pool', volXml('run.img'));
    await client.domainDefineXML(domXml('vm2', fileDisk(v.path, 'vda')));
    await client.domainCreate('vm2');
    await assert.rejects(client.domainUndefine('vm2', { removeAllStorage: true }), (e) => {
      assert.ok(isVirError(e, 'OPERATION_INVALID'));
      assert.match(
        (e as Error).message,
        /domain 'vm2' is running: its storage cannot be removed; destroy it first/,
      );
      return true;
    });
    assert.equal((await client.domainLookup('vm2')).persistent, true);
    assert.ok((await volNames()).includes('run.img'));
    await client.domainDestroy('vm2');
    await client.domainUndefine('vm2', { removeAllStorage: true });
    assert.deepEqual(await volNames(), ['keep.img']);
  });

  it('refuses while a linked clone depends on the disk', async () => {
    const v = await client.storageVolCreateXML(
      'default-pool',
      "<volume><name>base.qcow2</name><capacity>1048576</capacity><target><format type='qcow2'/></target></volume>",
    );
    await client.domainDefineXML(domXml('base', fileDisk(v.path, 'vda')));
    await client.domainClone('base', { name: 'base-clone', linked: true });
    await assert.rejects(client.domainUndefine('base', { removeAllStorage: true }), /linked clone/);
    assert.equal((await client.domainLookup('base')).name, 'base');
    assert.ok((await volNames()).includes('base.qcow2'));
  });
});
