import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_MISSING, cellsOf, launchChromium } from '../../helpers/browser.js';
import { freePort } from '../../helpers/ports.js';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import { waitFor } from '../../helpers/wait.js';

// The dashboard's "Shovels" page in Chromium: a running shovel with what it moved, and a federation
// link that cannot connect, with its error and no password anywhere on the page.

const SKIP = CHROMIUM_MISSING;
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
let warren: TestWarren;
let browser: BrowserContext;
let page: Page;
let profile: string;

before(async () => {
  if (SKIP !== false) return;
  warren = await startWarren();
  const connection = await amqp.connect(warren.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue('dash-src', { durable: true });
  for (let i = 0; i < 12; i++) channel.sendToQueue('dash-src', Buffer.from(`${i}`));
  await channel.waitForConfirms();
  await channel.assertExchange('dash-events', 'topic', { durable: true });
  await connection.close();
  await warren.api('PUT', '/api/parameters/shovel/%2F/dash-shovel', { value: { 'src-uri': 'amqp://', 'src-queue': 'dash-src', 'dest-uri': 'amqp://', 'dest-queue': 'dash-dst' } });
  const dead = await freePort();
  await warren.api('PUT', '/api/parameters/federation-upstream/%2F/nowhere', { value: { uri: `amqp://admin:hunter2@127.0.0.1:${dead}`, 'reconnect-delay': 60 } });
  await warren.api('PUT', '/api/policies/%2F/fed-dash', { pattern: '^dash-events$', 'apply-to': 'exchanges', definition: { 'federation-upstream': 'nowhere' } });
  await waitFor(async () => ((await warren.api('GET', '/api/federation-links')).body as any[]).some((l) => l.status === 'error'), 'the link failing');
  profile = mkdtempSync(join(tmpdir(), 'warren-dash-links-'));
  browser = await launchChromium(profile);
  page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(8_000);
  mkdirSync(ARTIFACTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await warren?.close();
  if (profile !== undefined) await rm(profile, { recursive: true, force: true });
});

test('the Shovels page lists shovels and federation links with their state, and hides passwords', { skip: SKIP }, async () => {
  await page.goto(`http://127.0.0.1:${warren.httpPort}/`);
  await page.getByLabel('Username').fill('guest');
  await page.getByLabel('Password').fill('guest');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Shovels' }).click();
  await page.getByRole('heading', { name: 'Shovels and federation', level: 1 }).waitFor();
  const shovel = page.getByRole('table', { name: 'Shovels' }).locator('tbody tr', { hasText: 'dash-shovel' });
  await shovel.waitFor();
  const cells = await cellsOf(shovel, ['Shovel', 'State', 'Moved', 'Source']);
  assert.deepEqual(cells, { Shovel: 'dash-shovel', State: 'running', Moved: '12', Source: 'amqp:// dash-src' });
  const link = page.getByRole('table', { name: 'Federation links' }).locator('tbody tr', { hasText: 'dash-events' });
  await link.waitFor();
  const linkCells = await cellsOf(link, ['Upstream', 'Status', 'URI']);
  assert.equal(linkCells['Upstream'], 'nowhere');
  assert.equal(linkCells['Status'], 'error');
  assert.match(linkCells['URI'] ?? '', /^amqp:\/\/admin:\*\*\*@127\.0\.0\.1:/);
  assert.ok(!(await page.content()).includes('hunter2'), 'no password on the page');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-links.png'), fullPage: true });
});
