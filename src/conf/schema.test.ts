// --validate's schema check: libvirt's fixtures are the oracle (xmllint with libvirt's RelaxNG says
// which are valid): every valid one passes, and a bogus element or attribute put anywhere is caught.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  hasXmllint,
  relaxngInvalid,
  repoRoot,
  skipNoTestdata,
  testdataDir,
} from '../../test/support/testdata.js';
import { isVirError } from '../util/errors.js';
import { formatXml, parseXml, type XmlElement } from '../util/xml.js';
import { problemText, type SchemaKind, schemaProblems, validateSchema } from './schema.js';

const problems = (kind: SchemaKind, xml: string) => schemaProblems(kind, parseXml(xml))?.map(problemText);

/** The schema error `validateSchema` throws for `xml`, or undefined when it validates. */
function schemaError(kind: SchemaKind, xml: string): { message: string; number: number } | undefined {
  try {
    validateSchema(kind, xml);
    return undefined;
  } catch (e) {
    assert.ok(isVirError(e, 'XML_INVALID_SCHEMA'), String(e));
    return { message: e.message, number: e.number };
  }
}

describe('validateSchema', () => {
  it('fails with XML_INVALID_SCHEMA (92) in virsh’s shape, naming the element path', () => {
    assert.deepEqual(schemaError('network', '<network><name>n</name><bogus/></network>'), {
      message:
        'XML document failed to validate against schema: Unable to validate doc against the network schema\n' +
        'Element /network has extra content: bogus\n',
      number: 92,
    });
    assert.equal(
      schemaError('network', "<network foo='1'><name>n</name></network>")?.message.split('\n')[1],
      'Invalid attribute foo for element /network',
    );
  });
  it('names every problem, with positions among same-named siblings', () => {
    const xml = `<domain type='kvm'><name>d</name><memory>1024</memory><os><type>hvm</type></os>
      <devices><disk type='file' device='disk'><source file='/a'/><target dev='vda'/></disk>
      <disk type='file' device='disk' zzz='1'><source file='/b' bogus='2'/><target dev='vdb'/><frob/></disk></devices>
      <bogus/></domain>`;
    assert.deepEqual(problems('domain', xml), [
      'Invalid attribute zzz for element /domain/devices/disk[2]',
      'Invalid attribute bogus for element /domain/devices/disk[2]/source',
      'Element /domain/devices/disk[2] has extra content: frob',
      'Element /domain has extra content: bogus',
    ]);
  });
  it('is context-aware: a name valid elsewhere is refused where the schema does not allow it', () => {
    // <driver> and `cache` belong to <disk>, not to <source>; `bridge` to <source> of an interface.
    assert.deepEqual(
      problems(
        'domain',
        `<domain type='kvm'><name>d</name><memory>1</memory><os><type>hvm</type></os><devices>
        <disk type='file'><source file='/a' cache='none'><driver name='qemu'/></source><target dev='vda'/></disk>
        <interface type='bridge'><source bridge='br0'/><mac address='52:54:00:00:00:01' bridge='x'/></interface>
        </devices></domain>`,
      ),
      [
        'Invalid attribute cache for element /domain/devices/disk/source',
        'Element /domain/devices/disk/source has extra content: driver',
        'Invalid attribute bridge for element /domain/devices/interface/mac',
      ],
    );
  });
  it('accepts valid XML tvirt keeps without modeling it: <metadata>, hostdev, tpm, memtune, qemu:commandline', () => {
    const xml = `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
      <name>d</name><metadata><app:x xmlns:app='urn:app' any='thing'><y/></app:x></metadata>
      <memory>1024</memory><memtune><hard_limit unit='KiB'>2048</hard_limit></memtune>
      <os><type arch='x86_64' machine='pc'>hvm</type></os>
      <devices>
        <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev>
        <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
      </devices>
      <qemu:commandline><qemu:arg value='-foo'/></qemu:commandline>
    </domain>`;
    assert.deepEqual(problems('domain', xml), []);
    assert.equal(schemaError('domain', xml), undefined);
  });
  it('resolves namespace prefixes: an unknown namespace or an undeclared prefix is refused', () => {
    assert.deepEqual(
      problems(
        'network',
        "<network xmlns:foo='urn:x'><name>n</name><foo:zz/><dnsmasq:options xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><dnsmasq:option value='x'/></dnsmasq:options></network>",
      ),
      ['Element /network has extra content: foo:zz'],
    );
    assert.deepEqual(problems('domain', "<domain type='kvm'><name>d</name><qemu:commandline/></domain>"), [
      'Element /domain has extra content: qemu:commandline',
    ]);
  });
  it('leaves a wrong root to the parser and fails malformed XML with XML_ERROR', () => {
    assert.equal(schemaProblems('network', parseXml("<domain type='kvm'/>")), undefined);
    assert.equal(schemaError('network', "<domain type='kvm'/>"), undefined);
    assert.throws(
      () => validateSchema('network', '<network'),
      (e) => isVirError(e, 'XML_ERROR'),
    );
  });
  it('pools and volumes', () => {
    assert.deepEqual(
      problems(
        'storagepool',
        "<pool type='dir' x='1'><name>p</name><target><path>/p</path><bogus/></target></pool>",
      ),
      ['Invalid attribute x for element /pool', 'Element /pool/target has extra content: bogus'],
    );
    assert.deepEqual(
      problems(
        'storagevol',
        "<volume><name>v</name><capacity unit='G' x='1'>1</capacity><target><format type='qcow2'/><features><lazy_refcounts/></features></target><bogus/></volume>",
      ),
      ['Invalid attribute x for element /volume/capacity', 'Element /volume has extra content: bogus'],
    );
  });
});

