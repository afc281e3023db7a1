// More of the web UI in Chromium against tvirtd --driver test --web: the host overview follows
// network and pool changes; name fields refuse a space (and their patterns compile); Create guest
// attaches to the host's virtual network `default`, picks a free disk name, takes an existing disk's
// real format and leaves no disk behind when defining fails; a cancelled or failed upload leaves
// no volume; the jobs list offers Cancel for a job started while the page is open; deleting a
// running guest with its disks forces it off first; bulk actions count skipped guests as skipped;
// the guest list filter; pause, resume, shut down and autostart on the details page.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
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
const TOKEN = 'forms-rw-token-0123456789';
const shots = join(repoRoot(), 'test-artifacts', 'web');

describe('web UI forms and live views in Chromium', { skip, timeout: 180_000 }, () => {
  let daemon: WebDaemon;
  let browser: Browser;
  let page: Page;
  /** Console messages of the page (warnings and errors). */
  const consoleMessages: string[] = [];

  const nav = (name: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const row = (name: string) => page.locator(`table[data-testid=guest-table] tr[data-name="${name}"]`);
  /** The API as a script with a read-write token would use it. */
  const apiCall = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${daemon.url}v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const volNames = async (pool = 'default') =>
    ((await apiCall('GET', `storage/pools/${pool}/volumes`)).json.volumes as { name: string }[])
      .map((v) => v.name)
      .sort();
  const volXml = (name: string, bytes: number, format = 'raw') =>
    `<volume><name>${name}</name><capacity unit='bytes'>${bytes}</capacity><target><format type='${format}'/></target></volume>`;
  const openCreate = async () => {
    await nav('Guests').click(); // a fresh form
    await nav('Create guest').click();
    await page.getByRole('heading', { name: 'Create a guest' }).waitFor();
  };

  before(async () => {
    await buildWeb();
    await mkdir(shots, { recursive: true });
    daemon = await startWebDaemon([`${TOKEN} rw script`]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleMessages.push(m.text());
    });
    await page.goto(daemon.loginUrl);
    await page.getByRole('heading', { name: /^Host/ }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await removeBuilds();
    await daemon?.stop();
  });

  it('keeps the host overview current as networks and pools change elsewhere', async () => {
    await page.getByTestId('network-counts').getByText('1 active / 1 defined').waitFor();
    await page.getByTestId('pool-counts').getByText('1 active / 1 pools').waitFor();
    const net =
      "<network><name>hostnet</name><bridge name='tvbr7'/><ip address='10.7.7.1' netmask='255.255.255.0'/></network>";
    assert.equal((await apiCall('POST', 'networks', { xml: net })).status, 201);
    await page.getByTestId('network-counts').getByText('1 active / 2 defined').waitFor();
    assert.equal((await apiCall('POST', 'networks/hostnet/actions/start', {})).status, 200);
    await page.getByTestId('network-counts').getByText('2 active / 2 defined').waitFor();
    const pool = `<pool type='dir'><name>hostpool</name><target><path>${join(daemon.root, 'hostpool')}</path></target></pool>`;
    assert.equal((await apiCall('POST', 'storage/pools', { xml: pool })).status, 201);
    await page.getByTestId('pool-counts').getByText('1 active / 2 pools').waitFor();
    assert.equal((await apiCall('POST', 'storage/pools/hostpool/actions/build', {})).status, 200);
    assert.equal((await apiCall('POST', 'storage/pools/hostpool/actions/start', {})).status, 200);
    await page.getByTestId('pool-counts').getByText('2 active / 2 pools').waitFor();
    await apiCall('POST', 'networks/hostnet/actions/destroy', {});
    await page.getByTestId('network-counts').getByText('1 active / 2 defined').waitFor();
  });

  it('refuses a name with a space in the create forms (the patterns compile)', async () => {
    await openCreate();
    const name = page.locator('input[name=name]');
    await name.fill('a b');
    await page.getByLabel('Kernel path (on the host)').fill('/boot/vmlinuz');
    await page.getByRole('button', { name: 'Create' }).click();
    assert.equal(await patternMismatch(name), true);
    await name.fill('a/b');
    assert.equal(await patternMismatch(name), true);
    await name.fill('ab');
    assert.equal(await patternMismatch(name), false);
    await page.getByRole('heading', { name: 'Create a guest' }).waitFor();

    await nav('Networks').click();
    await page.getByRole('button', { name: 'Create network' }).click();
    const netName = page.getByRole('form', { name: 'Create network' }).getByLabel('Name');
    await netName.fill('a b');
    assert.equal(await patternMismatch(netName), true);

    await page.goto(`${daemon.url}#/storage/default`);
    await page.getByRole('heading', { name: 'Volumes in default' }).waitFor();
    const volName = page.getByRole('form', { name: 'Create volume' }).getByLabel('Volume name');
    await volName.fill('a b');
    assert.equal(await patternMismatch(volName), true);
    const upName = page.getByRole('form', { name: 'Upload volume' }).getByLabel(/Volume name/);
    await upName.fill('a b');
    assert.equal(await patternMismatch(upName), true);
    await page.getByRole('button', { name: 'Create directory pool' }).click();
    const poolName = page.getByRole('form', { name: 'Create directory pool' }).getByLabel('Pool name');
    await poolName.fill('a b');
    assert.equal(await patternMismatch(poolName), true);

    await page.goto(`${daemon.url}#/guests/test`);
    await page.getByRole('heading', { name: /^test/ }).waitFor();
    assert.deepEqual(
      consoleMessages.filter((m) => /not a valid regular expression/i.test(m)),
      [],
    );
  });

  it("attaches a new guest to the host's virtual network default (preselected)", async () => {
    await openCreate();
    const select = page.locator('select[name=network]');
    await select.locator('option', { hasText: "virtual network 'default'" }).waitFor({ state: 'attached' });
    assert.equal(await select.inputValue(), 'net:default');
    const options = await select.locator('option').allTextContents();
    assert.ok(options.includes('user-mode (NAT by QEMU)') && options.includes('none'), options.join('|'));
    assert.ok(options.includes("virtual network 'hostnet' (inactive)"), options.join('|'));
    await page.getByLabel('Name').fill('netvm');
    await page.getByLabel('Kernel path (on the host)').fill('/boot/vmlinuz-test');
    await page.getByLabel('start it and open its console').uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: /netvm/ }).getByText('shutoff').waitFor();
    await page.getByRole('cell', { name: 'network', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'default', exact: true }).waitFor();
    const xml = String((await apiCall('GET', 'domains/netvm/xml')).json.xml);
    assert.match(
      xml,
      /<interface type='network'>[\s\S]*<source network='default'\/>[\s\S]*<model type='virtio'\/>/,
    );
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('heading', { name: /netvm/ }).getByText('running').waitFor();
  });

  it('picks a free name for a new disk, and removes it when the guest cannot be defined', async () => {
    assert.equal(
      (await apiCall('POST', 'storage/pools/default/volumes', { xml: volXml('nd.qcow2', 1 << 20, 'qcow2') }))
        .status,
      201,
    );
    await openCreate();
    await page.getByLabel('Name').fill('nd');
    await page.getByLabel('Kernel path (on the host)').fill('/boot/vmlinuz-test');
    await page.getByLabel('create a new disk (qcow2) for the guest').check();
    await page.getByLabel('Size (GiB)').fill('1');
    await page.getByLabel('start it and open its console').uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: /^nd/ }).waitFor();
    await page.getByRole('cell', { name: /\/nd-1\.qcow2$/ }).waitFor();
    assert.deepEqual(await volNames(), ['nd-1.qcow2', 'nd.qcow2']);

    // A guest named like an existing one: defining fails, its new disk goes again.
    await openCreate();
    await page.getByLabel('Name').fill('test');
    await page.getByLabel('Kernel path (on the host)').fill('/boot/vmlinuz-test');
    await page.getByLabel('create a new disk (qcow2) for the guest').check();
    await page.getByLabel('Size (GiB)').fill('1');
    await page.getByLabel('start it and open its console').uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('alert').getByText(/test/).first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create' }).isEnabled(), true);
    assert.deepEqual(await volNames(), ['nd-1.qcow2', 'nd.qcow2']);
  });

  it("uses an existing disk's real format, not a guess from its file name", async () => {
    const r = await apiCall('POST', 'storage/pools/default/volumes', {
      xml: volXml('qdisk.img', 1 << 20, 'qcow2'),
    });
    assert.equal(r.status, 201);
    const path = String(r.json.path);
    await openCreate();
    await page.getByLabel('Name').fill('fmtvm');
    await page.getByLabel('an existing disk image').check();
    await page.getByLabel('Disk image path (on the host)').fill(path);
    await page.getByLabel('start it and open its console').uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: /fmtvm/ }).waitFor();
    const xml = String((await apiCall('GET', 'domains/fmtvm/xml')).json.xml);
    assert.match(xml, /<driver name='qemu' type='qcow2'\/>/);
  });

  it('forces a running guest off before deleting it with its disks, as the dialog says', async () => {
    await page.goto(`${daemon.url}#/guests/nd`);
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('heading', { name: /^nd/ }).getByText('running').waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/its definition is removed now/).waitFor();
    await dialog.getByLabel(/also delete its disks/).check();
    await dialog.getByText(/nd is running: it will be forced off first/).waitFor();
    await shot(page, 'delete-running-with-disks');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Guests' }).waitFor();
    await row('nd').waitFor({ state: 'detached' });
    assert.equal((await apiCall('GET', 'domains/nd')).status, 404);
    assert.deepEqual(await volNames(), ['nd.qcow2', 'qdisk.img']);
  });

  it('removes the volume of an upload that is cancelled or fails', async () => {
    await page.goto(`${daemon.url}#/storage/default`);
    await page.getByRole('heading', { name: 'Volumes in default' }).waitFor();
    const upload = page.getByRole('form', { name: 'Upload volume' });
    const file = (name: string) => ({
      name,
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(1 << 20, 1),
    });
    // The body never reaches tvirtd: the upload is still running when Cancel is pressed.
    await page.route(/\/volumes\/[^/]+\/content\?/, () => {});
    await upload.getByLabel('File', { exact: true }).setInputFiles(file('hang.iso'));
    await upload.getByRole('button', { name: 'Upload' }).click();
    await upload.getByRole('button', { name: 'Cancel' }).click();
    await upload.getByText('upload cancelled').waitFor();
    await upload.getByRole('button', { name: 'Upload' }).waitFor();
    assert.ok(!(await volNames()).includes('hang.iso'));
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    // The connection breaks.
    await page.route(/\/volumes\/[^/]+\/content\?/, (r) => r.abort('connectionreset'));
    await upload.getByLabel('File', { exact: true }).setInputFiles(file('broken.iso'));
    await upload.getByRole('button', { name: 'Upload' }).click();
    await upload.getByText(/upload failed/).waitFor();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    assert.deepEqual(await volNames(), ['nd.qcow2', 'qdisk.img']);
  });

  it('offers Cancel for a job started while the page is open', async () => {
    const size = 8 << 20;
    assert.equal(
      (await apiCall('POST', 'storage/pools/default/volumes', { xml: volXml('slow.img', size) })).status,
      201,
    );
    // A slow upload by a script: the first MiB, then the rest once Cancel was pressed (tvirtd
    // notices the cancellation as data arrives).
    const u = new URL(daemon.url);
    let req!: ReturnType<typeof httpRequest>;
    const ended = new Promise<string>((resolve) => {
      req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          method: 'PUT',
          path: '/v1/storage/pools/default/volumes/slow.img/content',
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/octet-stream',
            'content-length': String(size),
          },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => {
            req.destroy();
            resolve(`${res.statusCode} ${body}`);
          });
        },
      );
      req.on('error', (e) => resolve(`error ${e.message}`));
      req.write(Buffer.alloc(1 << 20, 2));
    });
    const jobs = page.getByRole('button', { name: /^Jobs: 1 running/ });
    await jobs.click();
    const list = page.getByTestId('jobs-list');
    await list.getByText(/slow\.img/).waitFor();
    await shot(page, 'jobs-cancel');
    const cancelled = page.waitForResponse(
      (r) => /\/v1\/jobs\/[^/?]+$/.test(r.url()) && r.request().method() === 'DELETE',
    );
    await list.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await cancelled).status(), 200);
    req.end(Buffer.alloc(size - (1 << 20), 3));
    assert.match(await ended, /^409 .*OPERATION_ABORTED/);
    await page.getByRole('button', { name: /^Jobs:/ }).waitFor({ state: 'detached' });
  });

  it('counts guests skipped by a bulk action as skipped, not failed; the filter narrows the list', async () => {
    await nav('Guests').click();
    await row('netvm').getByText('running').waitFor();
    await row('fmtvm').getByText('shutoff').waitFor();
    const filter = page.getByLabel('Filter');
    await filter.fill('VM');
    await row('test').waitFor({ state: 'detached' });
    assert.deepEqual(
      await page
        .locator('table[data-testid=guest-table] tbody tr')
        .evaluateAll((rs) => rs.map((r) => r.getAttribute('data-name'))),
      ['fmtvm', 'netvm'],
    );
    await page.getByLabel('State').selectOption('running');
    await row('fmtvm').waitFor({ state: 'detached' });
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Select all shown guests').check();
    await page.getByRole('button', { name: 'Start (2)' }).click();
    const results = page.getByTestId('bulk-results');
    await results.getByText('Start: 1 done, 1 skipped').waitFor();
    await results.getByText('netvm: skipped: the guest is running').waitFor();
    await row('fmtvm').getByText('running').waitFor();
    await filter.fill('');
    await row('test').waitFor();
    await filter.fill('no-such-guest');
    await page.getByText('No guests match.').waitFor();
    await filter.fill('');
  });

  it('pauses, resumes and shuts down a guest; sets its autostart', async () => {
    await row('fmtvm').getByRole('link', { name: 'fmtvm' }).click();
    const heading = page.getByRole('heading', { name: /fmtvm/ });
    await heading.getByText('running').waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    await heading.getByText('paused').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await heading.getByText('running').waitFor();
    await page.getByRole('button', { name: 'Shut down' }).click();
    await heading.getByText('shutoff').waitFor();
    const autostart = page.getByLabel('start with the host');
    assert.equal(await autostart.isChecked(), false);
    await autostart.click();
    await page.getByRole('checkbox', { name: 'start with the host', checked: true }).waitFor();
    assert.equal((await apiCall('GET', 'domains/fmtvm')).json.autostart, true);
    await page.reload();
    assert.equal(await page.getByLabel('start with the host').isChecked(), true);
    await page.getByLabel('start with the host').click();
    await page.getByRole('checkbox', { name: 'start with the host', checked: false }).waitFor();
    await nav('Guests').click();
    await row('fmtvm').locator('td', { hasText: /^no$/ }).first().waitFor();
    assert.equal((await apiCall('GET', 'domains/fmtvm')).json.autostart, false);
  });
});

/** Whether the field's value breaks its pattern (the browser's own check, as on submit). */
function patternMismatch(field: Locator): Promise<boolean> {
  return field.evaluate(
    (e) => (e as unknown as { validity: { patternMismatch: boolean } }).validity.patternMismatch,
  );
}

function shot(page: Page, name: string) {
  return page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

if (skip)
  describe('web UI forms and live views in Chromium', () => it(`skipped: ${skip}`, { skip }, () => {}));
