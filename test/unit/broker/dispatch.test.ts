import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DISPATCH_BATCH } from '../../../src/broker/queue.js';
import { declareQueue, FakeConsumer, message, owner, startedVhost } from './fakes.js';
import { amqpThrows } from '../../helpers/amqp-errors.js';

async function queueWith(count: number, name = 'q') {
  const { broker, vhost } = await startedVhost();
  const queue = declareQueue(vhost, name);
  for (let i = 0; i < count; i++) vhost.publish(message('', name, String(i)));
  return { broker, vhost, queue };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => String(from + i));

test('round-robin over consumers, FIFO per queue', async () => {
  const { broker, vhost, queue } = await queueWith(0);
  try {
    const consumers = ['a', 'b', 'c'].map((tag) => new FakeConsumer(tag));
    for (const c of consumers) queue.addConsumer(c);
    for (let i = 0; i < 9; i++) vhost.publish(message('', 'q', String(i)));
    assert.deepEqual(consumers.map((c) => c.bodies()), [['0', '3', '6'], ['1', '4', '7'], ['2', '5', '8']]);
    assert.equal(queue.unackedCount(), 9);
    assert.equal(queue.readyCount(), 0);
  } finally {
    await broker.stop();
  }
});

test('consumers that fill batches: entries published one by one fill one consumer up to its limit, then the next', async () => {
  const { broker, vhost, queue } = await queueWith(0);
  try {
    const consumers = ['a', 'b', 'c'].map((tag) => new FakeConsumer(tag, { prefetch: 4, fillsBatch: true }));
    for (const c of consumers) queue.addConsumer(c);
    for (let i = 0; i < 10; i++) vhost.publish(message('', 'q', String(i)));
    assert.deepEqual(consumers.map((c) => c.bodies()), [range(0, 4), range(4, 8), range(8, 10)]);
    consumers[0]!.ack(); // room again for a, but c holds the cursor until it is full
    vhost.publish(message('', 'q', '10'));
    vhost.publish(message('', 'q', '11'));
    vhost.publish(message('', 'q', '12'));
    assert.deepEqual(consumers[2]!.bodies(), [...range(8, 10), '10', '11']);
    assert.deepEqual(consumers[0]!.bodies(), [...range(0, 4), '12']);
  } finally {
    await broker.stop();
  }
});

test('prefetch-like canTake: a full consumer is skipped; the queue waits for resumeDispatch', async () => {
  const { broker, queue } = await queueWith(10);
  try {
    const slow = new FakeConsumer('slow', { prefetch: 1 });
    const fast = new FakeConsumer('fast', { prefetch: 3 });
    queue.addConsumer(slow);
    queue.addConsumer(fast);
    assert.deepEqual(slow.bodies(), ['0']);
    assert.deepEqual(fast.bodies(), ['1', '2', '3']);
    assert.equal(queue.readyCount(), 6);
    fast.ack(2); // frees two slots and resumes dispatch
    assert.deepEqual(fast.bodies(), ['1', '2', '3', '4', '5']);
    slow.ack();
    assert.deepEqual(slow.bodies(), ['0', '6']);
    assert.equal(queue.unackedCount(), 4);
    assert.equal(queue.counters.acked, 3);
  } finally {
    await broker.stop();
  }
});

test('higher-priority consumers are served first while they can take', async () => {
  const { broker, vhost, queue } = await queueWith(0);
  try {
    const low = new FakeConsumer('low', { priority: 0 });
    const high1 = new FakeConsumer('high1', { priority: 5, prefetch: 2 });
    const high2 = new FakeConsumer('high2', { priority: 5, prefetch: 2 });
    queue.addConsumer(low);
    queue.addConsumer(high1);
    queue.addConsumer(high2);
    for (let i = 0; i < 6; i++) vhost.publish(message('', 'q', String(i)));
    assert.deepEqual(high1.bodies(), ['0', '2']);
    assert.deepEqual(high2.bodies(), ['1', '3']);
    assert.deepEqual(low.bodies(), ['4', '5'], 'low gets only what the blocked high ones cannot take');
    high2.ack();
    vhost.publish(message('', 'q', '6'));
    assert.deepEqual(high2.bodies(), ['1', '3', '6']);
  } finally {
    await broker.stop();
  }
});

