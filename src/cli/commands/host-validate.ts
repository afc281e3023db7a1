// The checks of `host-validate` (virt-host-validate qemu): CPU flags, device nodes, QEMU binaries.
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export interface HostCheck {
  check: string;
  result: 'PASS' | 'WARN' | 'FAIL';
  advice?: string;
}

async function exists(path: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

async function onPath(program: string, pathEnv = process.env.PATH ?? ''): Promise<boolean> {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir && (await exists(join(dir, program), constants.X_OK))) return true;
  }
  return false;
}

/** Runs every check; the order is virt-host-validate's. Inputs are injectable for tests. */
export async function hostChecks(
  deps: {
    cpuinfo?: () => Promise<string>;
    exists?: (path: string, mode?: number) => Promise<boolean>;
    onPath?: (program: string) => Promise<boolean>;
  } = {},
): Promise<HostCheck[]> {
  const cpuinfo = deps.cpuinfo ?? (() => readFile('/proc/cpuinfo', 'utf8').catch(() => ''));
  const ex = deps.exists ?? exists;
  const inPath = deps.onPath ?? ((p: string) => onPath(p));
  const out: HostCheck[] = [];
  const flags = new Set(
    (await cpuinfo())
      .split('\n')
      .filter((l) => /^flags\s*:/.test(l))
      .flatMap((l) => l.split(':')[1]!.trim().split(/\s+/)),
  );
  const hwVirt = flags.has('vmx') || flags.has('svm');
  if (hwVirt) {
    out.push({ check: 'for hardware virtualization', result: 'PASS' });
    if (!(await ex('/dev/kvm'))) {
      out.push({
        check: 'if device /dev/kvm exists',
        result: 'FAIL',
        advice:
          "Check that the 'kvm-intel' or 'kvm-amd' modules are loaded & the BIOS has enabled virtualization",
      });
    } else {
      out.push({ check: 'if device /dev/kvm exists', result: 'PASS' });
      const rw = await ex('/dev/kvm', constants.R_OK | constants.W_OK);
      out.push(
        rw
          ? { check: 'if device /dev/kvm is accessible', result: 'PASS' }
          : {
              check: 'if device /dev/kvm is accessible',
              result: 'FAIL',
              advice: 'Check /dev/kvm is world writable or you are in a group that is allowed to access it',
            },
      );
    }
  } else {
    out.push({
      check: 'for hardware virtualization',
      result: 'FAIL',
      advice:
        'Host not compatible with KVM; HW virtualization CPU features not found. Only emulated CPUs are available; performance will be significantly limited',
    });
  }
  out.push(
    (await ex('/dev/vhost-net'))
      ? { check: 'if device /dev/vhost-net exists', result: 'PASS' }
      : {
          check: 'if device /dev/vhost-net exists',
          result: 'WARN',
          advice: "Load the 'vhost_net' module to improve performance of virtio networking",
        },
  );
  out.push(
    (await ex('/dev/net/tun'))
      ? { check: 'if device /dev/net/tun exists', result: 'PASS' }
      : {
          check: 'if device /dev/net/tun exists',
          result: 'FAIL',
          advice: "Load the 'tun' module to enable networking for QEMU guests",
        },
  );
  for (const prog of ['qemu-system-x86_64', 'qemu-img']) {
    out.push(
      (await inPath(prog))
        ? { check: `for ${prog} on PATH`, result: 'PASS' }
        : {
            check: `for ${prog} on PATH`,
            result: 'FAIL',
            advice: `Install QEMU (Debian: apt-get install ${prog === 'qemu-img' ? 'qemu-utils' : 'qemu-system-x86'})`,
          },
    );
  }
  return out;
}
