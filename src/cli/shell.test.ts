// The shell as a process: the interactive loop fed from a pipe, edit with a scripted $EDITOR,
// global options, and connection errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { joinConsole } from './commands/console.js';
import { hostChecks } from './commands/host-validate.js';
import { parseGlobal, runCli } from './shell.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const ts = import.meta.url.endsWith('.ts');
// Built: the installed command (the launcher running the CommonJS bundle, see launch.cts).
const entry = join(here, ts ? 'tvirt.ts' : 'launch.cjs');
const dir = mkdtempSync(join(tmpdir(), 'tvirt-shell-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const prompt = process.getuid?.() === 0 ? 'tvirt # ' : 'tvirt > ';

function tvirtProc(args: string[], input: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...(ts ? ['--import', 'tsx'] : []), entry, ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, TVIRT_HISTORY: join(dir, 'history'), ...env },
  });
}

describe('interactive shell', () => {
  it('reads commands from stdin with virsh prompts and blank lines', () => {
    const r = tvirtProc(['-c', 'test:///default'], 'list\ndomstate test\nquit\n');
    assert.equal(
      r.stdout,
      "Welcome to tvirt, the virtualization interactive terminal.\n\nType:  'help' for help with commands\n       'quit' to quit\n\n" +
        `${prompt}list\n Id   Name   State\n----------------------\n 1    test   running\n\n` +
        `${prompt}domstate test\nrunning\n\n${prompt}quit\n\n`,
    );
    assert.equal(r.status, 0);
  });
  it('keeps state between lines and reports errors per line', () => {
    const r = tvirtProc(['-q', '-c', 'test:///default'], 'destroy test\nstart test; list\nfoo\n');
    assert.equal(
      r.stdout,
      `${prompt}destroy test\n${prompt}start test; list\n 2   test   running\n${prompt}foo\n${prompt}\n`,
    );
    assert.equal(r.stderr, "error: unknown command: 'foo'\n");
  });
});

describe('edit', () => {
  const editor = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  it('reports an unchanged file', () => {
    const r = tvirtProc(['-c', 'test:///default', 'edit test'], '', {
      EDITOR: editor('noop.sh', 'true'),
      VISUAL: '',
    });
    assert.equal(r.stdout, "Domain 'test' XML configuration not changed.\n\n");
    assert.equal(r.status, 0);
  });
  it('applies an edited definition to the persistent config', () => {
    const ed = editor('vcpu.sh', `sed -i "s/>2<\\/vcpu>/>1<\\/vcpu>/" "$1"`);
    const r = tvirtProc(['-c', 'test:///default', 'edit test; dumpxml test --inactive'], '', {
      EDITOR: ed,
      VISUAL: '',
    });
    assert.match(r.stdout, /^Domain 'test' XML configuration edited\.\n\n/);
    assert.match(r.stdout, /<vcpu placement='static'>1<\/vcpu>/);
  });
  it('fails on invalid XML without a terminal, leaving the domain alone', () => {
    const ed = editor('break.sh', `echo '<domain' > "$1"`);
    const r = tvirtProc(['-c', 'test:///default', 'edit test; domstate test'], '', {
      EDITOR: ed,
      VISUAL: '',
    });
    assert.match(r.stderr, /^error: Failed\.\nerror: XML error: /);
    assert.equal(r.stdout, '\nrunning\n\n');
  });
});

