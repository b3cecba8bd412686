import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import amqp from 'amqplib';
import { LogStore } from '../../../src/store/log-store.js';
import { startServer, tempDataDir } from './helpers.js';
import { waitFor } from '../../helpers/wait.js';

/** A LogStore whose free-space probe the test controls. */
class FakeDiskStore extends LogStore {
  free = Number.MAX_SAFE_INTEGER;

  override freeBytes(): Promise<number> {
    return Promise.resolve(this.free);
  }
}

test('disk alarm: below the free-disk limit publishers get connection.blocked and are not served; above it they go on', async () => {
  const { dir, cleanup } = await tempDataDir();
  const store = new FakeDiskStore({ dataDir: dir });
  const running = await startServer(dir, { 'disk-free-limit': '1000000' }, { store, diskCheckIntervalMs: 20 });
  try {
    const publisher = await amqp.connect(running.url);
    const consumerConnection = await amqp.connect(running.url);
    const ch = await publisher.createConfirmChannel();
    await ch.assertQueue('alarmed', { durable: true });
    const consumer = await consumerConnection.createChannel();

    store.free = 999_999;
    const blocked = once(publisher, 'blocked');
    await waitFor(() => running.server.diskAlarm.active, 'the disk alarm');
    // As in RabbitMQ, the connection is blocked at its next publish (that one is still taken); the
    // socket is not read after it, so later publishes wait, unconfirmed, until the alarm clears.
    ch.sendToQueue('alarmed', Buffer.from('first'), { persistent: true });
    const [reason] = (await blocked) as [string];
    assert.equal(reason, 'low on disk');
    let confirmed = false;
    ch.sendToQueue('alarmed', Buffer.from('held'), { persistent: true }, () => (confirmed = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(confirmed, false);
    const queue = running.server.broker.getVhost('/')!.getQueue('alarmed')!;
    assert.ok(queue.readyCount() <= 1, `${queue.readyCount()} messages got in while blocked`);
    // Consumers keep working while publishers are blocked.
    assert.equal((await consumer.checkQueue('alarmed')).messageCount, queue.readyCount());

    const unblocked = once(publisher, 'unblocked');
    store.free = 5_000_000;
    await unblocked;
    await ch.waitForConfirms();
    assert.equal(confirmed, true);
    const bodies: string[] = [];
    for (let m = await consumer.get('alarmed', { noAck: true }); m !== false; m = await consumer.get('alarmed', { noAck: true })) {
      bodies.push(m.content.toString());
    }
    assert.deepEqual(bodies, ['first', 'held']);
    await publisher.close();
    await consumerConnection.close();
  } finally {
    await running.server.stop();
    await cleanup();
  }
});
