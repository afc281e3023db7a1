// event and net-event against test:///default (connections of one process share its state, so one
// waits while another acts); texts as virsh prints them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runTvirt } from '../../test/support/cli.js';

const tvirt = (...args: string[]) => runTvirt('test:///default', ...args);
const settle = () => new Promise((r) => setTimeout(r, 100));

describe('event', () => {
  it('lifecycle events with virsh words, reboot events, filtered by domain; the count; exit 1 on timeout', async () => {
    const waiting = tvirt('event --all --loop --timeout 1 --domain test');
    await settle();
    const other = await tvirt('suspend test; resume test; reboot test; destroy test; start test');
    assert.equal(other.err, '');
    const r = await waiting;
    assert.equal(
      r.out,
      "event 'lifecycle' for domain 'test': Suspended Paused\n" +
        "event 'lifecycle' for domain 'test': Resumed Unpaused\n" +
        "event 'reboot' for domain 'test'\n" +
        "event 'lifecycle' for domain 'test': Stopped Destroyed\n" +
        "event 'lifecycle' for domain 'test': Started Booted\n" +
        'event loop timed out\nevents received: 5\n\n',
    );
    assert.equal(r.code, 1);
  });
  it('one event, only of the type asked for', async () => {
    const once = tvirt('event --event lifecycle --timestamp');
    await settle();
    await tvirt('reboot test; suspend test');
    const r = await once;
    assert.match(
      r.out,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: event 'lifecycle' for domain 'test': Suspended Paused\nevents received: 1\n\n$/,
    );
    assert.equal(r.code, 0);
    await tvirt('resume test');
  });
});

describe('net-event', () => {
  it('network lifecycle events, filtered by network', async () => {
    const waiting = tvirt('net-event --event lifecycle --loop --timeout 1 --network default');
    await settle();
    await tvirt('net-destroy default; net-start default');
    const r = await waiting;
    assert.equal(
      r.out,
      "event 'lifecycle' for network default: Stopped\nevent 'lifecycle' for network default: Started\nevent loop timed out\nevents received: 2\n\n",
    );
    assert.equal((await tvirt('net-event --event lifecycle --network nosuch')).code, 1);
  });
});
