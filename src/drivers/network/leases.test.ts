// parseDnsmasqLeases: IPv4 and IPv6 lines, expired and infinite leases, prefixes from the network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetwork } from '../../conf/network/index.js';
import { parseDnsmasqLeases } from './leases.js';

const def = parseNetwork(`<network><name>n</name><bridge name='virbr9'/>
  <ip address='10.0.3.1' prefix='24'/><ip family='ipv6' address='fd00::1' prefix='64'/></network>`);

test('dnsmasq lease file parses into leases', () => {
  const text = [
    '2000 52:54:00:AA:BB:CC 10.0.3.20 guest1 01:52:54:00:aa:bb:cc',
    '500 52:54:00:aa:bb:cd 10.0.3.21 * *',
    '0 52:54:00:aa:bb:ce 10.0.3.22 forever *',
    'duid 00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:01',
    '3000 1234567 fd00::20 guest6 00:04:aa',
    '',
  ].join('\n');
  const l = parseDnsmasqLeases(text, def, 1000);
  assert.deepEqual(l, [
    {
      iface: 'virbr9',
      expiryTime: 2000,
      type: 'ipv4',
      ipaddr: '10.0.3.20',
      prefix: 24,
      hostname: 'guest1',
      clientid: '01:52:54:00:aa:bb:cc',
      mac: '52:54:00:aa:bb:cc',
    },
    {
      iface: 'virbr9',
      expiryTime: 0,
      type: 'ipv4',
      ipaddr: '10.0.3.22',
      prefix: 24,
      hostname: 'forever',
      clientid: undefined,
      mac: '52:54:00:aa:bb:ce',
    },
    {
      iface: 'virbr9',
      expiryTime: 3000,
      type: 'ipv6',
      ipaddr: 'fd00::20',
      prefix: 64,
      hostname: 'guest6',
      clientid: '00:04:aa',
      iaid: '1234567',
    },
  ]);
});
