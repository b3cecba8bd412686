import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfirmChannel } from 'amqplib';
import { acrossRestarts, bodies, drain, PERSISTENT } from './helpers.js';

function publishWithId(ch: ConfirmChannel, queue: string, body: string, id: string): void {
  ch.sendToQueue(queue, Buffer.from(body), { ...PERSISTENT, headers: { 'x-deduplication-header': id } });
}

test('deduplication by presence: ids of messages still in the queue stay duplicates after a restart; ids that left are free', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('dedup', { durable: true, arguments: { 'x-message-deduplication': true } });
      publishWithId(ch, 'dedup', 'a1', 'a');
      publishWithId(ch, 'dedup', 'b1', 'b');
      await ch.waitForConfirms();
      const first = await ch.get('dedup', { noAck: true });
      assert.ok(first !== false && first.content.toString() === 'a1');
    },
    async (life) => {
      const ch = await life.confirmChannel();
      publishWithId(ch, 'dedup', 'b2', 'b'); // b1 is still queued: a duplicate
      publishWithId(ch, 'dedup', 'a2', 'a'); // a1 left before the restart: accepted
      await ch.waitForConfirms();
      assert.equal(life.queue('dedup').counters.duplicates, 1);
      assert.deepEqual(bodies(await drain(ch, 'dedup')), ['b1', 'a2']);
    },
  );
});

test('deduplication window (x-cache-ttl): ids of recovered messages are remembered from their publish time', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('window', { durable: true, arguments: { 'x-message-deduplication': true, 'x-cache-ttl': 600_000 } });
      publishWithId(ch, 'window', 'k1', 'k');
      await ch.waitForConfirms();
    },
    async (life) => {
      const ch = await life.confirmChannel();
      publishWithId(ch, 'window', 'k2', 'k');
      publishWithId(ch, 'window', 'n1', 'n');
      await ch.waitForConfirms();
      assert.deepEqual(bodies(await drain(ch, 'window')), ['k1', 'n1']);
    },
  );
});
