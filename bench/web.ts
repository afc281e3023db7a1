// Benchmark: time to interactive of the web UI's guest list with 500 guests (tvirtd --driver test
// --web, Chromium, cold cache per round), and the gzip size of the initial bundle.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  browserUnavailable,
  buildWeb,
  removeBuilds,
  launchChromium,
  startWebDaemon,
} from '../test/e2e/web-harness.js';
import { fmt, stats } from './harness.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const GUESTS = 500;
const TOKEN = 'bench-token-0123456789abcdef';

async function bundleSizes(dir: string): Promise<{ initial: number; files: string[]; lazy: number }> {
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
  const { readdir } = await import('node:fs/promises');
  const all = (await readdir(join(dir, 'assets'))).map((f) => `assets/${f}`);
  const gz = async (f: string) => gzipSync(await readFile(join(dir, f)), { level: 9 }).length;
  let size = gzipSync(html, { level: 9 }).length;
  for (const f of initial) size += await gz(f);
  let lazy = 0;
  for (const f of all.filter((f) => !initial.includes(f))) lazy += await gz(f);
  return { initial: size, files: ['index.html', ...initial], lazy };
}

async function main(): Promise<void> {
  const why = browserUnavailable();
  if (why) {
    console.log(`skipped: ${why}`);
    return;
  }
  const b = await bundleSizes(await buildWeb());
  console.log(
    `initial bundle (${b.files.join(', ')}): ${(b.initial / 1024).toFixed(1)} KiB gzip (goal < 500 KB); ` +
      `lazy chunks (serial and graphical consoles) ${(b.lazy / 1024).toFixed(1)} KiB gzip`,
  );

  const daemon = await startWebDaemon([`${TOKEN} rw bench`]);
  const browser = await launchChromium().catch(async (e) => {
    await daemon.stop();
    throw e;
  });
  try {
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const t0 = Date.now();
    for (let i = 0; i < GUESTS - 1; i++) {
      const xml = `<domain type='test'><name>g${String(i).padStart(3, '0')}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;
      const r = await fetch(`${daemon.url}v1/domains`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ xml }),
      });
      if (r.status !== 201) throw new Error(`define failed: ${r.status} ${await r.text()}`);
    }
    console.log(`defined ${GUESTS - 1} guests (+ test) over the API in ${Date.now() - t0} ms`);
    const login = await fetch(`${daemon.url}login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    const sid = /tvirt_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
    if (!sid) throw new Error(`login failed: ${login.status}`);

    const inPage: number[] = [];
    const wall: number[] = [];
    for (let round = 0; round < ROUNDS + 1; round++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
      await ctx.addCookies([{ name: 'tvirt_session', value: sid, url: daemon.url }]);
      const page = await ctx.newPage();
      const start = Date.now();
      await page.goto(`${daemon.url}#/guests`);
      // This runs in the page (the bench is type-checked without the DOM library).
      type Doc = { querySelectorAll(s: string): { length: number } };
      await page.waitForFunction(
        (n) =>
          (globalThis as unknown as { document: Doc }).document.querySelectorAll(
            'table[data-testid=guest-table] tbody tr',
          ).length === n,
        GUESTS,
        { timeout: 30_000, polling: 'raf' },
      );
      const tPage = await page.evaluate(() => performance.now());
      const tWall = Date.now() - start;
      if (round > 0) {
        inPage.push(tPage);
        wall.push(tWall);
      }
      await ctx.close();
    }
    console.log(
      `guest list with ${GUESTS} rows, navigation to rows shown: ${fmt(stats(inPage))} (goal < 1000 ms)`,
    );
    console.log(`  same, wall clock from goto(): ${fmt(stats(wall))}`);
  } finally {
    await browser.close();
    await daemon.stop();
    await removeBuilds();
  }
}

main().catch((e) => {
  console.log(`bench/web failed: ${(e as Error).message}`);
});
