import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteWord, splitCommands } from './batch.js';

describe('splitCommands', () => {
  it('splits on ; and newlines, dropping empty commands', () => {
    assert.deepEqual(splitCommands('  ; ;list'), [['list']]);
    assert.deepEqual(splitCommands('define a.xml; start a;list'), [
      ['define', 'a.xml'],
      ['start', 'a'],
      ['list'],
    ]);
    assert.deepEqual(splitCommands('list\nlist --all'), [['list'], ['list', '--all']]);
  });
  it('keeps ; inside quotes and after a backslash', () => {
    assert.deepEqual(splitCommands("desc test 'a b;c'"), [['desc', 'test', 'a b;c']]);
    assert.deepEqual(splitCommands('desc test a\\;b'), [['desc', 'test', 'a;b']]);
    assert.deepEqual(splitCommands('desc "x\\"y" \'a\\b\''), [['desc', 'x"y', 'a\\b']]);
  });
  it('joins quoted parts into one word and keeps empty words', () => {
    assert.deepEqual(splitCommands(`a 'b'"c"d ""`), [['a', 'bcd', '']]);
  });
  it('treats # at a word start as a comment', () => {
    assert.deepEqual(splitCommands('list # comment; more\nlist --all'), [['list'], ['list', '--all']]);
    assert.deepEqual(splitCommands('echo a#b'), [['echo', 'a#b']]);
  });
  it('elides backslash-newline', () => {
    assert.deepEqual(splitCommands('desc a\\\nb'), [['desc', 'ab']]);
  });
  it('reports a dangling backslash and a missing double quote', () => {
    assert.throws(() => splitCommands('desc abc\\'), /dangling \\/);
    assert.throws(() => splitCommands('desc "abc'), /missing "/);
  });
  it('accepts an unterminated single quote, as virsh', () => {
    assert.deepEqual(splitCommands("desc 'abc"), [['desc', 'abc']]);
  });
  it('quoteWord round-trips', () => {
    for (const w of ['plain', 'a b', "it's", 'x;y', '', '"q"', 'back\\slash']) {
      assert.deepEqual(splitCommands(`cmd ${quoteWord(w)}`), [['cmd', w]]);
    }
  });
});
