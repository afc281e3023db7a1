// GET /v1/domains/{ref}/interface-addresses (virsh domifaddr) through tvirtd's guard and the remote
// client, on the test driver (which makes addresses up as libvirt's test driver does).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isVirError } from '../util/errors.js';
import type { RemoteConnection } from './client.js';
import { startTestApi, type TestApi } from './test-api.test-util.js';

let api: TestApi;
let sock: string;
let client: RemoteConnection;

before(async () => {
  api = await startTestApi({ name: 'ifaddr-api' });
  ({ sock, client } = api);
});
after(() => api?.close());

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
