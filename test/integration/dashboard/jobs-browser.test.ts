import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { BrowserContext, Page } from 'playwright-core';
import { Queue, Worker } from '../../../src/jobs/index.js';
import { CHROMIUM_MISSING, cellsOf, launchChromium } from '../../helpers/browser.js';
import { waitFor } from '../../helpers/wait.js';
import { api, startJobsBroker, type JobsBroker } from '../jobs/helpers.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const HOUR = 3_600_000;

describe('dashboard Jobs and Push views in Chromium', { skip: CHROMIUM_MISSING, timeout: 90_000 }, () => {
  let broker: JobsBroker;
  let queue: Queue;
  let worker: Worker;
  let browser: BrowserContext;
  let page: Page;
  let endpoint: Server;
  let amqpConnection: amqp.ChannelModel;
  let profile: string;
  let smtpUp = false;
  const pageErrors: string[] = [];
  const delayedIds: string[] = [];

  before(async () => {
    broker = await startJobsBroker();
    const connection = broker.connection;
    queue = new Queue('mail', { connection });
    worker = new Worker(
      'mail',
      async () => {
        if (!smtpUp) throw new Error('smtp down');
        return 'sent';
      },
      { connection },
    );
    worker.on('error', () => undefined);
    await queue.add('welcome', { to: 'a@example.com' });
    delayedIds.push((await queue.add('reminder', { to: 'b@example.com' }, { delay: HOUR })).id);
    await queue.upsertJobScheduler('digest', { every: HOUR }, { name: 'digest' });
    await waitFor(async () => (await queue.getJobCounts('failed')).failed === 1, 'the failed job');

    // A push queue delivering to a local endpoint that answers 202.
    endpoint = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(202).end());
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const port = (endpoint.address() as { port: number }).port;
    amqpConnection = await amqp.connect(broker.amqpUrl);
    const channel = await amqpConnection.createConfirmChannel();
    await channel.assertQueue('hooks', { durable: true, arguments: { 'x-push-endpoint': `http://127.0.0.1:${port}/hook` } });
    channel.sendToQueue('hooks', Buffer.from('{"event":"signup"}'), { persistent: true });
    await channel.waitForConfirms();
    await waitFor(async () => (await api(broker, 'GET', '/api/push')).json.some((p: { delivered: number }) => p.delivered === 1), 'the push delivery');

    profile = mkdtempSync(join(tmpdir(), 'warren-jobs-chromium-'));
    browser = await launchChromium(profile);
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.goto(`${broker.httpUrl}/`);
    await page.getByLabel('Username').fill('guest');
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await worker?.close(true);
    await queue?.close();
    await amqpConnection?.close().catch(() => undefined);
    await new Promise((resolve) => endpoint?.close(resolve));
    await broker?.close();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  const countOf = (state: string) => page.locator(`[data-job-count="${state}"]`);

  test('the Jobs view shows counts per state, the failed job with reason and stack, delayed jobs with their due time, the scheduler with its next run', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    await waitFor(async () => (await countOf('failed').textContent()) === '1', 'the failed count');
    // The delayed job and the scheduler's next slot (itself a delayed job).
    assert.equal(await countOf('delayed').textContent(), '2');
    assert.equal(await countOf('waiting').textContent(), '0');

    const failedRow = page.getByRole('table', { name: 'Failed jobs' }).locator('tbody tr').first();
    const failed = await cellsOf(failedRow, ['Name', 'Reason', 'Attempts']);
    assert.deepEqual(failed, { Name: 'welcome', Reason: 'smtp down', Attempts: '1' });
    await failedRow.getByText('stack').click();
    assert.match((await failedRow.locator('pre.stack').textContent()) ?? '', /Error: smtp down\n\s+at /);

    const delayedRows = page.getByRole('table', { name: 'Delayed jobs' }).locator('tbody tr');
    assert.equal(await delayedRows.count(), 2);
    const reminder = page.getByRole('table', { name: 'Delayed jobs' }).locator('tbody tr', { hasText: delayedIds[0]! });
    const due = (await cellsOf(reminder, ['Due']))['Due']!;
    const expected = (await queue.getJob(delayedIds[0]!))!.timestamp + HOUR;
    assert.equal(due, new Date(expected).toLocaleString('en-GB', { hour12: false }));

    const scheduler = page.getByRole('table', { name: 'Job schedulers' }).locator('tbody tr').first();
    const cells = await cellsOf(scheduler, ['Scheduler', 'Repeat', 'Next run']);
    const stored = await queue.getJobScheduler('digest');
    assert.equal(cells['Scheduler'], 'digest');
    assert.equal(cells['Repeat'], 'every 3,600,000 ms');
    assert.equal(cells['Next run'], new Date(stored!.next!).toLocaleString('en-GB', { hour12: false }));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-jobs.png'), fullPage: true });
  });

  test('Retry moves the failed job back to waiting; the worker runs it and it completes', async () => {
    smtpUp = true;
    const failedRow = page.getByRole('table', { name: 'Failed jobs' }).locator('tbody tr').first();
    await failedRow.getByRole('button', { name: 'Retry' }).click();
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 1, 'the retried job to complete');
    const [job] = await queue.getCompleted();
    assert.equal(job?.returnvalue, 'sent');
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs' }).click();
    await waitFor(async () => (await countOf('completed').textContent()) === '1', 'the completed count on the page');
    assert.equal(await countOf('failed').textContent(), '0');
    assert.equal(await page.getByRole('table', { name: 'Failed jobs' }).locator('tbody tr', { hasText: 'smtp down' }).count(), 0);
  });

  test('the Push view shows the push queue with its endpoint, deliveries, last status and latency; /metrics has the same', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Push' }).click();
    await page.getByRole('heading', { name: 'Push queues', level: 1 }).waitFor();
    const row = page.getByRole('table', { name: 'Push queues' }).locator('tbody tr', { hasText: 'hooks' });
    await row.waitFor();
    const cells = await cellsOf(row, ['Queue', 'Delivered', 'Failed attempts', 'Last status', 'In flight']);
    assert.deepEqual(cells, { Queue: 'hooks', Delivered: '1', 'Failed attempts': '0', 'Last status': '202', 'In flight': '0 / 10' });
    assert.match((await cellsOf(row, ['Last latency']))['Last latency']!, /^\d+ ms$/);

    const metrics = await fetch(`${broker.httpUrl}/metrics`).then((r) => r.text());
    assert.match(metrics, /^warren_push_delivered\{vhost="\/",queue="hooks"\} 1$/m);
    assert.match(metrics, /^warren_push_last_status\{vhost="\/",queue="hooks"\} 202$/m);
    assert.match(metrics, /^warren_records\{vhost="\/",table="jobs\.mail",tag="delayed"\} 2$/m);
    assert.match(metrics, /^warren_records\{vhost="\/",table="jobs\.mail",tag="completed"\} 1$/m);
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-push.png'), fullPage: true });
  });
});
