// Shared by the browser tests and bench/web: builds the web UI, starts a tvirtd --driver test --web
// on a temporary root and a free port, and launches Debian's Chromium through playwright-core.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** The flags that work on this kind of machine (FIELD-NOTES: Browser); Playwright adds a fresh profile. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

const here = dirname(fileURLToPath(import.meta.url));
/** True when running from the TypeScript sources (tsx) rather than dist/. */
const fromSource = import.meta.url.endsWith('.ts');

/** The repository root (where package.json is). */
export function repoRoot(): string {
  let d = here;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error(`no package.json above ${here}`);
    d = up;
  }
  return d;
}

/** Why the browser tests cannot run here, or undefined. */
export function browserUnavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install chromium)`;
  return undefined;
}

/**
 * Builds the web UI into a fresh temporary directory (tests running side by side must not empty
 * each other's dist/web) and returns it; daemons started afterwards serve it (TVIRT_WEB_DIR).
 */
export async function buildWeb(): Promise<string> {
  const root = repoRoot();
  const out = await mkdtemp(join(tmpdir(), 'tvirt-webui-'));
  builtDirs.push(out);
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const args = [
    vite,
    'build',
    '--config',
    'web/vite.config.ts',
    '--outDir',
    out,
    '--emptyOutDir',
    '--logLevel',
    'warn',
  ];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  webDir = out;
  return out;
}

let webDir: string | undefined;
const builtDirs: string[] = [];

/** Removes the builds of buildWeb(). */
export async function removeBuilds(): Promise<void> {
  for (const d of builtDirs.splice(0)) await rm(d, { recursive: true, force: true });
}

export interface WebDaemon {
  root: string;
  /** Base URL, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** The one-time login URL tvirtd printed. */
  loginUrl: string;
  proc: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts tvirtd --driver DRIVER --web on 127.0.0.1 and a free port; `tokens` go to a token file. */
export async function startWebDaemon(tokens: string[] = [], driver = 'test'): Promise<WebDaemon> {
  const root = await mkdtemp(join(tmpdir(), 'tvirt-web-'));
  const args = ['--driver', driver, '--root', root, '--web-listen', '127.0.0.1:0'];
  if (tokens.length) {
    const file = join(root, 'tokens');
    await writeFile(file, `${tokens.join('\n')}\n`, { mode: 0o600 });
    args.push('--tcp-auth-token-file', file);
  }
  const entry = fromSource
    ? [...['--import', 'tsx'], join(repoRoot(), 'src', 'daemon', 'tvirtd.ts')]
    : [join(here, '..', '..', 'src', 'daemon', 'tvirtd.js')];
  const proc = spawn(process.execPath, [...entry, ...args], {
    cwd: repoRoot(),
    env: { ...process.env, ...(webDir ? { TVIRT_WEB_DIR: webDir } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    await rm(root, { recursive: true, force: true });
  };
  try {
    const loginUrl = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`tvirtd printed no web URL in 20 s:\n${out}\n${err}`)),
        20_000,
      );
      proc.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /one-time login: (\S+#token=[\w-]+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`tvirtd exited with ${code}:\n${err}`));
      });
    });
    return { root, url: loginUrl.split('#')[0]!, loginUrl, proc, stderr: () => err, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}
