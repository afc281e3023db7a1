// A pretend host for NetworkDriver unit tests: a RecordingRunner that answers iproute2, sysctl and
// dnsmasq commands as a namespace would, so the driver runs without root.
import { writeFile } from 'node:fs/promises';
import { type Command, RecordingRunner } from '../../host/run.js';

/**
 * A pretend host: links appear and disappear with `ip link add/del`, join and leave bridges with
 * `ip link set dev X master BR|nomaster` (and leave a deleted bridge, as the kernel does); dnsmasq
 * writes a pid of nobody.
 */
export function fakeHost(failDnsmasq = false) {
  const links = new Map<string, string | undefined>([['lo', undefined]]);
  const masters = new Map<string, string>();
  let forward = '0';
  const runner = new RecordingRunner(async (c: Command) => {
    const a = c.args[0] === 'netns' ? c.args.slice(3) : c.args.slice(2);
    const prog = c.args[0] === 'netns' ? c.args[3] : 'ip';
    const args = c.args[0] === 'netns' ? a.slice(1) : a;
    if (prog === 'ip') {
      if (args.join(' ') === '-j -d link show') {
        return {
          stdout: JSON.stringify(
            [...links].map(([ifname, kind], i) => ({
              ifname,
              ifindex: i + 1,
              mtu: 1500,
              operstate: 'UP',
              flags: [],
              linkinfo: kind ? { info_kind: kind } : undefined,
              master: masters.get(ifname),
            })),
          ),
        };
      }
      if (args[0] === '-j') return { stdout: '[]' };
      if (args[0] === 'link' && args[1] === 'add') links.set(args[3]!, 'bridge');
      if (args[0] === 'link' && args[1] === 'del') {
        links.delete(args[3]!);
        masters.delete(args[3]!);
        for (const [dev, br] of masters) if (br === args[3]) masters.delete(dev);
      }
      if (args[0] === 'link' && args[1] === 'set' && args[4] === 'master') masters.set(args[3]!, args[5]!);
      if (args[0] === 'link' && args[1] === 'set' && args[4] === 'nomaster') masters.delete(args[3]!);
      if (args[0] === 'tuntap' && args[1] === 'add') links.set(args[3]!, 'tun');
      if (args[0] === 'tuntap' && args[1] === 'del') {
        links.delete(args[3]!);
        masters.delete(args[3]!);
      }
      return undefined;
    }
    if (prog === 'cat') return { stdout: `${forward}\n` };
    if (prog === 'tee') forward = String(c.stdin).trim();
    if (prog === 'dnsmasq') {
      if (failDnsmasq) return { code: 2, stderr: 'dnsmasq: failed to bind DHCP server socket' };
      const conf = args[0]!.replace('--conf-file=', '');
      await writeFile(conf.replace(/\.conf$/, '.pid'), '999999999\n');
    }
    return undefined;
  });
  return { runner, links, masters, forward: () => forward };
}
