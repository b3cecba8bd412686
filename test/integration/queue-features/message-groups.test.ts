import test from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, ConsumeMessage } from 'amqplib';
import { roundTrip, session, sleep } from '../amqp/amqp-helpers.js';
import { brokerQueue, waitFor } from './helpers.js';

const ARGS = { arguments: { 'x-message-group-header': 'group' } };
const inGroup = (group: string) => ({ headers: { group } });

interface Worker {
  ch: Channel;
  held: ConsumeMessage[];
  seen: string[];
}

async function worker(ch: Channel, queue: string, prefetch: number): Promise<Worker> {
  const w: Worker = { ch, held: [], seen: [] };
  await ch.prefetch(prefetch);
  await ch.consume(queue, (msg) => {
    if (msg === null) return;
    w.held.push(msg);
    w.seen.push(msg.content.toString());
  });
  return w;
}

test('message groups: one message of a group at a time, in order; other groups go in parallel', async (t) => {
  const s = await session(t);
  const pub = await s.channel();
  await pub.assertQueue('q', ARGS);
  for (let i = 0; i < 3; i++) {
    pub.sendToQueue('q', Buffer.from(`A${i}`), inGroup('A'));
    pub.sendToQueue('q', Buffer.from(`B${i}`), inGroup('B'));
  }
  await roundTrip(pub);
  const w1 = await worker(await s.channel(), 'q', 10);
  const w2 = await worker(await s.channel(), 'q', 10);
  await waitFor(() => w1.held.length + w2.held.length === 2, 'one per group');
  await sleep(30);
  // Plenty of prefetch, yet only the head of each group is out.
  const out = [...w1.seen, ...w2.seen].sort();
  assert.deepEqual(out, ['A0', 'B0']);
  assert.equal(brokerQueue(s, 'q').readyCount(), 4);

  // Acking A0 releases A1 (to whichever worker), and so on, strictly in order per group.
  const order: string[] = [];
  const settleAll = async (): Promise<void> => {
    for (const w of [w1, w2]) {
      for (const msg of w.held.splice(0)) {
        order.push(msg.content.toString());
        w.ch.ack(msg);
      }
    }
  };
  while (order.length < 6) {
    await settleAll();
    await sleep(10);
  }
  assert.deepEqual(order.filter((b) => b.startsWith('A')), ['A0', 'A1', 'A2']);
  assert.deepEqual(order.filter((b) => b.startsWith('B')), ['B0', 'B1', 'B2']);
});

test('a slow group does not block the others; a rejected message is redelivered first in its group', async (t) => {
  const s = await session(t);
  const pub = await s.channel();
  await pub.assertQueue('q', ARGS);
  pub.sendToQueue('q', Buffer.from('slow-0'), inGroup('slow'));
  pub.sendToQueue('q', Buffer.from('slow-1'), inGroup('slow'));
  for (let i = 0; i < 20; i++) pub.sendToQueue('q', Buffer.from(`g${i}`), inGroup(`g${i}`));
  pub.sendToQueue('q', Buffer.from('plain'));
  await roundTrip(pub);

  const slowWorker = await worker(await s.channel(), 'q', 1);
  await waitFor(() => slowWorker.held.length === 1, 'slow worker busy');
  assert.equal(slowWorker.seen[0], 'slow-0');
  const fast = await s.channel();
  const fastSeen: string[] = [];
  await fast.consume('q', (msg) => {
    if (msg === null) return;
    fastSeen.push(msg.content.toString());
    fast.ack(msg);
  });
  await waitFor(() => fastSeen.length === 21, 'all other groups');
  assert.ok(!fastSeen.includes('slow-1'), 'slow-1 waits for slow-0');
  assert.ok(fastSeen.includes('plain'), 'ungrouped messages are not held back');

  // slow-0 is rejected with requeue: it comes back before slow-1.
  slowWorker.ch.nack(slowWorker.held.shift()!, false, true);
  await waitFor(() => fastSeen.length === 23 || slowWorker.held.length === 1, 'redelivery');
  await sleep(30);
  const rest = [...slowWorker.seen.slice(1), ...fastSeen.slice(21)];
  assert.equal(rest[0], 'slow-0');
  for (const msg of slowWorker.held.splice(0)) slowWorker.ch.ack(msg);
  await waitFor(() => [...slowWorker.seen, ...fastSeen].filter((b) => b === 'slow-1').length === 1, 'slow-1');
  assert.equal(brokerQueue(s, 'q').readyCount(), 0);
});
