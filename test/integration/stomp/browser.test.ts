/** STOMP over WebSocket from a page in Debian's Chromium: stomp.js's browser bundle against /ws. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM_MISSING, launchChromium } from '../../helpers/browser.js';
import { startStompServer, type StompServer } from './helpers.js';

/** stomp.js's UMD browser bundle (what require resolves the package to). */
const BUNDLE = createRequire(import.meta.url).resolve('@stomp/stompjs');

let broker: StompServer;
let browser: BrowserContext;
let profile: string;

before(async () => {
  if (CHROMIUM_MISSING !== false) return;
  broker = await startStompServer();
  profile = await mkdtemp(join(tmpdir(), 'warren-stomp-chromium-'));
  browser = await launchChromium(profile);
});

after(async () => {
  await browser?.close();
  await broker?.close();
  if (profile !== undefined) await rm(profile, { recursive: true, force: true });
});

test('a page subscribes and publishes through STOMP over WebSocket', { skip: CHROMIUM_MISSING, timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.setContent('<html><body>stomp</body></html>');
  await page.addScriptTag({ path: BUNDLE });
  const result = await page.evaluate(async (url: string) => {
    const w = globalThis as unknown as { StompJs: typeof import('@stomp/stompjs') };
    const client = new w.StompJs.Client({ brokerURL: url, connectHeaders: { login: 'guest', passcode: 'guest', host: '/' }, reconnectDelay: 0 });
    return await new Promise<{ body: string; header: string | undefined; version: string | undefined }>((resolve, reject) => {
      client.onStompError = (frame) => reject(new Error(frame.body));
      client.onConnect = (connected) => {
        client.subscribe('/topic/browser.news', (m) => {
          resolve({ body: m.body, header: m.headers['x-from'], version: connected.headers['version'] });
          void client.deactivate();
        }, { receipt: 'ready' });
        client.watchForReceipt('ready', () => client.publish({ destination: '/topic/browser.news', body: 'from the page ✓', headers: { 'x-from': 'chromium' } }));
      };
      client.activate();
    });
  }, broker.wsUrl);
  assert.deepEqual(result, { body: 'from the page ✓', header: 'chromium', version: '1.2' });
});
