// Golden tests of the nftables ruleset per forward mode (UPDATE_GOLDEN=1 rewrites golden/*.nft).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseNetwork } from '../../conf/network/index.js';
import { repoRoot } from '../../../test/support/testdata.js';
import { buildNftRuleset, nftTableName } from './nft-rules.js';

// Resolved from the repository root so the compiled test (dist/) reads the same files.
const dir = join(repoRoot, 'src', 'drivers', 'network', 'golden');

const cases: Record<string, string> = {
  'nat-default': `<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>`,
  'nat-ports-dev': `<network><name>n2</name><forward mode='nat' dev='eth0'><nat><port start='2000' end='3000'/></nat></forward>
    <bridge name='virbr5'/><ip address='10.0.3.1' prefix='24'/></network>`,
  'nat-address': `<network><name>n3</name><forward mode='nat'><nat><address start='1.2.3.4' end='1.2.3.10'/></nat></forward>
    <bridge name='virbr6'/><ip address='10.0.4.1' prefix='24'/><ip family='ipv6' address='fd00:1::1' prefix='64'/></network>`,
  route: `<network><name>routed</name><forward mode='route'/><bridge name='virbr1'/>
    <ip address='10.9.0.1' prefix='24'/><ip family='ipv6' address='2001:db8:1::1' prefix='64'/></network>`,
  isolated: `<network><name>private</name><bridge name='virbr2'/><ip address='192.168.152.1' prefix='24'/></network>`,
};

for (const [name, xml] of Object.entries(cases)) {
  test(`nft ruleset golden: ${name}`, () => {
    const got = buildNftRuleset(parseNetwork(xml))!;
    const file = join(dir, `${name}.nft`);
    if (process.env.UPDATE_GOLDEN) writeFileSync(file, got);
    assert.ok(existsSync(file), `missing ${file}: run with UPDATE_GOLDEN=1`);
    assert.equal(got, readFileSync(file, 'utf8'));
  });
}

test('open and bridge networks get no rules; table names are safe and distinct', () => {
  const open = parseNetwork(
    `<network><name>o</name><forward mode='open'/><bridge name='virbr9'/><ip address='10.1.1.1' prefix='24'/></network>`,
  );
  assert.equal(buildNftRuleset(open), undefined);
  const br = parseNetwork(`<network><name>b</name><forward mode='bridge'/><bridge name='br0'/></network>`);
  assert.equal(buildNftRuleset(br), undefined);
  assert.equal(nftTableName('default'), 'tvirt_net_default');
  assert.match(nftTableName('a-b'), /^tvirt_net_a_b_[0-9a-f]{8}$/);
  assert.notEqual(nftTableName('a-b'), nftTableName('a.b'));
});
