// Guests' IP addresses on the details page (Chromium, tvirtd --driver test --web): the test
// domain's NIC shows libvirt's test-driver address 192.168.122.3/24 while it runs and a dash once it
// is forced off (from outside the page too: the event stream refreshes it), comes back on start, and
// a guest whose lease is late is polled for it without any error shown.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  type WebDaemon,
  browserUnavailable,
  buildWeb,
  launchChromium,
  removeBuilds,
  repoRoot,
  startWebDaemon,
} from './web-harness.js';

const skip = browserUnavailable();
const shots = join(repoRoot(), 'test-artifacts', 'web');
/** The test domain's address as started with the test driver (id 1); libvirt's test driver derives it from the id, so each start gives another. */
const ADDR = '192.168.122.3/24';
/** The address the API gives the running test domain now. */
async function apiAddress(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const r = (await (await fetch('/v1/domains/test/interface-addresses?source=lease')).json()) as {
      interfaces: { addrs: { addr: string; prefix: number }[] }[];
    };
    const a = r.interfaces[0]!.addrs[0]!;
    return `${a.addr}/${a.prefix}`;
  });
}

describe('guest IP addresses in the web UI', { skip, timeout: 120_000 }, () => {
  let daemon: WebDaemon;
  let browser: Browser;
  let page: Page;
  /** Requests the page made for addresses, and the failures it logged. */
  let asked = 0;
  const consoleErrors: string[] = [];

  const nicCell = () => page.getByTestId('nic-addresses');
  const heading = () => page.getByRole('heading', { name: /^test/ });
  /** Drives the domain from outside the page, as virsh would. */
  const outside = (action: string) =>
    page.evaluate(
      async (a) => (await fetch(`/v1/domains/test/actions/${a}`, { method: 'POST', body: '{}' })).status,
      action,
    );

  before(async () => {
    await buildWeb();
    await mkdir(shots, { recursive: true });
    daemon = await startWebDaemon();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.setDefaultTimeout(10_000);
    page.on('request', (r) => {
      if (r.url().includes('/interface-addresses')) asked++;
    });
    page.on('console', (m) => {
      // A failed fetch (the expected 409s; the favicon there is none of) is logged by the browser
      // itself; the app logs nothing.
      if (
        m.type() === 'error' &&
        !/status of 409/.test(m.text()) &&
        !m.location().url.endsWith('/favicon.ico')
      )
        consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    await page.goto(daemon.loginUrl);
    await page.getByRole('heading', { name: /^Host/ }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await removeBuilds();
    await daemon?.stop();
  });

  it("shows the running test domain's NIC address", async () => {
    await page.goto(`${daemon.url}#/guests/test`);
    await heading().getByText('running').waitFor();
    await page.getByRole('columnheader', { name: 'IP address' }).waitFor();
    await nicCell().getByText(ADDR, { exact: true }).waitFor();
    await shot(page, 'guest-addresses');
  });

  it('shows a dash after the domain is forced off from outside the page, and the address after a start', async () => {
    assert.equal(await outside('destroy'), 200);
    await heading().getByText('shutoff').waitFor();
    await nicCell().getByText('—', { exact: true }).waitFor();
    assert.equal(await nicCell().getByText(ADDR).count(), 0);
    const before = asked;
    await page.waitForTimeout(2500);
    assert.equal(asked, before, 'a stopped guest is not asked for addresses');
    await page.getByRole('button', { name: 'Start' }).click();
    await heading().getByText('running').waitFor();
    const addr = await apiAddress(page);
    assert.match(addr, /^192\.168\.122\.\d+\/24$/);
    await nicCell().getByText(addr, { exact: true }).waitFor();
  });

  it('shows a dash after Force off in the page', async () => {
    await page.getByRole('button', { name: 'Force off' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Force off' }).click();
    await heading().getByText('shutoff').waitFor();
    await nicCell().getByText('—', { exact: true }).waitFor();
    assert.equal(await nicCell().getByText(ADDR).count(), 0);
    assert.equal(await page.getByRole('alert').count(), 0, 'no error box');
  });

  it('polls while the lease is late and stops once it is known; a 409 shows no error', async () => {
    // The first answers: a 409 (as while stopping) and no interfaces (DHCP not done yet).
    let n = 0;
    await page.route('**/interface-addresses*', async (route) => {
      n++;
      if (n === 1)
        return route.fulfill({
          status: 409,
          contentType: 'application/json',
          body: JSON.stringify({
            error: {
              code: 'OPERATION_INVALID',
              number: 55,
              domain: 'TEST',
              message: 'domain is not running',
            },
          }),
        });
      if (n === 2)
        return route.fulfill({ status: 200, contentType: 'application/json', body: '{"interfaces":[]}' });
      return route.continue();
    });
    try {
      assert.equal(await outside('start'), 200);
      await heading().getByText('running').waitFor();
      await nicCell()
        .getByText(/^192\.168\.122\.\d+\/24$/)
        .waitFor({ timeout: 15_000 });
      assert.ok(n >= 3, `asked ${n} times`);
      const known = n;
      await page.waitForTimeout(3000);
      assert.equal(n, known, 'no polling once the address is known');
      assert.equal(await page.getByRole('alert').count(), 0, 'no error box');
    } finally {
      await page.unroute('**/interface-addresses*');
    }
    assert.deepEqual(consoleErrors, []);
  });
});

function shot(page: Page, name: string) {
  return page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

if (skip) describe('guest IP addresses in the web UI', () => it(`skipped: ${skip}`, { skip }, () => {}));
