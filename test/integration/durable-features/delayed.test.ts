import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel } from 'amqplib';
import type { DelayedMessageRouter } from '../../../src/broker/exchanges/delayed/index.js';
import type { Life } from './helpers.js';
import { acrossRestarts, bodies, drain, getOne, PERSISTENT, sleep, waitFor } from './helpers.js';

async function declareDelayed(ch: Channel, durable = true): Promise<void> {
  await ch.assertExchange('later', 'x-delayed-message', { durable, arguments: { 'x-delayed-type': 'direct' } });
  await ch.assertQueue('due', { durable: true });
  await ch.bindQueue('due', 'later', 'k');
}

function router(life: Life, exchange = 'later'): DelayedMessageRouter {
  return life.vhost.getExchange(exchange)!.router as DelayedMessageRouter;
}

test('a durable x-delayed-message exchange keeps pending persistent messages across a restart: due ones at once, later ones when due', async () => {
  const shortDelay = 300;
  // Long enough that a restart on a loaded machine ends well before 'mid' is due.
  const midDelay = 4000;
  let publishedAt = 0;
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await declareDelayed(ch);
      publishedAt = Date.now();
      ch.publish('later', 'k', Buffer.from('short'), { ...PERSISTENT, headers: { 'x-delay': shortDelay, n: 1 } });
      ch.publish('later', 'k', Buffer.from('mid'), { ...PERSISTENT, headers: { 'x-delay': midDelay } });
      ch.publish('later', 'k', Buffer.from('far'), { ...PERSISTENT, headers: { 'x-delay': 3_600_000 } });
      ch.publish('later', 'k', Buffer.from('transient'), { headers: { 'x-delay': shortDelay } });
      ch.publish('later', 'k', Buffer.from('now'), { ...PERSISTENT });
      await ch.waitForConfirms();
      assert.equal(router(life).pendingCount, 4);
    },
    async () => {
      await sleep(Math.max(0, publishedAt + shortDelay + 50 - Date.now()));
    },
    async (life) => {
      const ch = await life.channel();
      // 'short' was due while the broker was down: released right after recovery.
      await waitFor(() => life.queue('due').readyCount() === 2, "'now' and the overdue 'short' in the queue");
      const arrived = await drain(ch, 'due');
      assert.deepEqual(bodies(arrived), ['now', 'short']);
      assert.equal(arrived[1]!.properties.headers?.['x-delay'], -shortDelay);
      assert.equal(arrived[1]!.properties.headers?.['n'], 1);
      assert.equal(arrived[1]!.properties.deliveryMode, 2);
      const late = router(life);
      if (Date.now() < publishedAt + midDelay) assert.equal(late.pendingCount, 2);
      const mid = await getOne(ch, 'due', midDelay + 5000);
      assert.equal(mid.content.toString(), 'mid');
      assert.ok(Date.now() >= publishedAt + midDelay, 'not before it is due');
      assert.equal(late.pendingCount, 1);
    },
    async (life) => {
      // Released messages left the exchange's store: only 'far' is pending ('mid' was consumed).
      assert.equal(router(life).pendingCount, 1);
      assert.equal(life.queue('due').readyCount(), 0);
    },
  );
});

test('a delivered delayed message is stored by its queue; deleting the exchange drops what it held', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await declareDelayed(ch);
      ch.publish('later', 'k', Buffer.from('soon'), { ...PERSISTENT, headers: { 'x-delay': 50 } });
      ch.publish('later', 'k', Buffer.from('far'), { ...PERSISTENT, headers: { 'x-delay': 3_600_000 } });
      await ch.waitForConfirms();
      await waitFor(() => life.queue('due').readyCount() === 1, "'soon' released");
    },
    async (life) => {
      assert.equal(router(life).pendingCount, 1);
      assert.deepEqual(bodies(await drain(await life.channel(), 'due')), ['soon']);
      await (await life.channel()).deleteExchange('later');
    },
    async (life) => {
      assert.equal(life.vhost.getExchange('later'), undefined);
      const ch = await life.confirmChannel();
      await declareDelayed(ch);
      assert.equal(router(life).pendingCount, 0, 'a new exchange of the same name starts empty');
    },
  );
});

test('a non-durable delayed exchange keeps nothing', async () => {
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await declareDelayed(ch, false);
      ch.publish('later', 'k', Buffer.from('far'), { ...PERSISTENT, headers: { 'x-delay': 3_600_000 } });
      await ch.waitForConfirms();
      assert.equal(life.running.server.broker.store.stats?.().liveMessages, 0);
    },
    async (life) => {
      assert.equal(life.vhost.getExchange('later'), undefined);
    },
  );
});
