import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { startServer, tempDataDir } from '../durability/helpers.js';

test('--consumer-timeout (limits.consumerTimeoutMs) reaches the broker: a late delivery comes back', async () => {
  const { dir, cleanup } = await tempDataDir();
  const running = await startServer(dir, { 'consumer-timeout': '80' });
  try {
    const connection = await amqp.connect(running.url);
    const ch = await connection.createChannel();
    await ch.assertQueue('jobs');
    ch.sendToQueue('jobs', Buffer.from('job'));
    const deliveries = await new Promise<boolean[]>((resolve) => {
      const seen: boolean[] = [];
      void ch.consume('jobs', (msg) => {
        if (msg === null) return;
        seen.push(msg.fields.redelivered);
        if (seen.length === 2) resolve(seen);
      });
    });
    assert.deepEqual(deliveries, [false, true]);
    await connection.close();
  } finally {
    await running.server.stop();
    await cleanup();
  }
});
