// Shared helpers of the command tests: the golden cases in testdata/ and the context they are rendered with.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../test/support/testdata.js';
import { type DomainDef, parseDomain } from '../../conf/domain/index.js';
import type { QemuBuildContext } from './command.js';

/** Folder of the golden XML/argv pairs, beside the sources (also when this runs compiled from dist/). */
export const testdata = join(repoRoot, 'src', 'drivers', 'qemu', 'testdata');

/** Golden cases: every testdata/*.xml except QMP ones (owned elsewhere). */
export const GOLDEN_CASES = readdirSync(testdata)
  .filter((f) => f.endsWith('.xml') && !f.startsWith('qmp-'))
  .map((f) => f.slice(0, -4))
  .sort();

/** The context golden files are rendered with. */
export function goldenCtx(name: string): QemuBuildContext {
  return {
    monitorPath: `/run/tvirt/qemu/${name}/monitor.sock`,
    runtimeDir: `/run/tvirt/qemu/${name}`,
    kvmAvailable: true,
    taps: [{ ifname: 'vnet0' }, { ifname: 'vnet1' }],
    vncPort: 5900,
    spicePort: 5901,
  };
}

/**
 * Parses a golden case. domainAssignDefaults is deliberately not run: the golden XMLs spell out what
 * they need, so these files test the command builder alone and do not move when defaults evolve
 * (the libvirt fixture test covers the parse -> defaults -> command pipeline).
 */
export function loadCase(name: string): DomainDef {
  const def = parseDomain(readFileSync(join(testdata, `${name}.xml`), 'utf8'));
  return def;
}
