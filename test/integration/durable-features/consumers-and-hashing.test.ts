import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumeMessage } from 'amqplib';
import { acrossRestarts, bodies, drain, PERSISTENT, waitFor } from './helpers.js';

test('single active consumer after a restart: recovered messages go to one consumer only, in order', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('sac', { durable: true, arguments: { 'x-single-active-consumer': true } });
      for (let i = 0; i < 20; i++) ch.sendToQueue('sac', Buffer.from(`m${i}`), PERSISTENT);
      await ch.waitForConfirms();
    },
    async (life) => {
      const seen = new Map<string, string[]>();
      for (const tag of ['first', 'second']) {
        const ch = await life.channel();
        seen.set(tag, []);
        await ch.consume('sac', (msg) => {
          if (msg !== null) seen.get(tag)!.push(msg.content.toString());
        }, { noAck: true, consumerTag: tag });
      }
      await waitFor(() => seen.get('first')!.length === 20, 'all twenty at the active consumer');
      assert.deepEqual(seen.get('first'), Array.from({ length: 20 }, (_, i) => `m${i}`));
      assert.deepEqual(seen.get('second'), []);
    },
  );
});

test('x-consumer-timeout applies to recovered deliveries', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('timed', { durable: true, arguments: { 'x-consumer-timeout': 100 } });
      ch.sendToQueue('timed', Buffer.from('job'), PERSISTENT);
      await ch.waitForConfirms();
    },
    async (life) => {
      const ch = await life.channel();
      const got: ConsumeMessage[] = [];
      await ch.consume('timed', (msg) => {
        if (msg !== null) got.push(msg);
      });
      await waitFor(() => life.queue('timed').counters.timedOut === 1, 'the consumer timeout');
      assert.equal(got[0]!.content.toString(), 'job');
      await ch.close();
      const again = await drain(await life.channel(), 'timed');
      assert.deepEqual(bodies(again), ['job']);
      assert.equal(again[0]!.fields.redelivered, true);
    },
  );
});

test('a durable x-consistent-hash exchange routes every key to the same queue after a restart', async () => {
  const queues = [['h1', '1'], ['h2', '2'], ['h3', '3']] as const;
  const keys = Array.from({ length: 300 }, (_, i) => `order-${i}`);
  /** Publishes every key once and returns key -> queue that got it. */
  const placement = async (life: Parameters<Parameters<typeof acrossRestarts>[0]>[0]): Promise<Map<string, string>> => {
    const ch = await life.confirmChannel();
    for (const key of keys) ch.publish('hashed', key, Buffer.from(key), PERSISTENT);
    await ch.waitForConfirms();
    const where = new Map<string, string>();
    for (const [queue] of queues) for (const msg of await drain(ch, queue)) where.set(msg.content.toString(), queue);
    return where;
  };
  let before = new Map<string, string>();
  await acrossRestarts(
    async (life) => {
      const ch = await life.channel();
      await ch.assertExchange('hashed', 'x-consistent-hash', { durable: true });
      for (const [queue, weight] of queues) {
        await ch.assertQueue(queue, { durable: true });
        await ch.bindQueue(queue, 'hashed', weight);
      }
      before = await placement(life);
      assert.equal(before.size, keys.length);
      assert.equal(new Set(before.values()).size, 3, 'all three queues used');
    },
    async (life) => {
      const after = await placement(life);
      assert.deepEqual([...after.entries()].sort(), [...before.entries()].sort());
    },
  );
});
