import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import amqp from 'amqplib';
import { startServer, tempDataDir } from '../durability/helpers.js';

test('memory alarm: publishers get connection.blocked "low on memory"; /api/nodes and /metrics show it', async () => {
  const { dir, cleanup } = await tempDataDir();
  let used = 0;
  const running = await startServer(dir, { 'memory-high-watermark': '0.5' }, { memoryUsedBytes: () => used });
  const { server } = running;
  try {
    const publisher = await amqp.connect(running.url);
    const ch = await publisher.createConfirmChannel();
    await ch.assertQueue('mem');
    const blocked = once(publisher, 'blocked');
    used = server.memoryAlarm.limitBytes + 1;
    server.memoryAlarm.check();
    ch.sendToQueue('mem', Buffer.from('one'));
    assert.deepEqual(await blocked, ['low on memory']);

    const http = `http://127.0.0.1:${(await server.start()).http.port}`;
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    const [node] = (await (await fetch(`${http}/api/nodes`, { headers: auth })).json()) as Record<string, unknown>[];
    assert.equal(node?.['mem_alarm'], true);
    assert.equal(node?.['mem_limit'], server.memoryAlarm.limitBytes);
    assert.equal(node?.['mem_used'], used, 'mem_used is what the alarm measured');
    const metrics = await (await fetch(`${http}/metrics`)).text();
    assert.match(metrics, /^rabbitmq_alarms_memory_used_watermark 1$/m);

    const unblocked = once(publisher, 'unblocked');
    used = 0;
    server.memoryAlarm.check();
    await unblocked;
    await ch.waitForConfirms();
    assert.equal((await ch.checkQueue('mem')).messageCount, 1);
    await publisher.close();
  } finally {
    await server.stop();
    await cleanup();
  }
});
