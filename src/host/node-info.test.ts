import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCpuinfo } from './node-info.js';

test('cpuinfo: two sockets of 4 cores with hyperthreading, MHz truncated', () => {
  const cpu = (id: number, phys: number) =>
    `processor\t: ${id}\nphysical id\t: ${phys}\nsiblings\t: 8\ncpu cores\t: 4\ncpu MHz\t\t: 2596.136\n`;
  const text = Array.from({ length: 16 }, (_, i) => cpu(i, i < 8 ? 0 : 1)).join('\n');
  assert.deepEqual(parseCpuinfo(text, 16), { mhz: 2596, sockets: 2, cores: 4, threads: 2 });
});

test('cpuinfo without topology lines falls back to one socket of all CPUs', () => {
  assert.deepEqual(parseCpuinfo('processor\t: 0\nprocessor\t: 1\n', 2), {
    mhz: 0,
    sockets: 1,
    cores: 2,
    threads: 1,
  });
});
