// The daemon's composition of hypervisor + networks: when networking runs, what a daemon without it
// answers, and how the composite routes calls and events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HypervisorConnection, TvirtEvent } from '../drivers/connection.js';
import { openIsolatedTestConnection } from '../drivers/test/driver.js';
import { TestNetworks } from '../drivers/test/networks.js';
import { isVirError } from '../util/errors.js';
import {
  composeConnection,
  hasNetworks,
  networkingUnavailable,
  unavailableNetworks,
} from './host-connection.js';
import { rootPaths, systemPaths } from './paths.js';
import { parseDaemonArgs } from './tvirtd.js';

const asRoot = process.getuid?.() === 0;

describe('host networking in tvirtd', () => {
  it('runs only in system mode unless asked (--networks / TVIRT_NETWORKS)', async () => {
    const root = { paths: rootPaths('/tmp/x') };
    assert.match(
      (await networkingUnavailable(root, {})) ?? '',
      /run only in the system daemon; this tvirtd runs in root mode/,
    );
    assert.match(
      (await networkingUnavailable({ ...root, networks: false }, { TVIRT_NETWORKS: '1' })) ?? '',
      /run only/,
    );
    assert.match(
      (await networkingUnavailable({ paths: systemPaths() }, { TVIRT_NETWORKS: '0' })) ?? '',
      /disabled in this tvirtd \(--no-networks or TVIRT_NETWORKS=0\)/,
    );
    const forced = await networkingUnavailable({ ...root, networks: true }, {});
    if (asRoot) assert.ok(forced === undefined || /not found on PATH/.test(forced), forced);
    else assert.equal(forced, 'virtual networks need tvirtd to run as root');
  });

  it('--networks and --no-networks', () => {
    assert.deepEqual(parseDaemonArgs(['--networks']), { networks: true });
    assert.deepEqual(parseDaemonArgs(['--no-networks']), { networks: false });
    assert.throws(() => parseDaemonArgs(['--networks', '--no-networks']), /exclude each other/);
  });

  it('without networking every network call says why', async () => {
    const nets = unavailableNetworks('virtual networks need tvirtd to run as root');
    await assert.rejects(nets.listNetworks(), (e: unknown) => {
      assert.ok(isVirError(e, 'OPERATION_UNSUPPORTED'));
      assert.equal(e.message, 'Operation not supported: virtual networks need tvirtd to run as root');
      return true;
    });
    await assert.rejects(nets.networkCreate('default'), /need tvirtd to run as root/);
  });

  it('composes a hypervisor with networks: calls and events go to the right half', async () => {
    const test = openIsolatedTestConnection();
    assert.ok(hasNetworks(test));
    // A hypervisor-only view of the test driver (as the QEMU driver is).
    const hyp: HypervisorConnection = {
      ...Object.fromEntries(
        Object.getOwnPropertyNames(Object.getPrototypeOf(test))
          .filter(
            (k) =>
              k !== 'constructor' &&
              !k.startsWith('network') &&
              !k.startsWith('iface') &&
              k !== 'listNetworks',
          )
          .map((k) => [k, (test as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!.bind(test)]),
      ),
      uri: test.uri,
    } as HypervisorConnection;
    assert.equal(hasNetworks(hyp), false);
    const listeners = new Set<(ev: TvirtEvent) => void>();
    const nets = new TestNetworks((name, uuid, event) => {
      for (const l of listeners) l({ kind: 'network-lifecycle', name, uuid, event, timestamp: Date.now() });
    });
    const conn = composeConnection(hyp, nets, {
      subscribe(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });
    const seen: string[] = [];
    const off = conn.onEvent((ev) => seen.push(`${ev.kind}:${ev.name}:${ev.event}`));
    assert.deepEqual(
      (await conn.listDomains({})).map((d) => d.name),
      ['test'],
    );
    await conn.networkDestroy('default');
    await conn.domainSuspend('test');
    off();
    await conn.networkCreate('default');
    assert.deepEqual(seen, ['network-lifecycle:default:stopped', 'domain-lifecycle:test:suspended']);
    assert.equal(conn.uri, 'test:///default');
    await conn.close();
  });
});
