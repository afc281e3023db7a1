import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupIndex } from './commands/index.js';

describe('command index', () => {
  it('names exactly the commands each group module defines', async () => {
    for (const e of groupIndex) {
      const g = await e.load();
      assert.equal(g.keyword, e.keyword);
      assert.deepEqual([...g.commands.map((c) => c.name)].sort(), [...e.commands].sort(), e.keyword);
    }
  });
  it('has no command twice', () => {
    const all = groupIndex.flatMap((e) => e.commands);
    assert.equal(new Set(all).size, all.length);
  });
  it('gives every value option of every command a help text', async () => {
    for (const e of groupIndex) {
      for (const c of (await e.load()).commands) {
        assert.ok(c.summary, c.name);
        for (const o of c.options) assert.ok(o.help, `${c.name} --${o.name}`);
      }
    }
  });
});
