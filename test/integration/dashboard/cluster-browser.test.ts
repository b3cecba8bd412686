/**
 * The dashboard of a cluster node in Chromium: the overview lists every node with its state, and the
 * queue list names each queue's type and owner; when a node is killed (-9) the overview shows it down
 * and its replicated queue under its new owner.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_MISSING, cellsOf, launchChromium } from '../../helpers/browser.js';
import { startLinkedCluster, type TestCluster, type TestClusterNode } from '../../helpers/cluster.js';
import { postgresForFile } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';

const pg = postgresForFile();
const SKIP = CHROMIUM_MISSING || pg.skip;
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const QUEUE = 'dash.replicated';

describe('a cluster node\'s dashboard in Chromium', { skip: SKIP, timeout: 90_000 }, () => {
  let cluster: TestCluster;
  let n1: TestClusterNode;
  let n2: TestClusterNode;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    cluster = await startLinkedCluster(pg, 2);
    [n1, n2] = cluster.nodes as [TestClusterNode, TestClusterNode];
    profile = mkdtempSync(join(tmpdir(), 'warren-dash-cluster-chromium-'));
    browser = await launchChromium(profile);
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await cluster?.cleanup();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  const nodeRow = (name: string) => page.getByRole('table', { name: 'Cluster nodes' }).locator('tbody tr', { has: page.getByRole('cell', { name, exact: true }) });

  test('the overview lists both nodes, running and linked', async () => {
    await page.goto(`http://127.0.0.1:${n1.httpPort}/`);
    await page.getByLabel('Username').fill('guest');
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await nodeRow('n2').waitFor();
    for (const name of ['n1', 'n2']) assert.deepEqual(await cellsOf(nodeRow(name), ['Node', 'State', 'Linked']), { Node: name, State: 'running', Linked: 'yes' });
  });

  test('the queue list names the type and the owner; a killed owner shows down and its queue moves', async () => {
    const owned = await declareQueueOwnedBy(n2);
    await page.getByRole('navigation').getByRole('link', { name: 'Queues' }).click();
    const row = page.locator('table.data tbody tr', { has: page.getByRole('link', { name: owned, exact: true }) });
    await row.waitFor();
    assert.deepEqual(await cellsOf(row, ['Type', 'Node']), { Type: 'quorum', Node: 'n2' });

    await n2.kill();
    await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).click();
    await nodeRow('n2').locator('[data-node-state="down"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-cluster-overview.png'), fullPage: true });
    await page.getByRole('navigation').getByRole('link', { name: 'Queues' }).click();
    await row.filter({ has: page.getByRole('cell', { name: 'n1', exact: true }) }).waitFor({ timeout: 20_000 });
    assert.deepEqual(pageErrors, []);
  });

  /** Declares quorum queues through the API until one lands on `owner` (rendezvous hashing places them). */
  async function declareQueueOwnedBy(owner: TestClusterNode): Promise<string> {
    for (let i = 0; i < 50; i++) {
      const name = `${QUEUE}.${i}`;
      await n1.api('PUT', `/api/queues/%2F/${encodeURIComponent(name)}`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      let node = '';
      await waitFor(async () => {
        node = (await n1.api<{ node: string }>('GET', `/api/queues/%2F/${encodeURIComponent(name)}`)).node;
        return node !== '';
      }, `the owner of ${name}`);
      if (node === owner.name) return name;
    }
    throw new Error(`no queue landed on ${owner.name}`);
  }
});
