/**
 * A backlog larger than memory, in process (broker core + LogStore, no network): publishes N persistent
 * messages of B bytes into one durable queue with no consumer (group commit every batch), reports the
 * publish rate and RSS at peak, then attaches an acking consumer (prefetch-like window) and reports the
 * drain rate and RSS while draining. Bodies beyond the queue's memory budget stay on disk and are read
 * back when the consumer reaches them.
 *   node .build/durable/bench/durable-backlog.js [messages=10000000] [bodyBytes=1024] [dataDir=<tmp>] [queueMemoryBytes=16777216]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../src/broker/broker.js';
import type { Consumer, QueueEntry } from '../src/broker/front-door.js';
import { Message } from '../src/broker/message.js';
import type { Queue } from '../src/broker/queue/queue.js';
import { LogStore } from '../src/store/log-store.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const total = Number(process.argv[2] ?? 10_000_000);
const bodyBytes = Number(process.argv[3] ?? 1024);
const givenDir = process.argv[4];
const queueMemoryBytes = Number(process.argv[5] ?? 16 * 1024 * 1024);
const BATCH = 5000;
const WINDOW = 2000;

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
let peakRss = 0;
const sampleRss = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};

/** Acks in batches behind a window of outstanding deliveries, like a consumer with prefetch. */
class DrainConsumer implements Consumer {
  readonly tag = 'drain';
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly arguments = {};
  readonly owner = { name: 'bench' };
  received = 0;
  outOfOrder = 0;
  private expected = 0;
  private pending: QueueEntry[] = [];
  private flushing = false;

  canTake(): boolean {
    return this.pending.length < WINDOW;
  }

  deliver(entry: QueueEntry, queue: Queue): void {
    if (entry.message.body.readUInt32LE(0) !== this.expected++) this.outOfOrder++;
    this.received++;
    this.pending.push(entry);
    if (!this.flushing && this.pending.length >= WINDOW / 2) {
      this.flushing = true;
      setImmediate(() => this.flush(queue));
    }
  }

  flush(queue: Queue): void {
    const batch = this.pending;
    this.pending = [];
    this.flushing = false;
    for (const entry of batch) queue.ack(entry);
    queue.resumeDispatch();
  }

  cancelledByBroker(): void {}
}

function durable(broker: Broker): Promise<void> {
  return new Promise((resolve) => broker.whenDurable(resolve));
}

async function main(): Promise<void> {
  const dataDir = givenDir ?? mkdtempSync(join(tmpdir(), 'warren-backlog-'));
  const broker = new Broker({ store: new LogStore({ dataDir }), queueMemoryBytes });
  await broker.start();
  const vhost = broker.getVhost('/')!;
  const { queue } = vhost.declareQueue({ name: 'backlog', durable: true, exclusive: false, autoDelete: false, arguments: {} }, { name: 'bench' });
  const properties = { deliveryMode: 2 };
  const started = performance.now();
  for (let i = 0; i < total; i += BATCH) {
    const end = Math.min(total, i + BATCH);
    for (let n = i; n < end; n++) {
      const body = Buffer.allocUnsafe(bodyBytes);
      body.writeUInt32LE(n, 0);
      vhost.publish(new Message('', 'backlog', properties, body));
    }
    await durable(broker);
    if (i % 100_000 === 0) sampleRss();
    if (i % 1_000_000 === 0 && i !== 0) console.log(`  ${i} published, RSS ${mb(process.memoryUsage.rss())}`);
  }
  const publishSeconds = (performance.now() - started) / 1000;
  sampleRss();
  const stats = broker.store.stats!();
  console.log(`published ${total} x ${bodyBytes} B persistent in ${publishSeconds.toFixed(1)} s: ${Math.round(total / publishSeconds)} msg/s`);
  console.log(`  store: ${stats.segments} segments, ${mb(stats.diskBytes)} on disk; peak RSS ${mb(peakRss)}; heap ${mb(process.memoryUsage().heapUsed)}`);

  peakRss = 0;
  const consumer = new DrainConsumer();
  const drainStart = performance.now();
  queue.addConsumer(consumer);
  while (consumer.received < total) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    sampleRss();
  }
  consumer.flush(queue);
  await durable(broker);
  const drainSeconds = (performance.now() - drainStart) / 1000;
  console.log(`drained ${consumer.received} in ${drainSeconds.toFixed(1)} s: ${Math.round(consumer.received / drainSeconds)} msg/s; out of order ${consumer.outOfOrder}; peak RSS while draining ${mb(peakRss)}`);
  await broker.stop();
  if (givenDir === undefined) rmSync(dataDir, { recursive: true, force: true });
}

await main();
