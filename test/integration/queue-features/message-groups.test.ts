import test from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, ConsumeMessage } from 'amqplib';
import { roundTrip, session, sleep } from '../amqp/amqp-helpers.js';
import { brokerQueue, waitFor } from './helpers.js';

const ARGS = { arguments: { 'x-message-group-header': 'group' } };
/** The strictest setting: one unacked message per group. */
const ONE_AT_A_TIME = { arguments: { 'x-message-group-header': 'group', 'x-message-group-max-in-flight': 1 } };
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

test('message groups with x-message-group-max-in-flight 1: one message of a group at a time, in order; other groups in parallel', async (t) => {
  const s = await session(t);
  const pub = await s.channel();
  await pub.assertQueue('q', ONE_AT_A_TIME);
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

test('message groups: a consumer holds up to x-message-group-max-in-flight of its group; the group never splits over consumers', async (t) => {
  const s = await session(t);
  const pub = await s.channel();
  await pub.assertQueue('q', { arguments: { ...ARGS.arguments, 'x-message-group-max-in-flight': 5 } });
  const w1 = await worker(await s.channel(), 'q', 50);
  const w2 = await worker(await s.channel(), 'q', 50);
  for (let i = 0; i < 10; i++) {
    pub.sendToQueue('q', Buffer.from(`A${i}`), inGroup('A'));
    pub.sendToQueue('q', Buffer.from(`B${i}`), inGroup('B'));
  }
  await roundTrip(pub);
  await waitFor(() => w1.held.length + w2.held.length === 10, 'five of each group');
  await sleep(30);
  const groupsOf = (w: Worker) => new Set(w.seen.map((b) => b[0]));
  assert.equal(w1.held.length + w2.held.length, 10, 'no more than five of a group out at once');
  assert.deepEqual([...groupsOf(w1), ...groupsOf(w2)].sort(), ['A', 'B'], 'each group with one consumer');

  // Acking frees room in the group: the rest follows, in order, to the consumer that holds the group.
  const received = (): string[] => [...w1.seen, ...w2.seen];
  while (received().length < 20) {
    for (const w of [w1, w2]) for (const msg of w.held.splice(0)) w.ch.ack(msg);
    await sleep(10);
  }
  for (const group of ['A', 'B']) {
    assert.deepEqual(received().filter((b) => b[0] === group), Array.from({ length: 10 }, (_, i) => `${group}${i}`));
  }
  for (const w of [w1, w2]) for (const msg of w.held.splice(0)) w.ch.ack(msg);
});

test('message groups: a requeued message holds its group until the rest out are settled, then comes first', async (t) => {
  const s = await session(t);
  const pub = await s.channel();
  await pub.assertQueue('q', ARGS);
  for (let i = 0; i < 4; i++) pub.sendToQueue('q', Buffer.from(`A${i}`), inGroup('A'));
  await roundTrip(pub);
  const w1 = await worker(await s.channel(), 'q', 3);
  await waitFor(() => w1.held.length === 3, 'A0..A2 out');
  const w2 = await worker(await s.channel(), 'q', 10);
  w1.ch.nack(w1.held.shift()!, false, true); // A0 back, while A1 and A2 are still out
  await sleep(30);
  assert.deepEqual(w2.seen, [], 'A3 and A0 wait: the group is not split');
  assert.equal(w1.seen.length, 3);
  for (const msg of w1.held.splice(0)) w1.ch.ack(msg);
  await waitFor(() => w1.seen.length + w2.seen.length === 5, 'the group restarts');
  const restart = w2.seen.length === 0 ? w1 : w2;
  assert.deepEqual(restart.seen.slice(-2), ['A0', 'A3'], 'from the returned message, to one consumer');
  assert.equal(restart.held.at(-2)!.fields.redelivered, true);
  for (const w of [w1, w2]) for (const msg of w.held.splice(0)) w.ch.ack(msg);
});
