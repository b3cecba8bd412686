import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { BrowserContext, Page } from 'playwright-core';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';
import { CHROMIUM_MISSING, cellsOf, launchChromium } from '../../helpers/browser.js';
import { waitFor } from '../../helpers/wait.js';

// The queue page of a stream queue in Chromium: the log's extent, a live reader's lag, and a stored
// offset (a named consumer that left) with how far it is behind.

const STREAM = 'dash.events';
const dirs: string[] = [];
let server: WarrenServer;
let base: string;
let connection: amqp.ChannelModel;
let browser: BrowserContext;
let page: Page;

before(async () => {
  if (CHROMIUM_MISSING !== false) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-dash-stream-'));
  const profile = mkdtempSync(join(tmpdir(), 'warren-dash-stream-chromium-'));
  dirs.push(dataDir, profile);
  const flags = { 'amqp-host': '127.0.0.1', 'amqp-port': '0', 'http-host': '127.0.0.1', 'http-port': '0', 'log-level': 'silent', 'data-dir': dataDir };
  server = new WarrenServer(loadConfig({ env: {}, flags }), silentLogger());
  const addresses = await server.start();
  base = `http://127.0.0.1:${addresses.http.port}`;
  connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${addresses.amqp.port}`);
  const publisher = await connection.createConfirmChannel();
  await publisher.assertQueue(STREAM, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  for (let i = 0; i < 50; i++) publisher.sendToQueue(STREAM, Buffer.from(`event ${i}`));
  await publisher.waitForConfirms();
  // A named consumer processes offsets 0..9 and leaves; a live reader holds 4 unacked from the start.
  const named = await connection.createChannel();
  await named.prefetch(10);
  const seen: amqp.ConsumeMessage[] = [];
  await named.consume(STREAM, (m) => m && seen.push(m), { arguments: { 'x-stream-consumer-name': 'audit', 'x-stream-offset': 'first' } });
  await waitFor(() => seen.length === 10, 'ten deliveries to audit');
  for (const m of seen) named.ack(m);
  await waitFor(async () => (await api(`/api/queues/%2F/${STREAM}`)).stream.stored_offsets.length === 1, "audit's stored offset");
  await named.close();
  const live = await connection.createChannel();
  await live.prefetch(4);
  await live.consume(STREAM, () => undefined, { consumerTag: 'tail', arguments: { 'x-stream-offset': 'first' } });
  browser = await launchChromium(profile);
  page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(8_000);
});

after(async () => {
  await browser?.close();
  await connection?.close().catch(() => undefined);
  await server?.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function api(path: string): Promise<any> {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
  return response.json();
}

test("a stream queue's page shows its offsets, each reader's lag and stored offsets", { skip: CHROMIUM_MISSING }, async () => {
  await page.goto(`${base}/#/queues/${encodeURIComponent('/')}/${encodeURIComponent(STREAM)}`);
  await page.getByLabel('Username').fill('guest');
  await page.getByLabel('Password').fill('guest');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: `Queue ${STREAM}`, exact: true }).waitFor();
  const panel = page.getByRole('region', { name: 'Stream' });
  await panel.locator('[data-field="last-offset"]', { hasText: '49' }).waitFor();
  const reader = panel.getByRole('table', { name: 'Stream readers' }).locator('tbody tr', { hasText: 'tail' });
  assert.deepEqual(await cellsOf(reader, ['Consumer tag', 'Next offset', 'Lag']), { 'Consumer tag': 'tail', 'Next offset': '4', Lag: '46' });
  const stored = panel.getByRole('table', { name: 'Stored offsets' }).locator('tbody tr', { hasText: 'audit' });
  assert.deepEqual(await cellsOf(stored, ['Consumer name or group', 'Stored offset', 'Lag']), { 'Consumer name or group': 'audit', 'Stored offset': '9', Lag: '40' });
});
