// Runner: argv without a shell, failures with stderr, cancellation, progress output, the recording runner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVirError } from '../util/errors.js';
import { ProcessRunner, RecordingRunner, renderCommand } from './run.js';

const runner = new ProcessRunner();

test('arguments reach the program verbatim: no shell ever sees them', async () => {
  const r = await runner.run({ program: 'printf', args: ['%s|', '$(id)', 'a b', ';rm -rf /', '*'] });
  assert.equal(r.stdout, '$(id)|a b|;rm -rf /|*|');
  assert.equal(
    renderCommand({ program: 'qemu-img', args: ['info', 'a b', "it's"] }),
    `qemu-img info 'a b' 'it'\\''s'`,
  );
});

test('a failing command rejects with its stderr; allowFailure resolves; a missing program is named', async () => {
  await assert.rejects(runner.run({ program: 'sh', args: ['-c', 'echo boom >&2; exit 3'] }), {
    code: 'INTERNAL_ERROR',
    message: "sh -c 'echo boom >&2; exit 3' failed: boom",
  });
  assert.equal((await runner.run({ program: 'false', args: [] }, { allowFailure: true })).code, 1);
  await assert.rejects(runner.run({ program: 'no-such-program-tvirt', args: [] }), /command not found/);
});

test('abort kills the process; stdout is streamed; stdin and env are passed', async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(runner.run({ program: 'sleep', args: ['5'] }, { signal: ac.signal }), (e) =>
    isVirError(e, 'OPERATION_ABORTED'),
  );
  assert.ok(Date.now() - t0 < 2000);
  const seen: string[] = [];
  await runner.run(
    { program: 'sh', args: ['-c', 'printf "(50.00/100%%)\\r"; printf "(100.00/100%%)\\r"'] },
    { onStdout: (t) => seen.push(t) },
  );
  assert.match(seen.join(''), /\(100\.00\/100%\)/);
  const r = await runner.run({
    program: 'sh',
    args: ['-c', 'cat; echo "$TVIRT_X"'],
    stdin: 'in\n',
    env: { TVIRT_X: 'y' },
  });
  assert.equal(r.stdout, 'in\ny\n');
});

test('RecordingRunner records commands and answers from its responder', async () => {
  const rec = new RecordingRunner((c) =>
    c.program === 'vgs' ? { stdout: '1:2' } : c.program === 'bad' ? { code: 5, stderr: 'no' } : undefined,
  );
  assert.equal((await rec.run({ program: 'vgs', args: ['x'] })).stdout, '1:2');
  await assert.rejects(rec.run({ program: 'bad', args: [] }), /bad failed: no/);
  assert.deepEqual(rec.lines(), ['vgs x', 'bad']);
});
