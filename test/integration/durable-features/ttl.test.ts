import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acrossRestarts, bodies, deathsOf, drain, getOne, PERSISTENT, sleep, waitFor } from './helpers.js';

const DLX = { 'x-dead-letter-exchange': 'dlx' };

/** A durable fanout DLX with a durable queue 'dead' behind it. */
async function declareDeadLetters(ch: import('amqplib').Channel): Promise<void> {
  await ch.assertExchange('dlx', 'fanout', { durable: true });
  await ch.assertQueue('dead', { durable: true });
  await ch.bindQueue('dead', 'dlx', '');
}

test('x-message-ttl counts from the publish, not from the restart: messages that expired while the broker was down are dead-lettered on recovery', async () => {
  const ttl = 400;
  let publishedAt = 0;
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await declareDeadLetters(ch);
      await ch.assertQueue('short', { durable: true, arguments: { 'x-message-ttl': ttl, ...DLX } });
      await ch.assertQueue('long', { durable: true, arguments: { 'x-message-ttl': 600_000, ...DLX } });
      publishedAt = Date.now();
      for (let i = 0; i < 5; i++) {
        ch.sendToQueue('short', Buffer.from(`s${i}`), PERSISTENT);
        ch.sendToQueue('long', Buffer.from(`l${i}`), PERSISTENT);
      }
      await ch.waitForConfirms();
    },
    async () => {
      // Down (no broker) until the short TTL has passed.
      await sleep(Math.max(0, publishedAt + ttl + 50 - Date.now()));
    },
    async (life) => {
      // Nobody consumes 'short': the recovery itself dead-letters what expired.
      await waitFor(() => life.queue('dead').readyCount() === 5, 'the expired messages in the DLQ');
      assert.equal(life.queue('short').readyCount(), 0);
      const ch = await life.channel();
      const dead = await drain(ch, 'dead');
      assert.deepEqual(bodies(dead), ['s0', 's1', 's2', 's3', 's4']);
      assert.equal(deathsOf(dead[0]!)[0]!['reason'], 'expired');
      assert.equal(deathsOf(dead[0]!)[0]!['queue'], 'short');
      assert.equal(dead[0]!.properties.deliveryMode, 2);
      assert.deepEqual(bodies(await drain(ch, 'long')), ['l0', 'l1', 'l2', 'l3', 'l4']);
    },
  );
});

test('per-message expiration counts from the publish across a restart, in a plain (paging) durable queue too', async () => {
  const ttl = 400;
  let publishedAt = 0;
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await declareDeadLetters(ch);
      await ch.assertQueue('plain', { durable: true, arguments: DLX });
      await ch.assertQueue('prio', { durable: true, arguments: { ...DLX, 'x-max-priority': 5 } });
      publishedAt = Date.now();
      for (const queue of ['plain', 'prio']) {
        ch.sendToQueue(queue, Buffer.from(`${queue}-e0`), { ...PERSISTENT, expiration: String(ttl) });
        ch.sendToQueue(queue, Buffer.from(`${queue}-e1`), { ...PERSISTENT, expiration: String(ttl) });
        ch.sendToQueue(queue, Buffer.from(`${queue}-keep`), PERSISTENT);
        ch.sendToQueue(queue, Buffer.from(`${queue}-later`), { ...PERSISTENT, expiration: '600000' });
      }
      await ch.waitForConfirms();
    },
    async () => {
      await sleep(Math.max(0, publishedAt + ttl + 50 - Date.now()));
    },
    async (life) => {
      await waitFor(() => life.queue('dead').readyCount() === 4, 'four expired messages dead-lettered');
      const ch = await life.channel();
      const dead = await drain(ch, 'dead');
      assert.deepEqual(bodies(dead).sort(), ['plain-e0', 'plain-e1', 'prio-e0', 'prio-e1']);
      for (const msg of dead) {
        assert.equal(deathsOf(msg)[0]!['reason'], 'expired');
        assert.equal(deathsOf(msg)[0]!['original-expiration'], String(ttl));
        assert.equal(msg.properties.expiration, undefined);
      }
      assert.deepEqual(bodies(await drain(ch, 'plain')), ['plain-keep', 'plain-later']);
      assert.deepEqual(bodies(await drain(ch, 'prio')), ['prio-keep', 'prio-later']);
    },
  );
});

test('a TTL still running at the restart expires at publish time + TTL, with nobody consuming', async () => {
  const ttl = 1500;
  let publishedAt = 0;
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await declareDeadLetters(ch);
      await ch.assertQueue('pending', { durable: true, arguments: { 'x-message-ttl': ttl, ...DLX } });
      publishedAt = Date.now();
      ch.sendToQueue('pending', Buffer.from('p0'), PERSISTENT);
      await ch.waitForConfirms();
    },
    async (life) => {
      if (Date.now() >= publishedAt + ttl) return; // a very slow machine: nothing left to observe here
      assert.equal(life.queue('pending').readyCount() + life.queue('dead').readyCount(), 1);
      const ch = await life.channel();
      const dead = await getOne(ch, 'dead', ttl + 5000);
      assert.ok(Date.now() >= publishedAt + ttl, 'not before its absolute expiry');
      assert.equal(dead.content.toString(), 'p0');
      assert.equal(life.queue('pending').readyCount(), 0);
    },
  );
});

test('a policy message-ttl applies to recovered messages', async () => {
  const ttl = 300;
  let publishedAt = 0;
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await declareDeadLetters(ch);
      await ch.assertQueue('by-policy', { durable: true });
      life.vhost.policies.set('short-lived', {
        pattern: '^by-policy$',
        applyTo: 'queues',
        priority: 0,
        definition: { 'message-ttl': ttl, 'dead-letter-exchange': 'dlx' },
      });
      publishedAt = Date.now();
      for (let i = 0; i < 3; i++) ch.sendToQueue('by-policy', Buffer.from(`p${i}`), PERSISTENT);
      await ch.waitForConfirms();
    },
    async () => {
      await sleep(Math.max(0, publishedAt + ttl + 50 - Date.now()));
    },
    async (life) => {
      assert.ok(life.vhost.policies.get('short-lived'), 'the policy is durable');
      await waitFor(() => life.queue('dead').readyCount() === 3, 'the expired messages in the DLQ');
      assert.equal(life.queue('by-policy').readyCount(), 0);
    },
  );
});

test("a dead-lettered message's TTL in its DLQ counts from the dead-lettering, not from the first publish, across a restart", async () => {
  const retryTtl = 1000;
  let deadLetteredAt = 0;
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('retry', { durable: true, arguments: { 'x-message-ttl': retryTtl } });
      await ch.assertQueue('work', { durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' } });
      ch.sendToQueue('work', Buffer.from('job'), PERSISTENT);
      await ch.waitForConfirms();
      // Older than the retry TTL by the time it is dead-lettered.
      await sleep(retryTtl + 200);
      const msg = await ch.get('work', { noAck: false });
      assert.ok(msg !== false);
      deadLetteredAt = Date.now();
      ch.reject(msg, false);
      await waitFor(() => life.queue('retry').readyCount() === 1, 'the dead letter in the retry queue');
      ch.sendToQueue('work', Buffer.from('marker'), PERSISTENT);
      await ch.waitForConfirms();
    },
    async (life) => {
      if (Date.now() >= deadLetteredAt + retryTtl) return; // a very slow restart: it expired by its own TTL
      const retried = await drain(await life.channel(), 'retry');
      assert.deepEqual(bodies(retried), ['job']);
    },
  );
});
