import type { Broker } from '../broker/broker.js';
import type { Exchange } from '../broker/exchanges/exchange.js';
import type { QueueView } from '../broker/queue-view.js';

/** How many samples each object keeps: enough to always have one at least an interval old. */
const SAMPLES = 3;

/** Message counters as the management API names them (message_stats keys). */
export const QUEUE_STATS = ['publish', 'deliver_get', 'ack', 'redeliver'] as const;
export const EXCHANGE_STATS = ['publish_in', 'publish_out'] as const;
export const GLOBAL_STATS = ['publish', 'deliver_get', 'ack', 'redeliver', 'drop_unroutable'] as const;

type Stats = Record<string, number | { rate: number }>;

/**
 * A tiny ring of timestamped counter samples for one object. A rate is the counter's growth from the
 * newest sample that is at least one interval old (or else the oldest one) until now, per second.
 */
class CounterRing {
  private readonly times = new Float64Array(SAMPLES);
  private readonly values: Float64Array;
  private next = 0;
  private size = 0;

  constructor(private readonly width: number) {
    this.values = new Float64Array(SAMPLES * width);
  }

  push(time: number, current: readonly number[]): void {
    this.times[this.next] = time;
    for (let k = 0; k < this.width; k++) this.values[this.next * this.width + k] = current[k] ?? 0;
    this.next = (this.next + 1) % SAMPLES;
    if (this.size < SAMPLES) this.size++;
  }

  rate(k: number, current: number, now: number, minSpanMs: number): number {
    let chosen = -1;
    for (let age = 1; age <= this.size; age++) {
      const slot = (this.next - age + SAMPLES) % SAMPLES;
      chosen = slot;
      if (now - this.times[slot]! >= minSpanMs) break;
    }
    if (chosen < 0) return 0;
    const elapsed = now - this.times[chosen]!;
    if (elapsed <= 0) return 0;
    const grown = current - this.values[chosen * this.width + k]!;
    return grown <= 0 ? 0 : Math.round((grown * 100000) / elapsed) / 100;
  }
}

function queueCounts(queue: QueueView): number[] {
  const c = queue.counters;
  return [c.published, c.delivered, c.acked, c.redelivered];
}

function exchangeCounts(exchange: Exchange): number[] {
  const c = exchange.counters;
  return [c.publishedIn, c.publishedIn - c.unroutable];
}

/** `{publish: 3, publish_details: {rate: 0.6}, ...}` as RabbitMQ's message_stats. */
function statsObject(names: readonly string[], current: readonly number[], ring: CounterRing | undefined, now: number, span: number): Stats {
  const stats: Stats = {};
  names.forEach((name, k) => {
    const value = current[k] ?? 0;
    stats[name] = value;
    stats[`${name}_details`] = { rate: ring === undefined ? 0 : ring.rate(k, value, now, span) };
  });
  return stats;
}

/**
 * Message rates for the management API without per-message work: every interval (5 s) it copies the
 * counters the core already keeps into a small ring per queue, per exchange and for the whole node.
 * Counters of deleted queues and exchanges are folded into node totals, so those never go down.
 */
export class RateSampler {
  private readonly queues = new Map<QueueView, { ring: CounterRing; last: number[] }>();
  private readonly exchanges = new Map<Exchange, { ring: CounterRing; last: number[] }>();
  private readonly global = new CounterRing(GLOBAL_STATS.length);
  /** publish, deliver_get, ack, redeliver, drop_unroutable of objects that are gone. */
  private readonly retired = [0, 0, 0, 0, 0];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    readonly intervalMs = 5000,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample of everything now (the timer calls this; tests may too). */
  sample(): void {
    const now = this.clock();
    this.retireDeleted();
    for (const vhost of this.broker.vhosts.values()) {
      for (const queue of vhost.queues.values()) this.record(this.queues, queue, queueCounts(queue), QUEUE_STATS.length, now);
      for (const exchange of vhost.exchanges.values()) {
        this.record(this.exchanges, exchange, exchangeCounts(exchange), EXCHANGE_STATS.length, now);
      }
    }
    this.global.push(now, this.globalTotals());
  }

  queueStats(queue: QueueView): Stats {
    return statsObject(QUEUE_STATS, queueCounts(queue), this.queues.get(queue)?.ring, this.clock(), this.intervalMs);
  }

  exchangeStats(exchange: Exchange): Stats {
    return statsObject(EXCHANGE_STATS, exchangeCounts(exchange), this.exchanges.get(exchange)?.ring, this.clock(), this.intervalMs);
  }

  overviewStats(): Stats {
    return statsObject(GLOBAL_STATS, this.globalTotals(), this.global, this.clock(), this.intervalMs);
  }

  /**
   * Node-wide totals in GLOBAL_STATS order: messages received (published to exchanges), delivered or
   * got, acknowledged, redelivered, dropped as unroutable; deleted objects included up to their last sample.
   */
  globalTotals(): number[] {
    const totals = [...this.retired];
    for (const vhost of this.broker.vhosts.values()) {
      for (const queue of vhost.queues.values()) {
        const c = queue.counters;
        totals[1]! += c.delivered;
        totals[2]! += c.acked;
        totals[3]! += c.redelivered;
      }
      for (const exchange of vhost.exchanges.values()) {
        totals[0]! += exchange.counters.publishedIn;
        totals[4]! += exchange.counters.unroutable;
      }
    }
    return totals;
  }

  private record<T>(table: Map<T, { ring: CounterRing; last: number[] }>, key: T, counts: number[], width: number, now: number): void {
    let slot = table.get(key);
    if (slot === undefined) {
      slot = { ring: new CounterRing(width), last: counts };
      table.set(key, slot);
    }
    slot.ring.push(now, counts);
    slot.last = counts;
  }

  private retireDeleted(): void {
    for (const [queue, slot] of this.queues) {
      if (!queue.deleted && queue.vhost.getQueue(queue.name) === queue) continue;
      this.queues.delete(queue);
      this.retired[1]! += slot.last[1] ?? 0;
      this.retired[2]! += slot.last[2] ?? 0;
      this.retired[3]! += slot.last[3] ?? 0;
    }
    for (const [exchange, slot] of this.exchanges) {
      if (!exchange.deleted && exchange.vhost.getExchange(exchange.name) === exchange) continue;
      this.exchanges.delete(exchange);
      this.retired[0]! += slot.last[0] ?? 0;
      this.retired[4]! += (slot.last[0] ?? 0) - (slot.last[1] ?? 0);
    }
  }
}
