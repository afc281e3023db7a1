import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAllGroups } from './commands/index.js';
import { completeLine } from './complete.js';

const commands = async () => (await loadAllGroups()).flatMap((g) => g.commands.filter((c) => !c.hidden));
const domains = async () => ['test', 'vm1', 'web'];
const complete = async (line: string) =>
  (await completeLine(line, await commands(), domains))[0].map((s) => s.trim());

describe('completeLine', () => {
  it('completes command names', async () => {
    assert.deepEqual(await complete('doms'), ['domstate']);
    assert.ok((await complete('')).includes('list'));
    assert.ok(!(await complete('')).includes('complete'));
  });
  it('completes options not given yet', async () => {
    assert.deepEqual(await complete('list --st'), [
      '--state-running',
      '--state-paused',
      '--state-shutoff',
      '--state-other',
    ]);
    assert.deepEqual(await complete('domstate test --reason --'), ['--domain', '--json']);
    assert.deepEqual(await complete('domstate test --reason --json --'), ['--domain']);
    assert.deepEqual(await complete('start test --'), ['--domain', '--console', '--paused', '--force-boot']);
  });
  it('completes domain names where a domain goes', async () => {
    assert.deepEqual(await complete('dominfo '), ['test', 'vm1', 'web']);
    assert.deepEqual(await complete('start v'), ['vm1']);
    assert.deepEqual(await complete('dominfo --domain w'), ['web']);
    assert.deepEqual(await complete('setmem test '), []);
    assert.deepEqual(await complete('list; start '), ['test', 'vm1', 'web']);
  });
  it('offers nothing for unknown commands or after a value-less position', async () => {
    assert.deepEqual(await complete('foo '), []);
    assert.deepEqual(await complete('version '), []);
  });
});