describe('edit: the "Try again?" loop (a terminal answers)', () => {
  /**
   * Runs `cmd` in-process as on a terminal: stdin claims to be a TTY, $EDITOR is `body`, and
   * io.readLine gives `answers` in turn (then end of input). Returns the output and the prompts.
   */
  async function onTerminal(cmd: string, body: string, answers: string[]) {
    const ed = join(dir, `retry-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(ed, `#!/bin/sh\n${body}\n`);
    chmodSync(ed, 0o755);
    const env = { VISUAL: process.env.VISUAL, EDITOR: process.env.EDITOR };
    const tty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    process.env.VISUAL = '';
    process.env.EDITOR = ed;
    Object.defineProperty(process.stdin, 'isTTY', { value: true, configurable: true });
    let out = '';
    let err = '';
    const prompts: string[] = [];
    try {
      const code = await runCli(['-c', 'test:///default', cmd], {
        stdout: (t) => (out += t),
        stderr: (t) => (err += t),
        readLine: async (p) => {
          prompts.push(p);
          return answers.shift();
        },
      });
      return { out, err, code, prompts };
    } finally {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      if (tty) Object.defineProperty(process.stdin, 'isTTY', tty);
      else delete (process.stdin as { isTTY?: boolean }).isTTY;
    }
  }
  // First run: keep the XML aside and break it; next runs: the kept XML with 1 vcpu.
  const breakThenFix = (tag: string) => {
    const kept = join(dir, `kept-${tag}.xml`);
    return `if [ -e '${kept}' ]; then sed "s/>2<\\/vcpu>/>1<\\/vcpu>/" '${kept}' > "$1"; else cp "$1" '${kept}'; echo '<domain' > "$1"; fi`;
  };
  const prompt = 'Failed. Try again? [y,n,i,f,?]: ';

  it('? prints the choices, y edits again and the fixed XML is defined', async () => {
    const r = await onTerminal('edit test; dumpxml test --inactive', breakThenFix('y'), ['?', 'y']);
    assert.deepEqual(r.prompts, [prompt, prompt]);
    assert.match(r.err, /^error: XML error: /);
    assert.ok(
      r.out.startsWith(
        '\ny - yes, start editor again\nn - no, throw away my changes\ni - turn off validation and try to redefine again\n' +
          "f - force, try to redefine again\n? - print this help\nDomain 'test' XML configuration edited.\n\n",
      ),
      r.out,
    );
    assert.match(r.out, /<vcpu placement='static'>1<\/vcpu>/);
    assert.equal(r.code, 0);
  });
  it('n throws the changes away; other words ask again', async () => {
    const r = await onTerminal('edit test; dumpxml test --inactive', breakThenFix('n'), ['x', 'n']);
    assert.deepEqual(r.prompts, [prompt, prompt]);
    assert.match(r.out, /<vcpu placement='static'>2<\/vcpu>/);
    assert.equal(r.code, 0);
  });
  it('f tries the same XML again; end of input gives up with the failure', async () => {
    const r = await onTerminal('edit test', breakThenFix('f'), ['f']);
    assert.deepEqual(r.prompts, [prompt, prompt]);
    assert.match(r.err, /^error: XML error: .*\nerror: XML error: .*\nerror: Failed\.\n$/s);
    assert.equal(r.code, 1);
  });
  it('--skip-validate drops the i choice', async () => {
    const r = await onTerminal('edit test --skip-validate', breakThenFix('s'), []);
    assert.deepEqual(r.prompts, ['Failed. Try again? [y,n,f,?]: ']);
    assert.equal(r.code, 1);
  });
});

describe('global options and connections', () => {
  it('parses global options up to the command', () => {
    const g = parseGlobal(['-c', 'test:///default', '-q', '--json', 'list', '-q']);
    assert.equal(g.uri, 'test:///default');
    assert.equal(g.quiet, true);
    assert.equal(g.json, true);
    assert.deepEqual(g.rest, ['list', '-q']);
    assert.equal(parseGlobal(['--connect=qemu:///system']).uri, 'qemu:///system');
  });
  it('reports a connection failure as virsh', async () => {
    let err = '';
    const code = await runCli(
      ['-c', 'bogus:///x', 'list'],
      { stdout: () => {}, stderr: (t) => (err += t) },
      {},
      async () => {
        throw new Error("cannot connect to URI 'bogus:///x'");
      },
    );
    assert.equal(code, 1);
    assert.equal(
      err,
      "error: failed to connect to the hypervisor\nerror: cannot connect to URI 'bogus:///x'\n",
    );
  });
  it('does not connect for help', async () => {
    let out = '';
    const code = await runCli(
      ['help', 'help'],
      { stdout: (t) => (out += t), stderr: () => {} },
      {},
      async () => {
        throw new Error('must not connect');
      },
    );
    assert.equal(code, 0);
    assert.match(out, /^ {2}NAME\n {4}help - print help\n/);
  });
});

describe('console plumbing', () => {
  it('copies both ways and stops at Ctrl+]', async () => {
    const guest = new PassThrough();
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d: Buffer) => (shown += d.toString()));
    const done = joinConsole(guest, input, output);
    const typed: Buffer[] = [];
    const sink = new PassThrough();
    guest.pipe(sink);
    sink.on('data', (d: Buffer) => typed.push(d));
    input.write('ls\r');
    await new Promise((r) => setImmediate(r));
    input.write(Buffer.from([0x61, 0x1d, 0x62]));
    assert.equal(await done, 'escape');
    assert.equal(Buffer.concat(typed).toString(), 'ls\ra');
    assert.ok(shown.length >= 0);
  });
});

