/** What STOMP clients leave in durable queues survives a broker restart (LogStore in a temp dir). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inbox, startStompServer, stompjsClient } from './helpers.js';

test('persistent SENDs to /queue/ and to a durable topic subscription are there after a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'warren-stomp-restart-'));
  try {
    const headers = { login: 'guest', passcode: 'guest', host: '/', 'client-id': 'restarter' };
    const first = await startStompServer(dir);
    const c = await stompjsClient(first.wsUrl, headers);
    c.subscribe('/topic/audit.#', () => undefined, { id: 'audit', durable: 'true', 'auto-delete': 'false' });
    const unsubscribed = new Promise<void>((resolve) => c.watchForReceipt('gone', () => resolve()));
    c.unsubscribe('audit', { receipt: 'gone' });
    await unsubscribed;
    const durable = new Promise<void>((resolve) => c.watchForReceipt('stored', () => resolve()));
    c.publish({ destination: '/queue/kept', body: 'queued', headers: { persistent: 'true' } });
    c.publish({ destination: '/topic/audit.login', body: 'audited', headers: { persistent: 'true', receipt: 'stored' } });
    await durable;
    await c.deactivate();
    await first.close();

    const second = await startStompServer(dir);
    try {
      const d = await stompjsClient(second.wsUrl, headers);
      const queued = new Inbox();
      const audited = new Inbox();
      d.subscribe('/queue/kept', queued.push);
      d.subscribe('/topic/audit.#', audited.push, { id: 'audit', durable: 'true', 'auto-delete': 'false' });
      assert.equal((await queued.next()).body, 'queued');
      const m = await audited.next();
      assert.equal(m.body, 'audited');
      assert.equal(m.headers['persistent'], 'true');
      await d.deactivate();
    } finally {
      await second.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
