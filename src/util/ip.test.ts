// util/ip: parse/format, prefix <-> netmask, subnet membership and overlap, ranges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  broadcastOf,
  canonicalIp,
  compareIp,
  defaultPrefix,
  formatIp,
  inSubnet,
  netmaskFromPrefix,
  parseIp,
  prefixFromNetmask,
  rangeSize,
  subnetsOverlap,
} from './ip.js';

const ip = (s: string) => {
  const a = parseIp(s);
  assert.ok(a, s);
  return a;
};

test('parses and formats IPv4 and IPv6 like inet_ntop', () => {
  assert.equal(formatIp(ip('192.168.122.1')), '192.168.122.1');
  assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalIp('2001:db8:ac10:fd01:0:0:1:20'), '2001:db8:ac10:fd01::1:20');
  assert.equal(canonicalIp('::'), '::');
  assert.equal(canonicalIp('::1'), '::1');
  assert.equal(canonicalIp('fe80::'), 'fe80::');
  assert.equal(canonicalIp('1:0:1:0:1:0:1:0'), '1:0:1:0:1:0:1:0');
  assert.equal(canonicalIp('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
  assert.equal(canonicalIp('::ffff:1.2.3.4'), '::ffff:102:304');
  assert.equal(parseIp('300.1.1.1'), undefined);
  assert.equal(parseIp('1.2.3'), undefined);
  assert.equal(parseIp('foo'), undefined);
});

test('prefix <-> netmask', () => {
  assert.equal(formatIp(netmaskFromPrefix(24)), '255.255.255.0');
  assert.equal(formatIp(netmaskFromPrefix(0)), '0.0.0.0');
  assert.equal(formatIp(netmaskFromPrefix(64, 'ipv6')), 'ffff:ffff:ffff:ffff::');
  assert.equal(prefixFromNetmask(ip('255.255.240.0')), 20);
  assert.equal(prefixFromNetmask(ip('255.255.255.255')), 32);
  assert.equal(prefixFromNetmask(ip('255.0.255.0')), -1);
  assert.throws(() => netmaskFromPrefix(33), RangeError);
  assert.equal(defaultPrefix(ip('10.24.10.1')), 8);
  assert.equal(defaultPrefix(ip('172.16.0.1')), 16);
  assert.equal(defaultPrefix(ip('192.168.1.1')), 24);
  assert.equal(defaultPrefix(ip('224.0.0.1')), -1);
});

test('subnet membership, overlap, ranges', () => {
  assert.ok(inSubnet(ip('192.168.122.254'), ip('192.168.122.1'), 24));
  assert.ok(!inSubnet(ip('192.168.123.1'), ip('192.168.122.1'), 24));
  assert.ok(!inSubnet(ip('::1'), ip('192.168.122.1'), 24));
  assert.ok(inSubnet(ip('2001:db8::ffff'), ip('2001:db8::1'), 64));
  assert.ok(subnetsOverlap(ip('10.0.0.0'), 8, ip('10.1.0.0'), 16));
  assert.ok(!subnetsOverlap(ip('10.0.0.0'), 16, ip('10.1.0.0'), 16));
  assert.equal(rangeSize(ip('192.168.122.2'), ip('192.168.122.254')), 253);
  assert.equal(rangeSize(ip('192.168.122.9'), ip('192.168.122.2')), -1);
  assert.ok(compareIp(ip('10.0.0.1'), ip('10.0.0.2')) < 0);
  assert.equal(formatIp(broadcastOf(ip('192.168.122.1'), 24)), '192.168.122.255');
});
