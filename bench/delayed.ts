/**
 * x-delayed-message at scale, in process (broker core, no network): publishes N messages with delays
 * spread uniformly over [minDelay, maxDelay] ms to a delayed fanout exchange bound to one queue with a
 * no-ack consumer, then reports RSS at peak (all pending) and the lateness of each delivery against
 * its due time (publish time + x-delay).
 *   node .build/xfeat/bench/delayed.js [messages=1000000] [minDelayMs=10000] [maxDelayMs=30000] [bodyBytes=64]
 */
import { Broker } from '../src/broker/broker.js';
import type { Consumer, QueueEntry } from '../src/broker/consumer.js';
import type { DelayedMessageRouter } from '../src/broker/exchanges/delayed/delayed-router.js';
import { fieldNumber, Message } from '../src/broker/message.js';
import type { Queue } from '../src/broker/queue.js';

const total = Number(process.argv[2] ?? 1_000_000);
const minDelay = Number(process.argv[3] ?? 10_000);
const maxDelay = Number(process.argv[4] ?? 30_000);
const bodyBytes = Number(process.argv[5] ?? 64);

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** Records lateness = arrival - due time (the publisher's `due` header: publish time + x-delay). */
class LatenessConsumer implements Consumer {
  readonly tag = 'bench';
  readonly noAck = true;
  readonly exclusive = false;
  readonly priority = 0;
  readonly arguments = {};
  readonly owner = { name: 'bench' };
  readonly lateness = new Float64Array(total);
  received = 0;
  early = 0;
  onDone: () => void = () => undefined;

  canTake(): boolean {
    return true;
  }

  deliver(entry: QueueEntry, _queue: Queue): void {
    const late = Date.now() - (fieldNumber(entry.message.properties.headers?.['due']) ?? 0);
    if (late < 0) this.early++;
    this.lateness[this.received++] = late;
    if (this.received === total) this.onDone();
  }

  cancelledByBroker(): void {}
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function main(): Promise<void> {
  const broker = new Broker();
  await broker.start();
  const vhost = broker.getVhost('/')!;
  vhost.declareExchange({
    name: 'delayed',
    type: 'x-delayed-message',
    durable: false,
    autoDelete: false,
    internal: false,
    arguments: { 'x-delayed-type': 'fanout' },
  });
  const owner = { name: 'bench' };
  vhost.declareQueue({ name: 'due', durable: false, exclusive: false, autoDelete: false, arguments: {} }, owner);
  vhost.bindQueue('due', 'delayed', '', {}, owner);
  const consumer = new LatenessConsumer();
  vhost.getQueue('due')!.addConsumer(consumer);
  const router = vhost.getExchange('delayed')!.router as DelayedMessageRouter;
  const done = new Promise<void>((resolve) => (consumer.onDone = resolve));

  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  let seed = 12345;
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  // Publish in slices so the event loop (and the release timer) keeps running, as under real load.
  for (let sent = 0; sent < total; ) {
    const end = Math.min(total, sent + 20_000);
    for (; sent < end; sent++) {
      const delay = Math.floor(minDelay + random() * (maxDelay - minDelay));
      const body = Buffer.allocUnsafe(bodyBytes);
      const headers = { 'x-delay': delay, due: Date.now() + delay };
      vhost.publish(new Message('delayed', `k${sent & 1023}`, { headers, deliveryMode: 1 }, body));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const publishMs = performance.now() - started;
  global.gc?.();
  const peak = process.memoryUsage();
  console.log(
    `published ${total} delayed messages in ${publishMs.toFixed(0)} ms (${((total / publishMs) * 1000).toFixed(0)} msg/s); ` +
      `pending ${router.pendingCount}`,
  );
  console.log(
    `memory with all pending: rss ${mb(peak.rss)} (+${mb(peak.rss - rssBefore)}), heapUsed ${mb(peak.heapUsed)}, ` +
      `~${((peak.rss - rssBefore) / total).toFixed(0)} B per pending message incl. the message itself`,
  );
  let rssMax = peak.rss;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 250);
  await done;
  clearInterval(sampler);
  const sorted = consumer.lateness.sort();
  console.log(
    `delivered ${consumer.received}; lateness vs due time: p50 ${percentile(sorted, 0.5)} ms, p99 ${percentile(sorted, 0.99)} ms, ` +
      `p99.9 ${percentile(sorted, 0.999)} ms, max ${sorted[sorted.length - 1]} ms, early ${consumer.early}; rss max ${mb(rssMax)}`,
  );
  await broker.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
