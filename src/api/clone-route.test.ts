// POST /v1/domains/{ref}/clone through the daemon guard and the remote client: job, progress events,
// cancel by AbortSignal and by the job API, errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Connection, TvirtEvent } from '../drivers/connection.js';
import { isVirError } from '../util/errors.js';
import type { RemoteConnection } from './client.js';
import { startTestApi, type TestApi } from './test-api.test-util.js';

let api: TestApi;
let client: RemoteConnection;
let inner: Connection;

before(async () => {
  api = await startTestApi({ name: 'clone-api' });
  ({ client, inner } = api);
  await inner.domainDestroy('test');
});
after(() => api?.close());

describe('clone over the API', () => {
  it('runs as a job whose events carry byte progress', async () => {
    const events: TvirtEvent[] = [];
    const off = client.onEvent((e) => {
      if (e.kind === 'job' && e.detail === 'clone') events.push(e);
    });
    const seen: number[] = [];
    let job: string | undefined;
    const r = await client.domainClone('test', {
      progress: (p) => seen.push(p),
      onJob: (id) => {
        job = id;
      },
    });
    off();
    assert.equal(r.name, 'test-clone');
    assert.equal(r.dryRun, false);
    assert.match(r.xml, /<name>test-clone<\/name>/);
    assert.ok(job);
    assert.ok(seen.length >= 2, `progress callbacks: ${seen.length}`);
    assert.equal(seen.at(-1), r.disks[0]!.bytes);
    assert.ok(
      events.some((e) => e.event === 'progress' && e.progress && e.progress.total === r.disks[0]!.bytes),
    );
    assert.ok(events.some((e) => e.event === 'completed' && e.jobId === job));
    assert.equal((await client.domainLookup('test-clone')).state, 'shutoff');
  });

  it('dry run answers the plan and defines nothing', async () => {
    const r = await client.domainClone('test', { dryRun: true, name: 'planned' });
    assert.equal(r.dryRun, true);
    assert.equal(r.name, 'planned');
    await assert.rejects(client.domainLookup('planned'), (e) => isVirError(e, 'NO_DOMAIN'));
  });

  it('cancel by AbortSignal or through the job API leaves nothing', async () => {
    const ac = new AbortController();
    const p = client.domainClone('test', {
      name: 'c1',
      signal: ac.signal,
      progress: (n) => {
        if (n > 0) ac.abort();
      },
    });
    await assert.rejects(p, (e) => isVirError(e, 'OPERATION_ABORTED'));
    await assert.rejects(client.domainLookup('c1'), (e) => isVirError(e, 'NO_DOMAIN'));
    const q = client.domainClone('test', {
      name: 'c2',
      onJob: (id) => {
        setTimeout(() => void client.cancelJob(id).catch(() => {}), 20);
      },
    });
    await assert.rejects(q, (e) => isVirError(e, 'OPERATION_ABORTED') && /left behind/.test(e.message));
    await assert.rejects(client.domainLookup('c2'), (e) => isVirError(e, 'NO_DOMAIN'));
  });

  it('errors come back with their codes', async () => {
    await assert.rejects(client.domainClone('nope'), (e) => isVirError(e, 'NO_DOMAIN'));
    await assert.rejects(client.domainClone('test', { name: 'test-clone' }), (e) =>
      isVirError(e, 'DOM_EXIST'),
    );
    await client.domainCreate('test');
    await assert.rejects(
      client.domainClone('test'),
      (e) => isVirError(e, 'OPERATION_INVALID') && /must be shut off or paused/.test(e.message),
    );
    await client.domainDestroy('test');
  });
});
