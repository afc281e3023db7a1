import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayWidth, keyValue, reasonText, renderTable, stateText } from './format.js';

describe('renderTable', () => {
  it('lays out like virsh list', () => {
    assert.equal(
      renderTable(['Id', 'Name', 'State'], [['1', 'test', 'running']]),
      ' Id   Name   State\n----------------------\n 1    test   running\n',
    );
  });
  it('prints header and dashes for an empty table', () => {
    assert.equal(renderTable(['Id', 'Name', 'State'], []), ' Id   Name   State\n--------------------\n');
  });
  it('does not pad the last column, even when empty', () => {
    assert.equal(
      renderTable(['Id', 'Name', 'State', 'Title'], [['1', 'test', 'running', '']]),
      ' Id   Name   State     Title\n------------------------------\n 1    test   running   \n',
    );
  });
  it('omits the header and its widths without it (virsh -q, as vshTable)', () => {
    assert.equal(
      renderTable(['Id', 'Name', 'State'], [['1', 'test', 'paused']], false),
      ' 1   test   paused\n',
    );
  });
  it('measures wide characters by display width', () => {
    assert.equal(displayWidth('日本'), 4);
    assert.equal(renderTable(['N', 'X'], [['日本', 'a']]), ' N      X\n-----------\n 日本   a\n');
  });
});

describe('text helpers', () => {
  it('formats key/value lines as %-15s %s', () => {
    assert.equal(
      keyValue([
        ['Id:', '1'],
        ['Security DOI:', ''],
      ]),
      'Id:             1\nSecurity DOI:   \n',
    );
  });
  it('names states and reasons as virsh', () => {
    assert.equal(stateText('shutoff'), 'shut off');
    assert.equal(stateText('blocked'), 'idle');
    assert.equal(stateText('shutdown'), 'in shutdown');
    assert.equal(reasonText('from_snapshot'), 'from snapshot');
    assert.equal(reasonText('booted'), 'booted');
  });
});
