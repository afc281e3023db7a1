// QMP client against a fake QMP server that replays replies recorded from a real QEMU 7.2.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot } from '../../../test/support/testdata.js';
import { isVirError, VirError } from '../../util/errors.js';
import { type QmpClient, type QmpEvent, qmpConnect } from './qmp.js';

interface Recorded {
  greeting: Record<string, unknown>;
  exchanges: Record<string, { sent: { execute: string; id: number }; received: Record<string, unknown>[] }>;
}
const recorded: Recorded = JSON.parse(
  readFileSync(join(repoRoot, 'src/drivers/qemu/testdata/qmp-recorded.json'), 'utf8'),
);

/** The lines QEMU sent for a recorded exchange, with the reply's id replaced by `id`. */
function replay(name: string, id: unknown): string[] {
  const ex = recorded.exchanges[name];
  assert.ok(ex, `no recorded exchange ${name}`);
  return ex.received.map((m) => `${JSON.stringify('id' in m ? { ...m, id } : m)}\r\n`);
}
const greetingLine = `${JSON.stringify(recorded.greeting)}\r\n`;

const dir = mkdtempSync(join(tmpdir(), 'tvirt-qmp-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

interface Cmd {
  execute: string;
  id: unknown;
  arguments?: Record<string, unknown>;
}
interface Fake {
  path: string;
  server: Server;
  /** Every command the server received, in order. */
  received: Cmd[];
  stop(): Promise<void>;
}

/**
 * A fake QMP server: sends the recorded greeting (unless `greeting` is false), answers
 * qmp_capabilities like QEMU, and hands every other command to `onCommand`.
 */
async function fake(
  onCommand: (cmd: Cmd, sock: Socket) => void,
  opts: { greeting?: string | false; write?: (sock: Socket, data: string) => void; path?: string } = {},
): Promise<Fake> {
  const path = opts.path ?? join(dir, `qmp-${n++}.sock`);
  const received: Cmd[] = [];
  const sockets = new Set<Socket>();
  const write = opts.write ?? ((s: Socket, d: string) => s.write(d));
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    if (opts.greeting !== false) write(sock, opts.greeting ?? greetingLine);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const cmd = JSON.parse(buf.slice(0, i)) as Cmd;
        buf = buf.slice(i + 1);
        received.push(cmd);
        if (cmd.execute === 'qmp_capabilities') write(sock, replay('qmp_capabilities', cmd.id).join(''));
        else onCommand(cmd, sock);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    server,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Replies to known commands from the recording; the status progresses like QEMU's does. */
function recordedQemu(): (cmd: Cmd, sock: Socket) => void {
  let status = 'query-status-prelaunch';
  return (cmd, sock) => {
    const map: Record<string, () => string> = {
      'query-status': () => status,
      cont: () => {
        const name = status === 'query-status-prelaunch' ? 'cont' : 'cont-resume';
        status = 'query-status-running';
        return name;
      },
      stop: () => {
        status = 'query-status-paused';
        return 'stop';
      },
      'query-version': () => 'query-version',
      system_powerdown: () => 'system_powerdown-guest',
      quit: () => 'quit',
    };
    const pick = map[cmd.execute];
    sock.write(replay(pick ? pick() : 'unknown-command', cmd.id).join(''));
    if (cmd.execute === 'quit') sock.end();
  };
}

async function withClient(
  f: Fake,
  body: (c: QmpClient) => Promise<void>,
  opts?: Parameters<typeof qmpConnect>[1],
): Promise<void> {
  const c = await qmpConnect(f.path, opts);
  try {
    await body(c);
  } finally {
    await c.close();
    await f.stop();
  }
}

function assertVir(code: VirError['code'], re?: RegExp) {
  return (e: unknown) => {
    assert.ok(isVirError(e, code), `expected VirError ${code}, got ${String(e)}`);
    if (re) assert.match((e as VirError).message, re);
    return true;
  };
}

describe('QmpClient: negotiation and commands', () => {
  test('reads the greeting and negotiates capabilities first', async () => {
    const f = await fake(recordedQemu());
    await withClient(f, async (c) => {
      assert.deepEqual(c.greeting?.QMP.version.qemu, { major: 7, minor: 2, micro: 22 });
      assert.equal(f.received[0]?.execute, 'qmp_capabilities');
      assert.equal(f.received[0]?.arguments, undefined);
      assert.equal(typeof f.received[0]?.id, 'string');
    });
  });

  test('query-status follows prelaunch -> running -> paused; arguments are sent', async () => {
    const f = await fake(recordedQemu());
    await withClient(f, async (c) => {
      assert.deepEqual(await c.execute('query-status'), {
        status: 'prelaunch',
        singlestep: false,
        running: false,
      });
      await c.execute('cont');
      assert.equal((await c.execute<{ status: string }>('query-status')).status, 'running');
      await c.execute('stop');
      assert.equal((await c.execute<{ running: boolean; status: string }>('query-status')).status, 'paused');
      await c.execute('query-version', { extra: [1, 'two'] });
      const sent = f.received.find((r) => r.execute === 'query-version');
      assert.deepEqual(sent?.arguments, { extra: [1, 'two'] });
      const ids = f.received.map((r) => r.id);
      assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    });
  });

  test('replies are matched by id, not by order', async () => {
    const held: { cmd: Cmd; sock: Socket }[] = [];
    const f = await fake((cmd, sock) => {
      held.push({ cmd, sock });
      if (held.length === 3) {
        for (const h of held.reverse()) {
          h.sock.write(`${JSON.stringify({ return: { echo: h.cmd.arguments?.n }, id: h.cmd.id })}\r\n`);
        }
      }
    });
    await withClient(f, async (c) => {
      const r = await Promise.all([1, 2, 3].map((i) => c.execute<{ echo: number }>('echo', { n: i })));
      assert.deepEqual(
        r.map((x) => x.echo),
        [1, 2, 3],
      );
    });
  });

  test('an error reply becomes VirError OPERATION_FAILED in domain QEMU', async () => {
    const f = await fake(recordedQemu());
    await withClient(f, async (c) => {
      await assert.rejects(c.execute('no-such-command'), (e: unknown) => {
        assert.ok(e instanceof VirError);
        assert.equal(e.code, 'OPERATION_FAILED');
        assert.equal(e.domain, 'QEMU');
        assert.equal(
          e.message,
          "QMP command 'no-such-command' failed: The command no-such-command has not been found",
        );
        assert.deepEqual(e.cause, {
          class: 'CommandNotFound',
          desc: 'The command no-such-command has not been found',
        });
        return true;
      });
      // The connection stays usable.
      assert.equal((await c.execute<{ status: string }>('query-status')).status, 'prelaunch');
    });
  });
});

describe('QmpClient: framing', () => {
  test('messages split at every byte, including inside a multi-byte character', async () => {
    const byteByByte = (s: Socket, d: string) => {
      const b = Buffer.from(d);
      for (let i = 0; i < b.length; i++) s.write(b.subarray(i, i + 1));
    };
    const f = await fake(
      (cmd, sock) => byteByByte(sock, `${JSON.stringify({ return: { name: 'dísk-€-✓' }, id: cmd.id })}\r\n`),
      { write: byteByByte },
    );
    await withClient(f, async (c) => {
      assert.deepEqual(await c.execute('query-name'), { name: 'dísk-€-✓' });
    });
  });

  test('several messages in one chunk: events and replies', async () => {
    const f = await fake((cmd, sock) => {
      // STOP event, the reply, and a RESUME event, all in one write.
      sock.write([...replay('stop', cmd.id), ...replay('cont-resume', 'unused').slice(0, 1)].join(''));
    });
    await withClient(f, async (c) => {
      const events: QmpEvent[] = [];
      c.on('event', (e) => events.push(e));
      await c.execute('stop');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        events.map((e) => e.event),
        ['STOP', 'RESUME'],
      );
    });
  });

  test('greeting and capabilities reply in the same chunk as later lines', async () => {
    const f = await fake(() => {}, { greeting: `${greetingLine}\r\n` });
    await withClient(f, async (c) => assert.ok(c.greeting));
  });
});

describe('QmpClient: events', () => {
  test('events carry name, data and timestamp; waitForEvent resolves', async () => {
    const f = await fake(recordedQemu());
    await withClient(f, async (c) => {
      const events: QmpEvent[] = [];
      c.on('event', (e) => events.push(e));
      const stopped = c.waitForEvent('STOP', { timeoutMs: 2000 });
      await c.execute('cont');
      await c.execute('stop');
      const stop = await stopped;
      assert.deepEqual(stop, {
        event: 'STOP',
        data: {},
        timestamp: { seconds: 1795648250, microseconds: 248636 },
      });
      const shutdown = c.waitForEvent('SHUTDOWN', {
        predicate: (e) => e.data.guest === true,
        timeoutMs: 2000,
      });
      await c.execute('system_powerdown');
      assert.deepEqual((await shutdown).data, { guest: true, reason: 'guest-shutdown' });
      assert.deepEqual(
        events.map((e) => e.event),
        ['RESUME', 'STOP', 'POWERDOWN', 'SHUTDOWN'],
      );
    });
  });

  test('quit: SHUTDOWN event, reply, then close', async () => {
    const f = await fake(recordedQemu());
    const c = await qmpConnect(f.path);
    const closed = new Promise<Error | undefined>((r) => c.once('close', r));
    const shutdown = c.waitForEvent('SHUTDOWN');
    await c.execute('quit');
    assert.deepEqual((await shutdown).data, { guest: false, reason: 'host-qmp-quit' });
    assert.equal(await closed, undefined);
    assert.equal(c.closed, true);
    await f.stop();
  });
});

describe('QmpClient: failures', () => {
  test('a command without reply times out with OPERATION_TIMEOUT; a late reply is ignored', async () => {
    let late: (() => void) | undefined;
    const f = await fake((cmd, sock) => {
      if (cmd.execute === 'slow')
        late = () => sock.write(`${JSON.stringify({ return: 'late', id: cmd.id })}\r\n`);
      else recordedQemu()(cmd, sock);
    });
    await withClient(f, async (c) => {
      const t0 = Date.now();
      await assert.rejects(
        c.execute('slow', undefined, { timeoutMs: 100 }),
        assertVir('OPERATION_TIMEOUT', /'slow'/),
      );
      assert.ok(Date.now() - t0 >= 90);
      late?.();
      assert.equal((await c.execute<{ status: string }>('query-status')).status, 'prelaunch');
    });
  });

  test('the default command timeout comes from connect options', async () => {
    const f = await fake(() => {});
    await withClient(
      f,
      async (c) => {
        await assert.rejects(c.execute('query-status'), assertVir('OPERATION_TIMEOUT', /50 ms/));
      },
      { commandTimeoutMs: 50 },
    );
  });

  test('server hang-up rejects every pending command and emits close', async () => {
    let count = 0;
    const f = await fake((_cmd, sock) => {
      if (++count === 2) sock.destroy();
    });
    const c = await qmpConnect(f.path);
    const closed = new Promise<Error | undefined>((r) => c.once('close', r));
    const a = c.execute('query-status');
    const b = c.execute('query-block');
    await assert.rejects(a, assertVir('OPERATION_FAILED', /'query-status' got no reply: .*closed/));
    await assert.rejects(b, assertVir('OPERATION_FAILED', /'query-block' got no reply/));
    await closed;
    assert.equal(c.closed, true);
    await assert.rejects(c.execute('query-status'), assertVir('OPERATION_FAILED', /connection .* is closed/));
    await f.stop();
  });

  test('close() rejects pending commands, emits close without error, and is idempotent', async () => {
    const f = await fake(() => {});
    const c = await qmpConnect(f.path);
    let closeArg: Error | undefined | null = null;
    c.on('close', (e) => {
      closeArg = e;
    });
    const p = assert.rejects(c.execute('query-status'), assertVir('OPERATION_FAILED', /client closed/));
    await c.close();
    await p;
    assert.equal(closeArg, undefined);
    await c.close();
    await f.stop();
  });

  test('malformed JSON from the server is a protocol error that closes the connection', async () => {
    const f = await fake((_cmd, sock) => sock.write('{"return": oops}\r\n'));
    const c = await qmpConnect(f.path);
    const closed = new Promise<Error | undefined>((r) => c.once('close', r));
    await assert.rejects(c.execute('query-status'), assertVir('OPERATION_FAILED', /malformed QMP message/));
    assert.ok(isVirError(await closed, 'INTERNAL_ERROR'));
    await f.stop();
  });
});

describe('QmpClient: connect', () => {
  test('no socket: OPERATION_FAILED naming the path', async () => {
    const path = join(dir, 'missing.sock');
    await assert.rejects(
      qmpConnect(path, { timeoutMs: 500 }),
      assertVir('OPERATION_FAILED', /missing\.sock/),
    );
  });

  test('no greeting: OPERATION_TIMEOUT', async () => {
    const f = await fake(() => {}, { greeting: false });
    await assert.rejects(qmpConnect(f.path, { timeoutMs: 150 }), assertVir('OPERATION_TIMEOUT', /150 ms/));
    await f.stop();
  });

  test('a peer that is not QMP is refused', async () => {
    const f = await fake(() => {}, { greeting: '{"hello": "world"}\n' });
    await assert.rejects(
      qmpConnect(f.path, { timeoutMs: 1000 }),
      assertVir('OPERATION_FAILED', /expected a QMP greeting/),
    );
    await f.stop();
  });

  test('capabilities negotiation that fails rejects connect', async () => {
    const path = join(dir, `qmp-${n++}.sock`);
    const server = createServer((sock) => {
      sock.write(greetingLine);
      sock.on('data', (d) => {
        const { id } = JSON.parse(String(d));
        sock.write(`${JSON.stringify({ id, error: { class: 'GenericError', desc: 'nope' } })}\r\n`);
      });
    });
    await new Promise<void>((r) => server.listen(path, r));
    await assert.rejects(qmpConnect(path), assertVir('OPERATION_FAILED', /'qmp_capabilities' failed: nope/));
    await new Promise((r) => server.close(r));
  });

  test('waitForSocket retries until the socket appears', async () => {
    const path = join(dir, `qmp-${n++}.sock`);
    let f: Fake | undefined;
    const later = setTimeout(async () => {
      f = await fake(recordedQemu(), { path });
    }, 150);
    const c = await qmpConnect(path, { waitForSocket: true, timeoutMs: 3000 });
    assert.equal((await c.execute<{ status: string }>('query-status')).status, 'prelaunch');
    await c.close();
    clearTimeout(later);
    await f?.stop();
  });

  test('waitForSocket still times out', async () => {
    const path = join(dir, 'never.sock');
    await assert.rejects(
      qmpConnect(path, { waitForSocket: true, timeoutMs: 120 }),
      assertVir('OPERATION_TIMEOUT', /never\.sock/),
    );
  });

  test('reconnect is a new connect to the same socket', async () => {
    const f = await fake(recordedQemu());
    const a = await qmpConnect(f.path);
    await a.close();
    const b = await qmpConnect(f.path);
    assert.ok(b.greeting);
    await b.close();
    await f.stop();
  });
});