test('no-ack consumer: entries are forgotten on delivery', async () => {
  const { broker, queue } = await queueWith(3);
  try {
    const consumer = new FakeConsumer('c', { noAck: true });
    queue.addConsumer(consumer);
    assert.deepEqual(consumer.bodies(), ['0', '1', '2']);
    assert.equal(queue.unackedCount(), 0);
    queue.ack(consumer.received[0]!.entry); // stray ack: ignored
    assert.equal(queue.unackedCount(), 0);
    assert.equal(queue.counters.delivered, 3);
  } finally {
    await broker.stop();
  }
});

test('requeue puts entries back at their original place in order, marked redelivered', async () => {
  const { broker, queue } = await queueWith(6);
  try {
    const consumer = new FakeConsumer('c', { prefetch: 4 });
    queue.addConsumer(consumer);
    assert.deepEqual(consumer.bodies(), ['0', '1', '2', '3']);
    queue.removeConsumer(consumer);
    // Hand them back in a scrambled order: the queue restores seq order.
    const [e0, e1, e2, e3] = consumer.outstanding.map((o) => o.entry);
    queue.requeue([e2!, e0!, e3!]);
    queue.reject(e1!, true);
    assert.equal(queue.readyCount(), 6);
    assert.equal(queue.unackedCount(), 0);
    const second = new FakeConsumer('d');
    queue.addConsumer(second);
    assert.deepEqual(second.bodies(), range(0, 6));
    assert.deepEqual(second.received.map((r) => r.redelivered), [true, true, true, true, false, false]);
    assert.deepEqual(second.received.map((r) => r.entry.deliveryCount), [2, 2, 2, 2, 1, 1]);
    assert.equal(queue.counters.redelivered, 4);
    // The same entry twice in one requeue goes back once.
    queue.removeConsumer(second);
    const held = second.outstanding[0]!.entry;
    queue.requeue([held, held]);
    assert.equal(queue.readyCount(), 1);
    assert.equal(queue.unackedCount(), 5);
    queue.requeue([held]); // no longer unacked: ignored
    assert.equal(queue.readyCount(), 1);
  } finally {
    await broker.stop();
  }
});

test('requeue of a middle entry lands between others (not just at the front)', async () => {
  const { broker, queue } = await queueWith(4);
  try {
    const taken = [queue.get(false)!, queue.get(false)!, queue.get(false)!];
    queue.reject(taken[1]!, true); // seq of '1' goes before '3'
    queue.reject(taken[2]!, true); // '2' between '1' and '3'
    const order: string[] = [];
    for (let e = queue.get(true); e !== undefined; e = queue.get(true)) order.push(e.message.body.toString());
    assert.deepEqual(order, ['1', '2', '3']);
    queue.reject(taken[0]!, false);
    assert.equal(queue.unackedCount(), 0);
    assert.equal(queue.counters.rejected, 1);
  } finally {
    await broker.stop();
  }
});

test('a consumer that rejects with requeue gets the entry again (it is first in line)', async () => {
  const { broker, queue } = await queueWith(2);
  try {
    const consumer = new FakeConsumer('c', { prefetch: 1 });
    queue.addConsumer(consumer);
    const first = consumer.outstanding.shift()!;
    queue.reject(first.entry, true);
    assert.deepEqual(consumer.bodies(), ['0', '0']);
    assert.equal(consumer.received[1]!.redelivered, true);
  } finally {
    await broker.stop();
  }
});

