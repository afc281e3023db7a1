import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVirError } from './errors.js';
import { attr, child, elem, formatXml, parseRoot, parseXml, textElem, textOf, unknownParts } from './xml.js';

test('parses, keeps attribute order, drops whitespace between elements', () => {
  const root = parseXml(
    "<?xml version='1.0'?>\n<domain type='kvm' id=\"1\">\n  <name>a &amp; b</name>\n</domain>\n",
  );
  assert.equal(root.name, 'domain');
  assert.deepEqual(Object.keys(root.attrs), ['type', 'id']);
  assert.equal(root.children.length, 1);
  assert.equal(textOf(child(root, 'name')!), 'a & b');
  assert.equal(formatXml(root), "<domain type='kvm' id='1'>\n  <name>a &amp; b</name>\n</domain>\n");
});

test('refuses DOCTYPE, so no entity bomb or external entity can be declared', () => {
  const bomb = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><domain>&lol2;</domain>';
  assert.throws(
    () => parseXml(bomb),
    (e) => isVirError(e, 'XML_ERROR') && /DOCTYPE/.test(e.message),
  );
  const xxe = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>';
  assert.throws(
    () => parseXml(xxe),
    (e) => isVirError(e, 'XML_ERROR'),
  );
  assert.throws(
    () => parseXml('<d>&undefined;</d>'),
    (e) => isVirError(e, 'XML_ERROR'),
  );
});

test('malformed, deep and oversized documents are clear errors, not crashes', () => {
  for (const bad of ['', '<a>', '<a></b>', 'text', '<a x="1" x="2"/>', '<a/><b/>']) {
    assert.throws(
      () => parseXml(bad),
      (e) => isVirError(e, 'XML_ERROR'),
      bad,
    );
  }
  const deep = '<a>'.repeat(10000) + '</a>'.repeat(10000);
  assert.throws(
    () => parseXml(deep),
    (e) => isVirError(e, 'XML_ERROR') && /deeper/.test(e.message),
  );
  assert.throws(() => parseXml('<a>' + 'x'.repeat(100) + '</a>', { maxLength: 50 }), /limit/);
});

test('parseRoot names the unexpected root', () => {
  assert.throws(
    () => parseRoot('<network/>', 'domain'),
    /unexpected root element <network>, expecting <domain>/,
  );
});

test('unknown parts are written back after the sibling they followed', () => {
  const el = parseXml(
    "<disk type='file' foo='bar'><x1/><driver name='qemu'/><x2 a='1'><y/></x2><target dev='vda'/></disk>",
  );
  const extra = unknownParts(el, ['type'], ['driver', 'target']);
  const out = elem(
    'disk',
    { type: attr(el, 'type') },
    [elem('driver', { name: 'qemu' }), elem('target', { dev: 'vda' })],
    extra,
  );
  assert.equal(
    formatXml(out),
    "<disk type='file' foo='bar'>\n  <x1/>\n  <driver name='qemu'/>\n  <x2 a='1'>\n    <y/>\n  </x2>\n  <target dev='vda'/>\n</disk>\n",
  );
});

test('escapes attribute values and text', () => {
  const out = elem('a', { v: `it's <"x"> & y`, n: undefined, b: true }, [textElem('t', '1<2')]);
  assert.equal(
    formatXml(out),
    "<a v='it&apos;s &lt;&quot;x&quot;&gt; &amp; y' b='yes'>\n  <t>1&lt;2</t>\n</a>\n",
  );
});
