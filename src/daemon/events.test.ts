import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { TvirtEvent } from '../drivers/connection.js';
import { EventBus } from './events.js';
import { Logger } from './log.js';

describe('EventBus', () => {
  it('delivers to every subscriber in order, isolates failures, and unsubscribes', () => {
    const errors: unknown[] = [];
    const bus = new EventBus((e) => errors.push(e));
    const a: TvirtEvent[] = [];
    const b: TvirtEvent[] = [];
    const offA = bus.subscribe((e) => a.push(e));
    bus.subscribe(() => {
      throw new Error('bad listener');
    });
    const offB = bus.subscribe((e) => b.push(e));
    bus.emit({ kind: 'domain-lifecycle', name: 'vm', event: 'started' });
    offA();
    offA();
    bus.emit({ kind: 'domain-lifecycle', name: 'vm', event: 'stopped' });
    offB();
    assert.deepEqual(
      a.map((e) => e.event),
      ['started'],
    );
    assert.deepEqual(
      b.map((e) => e.event),
      ['started', 'stopped'],
    );
    assert.equal(errors.length, 2);
    assert.equal(typeof a[0]!.timestamp, 'number');
    assert.equal(bus.size, 1);
  });
});

describe('Logger', () => {
  it('writes JSON lines and logfmt, filtered by level', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => {
      text += c;
    });
    const now = () => new Date('2026-01-01T00:00:00Z');
    const json = new Logger({ level: 'info', outputs: [out], now, base: { component: 'x' } });
    json.debug('hidden');
    json.info('hello', { n: 1, err: new Error('bad') });
    const rec = JSON.parse(text.trim());
    assert.deepEqual(rec, {
      time: '2026-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'hello',
      component: 'x',
      n: 1,
      err: { message: 'bad' },
    });
    text = '';
    new Logger({ format: 'logfmt', outputs: [out], now })
      .child({ dom: 'my vm' })
      .warn('stopped', { code: 3 });
    assert.equal(text, 'time=2026-01-01T00:00:00.000Z level=warn msg=stopped dom="my vm" code=3\n');
  });
});
