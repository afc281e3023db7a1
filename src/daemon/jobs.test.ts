import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TvirtEvent } from '../drivers/connection.js';
import { FakeConnection } from '../api/fake-connection.test-util.js';
import { isVirError } from '../util/errors.js';
import { EventBus } from './events.js';
import { GuardedConnection } from './guarded-connection.js';
import { JobManager } from './jobs.js';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('JobManager', () => {
  it('runs jobs on one object one after the other, FIFO', async () => {
    const jobs = new JobManager();
    const order: string[] = [];
    const gate = deferred();
    const a = jobs.run({ object: 'domain:1', operation: 'a', name: 'd' }, async () => {
      order.push('a-start');
      await gate.promise;
      order.push('a-end');
      return 'A';
    });
    const b = jobs.run({ object: 'domain:1', operation: 'b', name: 'd' }, async () => {
      order.push('b');
      return 'B';
    });
    const c = jobs.run({ object: 'domain:1', operation: 'c', name: 'd' }, async () => {
      order.push('c');
      return 'C';
    });
    await tick();
    assert.deepEqual(order, ['a-start']);
    assert.deepEqual(
      jobs.list({ active: true }).map((j) => [j.operation, j.state]),
      [
        ['a', 'running'],
        ['b', 'queued'],
        ['c', 'queued'],
      ],
    );
    gate.resolve();
    assert.deepEqual(await Promise.all([a, b, c]), ['A', 'B', 'C']);
    assert.deepEqual(order, ['a-start', 'a-end', 'b', 'c']);
    assert.equal(jobs.list({ active: true }).length, 0);
  });

  it('runs jobs on different objects concurrently, and a failure does not block the queue', async () => {
    const jobs = new JobManager();
    const gate = deferred();
    const a = jobs.run({ object: 'x', operation: 'a', name: 'x' }, () => gate.promise);
    const b = jobs.run({ object: 'y', operation: 'b', name: 'y' }, async () => 'B');
    assert.equal(await b, 'B');
    gate.resolve();
    await a;
    const f = jobs.run({ object: 'x', operation: 'f', name: 'x' }, async () => {
      throw new Error('boom');
    });
    const g = jobs.run({ object: 'x', operation: 'g', name: 'x' }, async () => 'G');
    await assert.rejects(f, /boom/);
    assert.equal(await g, 'G');
    assert.equal(jobs.list().find((j) => j.operation === 'f')?.state, 'failed');
  });

  it('cancels a queued job before it starts and a cancellable running one via its signal', async () => {
    const bus = new EventBus();
    const seen: TvirtEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const jobs = new JobManager({ events: bus });
    let ran = false;
    const running = jobs.run({ object: 'o', operation: 'copy', name: 'vol', cancellable: true }, (ctx) => {
      ctx.progress(1, 10);
      return new Promise((_, reject) => {
        ctx.signal.addEventListener('abort', () => reject(new Error('stopped')));
      });
    });
    const queued = jobs.run({ object: 'o', operation: 'later', name: 'vol' }, async () => {
      ran = true;
    });
    await tick();
    const [r, q] = jobs.list({ active: true });
    jobs.cancel(q!.id);
    jobs.cancel(r!.id);
    await assert.rejects(running, (e) => isVirError(e, 'OPERATION_ABORTED'));
    await assert.rejects(queued, (e) => isVirError(e, 'OPERATION_ABORTED'));
    assert.equal(ran, false);
    assert.equal(jobs.get(r!.id)?.state, 'cancelled');
    const words = seen.filter((e) => e.jobId === r!.id).map((e) => e.event);
    assert.deepEqual(words, ['started', 'progress', 'cancelled']);
    assert.deepEqual(seen.find((e) => e.event === 'progress')?.progress, { processed: 1, total: 10 });
  });

  it('refuses to cancel a running job that is not cancellable', async () => {
    const jobs = new JobManager();
    const gate = deferred();
    const p = jobs.run({ object: 'o', operation: 'start', name: 'd' }, () => gate.promise);
    await tick();
    const [j] = jobs.list({ active: true });
    assert.throws(
      () => jobs.cancel(j!.id),
      (e) => isVirError(e, 'OPERATION_INVALID'),
    );
    assert.throws(
      () => jobs.cancel('nope'),
      (e) => isVirError(e, 'INVALID_ARG'),
    );
    gate.resolve();
    await p;
  });

  it('is re-entrant on the same object and exposes the current job to nested code', async () => {
    const jobs = new JobManager();
    assert.equal(jobs.currentJob(), undefined);
    const result = await jobs.run(
      { object: 'o', operation: 'outer', name: 'd', cancellable: true },
      async (outer) => {
        const nested = await jobs.run({ object: 'o', operation: 'inner', name: 'd' }, async (inner) => {
          assert.equal(inner.id, outer.id);
          assert.equal(jobs.currentJob()?.id, outer.id);
          jobs.currentJob()!.progress(5, 10);
          return 'inner';
        });
        return `${nested}+outer`;
      },
    );
    assert.equal(result, 'inner+outer');
    assert.equal(jobs.list().length, 1);
    assert.deepEqual(jobs.list()[0]!.progress, { processed: 5, total: 10 });
  });
});

describe('GuardedConnection', () => {
  it('serializes two modifying calls on one domain; a read during a job returns at once', async () => {
    const fake = new FakeConnection();
    const bus = new EventBus();
    const conn = new GuardedConnection(fake, new JobManager({ events: bus }), bus);
    const gate = deferred();
    fake.gate = async (op) => {
      if (op === 'suspend') await gate.promise;
    };
    const suspend = conn.domainSuspend('test');
    const resume = conn.domainResume('test');
    await tick();
    await tick();
    assert.deepEqual(fake.trace, ['start:suspend']);
    // Reads do not wait for the job.
    assert.equal((await conn.domainGetState('test')).state, 'running');
    assert.equal((await conn.listDomains()).length, 1);
    gate.resolve();
    await Promise.all([suspend, resume]);
    assert.deepEqual(fake.trace, ['start:suspend', 'end:suspend', 'start:resume', 'end:resume']);
    assert.equal((await conn.domainGetState('test')).state, 'running');
  });

  it('forwards driver events and emits job events on the bus', async () => {
    const fake = new FakeConnection();
    const bus = new EventBus();
    const conn = new GuardedConnection(fake, new JobManager({ events: bus }), bus);
    const seen: TvirtEvent[] = [];
    const off = conn.onEvent((e) => seen.push(e));
    await conn.domainSuspend('test');
    off();
    await conn.domainResume('test');
    assert.deepEqual(
      seen.map((e) => `${e.kind}:${e.event}`),
      ['job:started', 'domain-lifecycle:suspended', 'job:completed'],
    );
    assert.equal(seen[0]!.detail, 'suspend');
  });

  it('passes lookup errors through unchanged', async () => {
    const bus = new EventBus();
    const conn = new GuardedConnection(new FakeConnection(), new JobManager({ events: bus }), bus);
    await assert.rejects(conn.domainCreate('nope'), (e) => isVirError(e, 'NO_DOMAIN'));
  });
});
