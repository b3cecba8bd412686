import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { startServer, tempDataDir } from '../durability/helpers.js';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `${name} is exported`);
  return Number(line.slice(name.length + 1));
}

test('/metrics reports the store fsync rounds and the time they took once a confirm waited for one', async () => {
  const { dir, cleanup } = await tempDataDir();
  const running = await startServer(dir);
  try {
    const http = `http://127.0.0.1:${(await running.server.start()).http.port}`;
    const before = metric(await (await fetch(`${http}/metrics`)).text(), 'warren_store_fsyncs_total');
    const connection = await amqp.connect(running.url);
    const ch = await connection.createConfirmChannel();
    await ch.assertQueue('synced', { durable: true });
    ch.sendToQueue('synced', Buffer.from('on disk'), { persistent: true });
    await ch.waitForConfirms();
    await connection.close();
    const text = await (await fetch(`${http}/metrics`)).text();
    assert.ok(metric(text, 'warren_store_fsyncs_total') > before, 'a confirmed persistent publish was synced');
    assert.ok(metric(text, 'warren_store_fsync_seconds_total') > 0);
    assert.ok(metric(text, 'warren_store_fsync_last_seconds') > 0);
  } finally {
    await running.server.stop();
    await cleanup();
  }
});
