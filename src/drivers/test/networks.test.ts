// The test driver's made-up guest addresses (domifaddr), checked against virsh 9 on test:///default.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVirError } from '../../util/errors.js';
import { TestNetworks, testInterfaceAddresses } from './networks.js';

async function networks(): Promise<TestNetworks> {
  const n = new TestNetworks();
  await n.networkDefineXML(
    "<network><name>n2</name><bridge name='virbr9'/><ip address='10.5.0.1' netmask='255.255.0.0'><dhcp><range start='10.5.1.250' end='10.5.2.100'/></dhcp></ip></network>",
  );
  await n.networkDefineXML(
    "<network><name>n3</name><bridge name='virbr8'/><ip address='10.6.0.1' netmask='255.255.255.0'/></network>",
  );
  await n.networkDefineXML(
    "<network><name>n4</name><bridge name='virbr7'/><ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::10' end='fd00::ff'/></dhcp></ip></network>",
  );
  await n.networkDefineXML("<network><name>n5</name><bridge name='virbr6'/></network>");
  return n;
}
const nic = (type: string, name: string, mac: string, network?: string) => ({
  type,
  name,
  mac,
  ...(network ? { network } : {}),
});

describe('testInterfaceAddresses (libvirt test driver domifaddr)', () => {
  it("gives the default domain virsh's 192.168.122.3/24", async () => {
    assert.deepEqual(
      await testInterfaceAddresses(new TestNetworks(), 1, [
        nic('network', 'testnet0', 'aa:bb:cc:dd:ee:ff', 'default'),
      ]),
      [
        {
          name: 'testnet0',
          hwaddr: 'aa:bb:cc:dd:ee:ff',
          addrs: [{ type: 'ipv4', addr: '192.168.122.3', prefix: 24 }],
        },
      ],
    );
  });
  it('counts from the DHCP range start (or the <ip> address) by domain id and interface position', async () => {
    const n = await networks();
    const addrs = async (id: number, nics: ReturnType<typeof nic>[]) =>
      (await testInterfaceAddresses(n, id, nics)).map(
        (r) => `${r.name} ${r.addrs[0]!.addr}/${r.addrs[0]!.prefix}`,
      );
    // virsh: domain id 2 with network, bridge, network, user interfaces.
    assert.deepEqual(
      await addrs(2, [
        nic('network', 'testnet0', '52:54:00:00:00:01', 'default'),
        nic('bridge', 'testnet1', '52:54:00:00:00:02'),
        nic('network', 'mytap', '52:54:00:00:00:03', 'default'),
        nic('user', 'testnet2', '52:54:00:00:00:04'),
      ]),
      [
        'testnet0 192.168.122.23/24',
        'testnet1 192.168.0.2/24',
        'mytap 192.168.122.25/24',
        'testnet2 192.168.0.4/24',
      ],
    );
    const two = (net: string) => [
      nic('network', 'testnet0', '52:54:00:00:01:01', net),
      nic('network', 'testnet1', '52:54:00:00:01:02', 'default'),
    ];
    // Across an octet, with the netmask's prefix.
    assert.deepEqual(await addrs(2, two('n2')), ['testnet0 10.5.2.15/16', 'testnet1 192.168.122.24/24']);
    assert.deepEqual(await addrs(6, two('n2')), ['testnet0 10.5.2.95/16', 'testnet1 192.168.122.104/24']);
    // No DHCP range: from the <ip> address.
    assert.deepEqual(await addrs(3, two('n3')), ['testnet0 10.6.0.42/24', 'testnet1 192.168.122.44/24']);
    const v6 = await testInterfaceAddresses(n, 4, two('n4'));
    assert.deepEqual(v6[0]!.addrs, [{ type: 'ipv6', addr: 'fd00::4d', prefix: 64 }]);
  });
  it('fails for a network that is not defined, or has no address', async () => {
    const n = await networks();
    await assert.rejects(
      testInterfaceAddresses(n, 2, [nic('network', 'testnet0', '52:54:00:00:00:01', 'nosuch')]),
      (e: unknown) =>
        isVirError(e, 'NO_NETWORK') &&
        (e as Error).message === "Network not found: no network with matching name 'nosuch'",
    );
    await assert.rejects(
      testInterfaceAddresses(n, 2, [nic('network', 'testnet0', '52:54:00:00:00:01', 'n5')]),
      (e: unknown) => isVirError(e, 'INTERNAL_ERROR'),
    );
  });
});
