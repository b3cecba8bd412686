import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { BrowserContext, Page } from 'playwright-core';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';
import { CHROMIUM_MISSING, cellsOf, launchChromium } from '../../helpers/browser.js';

const SKIP = CHROMIUM_MISSING;
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** What the AMQP side sets up: queues with known depths and one consumer holding two unacked messages. */
const ORDERS = 'dash.orders';
const WORK = 'dash.work';
const SPARE = 'dash.spare';

describe('web dashboard in Chromium', { skip: SKIP, timeout: 60_000 }, () => {
  const dirs: string[] = [];
  let server: WarrenServer;
  let base: string;
  let connection: amqp.ChannelModel;
  let channel: amqp.Channel;
  let browser: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  let memoryUsed = 0;

  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-dash-data-'));
    const profile = mkdtempSync(join(tmpdir(), 'warren-dash-chromium-'));
    dirs.push(dataDir, profile);
    const flags = { 'amqp-host': '127.0.0.1', 'amqp-port': '0', 'http-host': '127.0.0.1', 'http-port': '0', 'log-level': 'silent', 'data-dir': dataDir };
    server = new WarrenServer(loadConfig({ env: {}, flags }), silentLogger(), { memoryUsedBytes: () => memoryUsed });
    const addresses = await server.start();
    base = `http://127.0.0.1:${addresses.http.port}`;

    connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${addresses.amqp.port}`);
    channel = await connection.createChannel();
    for (const name of [ORDERS, WORK, SPARE]) await channel.assertQueue(name, { durable: false });
    for (let i = 1; i <= 3; i++) channel.sendToQueue(ORDERS, Buffer.from(`order-${i}`), { contentType: 'text/plain', headers: { source: 'test' } });
    for (let i = 1; i <= 5; i++) channel.sendToQueue(WORK, Buffer.from(`job-${i}`));
    await channel.prefetch(2);
    const received: amqp.ConsumeMessage[] = [];
    await new Promise<void>((resolve) => {
      void channel.consume(WORK, (message) => {
        if (message !== null) received.push(message);
        if (received.length === 2) resolve();
      });
    });

    browser = await launchChromium(profile);
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(8_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept());
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await connection?.close().catch(() => undefined);
    await server?.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const total = (key: string) => page.locator(`[data-total="${key}"]`);
  const queueRow = (name: string) => page.locator('table.data tbody tr', { has: page.getByRole('link', { name, exact: true }) });

  test('a wrong password shows the login form again with the reason', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill('guest');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Login failed').waitFor();
    assert.equal(await page.locator('#nav').isVisible(), false);
  });

  test('guest logs in and the overview shows the totals and drawn charts', async () => {
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await expectText(total('queues'), '3');
    assert.equal(await total('connections').textContent(), '1');
    assert.equal(await total('channels').textContent(), '1');
    assert.equal(await total('consumers').textContent(), '1');
    assert.equal(await total('ready').textContent(), '6');
    assert.equal(await total('unacked').textContent(), '2');
    assert.equal(await total('messages').textContent(), '8');
    assert.equal(await page.locator('figure.chart canvas').count(), 2);
    assert.ok(await canvasHasInk(page, 0), 'the queued-messages chart has drawn pixels');
    const protocols = await page.getByRole('table', { name: 'Listeners' }).locator('tbody td:first-child').allTextContents();
    assert.deepEqual(protocols.sort(), ['amqp', 'http']);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
  });

  test('the credentials survive a reload (sessionStorage) and log out returns to the form', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to Warren' }).waitFor();
    await page.getByLabel('Username').fill('guest');
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  });

  test('the queue list shows ready counts, filters by name and sorts by column', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Queues' }).click();
    await page.getByRole('heading', { name: 'Queues', level: 1 }).waitFor();
    await queueRow(ORDERS).waitFor();
    assert.deepEqual(await cells(queueRow(ORDERS)), { Name: ORDERS, Ready: '3', Unacked: '0', Total: '3', Consumers: '0' });
    assert.deepEqual(await cells(queueRow(WORK)), { Name: WORK, Ready: '3', Unacked: '2', Total: '5', Consumers: '1' });

    await page.getByRole('button', { name: /^Total/ }).click(); // ascending: spare (0), orders (3), work (5)
    assert.deepEqual(await page.locator('table.data tbody tr td:first-child').allTextContents(), [SPARE, ORDERS, WORK]);
    await page.getByRole('button', { name: /^Total/ }).click();
    assert.deepEqual(await page.locator('table.data tbody tr td:first-child').allTextContents(), [WORK, ORDERS, SPARE]);

    await page.getByLabel('Filter by name').fill('ord');
    assert.deepEqual(await page.locator('table.data tbody tr td:first-child').allTextContents(), [ORDERS]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-queues.png'), fullPage: true });
  });

  test("the queue page's message browser peeks at bodies without taking them", async () => {
    await page.getByRole('link', { name: ORDERS, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `Queue ${ORDERS}`, exact: true }).waitFor();
    await expectText(page.locator('[data-field="ready"]'), '3');
    await page.getByRole('button', { name: 'Get messages' }).click();
    const payloads = page.locator('article.message pre.payload');
    await payloads.first().waitFor();
    assert.deepEqual(await payloads.allTextContents(), ['order-1', 'order-2', 'order-3']);
    assert.match((await page.locator('article.message').first().textContent()) ?? '', /source: test/);
    assert.equal((await channel.checkQueue(ORDERS)).messageCount, 3, 'peeking left the messages in the queue');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-queue.png'), fullPage: true });
  });

  test('publish a test message and move one message to another queue from the queue page', async () => {
    const publish = page.getByRole('form', { name: 'Publish message' });
    await publish.getByLabel('Payload').fill('from the dashboard');
    await publish.getByRole('button', { name: 'Publish message' }).click();
    await page.getByText('Message published.').waitFor();
    await expectText(page.locator('[data-field="ready"]'), '4');

    const move = page.getByRole('form', { name: 'Move messages' });
    await move.getByLabel('Destination queue').selectOption(SPARE);
    await move.getByLabel('How many').fill('1');
    await move.getByRole('button', { name: 'Move messages' }).click();
    await page.getByText(`Moved 1 message to ${SPARE}.`).waitFor();
    await expectText(page.locator('[data-field="ready"]'), '3');
    assert.equal((await channel.checkQueue(SPARE)).messageCount, 1);
  });

  test('purge empties the queue and the browser says so', async () => {
    await page.getByRole('button', { name: 'Purge messages' }).click();
    await page.getByText(`Queue ${ORDERS} purged.`).waitFor();
    await expectText(page.locator('[data-field="ready"]'), '0');
    await page.getByText('Queue is empty.').waitFor();
    assert.equal((await channel.checkQueue(ORDERS)).messageCount, 0);
  });

  test('exchanges list the built-in ones and an exchange page shows its bindings', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Exchanges' }).click();
    await page.getByRole('link', { name: '(AMQP default)' }).waitFor();
    await page.getByRole('link', { name: 'amq.topic' }).waitFor();
    const add = page.getByRole('form', { name: 'Add an exchange' });
    await add.getByLabel('Name').fill('dash.events');
    await add.getByLabel('Type').selectOption('fanout');
    await add.getByRole('button', { name: 'Add exchange' }).click();
    await page.getByRole('link', { name: 'dash.events' }).click();
    await page.getByRole('heading', { level: 1, name: 'Exchange dash.events', exact: true }).waitFor();
    const bind = page.getByRole('form', { name: 'Add binding' });
    await bind.getByLabel('Destination name').fill(SPARE);
    await bind.getByRole('button', { name: 'Bind' }).click();
    await page.getByRole('link', { name: SPARE, exact: true }).waitFor();
    await channel.checkExchange('dash.events');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-exchange.png'), fullPage: true });
  });

  test('connections list the AMQP client and close it on request', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Connections' }).click();
    const closeButton = page.getByRole('button', { name: /^Close connection / });
    await closeButton.waitFor();
    assert.equal(await closeButton.count(), 1);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-connections.png'), fullPage: true });
    const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
    connection.on('error', () => undefined); // the forced close (320) is reported as an error too
    await closeButton.click();
    await closed;
    await page.getByText('No clients are connected.').waitFor();
  });

  test('an administrator adds a user with permissions, and deletes it', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Admin' }).click();
    const addUser = page.getByRole('form', { name: 'Add a user' });
    await addUser.getByLabel('Username').fill('ops');
    await addUser.getByLabel('Password').fill('secret');
    await addUser.getByLabel('Tags').fill('monitoring');
    await addUser.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('button', { name: 'Delete user ops' }).waitFor();
    const grant = page.getByRole('form', { name: 'Set permission' });
    await grant.getByLabel('User').selectOption('ops');
    await grant.getByLabel('Read regexp').fill('^dash\\.');
    await grant.getByRole('button', { name: 'Set permission' }).click();
    await page.getByRole('button', { name: 'Clear permissions of ops on /' }).waitFor();
    const permissions = server.users.listPermissions().find((p) => p.user === 'ops');
    assert.deepEqual(permissions && { read: permissions.read, write: permissions.write }, { read: '^dash\\.', write: '.*' });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-admin.png'), fullPage: true });
    await page.getByRole('button', { name: 'Delete user ops' }).click();
    await page.getByText('User ops deleted.').waitFor();
    assert.equal(server.users.getUser('ops'), undefined);
  });

  test('the overview keeps polling and draws the charts as lines over time', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).click();
    await page.getByLabel('Refresh').selectOption('2000');
    const footer = page.locator('#footer');
    for (let polls = 0; polls < 2; polls++) {
      const before = await footer.textContent();
      await page.waitForFunction((text) => (globalThis as any).document.getElementById('footer').textContent !== text, before, { timeout: 5_000 });
    }
    await expectText(total('connections'), '0');
    await expectText(total('queues'), '3');
    assert.ok(await canvasHasInk(page, 1), 'the rates chart has drawn pixels');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-live.png'), fullPage: true });
  });

  test('a raised memory alarm shows on the overview until it clears', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).click();
    memoryUsed = server.memoryAlarm.limitBytes + 1;
    server.memoryAlarm.check();
    const banner = page.locator('[data-alarm="raised"]');
    await banner.filter({ hasText: /^Memory alarm: .* used, above the high watermark of .*\. Publishers are blocked until it clears\.$/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-alarm.png'), fullPage: true });
    memoryUsed = 0;
    server.memoryAlarm.check();
    await banner.waitFor({ state: 'detached' });
  });

  test('the page raised no script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});

/** Waits until the element shows exactly `text` (the dashboard refreshes after every action). */
async function expectText(locator: ReturnType<Page['locator']>, text: string): Promise<void> {
  try {
    await locator.filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor();
  } catch {
    assert.equal(await locator.textContent(), text);
  }
}

function cells(row: ReturnType<Page['locator']>): Promise<Record<string, string>> {
  return cellsOf(row, ['Name', 'Ready', 'Unacked', 'Total', 'Consumers']);
}

/** Whether a chart canvas has any non-transparent pixel (the axes and lines were drawn). */
function canvasHasInk(page: Page, index: number): Promise<boolean> {
  // Runs in the page; the project compiles without DOM types, hence the loose typing.
  return page.evaluate((i) => {
    const canvas = (globalThis as any).document.querySelectorAll('figure.chart canvas')[i];
    if (canvas === undefined || canvas.width === 0) return false;
    const data: Uint8ClampedArray = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let k = 3; k < data.length; k += 4) if (data[k] !== 0) return true;
    return false;
  }, index);
}
