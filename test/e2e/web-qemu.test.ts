// The web UI end to end with real QEMU (TCG) in Chromium: start the test guest from the UI, see its
// boot marker in the serial console, type a command and see its output, and see the VNC display
// draw; Ctrl+Alt+Del and typing as keystrokes reach QEMU; Ctrl+Alt releases the keyboard from the
// display. tvirtd and its QEMU are ended by PID (SIGTERM to tvirtd, then destroy through the API).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { GUEST_MARKER } from '../support/guest.js';
import { guestOrSkip, guestXml } from '../integration/qemu-env.js';
import {
  type WebDaemon,
  browserUnavailable,
  buildWeb,
  removeBuilds,
  launchChromium,
  repoRoot,
  startWebDaemon,
} from './web-harness.js';

const TOKEN = 'qemu-web-token-0123456789';
const { guest, skip: noGuest } = guestOrSkip();
const skip = browserUnavailable() ?? noGuest;
const shots = join(repoRoot(), 'test-artifacts', 'web');

describe('web UI with a real QEMU guest', { skip, timeout: 120_000 }, () => {
  let daemon: WebDaemon;
  let browser: Browser;
  let page: Page;
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  before(async () => {
    await buildWeb();
    await mkdir(shots, { recursive: true });
    daemon = await startWebDaemon([`${TOKEN} rw`], 'qemu');
    const xml = guestXml(guest!, {
      name: 'webvm',
      dir: daemon.root,
      extraDevices:
        "\n    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\n    <video><model type='vga'/></video>",
    });
    const r = await fetch(`${daemon.url}v1/domains`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ xml }),
    });
    assert.equal(r.status, 201, await r.text());
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    page = await ctx.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(daemon.loginUrl);
    await page.getByRole('heading', { name: /^Host/ }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await removeBuilds();
    if (daemon) {
      // Guests outlive the daemon by design: stop ours first.
      await fetch(`${daemon.url}v1/domains/webvm/actions/destroy`, {
        method: 'POST',
        headers: auth,
        body: '{}',
      }).catch(() => {});
      await daemon.stop();
    }
  });

  it('starts the guest and shows its boot marker in the serial console; a command answers', async () => {
    await page.goto(`${daemon.url}#/guests/webvm`);
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('heading', { name: /webvm/ }).getByText('running').waitFor();
    await page.getByRole('link', { name: 'Serial console' }).click();
    await page.getByTestId('console-status').getByText('Connected', { exact: true }).waitFor();
    const rows = page.locator('.xterm-rows');
    await rows.getByText(GUEST_MARKER).waitFor();
    await page.getByTestId('terminal').click();
    await page.keyboard.type('echo web-$((6*7))\n');
    await rows.getByText('web-42').first().waitFor();
    await page.screenshot({ path: join(shots, 'qemu-console.png') });
  });

  it('draws the VNC display, for two viewers at once', async () => {
    await page.goto(`${daemon.url}#/guests/webvm/display`);
    await page.getByTestId('display-status').getByText('Connected', { exact: true }).waitFor();
    // Some pixel of the remote screen is not black (SeaBIOS / VGA text).
    let drawn = false;
    for (let i = 0; i < 100 && !drawn; i++) {
      drawn = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
        const c = doc.querySelector('[data-testid=screen] canvas') as {
          width: number;
          height: number;
          getContext(t: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        } | null;
        if (!c || c.width === 0) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let p = 0; p < d.length; p += 4) if (d[p]! + d[p + 1]! + d[p + 2]! > 60) return true;
        return false;
      });
      if (!drawn) await new Promise((r) => setTimeout(r, 200));
    }
    await page.screenshot({ path: join(shots, 'qemu-display.png') });
    assert.ok(drawn, 'the VNC canvas shows something');
    // A second viewer at the same time (shared VNC session): both stay connected.
    const second = await page.context().newPage();
    try {
      await second.goto(`${daemon.url}#/guests/webvm/display`);
      await second.getByTestId('display-status').getByText('Connected', { exact: true }).waitFor();
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await page.getByTestId('display-status').textContent(), 'Connected');
    } finally {
      await second.close();
    }
  });

  it('sends Ctrl+Alt+Del and types text as keystrokes to QEMU without an error', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.getByTestId('display-status').getByText('Connected', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Send Ctrl+Alt+Del' }).click();
    const text = page.getByLabel('Type this text into the guest (as keystrokes)');
    await text.fill('echo Typed-As-Keys\n');
    await page.getByRole('button', { name: 'Type it' }).click();
    // Typed: the box is emptied; QEMU kept the connection (a protocol error would drop it).
    assert.equal(await text.inputValue(), '');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await page.getByTestId('display-status').textContent(), 'Connected');
    assert.deepEqual(errors, []);
    const r = await fetch(`${daemon.url}v1/domains/webvm`, { headers: auth });
    assert.equal(r.status, 200);
  });

  it('keeps Tab in the display, and Ctrl+Alt releases the keyboard to the toolbar', async () => {
    await page.getByTestId('display-status').getByText('Connected', { exact: true }).waitFor();
    await page.getByText('press Ctrl+Alt together to release the keyboard').waitFor();
    const focused = () =>
      page.evaluate(() => {
        const a = (
          globalThis as unknown as {
            document: {
              activeElement: {
                tagName: string;
                closest(s: string): unknown;
                getAttribute(n: string): string | null;
              } | null;
            };
          }
        ).document.activeElement;
        return a
          ? `${a.tagName.toLowerCase()}${a.closest('[data-testid=screen]') ? ' in screen' : ''}`
          : 'none';
      });
    await page.locator('[data-testid=screen] canvas').click();
    assert.equal(await focused(), 'canvas in screen');
    // Tab goes to the guest (a keyboard trap without a way out).
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'canvas in screen');
    await page.keyboard.down('Control');
    await page.keyboard.down('Alt');
    await page.keyboard.up('Alt');
    await page.keyboard.up('Control');
    assert.equal(await focused(), 'input');
    assert.equal(
      await page
        .getByLabel('scale to the window')
        .evaluate(
          (e) =>
            e === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
        ),
      true,
    );
    // Shift+Tab and Tab now move through the page, not the guest.
    await page.keyboard.press('Tab');
    assert.notEqual(await focused(), 'canvas in screen');
    assert.equal(await page.getByTestId('display-status').textContent(), 'Connected');
  });
});

if (skip) describe('web UI with a real QEMU guest', () => it(`skipped: ${skip}`, { skip }, () => {}));
