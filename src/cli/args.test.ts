import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand, parseIntOpt, parseScaledOpt } from './args.js';
import { CliError, type CommandDef } from './command.js';

const noop = async () => {};
const table: CommandDef[] = [
  {
    name: 'setmem',
    summary: '',
    options: [
      { name: 'domain', type: 'data', required: true, help: '' },
      { name: 'size', type: 'int', required: true, help: '' },
      { name: 'config', type: 'bool', help: '' },
      { name: 'live', type: 'bool', help: '' },
    ],
    handler: noop,
  },
  {
    name: 'desc',
    summary: '',
    options: [
      { name: 'domain', type: 'data', required: true, help: '' },
      { name: 'title', type: 'bool', help: '' },
      { name: 'new-desc', type: 'argv', help: '' },
    ],
    handler: noop,
  },
  {
    name: 'shutdown',
    summary: '',
    options: [
      { name: 'domain', type: 'data', required: true, help: '' },
      { name: 'mode', type: 'string', namedOnly: true, help: '' },
    ],
    handler: noop,
  },
  { name: 'help', summary: '', options: [{ name: 'command', type: 'string', help: '' }], handler: noop },
];
const find = (n: string) => table.find((c) => c.name === n);
const parse = (...w: string[]) => parseCommand(w, find);
const fails = (words: string[], msg: string) =>
  assert.throws(
    () => parseCommand(words, find),
    (e: unknown) => e instanceof CliError && e.lines.length === 1 && e.lines[0] === msg,
  );

describe('parseCommand', () => {
  it('fills positional options in table order', () => {
    const p = parse('setmem', 'vm1', '1024', '--config');
    assert.equal(p.opts.get('domain'), 'vm1');
    assert.equal(p.opts.get('size'), '1024');
    assert.equal(p.opts.get('config'), true);
  });
  it('accepts --opt value and --opt=value in any order', () => {
    const p = parse('setmem', '--size=5', '--domain', 'x');
    assert.equal(p.opts.get('size'), '5');
    assert.equal(p.opts.get('domain'), 'x');
    const q = parse('setmem', '--size', '7', 'y');
    assert.equal(q.opts.get('domain'), 'y');
  });
  it('collects argv words and options between them', () => {
    const p = parse('desc', 'vm', 'hello', '--title', 'world');
    assert.deepEqual(p.opts.get('new-desc'), ['hello', 'world']);
    assert.equal(p.opts.get('title'), true);
  });
  it('treats words after -- as data', () => {
    const p = parse('desc', 'vm', '--', '--title');
    assert.deepEqual(p.opts.get('new-desc'), ['--title']);
    assert.equal(p.opts.get('title'), undefined);
  });
  it('never fills a named-only option positionally', () => {
    fails(['shutdown', 'vm', 'acpi'], "unexpected data 'acpi'");
    assert.equal(parse('shutdown', 'vm', '--mode', 'acpi').opts.get('mode'), 'acpi');
  });
  it('reports an unknown command', () => fails(['foo'], "unknown command: 'foo'"));
  it('reports an unknown option', () =>
    fails(['setmem', '--bogus'], "command 'setmem' doesn't support option --bogus"));
  it('reports a repeated option', () =>
    fails(['setmem', '--domain=a', '--domain', 'b'], 'option --domain already seen'));
  it('reports a missing value', () => {
    fails(['setmem', 'a', '--size'], 'expected syntax: --size <number>');
    fails(['shutdown', 'a', '--mode'], 'expected syntax: --mode <string>');
  });
  it("reports '=' after a flag", () => fails(['desc', 'a', '--title=x'], "invalid '=' after option --title"));
  it('reports unexpected data', () => fails(['setmem', 'a', '1', '2'], "unexpected data '2'"));
  it('reports missing required options with <data> or --opt', () => {
    fails(['setmem'], "command 'setmem' requires <domain> option");
    fails(['setmem', 'vm'], "command 'setmem' requires --size option");
  });
  it('lets help ignore stray words and options', () => {
    const p = parse('help', 'list', 'extra', '--bogus');
    assert.equal(p.opts.get('command'), 'list');
  });
  it('does not take -x or --- as options', () => {
    fails(['setmem', 'a', '1', '-x'], "unexpected data '-x'");
  });
});

describe('numeric options', () => {
  it('parses integers', () => {
    assert.equal(parseIntOpt('12', 'count'), 12);
    assert.throws(
      () => parseIntOpt('x', 'count'),
      /Numeric value 'x' for <count> option is malformed or out of range/,
    );
    assert.throws(() => parseIntOpt('1.5', 'count'), /malformed/);
  });
  it('parses scaled integers in KiB', () => {
    assert.equal(parseScaledOpt('1024', 'size'), 1024);
    assert.equal(parseScaledOpt('1G', 'size'), 1048576);
    assert.equal(parseScaledOpt('2g', 'size'), 2097152);
    assert.equal(parseScaledOpt('512MiB', 'size'), 524288);
    assert.equal(parseScaledOpt('1MB', 'size'), 977);
    assert.throws(
      () => parseScaledOpt('abc', 'size'),
      (e: unknown) =>
        e instanceof CliError &&
        e.lines.join('|') === "Scaled numeric value 'abc' for <size> option is malformed or out of range",
    );
    assert.throws(
      () => parseScaledOpt('1.5G', 'size'),
      (e: unknown) =>
        e instanceof CliError &&
        e.lines.join('|') ===
          "Scaled numeric value '1.5G' for <size> option is malformed or out of range|invalid argument: unknown suffix '.5G'",
    );
  });
});