describe('host-validate checks', () => {
  it('passes on a KVM host', async () => {
    const r = await hostChecks({
      cpuinfo: async () => 'flags\t\t: fpu vme vmx sse\n',
      exists: async () => true,
      onPath: async () => true,
    });
    assert.ok(r.every((c) => c.result === 'PASS'));
    assert.deepEqual(
      r.map((c) => c.check),
      [
        'for hardware virtualization',
        'if device /dev/kvm exists',
        'if device /dev/kvm is accessible',
        'if device /dev/vhost-net exists',
        'if device /dev/net/tun exists',
        'for qemu-system-x86_64 on PATH',
        'for qemu-img on PATH',
      ],
    );
  });
  it('fails without VT flags or tools, with advice', async () => {
    const r = await hostChecks({
      cpuinfo: async () => 'flags : fpu\n',
      exists: async () => false,
      onPath: async () => false,
    });
    assert.equal(r[0]!.result, 'FAIL');
    assert.match(r[0]!.advice!, /Only emulated CPUs are available/);
    assert.ok(r.filter((c) => c.result === 'FAIL').length >= 3);
  });
  it('prints virt-host-validate lines', async () => {
    let out = '';
    const code = await runCli(['host-validate'], { stdout: (t) => (out += t), stderr: () => {} });
    assert.match(out, /^ {2}QEMU: Checking for hardware virtualization {33}: (PASS|FAIL)/);
    assert.ok(code === 0 || code === 1);
  });
});

describe('bash completion script', () => {
  const hasBash = spawnSync('bash', ['--version']).status === 0;
  it('completes commands, options and domain names through tvirt complete', {
    skip: hasBash ? false : 'bash is not installed',
  }, () => {
    const bin = join(dir, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    const wrapper = join(bin, 'tvirt');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexec "${process.execPath}" ${ts ? '--import tsx ' : ''}"${entry}" "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    const script = join(here, '..', '..', ts ? '' : '..', 'scripts', 'tvirt-completion.bash');
    const run = (line: string) => {
      const words = line.split(' ');
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source "${script}"; COMP_LINE="${line}"; COMP_POINT=\${#COMP_LINE}; COMP_WORDS=(${words.map((w) => `"${w}"`).join(' ')}); COMP_CWORD=${words.length - 1}; _tvirt_complete; echo "\${COMPREPLY[*]}"`,
        ],
        {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TVIRT_DEFAULT_URI: 'test:///default' },
        },
      );
      return r.stdout.trim();
    };
    assert.equal(run('tvirt domst'), 'domstate');
    assert.equal(run('tvirt dominfo t'), 'test');
    assert.equal(run('tvirt list --no'), '--no-autostart');
    assert.equal(run('tvirt -c test:///default start '), 'test');
    assert.match(run('tvirt --re'), /--readonly/);
  });
});