const SETS: [SchemaKind, string, string, string[]][] = [
  [
    'domain',
    'domain',
    'domain.rng',
    [
      'domain-generic/genericxml2xmlindata',
      'domain-generic/genericxml2xmloutdata',
      'domain-qemu/qemuxmlconfdata',
    ],
  ],
  [
    'network',
    'network',
    'network.rng',
    [
      'network/networkxml2xmlin',
      'network/networkxml2xmlout',
      'network/networkxml2confdata',
      'network/networkxml2xmlupdatein',
      'network/networkxml2xmlupdateout',
    ],
  ],
  [
    'storagepool',
    'pool',
    'storagepool.rng',
    ['storage/storagepoolxml2xmlin', 'storage/storagepoolxml2xmlout'],
  ],
  ['storagevol', 'volume', 'storagevol.rng', ['storage/storagevolxml2xmlin', 'storage/storagevolxml2xmlout']],
];

/** The fixture files of a set whose root is `root`. */
function fixtures(root: string, dirs: string[]): { path: string; xml: string; doc: XmlElement }[] {
  const out: { path: string; xml: string; doc: XmlElement }[] = [];
  for (const d of dirs) {
    for (const f of readdirSync(join(testdataDir!, d)).sort()) {
      if (!f.endsWith('.xml')) continue;
      const path = join(testdataDir!, d, f);
      const xml = readFileSync(path, 'utf8');
      try {
        const doc = parseXml(xml);
        if (doc.name === root) out.push({ path, xml, doc });
      } catch {
        // malformed on purpose: not a schema case
      }
    }
  }
  return out;
}

/** Elements of `el` in document order, with whether they sit under content the schema leaves open. */
function elements(el: XmlElement, out: XmlElement[] = []): XmlElement[] {
  out.push(el);
  if (el.name === 'metadata' || el.name.includes(':')) return out;
  for (const c of el.children) if (c.type === 'element') elements(c, out);
  return out;
}

describe("libvirt's fixtures as the oracle", {
  skip: skipNoTestdata || (!hasXmllint && 'xmllint not installed'),
}, () => {
  for (const [kind, root, rng, dirs] of SETS) {
    it(`${kind}: every schema-valid fixture validates; a bogus element or attribute anywhere is caught`, () => {
      const files = fixtures(root, dirs);
      const invalid = relaxngInvalid(
        rng,
        files.map((f) => f.path),
      );
      const valid = files.filter((f) => !invalid.has(f.path));
      assert.ok(valid.length >= { domain: 1600, network: 80, storagepool: 60, storagevol: 30 }[kind]);
      const refused = valid.filter((f) => schemaProblems(kind, f.doc)?.length !== 0);
      assert.deepEqual(
        refused.map((f) => `${f.path}: ${schemaProblems(kind, f.doc)?.map(problemText).join('; ')}`),
        [],
      );
      // Mutations: in every 7th valid fixture, one element (by position) gets a bogus attribute,
      // another a bogus child; both must be named, and xmllint must refuse the documents too.
      const dir = mkdtempSync(join(tmpdir(), 'tvirt-schema-'));
      try {
        const mutated: string[] = [];
        valid.forEach((f, n) => {
          if (n % 7 !== 0) return;
          const doc = parseXml(f.xml);
          const els = elements(doc);
          const a = els[(n * 13) % els.length]!;
          const b = els[(n * 31 + 5) % els.length]!;
          a.attrs.zzbogus = '1';
          b.children.push({ type: 'element', name: 'zzbogus', attrs: {}, children: [] });
          const found = schemaProblems(kind, doc)!.map((p) => `${p.kind} ${p.name}`);
          assert.deepEqual(found.sort(), ['attribute zzbogus', 'element zzbogus'], f.path);
          const p = join(dir, `${n}.xml`);
          writeFileSync(p, formatXml(doc));
          mutated.push(p);
        });
        assert.equal(relaxngInvalid(rng, mutated).size, mutated.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('schema-names.ts', { skip: skipNoTestdata }, () => {
  it("is what scripts/gen-schema-names.mjs makes of libvirt's schemas", () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, 'scripts', 'gen-schema-names.mjs'), join(testdataDir!, 'schemas')],
      {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(join(repoRoot, 'src', 'conf', 'schema-names.ts'), 'utf8'));
  });
});
