import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Broker } from '../../../src/broker/broker.js';
import type { Consumer, QueueEntry } from '../../../src/broker/front-door.js';
import { Message } from '../../../src/broker/message.js';
import type { Queue } from '../../../src/broker/queue/queue.js';
import { LogStore } from '../../../src/store/log-store.js';
import { tempDataDir } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const COUNT = 200_000;
const BODY_BYTES = 1024;
const OWNER = { name: 'test' };

function openBroker(dir: string): Broker {
  const store = new LogStore({ dataDir: dir, segmentBytes: 8 * 1024 * 1024 });
  return new Broker({ store, queueMemoryBytes: 256 * 1024 });
}

/** Acks everything it gets, in batches, and records the sequence numbers in the bodies. */
class CountingConsumer implements Consumer {
  readonly tag = 'counter';
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly arguments = {};
  readonly owner = OWNER;
  readonly seen: number[] = [];
  redelivered = 0;
  private pending: QueueEntry[] = [];

  constructor(private readonly limit: number) {}

  canTake(): boolean {
    return this.seen.length < this.limit && this.pending.length < 1000;
  }

  deliver(entry: QueueEntry, queue: Queue): void {
    this.seen.push(entry.message.body.readUInt32LE(0));
    assert.equal(entry.message.body.length, BODY_BYTES);
    if (entry.redelivered) this.redelivered++;
    this.pending.push(entry);
    if (this.pending.length === 1000 || this.seen.length === this.limit) {
      const batch = this.pending;
      this.pending = [];
      setImmediate(() => {
        for (const delivered of batch) queue.ack(delivered);
        queue.resumeDispatch();
      });
    }
  }

  cancelledByBroker(): void {}
}

async function consume(queue: Queue, limit: number): Promise<CountingConsumer> {
  const consumer = new CountingConsumer(limit);
  queue.addConsumer(consumer);
  while (consumer.seen.length < limit) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  queue.removeConsumer(consumer);
  return consumer;
}

function durable(broker: Broker): Promise<void> {
  return new Promise((resolve) => broker.whenDurable(resolve));
}

test(`${COUNT} persistent 1 KiB messages: bodies stay on disk beyond the queue's budget, drain in order across a restart`, async (t) => {
  const { dir, cleanup } = await tempDataDir();
  try {
    const first = openBroker(dir);
    await first.start();
    const vhost = first.getVhost('/')!;
    const { queue } = vhost.declareQueue({ name: 'backlog', durable: true, exclusive: false, autoDelete: false, arguments: {} }, OWNER);
    gc();
    const before = process.memoryUsage();
    const properties = { deliveryMode: 2, contentType: 'application/octet-stream' };
    for (let i = 0; i < COUNT; i++) {
      const body = Buffer.alloc(BODY_BYTES);
      body.writeUInt32LE(i, 0);
      vhost.publish(new Message('', 'backlog', properties, body));
      if (i % 20_000 === 0) await durable(first);
    }
    await durable(first);
    gc();
    const after = process.memoryUsage();
    const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
    // Resident bodies alone would be ~200 MiB; paged entries cost their Entry object (~100 bytes).
    t.diagnostic(`memory grew by ${(grown / 1048576).toFixed(1)} MiB (${Math.round(grown / COUNT)} bytes per queued message)`);
    assert.ok(grown < 80 * 1024 * 1024, `memory grew by ${(grown / 1048576).toFixed(1)} MiB for ${COUNT} queued messages`);
    assert.equal(queue.readyCount(), COUNT);
    assert.equal(queue.readyBytes(), COUNT * BODY_BYTES);

    const firstHalf = await consume(queue, COUNT / 2);
    assert.deepEqual(firstHalf.seen, Array.from({ length: COUNT / 2 }, (_, i) => i));
    await durable(first);
    await first.stop();

    const second = openBroker(dir);
    await second.start();
    const recovered = second.getVhost('/')!.getQueue('backlog')!;
    assert.equal(recovered.readyCount(), COUNT / 2);
    const rest = await consume(recovered, COUNT / 2);
    assert.deepEqual(rest.seen, Array.from({ length: COUNT / 2 }, (_, i) => COUNT / 2 + i));
    assert.equal(rest.redelivered, 0);
    assert.equal(recovered.readyCount(), 0);
    assert.equal(recovered.readyBytes(), 0);
    await durable(second);
    await second.stop();
  } finally {
    await cleanup();
  }
});
