// The web UI in a real browser (Chromium via playwright-core) against tvirtd --driver test --web:
// login, guest list, create (also from a template clone), start, serial console, XML edit with
// validation errors, bulk force off, delete, keyboard use of dialogs, the graphical console's
// controls, and a read-only login. Screenshots go to test-artifacts/web/.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  type WebDaemon,
  browserUnavailable,
  buildWeb,
  removeBuilds,
  launchChromium,
  repoRoot,
  startWebDaemon,
} from './web-harness.js';

const skip = browserUnavailable();
const RO_TOKEN = 'readonly-token-0123456789';
const shots = join(repoRoot(), 'test-artifacts', 'web');

describe('web UI in Chromium', { skip, timeout: 120_000 }, () => {
  let daemon: WebDaemon;
  let browser: Browser;
  let page: Page;

  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const nav = (name: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const row = (name: string) => page.locator(`table[data-testid=guest-table] tr[data-name="${name}"]`);

  before(async () => {
    await buildWeb();
    await mkdir(shots, { recursive: true });
    daemon = await startWebDaemon([`${RO_TOKEN} ro viewer`]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.setDefaultTimeout(10_000);
  });

  after(async () => {
    await browser?.close();
    await removeBuilds();
    await daemon?.stop();
  });

  it('asks for a login, refuses a wrong token, then logs in with the one-time link', async () => {
    await page.goto(daemon.url);
    await page.getByLabel('Token').fill('not-a-valid-token-at-all');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('login failed: the token is not valid').waitFor();
    await page.getByText('Details').click();
    await page.getByText('code AUTH_FAILED (45)').waitFor();
    await shot('login');
    await page.goto(daemon.loginUrl);
    await page.getByRole('heading', { name: /^Host/ }).waitFor();
    assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
    await page.getByTestId('guest-counts').getByText('1 running / 1 defined').waitFor();
    await shot('host');
  });

  it('lists the guest test as running', async () => {
    await nav('Guests').click();
    await row('test').getByText('running').waitFor();
    await page.getByText('live', { exact: true }).waitFor();
    await shot('guests');
  });

  it('shows a failed job with its message in the jobs list', async () => {
    const status = await page.evaluate(async () => {
      const r = await fetch('/v1/domains/test/actions/start', { method: 'POST', body: '{}' });
      return r.status;
    });
    assert.equal(status, 409);
    await page.getByRole('button', { name: 'Jobs: 0 running, 1 failed' }).click();
    await page
      .getByTestId('jobs-list')
      .getByText(/start test failed: .*already/)
      .waitFor();
    await page.getByTestId('jobs-list').getByRole('button', { name: 'Dismiss' }).click();
    await page.getByRole('button', { name: /^Jobs:/ }).waitFor({ state: 'detached' });
  });

  it('creates a guest, starts it, and shows its details', async () => {
    await nav('Create guest').click();
    await page.getByRole('heading', { name: 'Create a guest' }).waitFor();
    await page.getByLabel('Name').fill('web1');
    await page.getByLabel('Memory (MiB)').fill('256');
    await page.getByLabel('Kernel path (on the host)').fill('/boot/vmlinuz-test');
    await page.getByLabel('start it and open its console').uncheck();
    await shot('create');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: /web1/ }).waitFor();
    await page.getByRole('heading', { name: /web1/ }).getByText('shutoff').waitFor();
    await page.getByText('kernel /boot/vmlinuz-test').waitFor();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('heading', { name: /web1/ }).getByText('running').waitFor();
    // On the host's virtual network `default`, preselected as it is active.
    await page.getByRole('cell', { name: 'network', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'default', exact: true }).waitFor();
    await shot('guest-details');
  });

  it('types into the serial console and sees the echo', async () => {
    await page.getByRole('link', { name: 'Serial console' }).click();
    await page.getByTestId('console-status').getByText('Connected', { exact: true }).waitFor();
    await page.getByTestId('terminal').click();
    await page.keyboard.type('hello-console');
    await page.locator('.xterm-rows').getByText('hello-console').waitFor();
    await shot('console');
    await page.getByRole('link', { name: 'web1' }).click();
  });

  it('edits the XML: a malformed document and a server error are shown, a good one is saved', async () => {
    await page.getByRole('link', { name: 'XML' }).click();
    const editor = page.getByLabel(/Persistent definition/);
    const xml = await editor.inputValue();
    assert.match(xml, /<name>web1<\/name>/);
    await editor.fill(xml.replace('</name>', '</nam>'));
    await page.getByRole('button', { name: 'Validate and save' }).click();
    await page
      .getByTestId('xml-problem')
      .getByText(/XML is not well-formed/)
      .waitFor();
    await editor.fill(xml.replace(/<memory unit='KiB'>/, "<memory unit='bogus'>"));
    await page.getByRole('button', { name: 'Validate and save' }).click();
    await page.getByText("invalid argument: unknown suffix 'bogus'").waitFor();
    await shot('xml-error');
    await editor.fill(xml.replace(/<vcpu([^>]*)>1</, '<vcpu$1>3<'));
    await page.getByRole('button', { name: 'Validate and save' }).click();
    await page.getByText('Saved.').waitFor();
    assert.match(await editor.inputValue(), />3<\/vcpu>/);
  });

  it('forces off two guests at once with a result for each; Escape cancels the confirmation', async () => {
    await nav('Guests').click();
    await row('web1').getByText('running').waitFor();
    await page.getByLabel('Select all shown guests').check();
    await page.getByRole('button', { name: 'Force off (2)' }).click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Force off (2)' }).click();
    // The safe button has the focus; Tab reaches the destructive one.
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Cancel');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByTestId('bulk-results').getByText('Force off: 2 done').waitFor();
    await row('test').getByText('shutoff').waitFor();
    await row('web1').getByText('shutoff').waitFor();
    await shot('bulk');
  });

  it('deletes a guest after confirmation', async () => {
    await row('web1').getByRole('link', { name: 'web1' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Guests' }).waitFor();
    await row('web1').waitFor({ state: 'detached' });
    assert.equal(await page.locator('table[data-testid=guest-table] tbody tr').count(), 1);
  });

  it('clones a shut-off guest after showing the plan, then opens the clone', async () => {
    await row('test').getByRole('link', { name: 'test' }).click();
    await page.getByRole('button', { name: 'Clone' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name of the clone').fill('test-copy');
    await dialog
      .getByTestId('clone-plan')
      .getByText(/vda: copy/)
      .waitFor();
    await shot('clone');
    await dialog.getByRole('button', { name: 'Clone', exact: true }).click();
    await page.getByRole('heading', { name: /test-copy/ }).waitFor();
    await page.getByRole('button', { name: 'Change' }).click();
    const res = page.getByRole('form', { name: 'Change vCPUs and memory' });
    await res.getByLabel('vCPUs').fill('4');
    await res.getByLabel('Memory (MiB)').fill('10240');
    await res.getByRole('button', { name: 'Apply' }).click();
    await res.waitFor({ state: 'detached' });
    await page.getByText('10 GiB').first().waitFor();
    assert.equal(await page.locator('dt:text-is("vCPUs") + dd').textContent(), '4');
    await nav('Guests').click();
    await row('test-copy').getByText('shutoff').waitFor();
  });

  it('creates a guest from a template clone with other memory and vCPUs, starts it, opens its console', async () => {
    await nav('Create guest').click();
    await page.getByRole('heading', { name: 'Create a guest' }).waitFor();
    await page.getByLabel('Name').fill('fromtpl');
    // Keyboard: the radio group is reached and changed with the arrow keys.
    await page.getByLabel('a kernel and initrd').focus();
    await page.keyboard.press('ArrowUp');
    assert.ok(await page.getByLabel('a clone of a template (a shut-off guest)').isChecked());
    await page.locator('select[name=template]').selectOption('test-copy');
    await page.getByLabel('Memory (MiB)').fill('2048');
    await page.getByLabel('vCPUs').fill('2');
    assert.equal(await page.getByLabel('Kernel path (on the host)').count(), 0);
    await shot('create-from-template');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Serial console of fromtpl' }).waitFor();
    await page.getByRole('link', { name: 'fromtpl' }).click();
    await page
      .getByRole('heading', { name: /fromtpl/ })
      .getByText('running')
      .waitFor();
    await page.getByText('2 GiB').first().waitFor();
    assert.equal(await page.locator('dt:text-is("vCPUs") + dd').textContent(), '2');
    await nav('Guests').click();
    await row('fromtpl').getByText('running').waitFor();
    await row('test-copy').getByText('shutoff').waitFor();
  });

  it('shows a template clone that fails (a name in use) readably, with the detail behind it', async () => {
    await nav('Create guest').click();
    await page.getByRole('heading', { name: 'Create a guest' }).waitFor();
    await page.getByLabel('Name').fill('test');
    await page.getByLabel('a clone of a template (a shut-off guest)').check();
    await page.locator('select[name=template]').selectOption('test-copy');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('alert').getByText(/test/).first().waitFor();
    await page.getByRole('alert').getByText('Details').click();
    await page
      .getByRole('alert')
      .getByText(/^code /)
      .waitFor();
    await shot('create-from-template-error');
    assert.equal(await page.getByRole('button', { name: 'Create' }).isEnabled(), true);
  });

  it('has the graphical console controls (Ctrl+Alt+Del, type as keystrokes), off while not connected', async () => {
    await page.goto(`${daemon.url}#/guests/test-copy/display`);
    await page
      .getByTestId('display-status')
      .getByText(/test-copy is shutoff/)
      .waitFor();
    assert.equal(await page.getByRole('button', { name: 'Send Ctrl+Alt+Del' }).isDisabled(), true);
    await page.getByLabel('Type this text into the guest (as keystrokes)').fill('ls');
    assert.equal(await page.getByRole('button', { name: 'Type it' }).isDisabled(), true);
  });

  it('creates, stops and deletes a network; leases answer readably', async () => {
    await nav('Networks').click();
    const net = (name: string) => page.locator(`table[data-testid=network-table] tr[data-name="${name}"]`);
    await net('default').getByText('active', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Create network' }).click();
    const form = page.getByRole('form', { name: 'Create network' });
    await form.getByLabel('Name').fill('webnet');
    await form.getByLabel('Mode').selectOption('isolated');
    await form.getByLabel('Host address (gateway)').fill('10.20.30.1');
    await form.getByLabel('DHCP range start (empty: no DHCP)').fill('10.20.30.10');
    await form.getByLabel('DHCP range end').fill('10.20.30.100');
    await form.getByRole('button', { name: 'Create' }).click();
    await net('webnet').getByText('active', { exact: true }).waitFor();
    await net('webnet').getByRole('button', { name: 'Leases' }).click();
    await page
      .getByTestId('leases')
      .getByText(/No leases|not supported/)
      .waitFor();
    await shot('networks');
    await net('webnet').getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
    await net('webnet').getByText('inactive').waitFor();
    await net('webnet').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await net('webnet').waitFor({ state: 'detached' });
  });

  it('creates a volume, uploads a file with progress, deletes a volume, creates a dir pool', async () => {
    await nav('Storage').click();
    const pool = (name: string) => page.locator(`table[data-testid=pool-table] tr[data-name="${name}"]`);
    const vol = (name: string) => page.locator(`table[data-testid=volume-table] tr[data-name="${name}"]`);
    await pool('default').getByRole('link', { name: 'default' }).click();
    await page.getByRole('heading', { name: 'Volumes in default' }).waitFor();
    const create = page.getByRole('form', { name: 'Create volume' });
    await create.getByLabel('Volume name').fill('disk1');
    await create.getByLabel('Size (MiB)').fill('16');
    await create.getByRole('button', { name: 'Create volume' }).click();
    await vol('disk1').getByText('16 MiB').waitFor();
    const upload = page.getByRole('form', { name: 'Upload volume' });
    await upload.getByLabel('File', { exact: true }).setInputFiles({
      name: 'tiny.iso',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(3 << 20, 7),
    });
    await upload.getByRole('button', { name: 'Upload' }).click();
    await upload.getByText('tiny.iso: 3 MiB uploaded').waitFor();
    await vol('tiny.iso').getByText('3 MiB').first().waitFor();
    await shot('storage');
    await vol('disk1').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await vol('disk1').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Create directory pool' }).click();
    const form = page.getByRole('form', { name: 'Create directory pool' });
    await form.getByLabel('Pool name').fill('webpool');
    await form.getByLabel(/Directory/).fill(join(daemon.root, 'webpool'));
    await form.getByRole('button', { name: 'Create and start' }).click();
    await pool('webpool').getByText('active', { exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Volumes in webpool' }).waitFor();
  });

  it('creates a guest that boots an ISO volume with a new disk; deleting it with its storage removes the disk', async () => {
    await nav('Create guest').click();
    await page.getByRole('heading', { name: 'Create a guest' }).waitFor();
    await page.getByLabel('Name').fill('isovm');
    await page.getByLabel('an ISO image (install)').check();
    const iso = await page
      .locator('select[name=cdrom]')
      .locator('option', { hasText: 'default/tiny.iso' })
      .getAttribute('value');
    await page.locator('select[name=cdrom]').selectOption(iso!);
    await page.getByLabel('create a new disk (qcow2) for the guest').check();
    await page.getByLabel('Size (GiB)').fill('1');
    await page.getByLabel('start it and open its console').uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: /isovm/ }).waitFor();
    await page.getByRole('cell', { name: 'hdc', exact: true }).waitFor();
    await page.getByRole('cell', { name: iso!, exact: true }).waitFor();
    await page.getByRole('cell', { name: /isovm\.qcow2$/ }).waitFor();
    await page.getByText('vnc on 127.0.0.1').waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page
      .getByRole('dialog')
      .getByLabel(/also delete its disks/)
      .check();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Guests' }).waitFor();
    await nav('Storage').click();
    await page.locator('table[data-testid=pool-table] tr[data-name="default"]').getByRole('link').click();
    await page.locator('table[data-testid=volume-table] tr[data-name="tiny.iso"]').waitFor();
    assert.equal(
      await page.locator('table[data-testid=volume-table] tr[data-name="isovm.qcow2"]').count(),
      0,
    );
  });

  it('shows a read-only user no buttons that would be refused', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const ro = await ctx.newPage();
      await ro.goto(daemon.url);
      await ro.getByLabel('Token').fill(RO_TOKEN);
      await ro.getByRole('button', { name: 'Log in' }).click();
      await ro.getByText('read-only').waitFor();
      assert.equal(await ro.getByRole('link', { name: 'Create guest' }).count(), 0);
      await ro.goto(`${daemon.url}#/guests/test`);
      await ro.getByRole('heading', { name: /test/ }).getByText('shutoff').waitFor();
      assert.equal(await ro.getByRole('button', { name: 'Start' }).count(), 0);
      assert.equal(await ro.getByRole('button', { name: 'Delete' }).count(), 0);
      await ro.goto(`${daemon.url}#/storage/default`);
      await ro.getByRole('heading', { name: 'Volumes in default' }).waitFor();
      assert.equal(await ro.getByRole('button', { name: /Create|Upload|Delete|Stop/ }).count(), 0);
      await ro.goto(`${daemon.url}#/networks`);
      await ro.locator('table[data-testid=network-table] tr[data-name="default"]').waitFor();
      assert.equal(await ro.getByRole('button', { name: /Create|Delete|Stop|Start/ }).count(), 0);
      const status = await ro.evaluate(
        async () => (await fetch('/v1/domains/test/actions/start', { method: 'POST' })).status,
      );
      assert.equal(status, 403);
    } finally {
      await ctx.close();
    }
  });
});

if (skip) describe('web UI in Chromium', () => it(`skipped: ${skip}`, { skip }, () => {}));
