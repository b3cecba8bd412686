/**
 * x-delayed-message at scale, in process (broker core, no network): publishes N messages with delays
 * spread uniformly over [minDelay, maxDelay] ms to a delayed fanout exchange bound to one queue with a
 * no-ack consumer, then reports RSS at peak (all pending) and the lateness of each delivery against
 * the due time the broker gave it (its clock when it accepted the message + x-delay; the bench installs
 * the delayed type with a clock that records that reading). A due time stamped by the bench before the
 * publish call would count GC pauses in between (scavenges of 20-50 ms while a million messages are
 * allocated) as lateness; how far the broker's acceptance trailed the bench's clock is reported apart,
 * as are the GC pauses during the delivery phase.
 *   node .build/xfeat/bench/delayed.js [messages=1000000] [minDelayMs=10000] [maxDelayMs=30000] [bodyBytes=64]
 */
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { Broker } from '../src/broker/broker.js';
import type { Consumer, QueueEntry } from '../src/broker/front-door.js';
import type { DelayedMessageRouter } from '../src/broker/exchanges/delayed/delayed-router.js';
import { createDelayedMessageType } from '../src/broker/exchanges/delayed/delayed-type.js';
import { Message } from '../src/broker/message.js';
import type { Queue } from '../src/broker/queue.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const total = Number(process.argv[2] ?? 1_000_000);
const minDelay = Number(process.argv[3] ?? 10_000);
const maxDelay = Number(process.argv[4] ?? 30_000);
const bodyBytes = Number(process.argv[5] ?? 64);

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** Due time the broker gave message number n (header `n`). */
const dueOf = new Float64Array(total);

/** Records lateness = arrival - the broker's due time for the message. */
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
  earliest = Infinity;
  onDone: () => void = () => undefined;

  canTake(): boolean {
    return true;
  }

  deliver(entry: QueueEntry, _queue: Queue): void {
    const late = Date.now() - dueOf[entry.message.properties.headers!['n'] as number]!;
    if (late < 0) this.early++;
    this.earliest = Math.min(this.earliest, late);
    this.lateness[this.received++] = late;
    if (this.received === total) this.onDone();
  }

  cancelledByBroker(): void {}
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Longest pause and number of pauses per GC kind (scavenge, mark-compact, ...) from now on. */
function watchGc(): { readonly pauses: Map<string, { count: number; maxMs: number }>; stop(): void } {
  const pauses = new Map<string, { count: number; maxMs: number }>();
  const kinds: Record<number, string> = { 1: 'scavenge', 2: 'minor-mc', 4: 'mark-compact', 8: 'incremental', 16: 'weak-cb' };
  const record = (entry: PerformanceEntry): void => {
    const detail = (entry as { detail?: { kind?: number } }).detail;
    const kind = kinds[detail?.kind ?? 0] ?? 'other';
    const seen = pauses.get(kind) ?? { count: 0, maxMs: 0 };
    seen.count++;
    seen.maxMs = Math.max(seen.maxMs, entry.duration);
    pauses.set(kind, seen);
  };
  const observer = new PerformanceObserver((list) => list.getEntries().forEach(record));
  observer.observe({ entryTypes: ['gc'] });
  return { pauses, stop: () => observer.disconnect() };
}

async function main(): Promise<void> {
  const broker = new Broker();
  // The clock of the delayed exchange, keeping its first reading in each publish: the one the due time
  // is computed from (arming the timer may read it again, later if a GC came in between).
  let brokerNow = NaN;
  const now = (): number => {
    const time = Date.now();
    if (Number.isNaN(brokerNow)) brokerNow = time;
    return time;
  };
  broker.exchangeTypes.register(createDelayedMessageType(broker.exchangeTypes, { now }));
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
  let acceptLagMax = 0;
  // Publish in slices so the event loop (and the release timer) keeps running, as under real load.
  for (let sent = 0; sent < total; ) {
    const end = Math.min(total, sent + 20_000);
    for (; sent < end; sent++) {
      const delay = Math.floor(minDelay + random() * (maxDelay - minDelay));
      const body = Buffer.allocUnsafe(bodyBytes);
      const publishedAt = Date.now();
      brokerNow = NaN;
      vhost.publish(new Message('delayed', `k${sent & 1023}`, { headers: { 'x-delay': delay, n: sent }, deliveryMode: 1 }, body));
      dueOf[sent] = brokerNow + delay;
      acceptLagMax = Math.max(acceptLagMax, brokerNow - publishedAt);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const publishMs = performance.now() - started;
  global.gc?.();
  const peak = process.memoryUsage();
  console.log(
    `published ${total} delayed messages in ${publishMs.toFixed(0)} ms (${((total / publishMs) * 1000).toFixed(0)} msg/s); ` +
      `pending ${router.pendingCount}; acceptance trailed the publisher's clock by up to ${acceptLagMax} ms (GC)`,
  );
  console.log(
    `memory with all pending: rss ${mb(peak.rss)} (+${mb(peak.rss - rssBefore)}), heapUsed ${mb(peak.heapUsed)}, ` +
      `~${((peak.rss - rssBefore) / total).toFixed(0)} B per pending message incl. the message itself`,
  );
  let rssMax = peak.rss;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 250);
  const gc = watchGc();
  await done;
  clearInterval(sampler);
  await new Promise((resolve) => setImmediate(resolve)); // GC entries arrive asynchronously
  gc.stop();
  const sorted = consumer.lateness.sort();
  console.log(
    `delivered ${consumer.received}; lateness vs due time: p50 ${percentile(sorted, 0.5)} ms, p99 ${percentile(sorted, 0.99)} ms, ` +
      `p99.9 ${percentile(sorted, 0.999)} ms, max ${sorted[sorted.length - 1]} ms, early ${consumer.early} (min lateness ${consumer.earliest} ms); rss max ${mb(rssMax)}`,
  );
  const pauses = [...gc.pauses].map(([kind, p]) => `${kind} ${p.count}x max ${p.maxMs.toFixed(1)} ms`);
  console.log(`GC pauses while delivering: ${pauses.join(', ') || 'none'}`);
  await broker.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
