// Tests for QEMU option escaping: QemuOpts comma doubling, JSON arguments, host and port checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVirError } from '../../util/errors.js';
import { checkHostAddress, checkPort, escapeOptValue, hex, jsonArg, qemuOpts } from './qemu-opts.js';

/** Splits QemuOpts text the way QEMU does: `,,` is a literal comma, `,` ends a pair. */
function parseQemuOpts(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',') {
      if (s[i + 1] === ',') {
        cur += ',';
        i++;
      } else {
        out.push(cur);
        cur = '';
      }
    } else cur += s[i];
  }
  out.push(cur);
  return out;
}

describe('qemu-opts', () => {
  it('doubles commas in values', () => {
    assert.equal(escapeOptValue('a,b,,c'), 'a,,b,,,,c');
    assert.equal(escapeOptValue('x=y'), 'x=y');
  });
  it('renders key=value lists, skipping undefined, booleans as on/off', () => {
    assert.equal(
      qemuOpts('socket', [
        ['id', 'c0'],
        ['path', '/run/a,b'],
        ['server', true],
        ['wait', false],
        ['x', undefined],
      ]),
      'socket,id=c0,path=/run/a,,b,server=on,wait=off',
    );
  });
  it('an injected path stays one value', () => {
    const evil = '/tmp/a,format=raw,file=/etc/shadow';
    const parts = parseQemuOpts(qemuOpts('file', [['path', evil]]));
    assert.deepEqual(parts, ['file', `path=${evil}`]);
  });
  it('escapes the head value too', () => {
    assert.deepEqual(parseQemuOpts(qemuOpts('a,b=c', [['k', 'v']])), ['a,b=c', 'k=v']);
  });
  it('refuses bad keys and NUL characters', () => {
    assert.throws(
      () => qemuOpts(undefined, [['a,b', 'x']]),
      (e) => isVirError(e, 'INTERNAL_ERROR'),
    );
    assert.throws(
      () => escapeOptValue('a\0b'),
      (e) => isVirError(e, 'CONFIG_UNSUPPORTED'),
    );
    assert.throws(
      () => jsonArg({ a: 'x\0' }),
      (e) => isVirError(e, 'CONFIG_UNSUPPORTED'),
    );
  });
  it('JSON arguments keep hostile strings as data', () => {
    const evil = '/tmp/x","driver":"file","filename":"/etc/shadow';
    const s = jsonArg({ driver: 'file', filename: evil, n: undefined });
    assert.deepEqual(JSON.parse(s), { driver: 'file', filename: evil });
  });
  it('checks host addresses', () => {
    assert.equal(checkHostAddress('127.0.0.1', 'x'), '127.0.0.1');
    assert.equal(checkHostAddress('::1', 'x', true), '[::1]');
    assert.equal(checkHostAddress('[2001:db8::1]', 'x'), '2001:db8::1');
    assert.equal(checkHostAddress('host-1.example.org', 'x'), 'host-1.example.org');
    for (const bad of ['unix:/etc/x', 'a,b', '1.2.3.4,password=on', 'unix', '', 'a b', '/path']) {
      assert.throws(
        () => checkHostAddress(bad, 'listen'),
        (e) => isVirError(e, 'CONFIG_UNSUPPORTED'),
        bad,
      );
    }
  });
  it('checks ports', () => {
    assert.equal(checkPort('5900', 'p'), '5900');
    for (const bad of ['0', '65536', 'x', '1,server=on', undefined]) {
      assert.throws(
        () => checkPort(bad, 'p'),
        (e) => isVirError(e, 'CONFIG_UNSUPPORTED'),
      );
    }
  });
  it('formats hex', () => {
    assert.equal(hex(31), '0x1f');
  });
});
