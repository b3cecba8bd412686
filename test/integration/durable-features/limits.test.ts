import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumeMessage } from 'amqplib';
import { acrossRestarts, bodies, deathsOf, drain, PERSISTENT, takeUnacked, waitFor } from './helpers.js';

test('x-max-length holds after a restart: the newest stay, and the limit applies to publishes after it', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('capped', { durable: true, arguments: { 'x-max-length': 5 } });
      for (let i = 0; i < 12; i++) ch.sendToQueue('capped', Buffer.from(`m${i}`), PERSISTENT);
      await ch.waitForConfirms();
      assert.equal(life.queue('capped').readyCount(), 5);
    },
    async (life) => {
      assert.equal(life.queue('capped').readyCount(), 5);
      const ch = await life.confirmChannel();
      ch.sendToQueue('capped', Buffer.from('m12'), PERSISTENT);
      await ch.waitForConfirms();
      assert.deepEqual(bodies(await drain(ch, 'capped')), ['m8', 'm9', 'm10', 'm11', 'm12']);
    },
  );
});

test('x-max-length-bytes holds after a restart (recovered bodies count)', async () => {
  const body = (i: number): Buffer => Buffer.alloc(100, 97 + i);
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('bytes', { durable: true, arguments: { 'x-max-length-bytes': 350 } });
      for (let i = 0; i < 6; i++) ch.sendToQueue('bytes', body(i), PERSISTENT);
      await ch.waitForConfirms();
      assert.equal(life.queue('bytes').readyBytes(), 300);
    },
    async (life) => {
      assert.equal(life.queue('bytes').readyBytes(), 300);
      const ch = await life.confirmChannel();
      ch.sendToQueue('bytes', body(6), PERSISTENT);
      await ch.waitForConfirms();
      const left = await drain(ch, 'bytes');
      assert.deepEqual(left.map((m) => m.content[0]), [97 + 4, 97 + 5, 97 + 6]);
    },
  );
});

test('drop-head after a restart: deliveries that were unacked come back and the queue is cut to its limit, oldest dead-lettered', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertExchange('dlx', 'fanout', { durable: true });
      await ch.assertQueue('dead', { durable: true });
      await ch.bindQueue('dead', 'dlx', '');
      await ch.assertQueue('capped', { durable: true, arguments: { 'x-max-length': 3, 'x-dead-letter-exchange': 'dlx' } });
      for (let i = 0; i < 3; i++) ch.sendToQueue('capped', Buffer.from(`m${i}`), PERSISTENT);
      await ch.waitForConfirms();
      await takeUnacked(await life.channel(), 'capped', 3);
      for (let i = 3; i < 6; i++) ch.sendToQueue('capped', Buffer.from(`m${i}`), PERSISTENT);
      await ch.waitForConfirms();
      assert.equal(life.queue('capped').readyCount(), 3);
    },
    async (life) => {
      assert.equal(life.queue('capped').readyCount(), 3);
      const ch = await life.channel();
      assert.deepEqual(bodies(await drain(ch, 'capped')), ['m3', 'm4', 'm5']);
      const dead = await drain(ch, 'dead');
      assert.deepEqual(bodies(dead), ['m0', 'm1', 'm2']);
      assert.equal(deathsOf(dead[0]!)[0]!['reason'], 'maxlen');
    },
  );
});

test('x-delivery-limit: a delivery unsettled at the restart counts as one return (x-delivery-count survives as at least 1)', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertExchange('dlx', 'fanout', { durable: true });
      await ch.assertQueue('dead', { durable: true });
      await ch.bindQueue('dead', 'dlx', '');
      await ch.assertQueue('limited', { durable: true, arguments: { 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'dlx' } });
      ch.sendToQueue('limited', Buffer.from('poison'), PERSISTENT);
      ch.sendToQueue('limited', Buffer.from('fresh'), PERSISTENT);
      await ch.waitForConfirms();
      const [poison] = await takeUnacked(await life.channel(), 'limited', 1);
      assert.equal(poison!.content.toString(), 'poison');
    },
    async (life) => {
      const ch = await life.channel();
      await ch.prefetch(1);
      const got: ConsumeMessage[] = [];
      await ch.consume('limited', (msg) => {
        if (msg !== null) got.push(msg);
      });
      await waitFor(() => got.length === 1, 'the recovered delivery');
      const again = got[0]!;
      assert.equal(again.content.toString(), 'poison');
      assert.equal(again.fields.redelivered, true);
      assert.equal(again.properties.headers?.['x-delivery-count'], 1);
      // Its second return goes over the limit of 1: dead-lettered, not requeued.
      ch.nack(again, false, true);
      await waitFor(() => got.length === 2, 'the next message');
      assert.equal(got[1]!.content.toString(), 'fresh');
      assert.equal(got[1]!.properties.headers?.['x-delivery-count'], undefined);
      ch.ack(got[1]!);
      await waitFor(() => life.queue('dead').readyCount() === 1, 'the poison message dead-lettered');
      const [dead] = await drain(await life.channel(), 'dead');
      assert.equal(deathsOf(dead!)[0]!['reason'], 'delivery_limit');
    },
  );
});

test('dead-lettered messages land durably in the DLQ: x-death survives a restart', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertExchange('dlx', 'direct', { durable: true });
      await ch.assertQueue('dead', { durable: true });
      await ch.bindQueue('dead', 'dlx', 'dead-key');
      await ch.assertQueue('work', {
        durable: true,
        arguments: { 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'dead-key' },
      });
      for (let i = 0; i < 3; i++) ch.sendToQueue('work', Buffer.from(`w${i}`), { ...PERSISTENT, headers: { n: i } });
      ch.sendToQueue('work', Buffer.from('transient'));
      await ch.waitForConfirms();
      const consumer = await life.channel();
      for (const msg of await takeUnacked(consumer, 'work', 4)) consumer.reject(msg, false);
      await waitFor(() => life.queue('dead').readyCount() === 4, 'four dead letters');
      // The dead letters are written before anything published after them is confirmed.
      ch.sendToQueue('work', Buffer.from('marker'), PERSISTENT);
      await ch.waitForConfirms();
    },
    async (life) => {
      const ch = await life.channel();
      const dead = await drain(ch, 'dead');
      assert.deepEqual(bodies(dead), ['w0', 'w1', 'w2']);
      const death = deathsOf(dead[1]!)[0]!;
      assert.equal(death['reason'], 'rejected');
      assert.equal(death['queue'], 'work');
      assert.equal(death['exchange'], '');
      assert.deepEqual(death['routing-keys'], ['work']);
      assert.equal(death['count'], 1);
      assert.ok(death['time'] !== undefined);
      assert.equal(dead[1]!.properties.headers?.['x-first-death-reason'], 'rejected');
      assert.equal(dead[1]!.properties.headers?.['n'], 1);
      assert.equal(dead[1]!.fields.routingKey, 'dead-key');
      assert.equal(dead[1]!.fields.exchange, 'dlx');
      assert.deepEqual(bodies(await drain(ch, 'work')), ['marker']);
    },
  );
});
