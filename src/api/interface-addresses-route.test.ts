// GET /v1/domains/{ref}/interface-addresses (virsh domifaddr) through tvirtd's guard and the remote
// client, on the test driver (which makes addresses up as libvirt's test driver does).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../daemon/events.js';
import { GuardedConnection } from '../daemon/guarded-connection.js';
import { JobManager } from '../daemon/jobs.js';
import { openIsolatedTestConnection } from '../drivers/test/driver.js';
import { isVirError } from '../util/errors.js';
import { connectRemote, type RemoteConnection } from './client.js';
import { ApiServer } from './server.js';

let dir: string;
let sock: string;
let server: ApiServer;
let client: RemoteConnection;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvirt-ifaddr-api-'));
  sock = join(dir, 'sock');
  const bus = new EventBus();
  const jobs = new JobManager({ events: bus });
  server = new ApiServer({
    conn: new GuardedConnection(openIsolatedTestConnection(), jobs, bus),
    jobs,
    socketPath: sock,
  });
  await server.start();
  client = (await connectRemote(`qemu+unix:///system?socket=${sock}`)) as RemoteConnection;
});

after(async () => {
  await client?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('interface addresses over the API', () => {
  it("answers a running domain's interfaces with their addresses", async () => {
    assert.deepEqual(await client.domainInterfaceAddresses('test'), [
      {
        name: 'testnet0',
        hwaddr: 'aa:bb:cc:dd:ee:ff',
        addrs: [{ type: 'ipv4', addr: '192.168.122.3', prefix: 24 }],
      },
    ]);
    assert.deepEqual(
      await client.domainInterfaceAddresses('test', 'arp'),
      await client.domainInterfaceAddresses('test'),
    );
  });
  it('refuses a domain that is not running (409), an unknown source (400), a missing domain (404)', async () => {
    await client.domainDestroy('test');
    await assert.rejects(client.domainInterfaceAddresses('test'), (e) => isVirError(e, 'OPERATION_INVALID'));
    const bad = await get('/v1/domains/test/interface-addresses?source=dns');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /unknown address source 'dns': use lease, agent or arp/);
    assert.equal((await get('/v1/domains/nosuch/interface-addresses')).status, 404);
    assert.equal((await get('/v1/domains/test/interface-addresses')).status, 409);
  });
});
