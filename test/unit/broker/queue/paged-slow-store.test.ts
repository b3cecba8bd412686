/**
 * A paging durable queue over a store that answers reads late (random delays, as a network store would):
 * order, basic.get, browsing, purge and recovery must hold while stored messages are being read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../../src/broker/broker.js';
import type { Queue } from '../../../../src/broker/queue.js';
import { MemoryImage, MemoryStore } from '../../../../src/store/memory-store.js';
import { waitFor } from '../../../helpers/wait.js';
import { declareQueue, FakeConsumer, message, owner } from '../fakes.js';

const PERSISTENT = { deliveryMode: 2 };
/** Budget small enough that all but a few of the messages go cold. */
const BUDGET = 4 * 1024;

async function slowBroker(image = new MemoryImage()): Promise<{ broker: Broker; queue: () => Queue; image: MemoryImage }> {
  const store = new MemoryStore({ image, readDelayMs: () => Math.random() * 4 });
  const broker = new Broker({ store, queueMemoryBytes: BUDGET });
  await broker.start();
  const vhost = broker.getVhost('/')!;
  if (vhost.getQueue('q') === undefined) declareQueue(vhost, 'q', owner(), { durable: true });
  return { broker, queue: () => vhost.getQueue('q')!, image };
}

function publish(queue: Queue, from: number, count: number): void {
  for (let i = from; i < from + count; i++) queue.vhost.publish(message('', 'q', `m${i}`.padEnd(200, '.'), PERSISTENT));
}

const ids = (bodies: string[]): number[] => bodies.map((b) => Number(b.slice(1, b.indexOf('.'))));

test('a consumer drains a paged backlog in order while reads arrive late; new publishes join behind it', async () => {
  const { broker, queue } = await slowBroker();
  try {
    publish(queue(), 0, 500);
    const consumer = new FakeConsumer('c', { prefetch: 50 });
    queue().addConsumer(consumer);
    const drain = async (upTo: number): Promise<void> => {
      while (consumer.received.length < upTo) {
        await waitFor(() => consumer.outstanding.length > 0 || consumer.received.length >= upTo, 'deliveries');
        consumer.ack();
      }
    };
    await drain(250);
    publish(queue(), 500, 100);
    await drain(600);
    assert.deepEqual(ids(consumer.bodies()), [...Array(600).keys()]);
    assert.equal(queue().readyCount(), 0);
  } finally {
    await broker.stop();
  }
});

test('basic.get on a cold head waits for the read (whenHeadLoaded), and returns messages in order', async () => {
  const { broker, queue } = await slowBroker();
  try {
    publish(queue(), 0, 200);
    const got: number[] = [];
    for (;;) {
      const entry = await queue().getOrWait(true);
      if (entry === undefined) break;
      got.push(ids([entry.message.body.toString()])[0]!);
    }
    assert.deepEqual(got, [...Array(200).keys()]);
  } finally {
    await broker.stop();
  }
});

test('browsing reads stored messages without taking them', async () => {
  const { broker, queue } = await slowBroker();
  try {
    publish(queue(), 0, 300);
    const page = await queue().browse(150, 5);
    assert.deepEqual(ids(page.map((e) => e.message.body.toString())), [150, 151, 152, 153, 154]);
    assert.equal(queue().readyCount(), 300);
  } finally {
    await broker.stop();
  }
});

test('a purge while a read is in flight drops everything; the late answer is ignored', async () => {
  const { broker, queue } = await slowBroker();
  try {
    publish(queue(), 0, 300);
    const consumer = new FakeConsumer('c', { prefetch: 1000 });
    queue().addConsumer(consumer);
    const before = consumer.received.length;
    assert.ok(before < 300, 'most messages are cold and still being read');
    assert.equal(queue().purge() + before, 300);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(consumer.received.length, before, 'nothing purged is delivered later');
    assert.equal(queue().readyCount(), 0);
  } finally {
    await broker.stop();
  }
});

test('a restart recovers the paged backlog; unacked deliveries come back redelivered and first', async () => {
  const first = await slowBroker();
  publish(first.queue(), 0, 300);
  const consumer = new FakeConsumer('c', { prefetch: 10 });
  first.queue().addConsumer(consumer);
  await waitFor(() => consumer.outstanding.length === 10, 'ten deliveries');
  consumer.ack(5);
  await waitFor(() => consumer.outstanding.length === 10, 'five more after the acks');
  const unacked = ids(consumer.outstanding.map((o) => o.entry.message.body.toString()));
  await first.broker.stop();

  const second = await slowBroker(first.image);
  try {
    const got: { id: number; redelivered: boolean }[] = [];
    for (;;) {
      const entry = await second.queue().getOrWait(true);
      if (entry === undefined) break;
      got.push({ id: ids([entry.message.body.toString()])[0]!, redelivered: entry.redelivered });
    }
    assert.deepEqual(got.map((g) => g.id), [...Array(295).keys()].map((i) => i + 5));
    assert.deepEqual(unacked, [...Array(10).keys()].map((i) => i + 5));
    assert.deepEqual(got.filter((g) => g.redelivered).map((g) => g.id), unacked);
  } finally {
    await second.broker.stop();
  }
});

test('recovered messages past their TTL leave as they are read back, with nobody consuming', async () => {
  const first = await slowBroker();
  for (let i = 0; i < 300; i++) {
    const expiration = i % 3 === 0 ? undefined : '20';
    first.queue().vhost.publish(message('', 'q', `m${i}`.padEnd(200, '.'), { ...PERSISTENT, ...(expiration ? { expiration } : {}) }));
  }
  await first.broker.stop();
  await new Promise((resolve) => setTimeout(resolve, 40));
  const second = await slowBroker(first.image);
  try {
    const got: number[] = [];
    for (;;) {
      const entry = await second.queue().getOrWait(true);
      if (entry === undefined) break;
      got.push(ids([entry.message.body.toString()])[0]!);
    }
    assert.deepEqual(got, [...Array(100).keys()].map((i) => i * 3), 'only the messages without a TTL are left');
    assert.equal(second.queue().counters.expired, 200);
  } finally {
    await second.broker.stop();
  }
});