test('exclusive consumer: 403 for a second consumer, and for an exclusive one on a used queue', async () => {
  const { broker, queue } = await queueWith(0);
  try {
    const text = "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use";
    queue.addConsumer(new FakeConsumer('plain'));
    amqpThrows(() => queue.addConsumer(new FakeConsumer('x', { exclusive: true })), { replyCode: 403, replyText: text });
    queue.removeConsumer(queue.consumers[0]!);
    const exclusive = new FakeConsumer('x', { exclusive: true });
    queue.addConsumer(exclusive);
    amqpThrows(() => queue.addConsumer(new FakeConsumer('other')), { replyCode: 403, replyText: text });
    queue.removeConsumer(exclusive);
    queue.addConsumer(new FakeConsumer('after'));
    assert.equal(queue.consumerCount(), 1);
  } finally {
    await broker.stop();
  }
});

test('a huge backlog is dispatched in bounded slices across event-loop turns', async () => {
  const total = DISPATCH_BATCH * 3 + 7;
  const { broker, queue } = await queueWith(total);
  try {
    const consumer = new FakeConsumer('greedy', { noAck: true });
    queue.addConsumer(consumer);
    assert.equal(consumer.received.length, DISPATCH_BATCH, 'first slice only');
    let turns = 0;
    while (queue.readyCount() > 0 && turns < 10) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
    assert.equal(consumer.received.length, total);
    assert.ok(turns >= 3);
    assert.deepEqual(consumer.bodies(), range(0, total), 'order kept across slices');
  } finally {
    await broker.stop();
  }
});

test('messages published while a continuation is pending keep FIFO order', async () => {
  const total = DISPATCH_BATCH + 10;
  const { broker, vhost, queue } = await queueWith(total);
  try {
    const consumer = new FakeConsumer('c', { noAck: true });
    queue.addConsumer(consumer);
    vhost.publish(message('', 'q', 'late'));
    while (queue.readyCount() > 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(consumer.bodies(), [...range(0, total), 'late']);
  } finally {
    await broker.stop();
  }
});

test('a paused consumer is not asked per message; resumeDispatch wakes the queue', async () => {
  const { broker, vhost, queue } = await queueWith(0);
  try {
    let asked = 0;
    const consumer = new FakeConsumer('c');
    const canTake = consumer.canTake.bind(consumer);
    consumer.canTake = () => {
      asked++;
      return canTake();
    };
    queue.addConsumer(consumer);
    consumer.paused = true;
    for (let i = 0; i < 100; i++) vhost.publish(message('', 'q', String(i)));
    assert.ok(asked <= 2, `canTake asked ${asked} times`);
    consumer.paused = false;
    queue.resumeDispatch();
    assert.equal(consumer.received.length, 100);
  } finally {
    await broker.stop();
  }
});

test('basic.get: FIFO, no-ack settles at once, ack mode counts as unacked', async () => {
  const { broker, queue } = await queueWith(3);
  try {
    const first = queue.get(false)!;
    assert.equal(first.message.body.toString(), '0');
    assert.equal(first.deliveryCount, 1);
    assert.equal(queue.unackedCount(), 1);
    assert.equal(queue.get(true)!.message.body.toString(), '1');
    assert.equal(queue.unackedCount(), 1);
    queue.ack(first);
    queue.ack(first); // double ack is harmless
    assert.equal(queue.unackedCount(), 0);
    assert.equal(queue.readyCount(), 1);
    assert.equal(queue.readyBytes(), 1);
  } finally {
    await broker.stop();
  }
});

test('entries of one queue cannot be settled through another', async () => {
  const { broker, vhost, queue } = await queueWith(1);
  try {
    const other = declareQueue(vhost, 'other', owner());
    vhost.publish(message('', 'other', 'x'));
    const mine = queue.get(false)!;
    other.ack(mine);
    assert.equal(queue.unackedCount(), 1);
    other.requeue([mine]);
    assert.equal(other.readyCount(), 1);
    queue.ack(mine);
    assert.equal(queue.unackedCount(), 0);
  } finally {
    await broker.stop();
  }
});

test('broker.stop cancels a pending dispatch continuation', async () => {
  const { broker, queue } = await queueWith(DISPATCH_BATCH + 5);
  const consumer = new FakeConsumer('c', { noAck: true });
  queue.addConsumer(consumer);
  await broker.stop();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(consumer.received.length, DISPATCH_BATCH);
});
