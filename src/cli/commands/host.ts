// Host and Hypervisor commands: version, hostname, uri, nodeinfo, capabilities, validate, host-validate.
import { CliError, type CommandDef, type CommandGroup } from '../command.js';

const versionCmd: CommandDef = {
  name: 'version',
  summary: 'show version',
  description: 'Display the system version information.',
  json: true,
  options: [{ name: 'daemon', type: 'bool', help: 'report daemon version too' }],
  async handler(ctx) {
    const v = await (await ctx.conn()).getVersion();
    if (ctx.json) {
      ctx.printJson(v);
      return;
    }
    let out =
      `Compiled against library: tvirt ${v.library}\n` +
      `Using library: tvirt ${v.library}\n` +
      `Using API: ${v.hypervisorType} ${v.library}\n` +
      `Running hypervisor: ${v.hypervisorType} ${v.hypervisor}\n`;
    if (ctx.flag('daemon')) out += `Running against daemon: ${v.library}\n`;
    ctx.print(out);
  },
};

const hostnameCmd: CommandDef = {
  name: 'hostname',
  summary: 'print the hypervisor hostname',
  json: true,
  options: [],
  async handler(ctx) {
    const h = await (await ctx.conn()).getHostname();
    if (ctx.json) ctx.printJson({ hostname: h });
    else ctx.print(`${h}\n`);
  },
};

const uriCmd: CommandDef = {
  name: 'uri',
  summary: 'print the hypervisor canonical URI',
  json: true,
  options: [],
  async handler(ctx) {
    const c = await ctx.conn();
    if (ctx.json) ctx.printJson({ uri: c.uri });
    else ctx.print(`${c.uri}\n`);
  },
};

const nodeinfoCmd: CommandDef = {
  name: 'nodeinfo',
  summary: 'node information',
  description: 'Returns basic information about the node.',
  json: true,
  options: [],
  async handler(ctx) {
    const n = await (await ctx.conn()).nodeGetInfo();
    if (ctx.json) {
      ctx.printJson(n);
      return;
    }
    const { keyValue } = await import('../format.js');
    ctx.print(
      keyValue(
        [
          ['CPU model:', n.model],
          ['CPU(s):', String(n.cpus)],
          ['CPU frequency:', `${n.mhz} MHz`],
          ['CPU socket(s):', String(n.sockets)],
          ['Core(s) per socket:', String(n.cores)],
          ['Thread(s) per core:', String(n.threads)],
          ['NUMA cell(s):', String(n.nodes)],
          ['Memory size:', `${n.memoryKiB} KiB`],
        ],
        20,
      ),
    );
  },
};

const capabilitiesCmd: CommandDef = {
  name: 'capabilities',
  summary: 'capabilities',
  description: 'Returns capabilities of hypervisor/driver.',
  options: [],
  async handler(ctx) {
    ctx.print(`${await (await ctx.conn()).getCapabilities()}\n`);
  },
};

const validateCmd: CommandDef = {
  name: 'validate',
  summary: "validate an XML file against libvirt's schema and tvirt's parser",
  description:
    "Like virt-xml-validate: finds the schema from the root element (domain, network, pool, volume), checks the document's elements and attributes against libvirt's schema, then parses it as define would.",
  needsConnection: false,
  options: [{ name: 'file', type: 'data', required: true, help: 'XML file to check' }],
  async handler(ctx) {
    const file = ctx.req('file');
    const text = await (await import('./util.js')).readUserFile(file);
    const { parseXml } = await import('../../util/xml.js');
    const failed = (e: unknown): never => {
      throw new CliError(...(e as Error).message.trimEnd().split('\n'), `${file} fails to validate`);
    };
    let rootName = '';
    try {
      rootName = parseXml(text).name;
    } catch (e) {
      failed(e);
    }
    const kinds = {
      domain: ['domain', async () => (await import('../../conf/domain/index.js')).parseDomain(text)],
      network: ['network', async () => (await import('../../conf/network/index.js')).parseNetwork(text)],
      pool: ['storagepool', async () => (await import('../../conf/storage/index.js')).parsePool(text)],
      volume: ['storagevol', async () => (await import('../../conf/storage/index.js')).parseVolume(text)],
    } as const;
    const kind = kinds[rootName as keyof typeof kinds];
    if (!kind) throw new CliError(`cannot determine schema type for ${file}`);
    const { schemaProblems, problemText } = await import('../../conf/schema.js');
    const problems = schemaProblems(kind[0], parseXml(text)) ?? [];
    if (problems.length) throw new CliError(...problems.map(problemText), `${file} fails to validate`);
    try {
      await kind[1]();
    } catch (e) {
      failed(e);
    }
    ctx.print(`${file} validates\n`);
  },
};

const hostValidateCmd: CommandDef = {
  name: 'host-validate',
  summary: 'validate the host for running QEMU/KVM guests',
  description:
    'Checks the host like virt-host-validate qemu: CPU virtualization, /dev/kvm, /dev/net/tun, QEMU tools.',
  needsConnection: false,
  json: true,
  options: [],
  async handler(ctx) {
    const { hostChecks } = await import('./host-validate.js');
    const results = await hostChecks();
    if (ctx.json) ctx.printJson(results);
    else {
      ctx.print(
        results
          .map(
            (r) =>
              `${'QEMU'.padStart(6)}: Checking ${r.check.padEnd(60)}: ${r.result}${r.advice ? ` (${r.advice})` : ''}\n`,
          )
          .join(''),
      );
    }
    if (results.some((r) => r.result === 'FAIL')) throw new CliError();
  },
};

export const hostGroup: CommandGroup = {
  keyword: 'host',
  title: 'Host and Hypervisor',
  commands: [capabilitiesCmd, hostnameCmd, hostValidateCmd, nodeinfoCmd, uriCmd, validateCmd, versionCmd],
};
