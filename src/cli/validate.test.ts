// --validate on define/create, net-define/net-create, pool-define, vol-create/vol-create-from, and
// edit's default validation, against test:///default. Messages follow virsh 9.0's shape; the schema's
// path is not printed (tvirt ships no .rng) and the offending element's path is.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runTvirt } from '../../test/support/cli.js';
import { runCli } from './shell.js';

const dir = mkdtempSync(join(tmpdir(), 'tvirt-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const dom = (extra: string, attr = '') =>
  `<domain type='test'><name>dv</name><memory>1048576</memory><os><type>hvm</type></os><devices>` +
  `<disk type='file' device='disk'${attr}><source file='/x'/><target dev='vda'/></disk></devices>${extra}</domain>\n`;
const domOk = file('dom-ok.xml', dom(''));
const domBad = file('dom-bad.xml', dom('<bogus/>', " zzz='1'"));
const netOk = file('net-ok.xml', '<network><name>nv</name></network>\n');
const netBad = file('net-bad.xml', '<network><name>nv</name><bogus/></network>\n');
const netAttr = file('net-attr.xml', "<network foo='1'><name>nv</name></network>\n");
const poolOk = file(
  'pool-ok.xml',
  "<pool type='dir'><name>pv</name><target><path>/pv</path></target></pool>\n",
);
const poolBad = file(
  'pool-bad.xml',
  "<pool type='dir'><name>pv</name><target><path>/pv</path><bogus/></target></pool>\n",
);
const volOk = file('vol-ok.xml', '<volume><name>vv</name><capacity>1024</capacity></volume>\n');
const volBad = file('vol-bad.xml', "<volume><name>vv</name><capacity frob='1'>1024</capacity></volume>\n");

/** tvirt -c test:///default ARGS, in process. */
const tvirt = (...args: string[]) => runTvirt('test:///default', ...args);

const schemaErr = (kind: string, ...lines: string[]) =>
  `error: XML document failed to validate against schema: Unable to validate doc against the ${kind} schema\n${lines.join('\n')}\n\n`;

describe('--validate refuses what the schema refuses, and defines nothing', () => {
  const cases: [string, string, string][] = [
    [
      `define ${domBad} --validate`,
      `error: Failed to define domain from ${domBad}\n`,
      schemaErr(
        'domain',
        'Invalid attribute zzz for element /domain/devices/disk',
        'Element /domain has extra content: bogus',
      ),
    ],
    [
      `create ${domBad} --validate`,
      `error: Failed to create domain from ${domBad}\n`,
      schemaErr(
        'domain',
        'Invalid attribute zzz for element /domain/devices/disk',
        'Element /domain has extra content: bogus',
      ),
    ],
    [
      `net-define ${netBad} --validate`,
      `error: Failed to define network from ${netBad}\n`,
      schemaErr('network', 'Element /network has extra content: bogus'),
    ],
    [
      `net-create ${netAttr} --validate`,
      `error: Failed to create network from ${netAttr}\n`,
      schemaErr('network', 'Invalid attribute foo for element /network'),
    ],
    [
      `pool-define ${poolBad} --validate`,
      `error: Failed to define pool from ${poolBad}\n`,
      schemaErr('storagepool', 'Element /pool/target has extra content: bogus'),
    ],
    [
      `vol-create default-pool ${volBad} --validate`,
      `error: Failed to create vol from ${volBad}\n`,
      schemaErr('storagevol', 'Invalid attribute frob for element /volume/capacity'),
    ],
  ];
  for (const [cmd, first, rest] of cases) {
    it(cmd.replace(dir + '/', ''), async () => {
      assert.deepEqual(await tvirt(cmd), { out: '\n', err: first + rest, code: 1 });
    });
  }
  it('nothing is defined or created', async () => {
    const r = await tvirt(
      `define ${domBad} --validate; create ${domBad} --validate; list --all --name; ` +
        `net-define ${netBad} --validate; net-create ${netBad} --validate; net-list --all --name; ` +
        `pool-define ${poolBad} --validate; pool-list --all --name; ` +
        `vol-create default-pool ${volBad} --validate; vol-list default-pool`,
    );
    // One blank stdout line per failed command, as virsh.
    assert.equal(
      r.out,
      '\n\ntest\n\n\n\ndefault\n\n\ndefault-pool        \n\n\n Name   Path\n--------------\n\n',
    );
  });
  it('vol-create-from', async () => {
    const r = await tvirt(
      `vol-create default-pool ${volOk}; vol-create-from default-pool ${volBad} vv --inputpool default-pool --validate; vol-list default-pool`,
    );
    assert.equal(
      r.err,
      `error: Failed to create vol from ${volBad}\n${schemaErr('storagevol', 'Invalid attribute frob for element /volume/capacity')}`,
    );
    assert.match(r.out, /^Vol vv created from .*\n\n\n Name {3}Path\n-+\n vv +\/default-pool\/vv\n\n$/);
  });
  it('without --validate the same documents are defined (unknown parts are kept, as ever)', async () => {
    const r = await tvirt(`net-define ${netBad}; net-dumpxml nv`);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /<bogus\/>/);
  });
});

describe('--validate accepts valid documents', () => {
  it('define, create, net-define, net-create, pool-define, vol-create, vol-create-from', async () => {
    const r = await tvirt(
      `define ${domOk} --validate; net-define ${netOk} --validate; pool-define ${poolOk} --validate; ` +
        `vol-create default-pool ${volOk} --validate; ` +
        `vol-create-from default-pool ${file('vol-ok2.xml', '<volume><name>v2</name><capacity>1024</capacity></volume>')} vv --inputpool default-pool --validate`,
    );
    assert.equal(r.err, '');
    assert.match(
      r.out,
      /^Domain 'dv' defined from .*\n\nNetwork nv defined from .*\n\nPool pv defined from .*\n\nVol vv created from .*\n\nVol v2 created from input vol vv\n\n$/,
    );
    const c = await tvirt(`create ${domOk} --validate; net-create ${netOk} --validate`);
    assert.equal(c.err, '');
    assert.match(c.out, /^Domain 'dv' created from .*\n\nNetwork nv created from .*\n\n$/);
  });
});

describe('edit validates unless --skip-validate', () => {
  const editor = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const bogus = editor('bogus.sh', `sed -i 's#</domain>#<bogus/></domain>#' "$1"`);
  async function withEditor<T>(ed: string, f: () => Promise<T>): Promise<T> {
    const saved = { VISUAL: process.env.VISUAL, EDITOR: process.env.EDITOR };
    process.env.VISUAL = '';
    process.env.EDITOR = ed;
    try {
      return await f();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }
  it('refuses an element the schema does not allow, leaving the domain alone', async () => {
    const r = await withEditor(bogus, () => tvirt('edit test; dumpxml test --inactive'));
    assert.equal(r.err, `error: Failed.\n${schemaErr('domain', 'Element /domain has extra content: bogus')}`);
    assert.doesNotMatch(r.out, /bogus/);
    assert.equal((await withEditor(bogus, () => tvirt('edit test'))).code, 1);
  });
  it('--skip-validate defines it (the unknown element is kept)', async () => {
    const r = await withEditor(bogus, () => tvirt('edit test --skip-validate; dumpxml test --inactive'));
    assert.equal(r.err, '');
    assert.match(r.out, /^Domain 'test' XML configuration edited\.\n\n/);
    assert.match(r.out, /<bogus\/>/);
  });
  it('on a terminal, "i" turns validation off and defines', async () => {
    const tty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    Object.defineProperty(process.stdin, 'isTTY', { value: true, configurable: true });
    const prompts: string[] = [];
    const answers = ['i'];
    let out = '';
    let err = '';
    try {
      const code = await withEditor(bogus, () =>
        runCli(['-c', 'test:///default', 'edit test; dumpxml test --inactive'], {
          stdout: (t) => (out += t),
          stderr: (t) => (err += t),
          readLine: async (p) => {
            prompts.push(p);
            return answers.shift();
          },
        }),
      );
      assert.equal(code, 0);
    } finally {
      if (tty) Object.defineProperty(process.stdin, 'isTTY', tty);
      else delete (process.stdin as { isTTY?: boolean }).isTTY;
    }
    assert.deepEqual(prompts, ['Failed. Try again? [y,n,i,f,?]: ']);
    assert.match(err, /^error: XML document failed to validate against schema: /);
    assert.match(out, /^Domain 'test' XML configuration edited\.\n\n/);
    assert.match(out, /<bogus\/>/);
  });
});
