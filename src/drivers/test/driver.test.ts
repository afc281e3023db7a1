import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVirError } from '../../util/errors.js';
import type { TvirtEvent } from '../connection.js';
import { openIsolatedTestConnection, openTestConnection } from './driver.js';

const vm = (name: string, uuid?: string) =>
  `<domain type='test'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<memory>1048576</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>`;

const rejectsWith = (p: Promise<unknown>, code: string, message: string) =>
  assert.rejects(p, (e: unknown) => isVirError(e) && e.code === code && e.message === message);

describe('test:///default driver', () => {
  it('starts with the running domain test', async () => {
    const c = openIsolatedTestConnection();
    const [d] = await c.listDomains();
    assert.deepEqual(d, {
      id: 1,
      name: 'test',
      uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f',
      state: 'running',
      reason: 'unknown',
      persistent: true,
      autostart: false,
    });
    const info = await c.domainGetInfo('test');
    assert.equal(info.maxMemoryKiB, 8388608);
    assert.equal(info.memoryKiB, 2097152);
    assert.equal(info.vcpus, 2);
    assert.deepEqual(info.securityLabel, { label: 'libvirt-test', enforcing: true });
    assert.equal((await c.getVersion()).hypervisorType, 'TEST');
    assert.equal((await c.nodeGetInfo()).cpus, 16);
    assert.match(await c.getCapabilities(), /<os_type>hvm<\/os_type>/);
  });

  it('looks domains up by id, uuid (any case, with or without dashes) and name', async () => {
    const c = openIsolatedTestConnection();
    for (const ref of [
      '1',
      'test',
      '6695EB01-F6A4-8304-79AA-97F2502E193F',
      '6695eb01f6a4830479aa97f2502e193f',
    ]) {
      assert.equal((await c.domainLookup(ref)).name, 'test');
    }
    await rejectsWith(
      c.domainLookup('nosuch'),
      'NO_DOMAIN',
      "Domain not found: no domain with matching name 'nosuch'",
    );
  });

  it('walks the lifecycle with libvirt states and reasons', async () => {
    const c = openIsolatedTestConnection();
    await c.domainDefineXML(vm('a'));
    assert.deepEqual(await c.domainGetState('a'), { state: 'shutoff', reason: 'unknown' });
    const s = await c.domainCreate('a');
    assert.equal(s.id, 2);
    assert.deepEqual(await c.domainGetState('a'), { state: 'running', reason: 'booted' });
    await c.domainSuspend('a');
    assert.deepEqual(await c.domainGetState('a'), { state: 'paused', reason: 'user' });
    await c.domainResume('a');
    assert.deepEqual(await c.domainGetState('a'), { state: 'running', reason: 'unpaused' });
    await c.domainShutdown('a');
    assert.deepEqual(await c.domainGetState('a'), { state: 'shutoff', reason: 'shutdown' });
    await c.domainCreate('a', { paused: true });
    assert.deepEqual(await c.domainGetState('a'), { state: 'paused', reason: 'user' });
    assert.equal((await c.domainLookup('a')).id, 3);
    await c.domainDestroy('a');
    assert.deepEqual(await c.domainGetState('a'), { state: 'shutoff', reason: 'destroyed' });
    assert.deepEqual(await c.domainUndefine('a'), { becameTransient: false });
    await assert.rejects(c.domainLookup('a'), (e) => isVirError(e, 'NO_DOMAIN'));
  });

  it('refuses wrong-state operations without changing state', async () => {
    const c = openIsolatedTestConnection();
    await rejectsWith(
      c.domainCreate('test'),
      'OPERATION_INVALID',
      'Requested operation is not valid: domain is already running',
    );
    await rejectsWith(c.domainResume('test'), 'INTERNAL_ERROR', "internal error: domain 'test' not paused");
    await c.domainDefineXML(vm('off'));
    await rejectsWith(c.domainSuspend('off'), 'INTERNAL_ERROR', "internal error: domain 'off' not running");
    await rejectsWith(c.domainShutdown('off'), 'INTERNAL_ERROR', "internal error: domain 'off' not running");
    await rejectsWith(
      c.domainDestroy('off'),
      'OPERATION_INVALID',
      'Requested operation is not valid: domain is not running',
    );
    await rejectsWith(
      c.domainReboot('off'),
      'OPERATION_INVALID',
      'Requested operation is not valid: domain is not running',
    );
    await rejectsWith(
      c.domainReset('off'),
      'OPERATION_INVALID',
      'Requested operation is not valid: domain is not running',
    );
    await rejectsWith(
      c.domainOpenConsole('off'),
      'OPERATION_INVALID',
      'Requested operation is not valid: domain is not running',
    );
    assert.deepEqual(await c.domainGetState('test'), { state: 'running', reason: 'unknown' });
    assert.deepEqual(await c.domainGetState('off'), { state: 'shutoff', reason: 'unknown' });
  });

  it('refuses a clashing name or uuid', async () => {
    const c = openIsolatedTestConnection();
    await rejectsWith(
      c.domainDefineXML(vm('test', '11111111-2222-3333-4444-555555555555')),
      'DOM_EXIST',
      "operation failed: domain 'test' already exists with uuid 6695eb01-f6a4-8304-79aa-97f2502e193f",
    );
    await rejectsWith(
      c.domainDefineXML(vm('other', '6695eb01-f6a4-8304-79aa-97f2502e193f')),
      'DOM_EXIST',
      "operation failed: domain 'test' is already defined with uuid 6695eb01-f6a4-8304-79aa-97f2502e193f",
    );
    await rejectsWith(
      c.domainCreateXML(vm('test', '6695eb01-f6a4-8304-79aa-97f2502e193f')),
      'OPERATION_INVALID',
      "Requested operation is not valid: domain 'test' is already active",
    );
    await assert.rejects(c.domainDefineXML('<domain'), (e) => isVirError(e, 'XML_ERROR'));
    assert.equal((await c.listDomains({})).length, 1);
  });

  it('redefining a running domain changes only the persistent config', async () => {
    const c = openIsolatedTestConnection();
    const xml = (await c.domainGetXMLDesc('test', { inactive: true })).replace(
      "<vcpu placement='static'>2",
      "<vcpu placement='static'>1",
    );
    await c.domainDefineXML(xml);
    assert.match(await c.domainGetXMLDesc('test'), /<vcpu placement='static'>2<\/vcpu>/);
    assert.match(await c.domainGetXMLDesc('test', { inactive: true }), /<vcpu placement='static'>1<\/vcpu>/);
    await c.domainDestroy('test');
    await c.domainCreate('test');
    assert.match(await c.domainGetXMLDesc('test'), /<vcpu placement='static'>1<\/vcpu>/);
  });

  it('undefining a running domain makes it transient; it disappears when stopped', async () => {
    const c = openIsolatedTestConnection();
    assert.deepEqual(await c.domainUndefine('test'), { becameTransient: true });
    assert.equal((await c.domainLookup('test')).persistent, false);
    await c.domainDestroy('test');
    assert.deepEqual(await c.listDomains({}), []);
  });

  it('transient domains from domainCreateXML vanish when stopped', async () => {
    const c = openIsolatedTestConnection();
    const d = await c.domainCreateXML(vm('t'), { paused: true });
    assert.equal(d.persistent, false);
    assert.equal(d.state, 'paused');
    await c.domainShutdown('t');
    assert.equal((await c.listDomains({})).length, 1);
  });

  it('filters lists', async () => {
    const c = openIsolatedTestConnection();
    await c.domainDefineXML(vm('off'));
    await c.domainSetAutostart('off', true);
    const names = async (f: Parameters<typeof c.listDomains>[0]) =>
      (await c.listDomains(f)).map((d) => d.name);
    assert.deepEqual(await names({ active: true }), ['test']);
    assert.deepEqual(await names({ inactive: true }), ['off']);
    assert.deepEqual(await names({ autostart: true }), ['off']);
    assert.deepEqual(await names({ noAutostart: true }), ['test']);
    assert.deepEqual(await names({ states: ['shutoff'] }), ['off']);
    assert.deepEqual(await names({ transient: true }), []);
  });

  it('applies memory, vcpu and metadata changes to live and/or config', async () => {
    const c = openIsolatedTestConnection();
    await c.domainSetMemory('test', 1024, { config: true });
    assert.equal((await c.domainGetInfo('test')).memoryKiB, 2097152);
    assert.match(await c.domainGetXMLDesc('test', { inactive: true }), /<currentMemory unit='KiB'>1024</);
    await rejectsWith(
      c.domainSetMemory('test', 99999999),
      'INVALID_ARG',
      'invalid argument: cannot set memory higher than max memory',
    );
    await rejectsWith(
      c.domainSetMaxMemory('test', 4096),
      'OPERATION_INVALID',
      'Requested operation is not valid: cannot resize the maximum memory on an active domain',
    );
    await c.domainSetMaxMemory('test', 4096, { config: true });
    assert.match(
      await c.domainGetXMLDesc('test', { inactive: true }),
      /<memory unit='KiB'>4096<.*\n.*>1024</,
    );
    await rejectsWith(
      c.domainSetVcpus('test', 4, { live: true }),
      'INVALID_ARG',
      'invalid argument: requested cpu amount exceeds maximum (4 > 2)',
    );
    await c.domainSetVcpus('test', 1);
    assert.equal((await c.domainGetInfo('test')).vcpus, 1);
    await c.domainSetMetadata('test', 'title', 'T');
    assert.equal(await c.domainGetMetadata('test', 'title'), 'T');
    assert.equal(await c.domainGetMetadata('test', 'title', { config: true }), '');
    assert.equal((await c.domainLookup('test')).title, 'T');
    await c.domainDefineXML(vm('off'));
    await rejectsWith(
      c.domainSetMemory('off', 1, { live: true }),
      'OPERATION_INVALID',
      'Requested operation is not valid: domain is not running',
    );
  });

  it('emits lifecycle events', async () => {
    const c = openIsolatedTestConnection();
    const seen: TvirtEvent[] = [];
    const off = c.onEvent((e) => seen.push(e));
    await c.domainDefineXML(vm('e'));
    await c.domainCreate('e');
    await c.domainSuspend('e');
    await c.domainResume('e');
    await c.domainDestroy('e');
    await c.domainUndefine('e');
    off();
    await c.domainDefineXML(vm('f'));
    assert.deepEqual(
      seen.map((e) => `${e.name}:${e.event}:${e.detail}`),
      [
        'e:defined:added',
        'e:started:booted',
        'e:suspended:paused',
        'e:resumed:unpaused',
        'e:stopped:destroyed',
        'e:undefined:removed',
      ],
    );
    assert.ok(seen.every((e) => e.kind === 'domain-lifecycle' && typeof e.uuid === 'string'));
  });

  it('shares state between open connections and resets when the last one closes', async () => {
    const a = openTestConnection();
    const b = openTestConnection();
    await a.domainDefineXML(vm('shared'));
    assert.equal((await b.domainLookup('shared')).name, 'shared');
    await a.close();
    await b.close();
    const c = openTestConnection();
    await assert.rejects(c.domainLookup('shared'), (e) => isVirError(e, 'NO_DOMAIN'));
    await c.close();
    await assert.rejects(c.listDomains(), (e) => isVirError(e, 'INVALID_CONN'));
  });

  it('gives a loopback console stream while running', async () => {
    const c = openIsolatedTestConnection();
    const s = await c.domainOpenConsole('test');
    const got = new Promise<string>((res) => s.once('data', (d: Buffer) => res(d.toString())));
    s.write('hi');
    assert.equal(await got, 'hi');
    s.destroy();
  });
});
