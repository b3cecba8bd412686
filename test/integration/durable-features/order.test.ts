import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumeMessage } from 'amqplib';
import { acrossRestarts, bodies, drain, PERSISTENT, sleep, takeUnacked, waitFor } from './helpers.js';

/** A fixed pseudo-random sequence (the test must be reproducible). */
function priorities(count: number): number[] {
  let x = 12345;
  return Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % 11;
  });
}

test('priority queue: after a restart messages come out by priority, publish order within a priority, unacked ones redelivered in place', async () => {
  const prios = priorities(200);
  const published = prios.map((priority, i) => ({ priority, body: `m${i}` }));
  let unacked: string[] = [];
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('prio', { durable: true, arguments: { 'x-max-priority': 10 } });
      ch.sendToQueue('prio', Buffer.from('transient'), { priority: 10 });
      for (const { priority, body } of published) ch.sendToQueue('prio', Buffer.from(body), { ...PERSISTENT, priority });
      await ch.waitForConfirms();
      // The five of highest priority go out and stay unacked across the restart.
      unacked = bodies(await takeUnacked(await life.channel(), 'prio', 5));
      assert.ok(unacked.includes('transient'));
    },
    async (life) => {
      const ch = await life.channel();
      const got = await drain(ch, 'prio');
      const expected = published
        .map((m, i) => ({ ...m, i }))
        .sort((a, b) => b.priority - a.priority || a.i - b.i)
        .map((m) => m.body);
      assert.deepEqual(bodies(got), expected);
      const redelivered = got.filter((m) => m.fields.redelivered).map((m) => m.content.toString());
      assert.deepEqual(redelivered, unacked.filter((b) => b !== 'transient'));
      assert.equal(got[0]!.properties.priority, 10);
    },
  );
});

test('message groups: after a restart each group is delivered in order, within its in-flight cap, the unacked head first', async () => {
  const groups = ['A', 'B', 'C', 'D'];
  const perGroup = 25;
  await acrossRestarts(
    async (life) => {
      const ch = await life.confirmChannel();
      await ch.assertQueue('grouped', { durable: true, arguments: { 'x-message-group-header': 'g', 'x-message-group-max-in-flight': 2 } });
      for (let i = 0; i < perGroup; i++) {
        for (const g of groups) ch.sendToQueue('grouped', Buffer.from(`${g}${i}`), { ...PERSISTENT, headers: { g } });
      }
      await ch.waitForConfirms();
      // Prefetch 4: the group heads go out in arrival order; acking A0 lets A1 out. A1, B0, C0, D0 are
      // unacked at the stop.
      const consumer = await life.channel();
      await consumer.prefetch(4);
      const held: ConsumeMessage[] = [];
      await consumer.consume('grouped', (msg) => {
        if (msg !== null) held.push(msg);
      });
      await waitFor(() => held.length === 4, 'the four group heads');
      consumer.ack(held.find((m) => m.content.toString() === 'A0')!);
      await waitFor(() => held.length === 5, 'A1 after A0 was acked');
      await sleep(20);
      assert.deepEqual(bodies(held).sort(), ['A0', 'A1', 'B0', 'C0', 'D0']);
    },
    async (life) => {
      const queue = life.queue('grouped');
      assert.equal(queue.readyCount(), groups.length * perGroup - 1);
      const ch = await life.channel();
      await ch.prefetch(50);
      const seen: ConsumeMessage[] = [];
      const out = new Map<unknown, number>();
      const overlaps: string[] = [];
      let acked = 0;
      await ch.consume('grouped', (msg) => {
        if (msg === null) return;
        seen.push(msg);
        const g = msg.properties.headers?.['g'];
        const outOfGroup = (out.get(g) ?? 0) + 1;
        if (outOfGroup > 2) overlaps.push(msg.content.toString());
        out.set(g, outOfGroup);
        // Settle later: a group must not have more than its cap (x-message-group-max-in-flight, kept
        // across the restart) out at once.
        setTimeout(() => {
          out.set(g, out.get(g)! - 1);
          ch.ack(msg);
          acked++;
        }, 1);
      });
      // Every ack sent before the connection closes (an ack on a closing channel throws).
      await waitFor(() => acked === groups.length * perGroup - 1, 'every grouped message delivered and acked', 20_000);
      assert.deepEqual(overlaps, [], 'never more than two messages of one group out at once');
      for (const g of groups) {
        const first = g === 'A' ? 1 : 0;
        const ofGroup = seen.filter((m) => m.properties.headers?.['g'] === g);
        assert.deepEqual(bodies(ofGroup), Array.from({ length: perGroup - first }, (_, i) => `${g}${i + first}`));
        assert.equal(ofGroup[0]!.fields.redelivered, true, `${g}'s unacked head comes back redelivered`);
        assert.ok(ofGroup.slice(1).every((m) => !m.fields.redelivered));
      }
    },
  );
});
