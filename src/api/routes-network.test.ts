// The network routes end to end in-process: remote client -> REST -> GuardedConnection -> test driver.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TvirtEvent } from '../drivers/connection.js';
import { isVirError } from '../util/errors.js';
import { connectRemote, type RemoteConnection } from './client.js';
import type { ApiServer } from './server.js';
import { startTestApi, type TestApi } from './test-api.test-util.js';

let api: TestApi;
let dir: string;
let sock: string;
let server: ApiServer;
let client: RemoteConnection;
const RO = 'ro-token-net-0123456789abcdef';

const n1 = `<network><name>n1</name><uuid>11111111-2222-3333-4444-555555555555</uuid><forward mode='nat'/>
<ip address='10.0.3.1' netmask='255.255.255.0'><dhcp><range start='10.0.3.2' end='10.0.3.254'/></dhcp></ip></network>`;

function raw(method: string, path: string, body?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: sock, method, path, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function tokenFile(token: string): Promise<string> {
  const f = join(dir, 'token');
  await writeFile(f, `${token}\n`, { mode: 0o600 });
  return f;
}

async function rejectsWith(p: Promise<unknown>, code: string, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVirError(e), String(e));
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

before(async () => {
  api = await startTestApi({ name: 'api-net', tokens: [{ token: RO, role: 'ro' }], scheme: 'test+unix' });
  ({ dir, sock, server, client } = api);
});
after(() => api?.close());

describe('network routes (test driver behind the API)', () => {
  it('lists, looks up and describes the default network', async () => {
    const list = await client.listNetworks();
    assert.deepEqual(
      list.map((n) => [n.name, n.active, n.persistent, n.autostart, n.bridge]),
      [['default', true, true, false, 'virbr0']],
    );
    assert.deepEqual(await client.listNetworks({ active: false }), []);
    const byUuid = await client.networkLookup('dd8fe884-6c02-601e-7551-cca97df1c5df');
    assert.equal(byUuid.name, 'default');
    assert.equal((await client.networkGetInfo('default')).bridge, 'virbr0');
    assert.match(await client.networkGetXMLDesc('default'), /<bridge name='virbr0' stp='on' delay='0'\/>/);
    await rejectsWith(
      client.networkGetXMLDesc('default', { inactive: true }),
      'INVALID_ARG',
      'unsupported flags (0x1) in function testNetworkGetXMLDesc',
    );
  });

  it('defines, starts, updates, autostarts, stops and undefines a network, with events', async () => {
    const events: TvirtEvent[] = [];
    const off = client.onEvent((ev) => {
      if (ev.kind === 'network-lifecycle') events.push(ev);
    });
    await client.eventsReady();
    const def = await client.networkDefineXML(n1);
    assert.deepEqual([def.name, def.active, def.persistent], ['n1', false, true]);
    assert.equal((await client.networkCreate('n1')).active, true);
    await rejectsWith(
      client.networkCreate('n1'),
      'OPERATION_INVALID',
      "Requested operation is not valid: Network 'n1' is already running",
    );
    await client.networkUpdate(
      'n1',
      'add-last',
      'ip-dhcp-host',
      "<host mac='52:54:00:00:00:01' ip='10.0.3.9'/>",
    );
    assert.match(await client.networkGetXMLDesc('n1'), /<host mac='52:54:00:00:00:01' ip='10.0.3.9'\/>/);
    await rejectsWith(
      client.networkUpdate('n1', 'modify', 'ip-dhcp-range', "<range start='10.0.3.2' end='10.0.3.9'/>", -1, {
        live: true,
      }),
      'OPERATION_UNSUPPORTED',
      'Operation not supported: dhcp ranges cannot be modified, only added or deleted',
    );
    await client.networkSetAutostart('n1', true);
    assert.equal((await client.networkLookup('n1')).autostart, true);
    await rejectsWith(
      client.networkGetDHCPLeases('n1'),
      'NO_SUPPORT',
      'this function is not supported by the connection driver: virNetworkGetDHCPLeases',
    );
    await rejectsWith(
      client.networkUndefine('n1'),
      'OPERATION_INVALID',
      "Requested operation is not valid: Network 'n1' is still running",
    );
    await client.networkDestroy('n1');
    await client.networkUndefine('11111111-2222-3333-4444-555555555555');
    await rejectsWith(
      client.networkLookup('n1'),
      'NO_NETWORK',
      "Network not found: no network with matching name 'n1'",
    );
    const t = await client.networkCreateXML(
      n1.replace('<uuid>11111111-2222-3333-4444-555555555555</uuid>', ''),
    );
    assert.deepEqual([t.active, t.persistent], [true, false]);
    await client.networkDestroy('n1');
    assert.deepEqual(
      (await client.listNetworks({})).map((n) => n.name),
      ['default'],
    );
    for (let i = 0; i < 50 && events.length < 7; i++) await new Promise((r) => setTimeout(r, 10));
    off();
    assert.deepEqual(
      events.map((e) => `${e.name}:${e.event}`),
      ['n1:defined', 'n1:started', 'n1:stopped', 'n1:undefined', 'n1:started', 'n1:stopped'],
    );
  });

  it('host interfaces', async () => {
    assert.deepEqual(
      (await client.ifaceList()).map((i) => [i.name, i.state, i.mac]),
      [['eth1', 'up', 'aa:bb:cc:dd:ee:ff']],
    );
    await rejectsWith(
      client.ifaceUnbridge('br0'),
      'NO_INTERFACE',
      "Interface not found: no interface with matching name 'br0'",
    );
  });

  it('a read-only token may list networks and leases but change nothing', async () => {
    const ro = (await connectRemote(
      `test+tcp://127.0.0.1:${server.tcpPort}/system?token_file=${await tokenFile(RO)}`,
    )) as RemoteConnection;
    try {
      assert.deepEqual(
        (await ro.listNetworks()).map((n) => n.name),
        ['default'],
      );
      await rejectsWith(ro.networkDestroy('default'), 'OPERATION_DENIED', /read-only|forbidden/i);
      await rejectsWith(ro.networkDefineXML(n1), 'OPERATION_DENIED', /read-only|forbidden/i);
      await rejectsWith(ro.ifaceUnbridge('br0'), 'OPERATION_DENIED', /read-only|forbidden/i);
      assert.equal((await client.networkLookup('default')).active, true);
    } finally {
      await ro.close();
    }
  });

  it('bad requests: 404 for an unknown network, 400 for bad fields', async () => {
    const miss = await raw('GET', '/v1/networks/nope');
    assert.equal(miss.status, 404);
    assert.equal((miss.json as { error: { code: string } }).error.code, 'NO_NETWORK');
    const badCmd = await raw(
      'POST',
      '/v1/networks/default/update',
      JSON.stringify({ command: 'frob', section: 'ip-dhcp-host', xml: '<host/>' }),
    );
    assert.equal(badCmd.status, 400);
    const badSection = await raw(
      'POST',
      '/v1/networks/default/update',
      JSON.stringify({ command: 'add-last', section: 'frob', xml: '<host/>' }),
    );
    assert.equal(badSection.status, 400);
    assert.equal((await raw('GET', '/v1/networks?active=maybe')).status, 400);
    assert.equal((await raw('POST', '/v1/networks/default/actions/frob', '{}')).status, 400);
    assert.equal((await raw('POST', '/v1/networks', JSON.stringify({ xml: '<network>' }))).status, 400);
  });
});
