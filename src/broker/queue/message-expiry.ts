import type { Message } from '../message.js';
import type { Departures } from './departures.js';
import { type Entry, EntryState } from './entry.js';
import { ExpiryTimer, messageTtl } from './expiry-timer.js';
import type { QueueState } from './queue-state.js';

/**
 * Message TTL (x-message-ttl, or a policy's message-ttl, and each message's own `expiration`): how long a
 * message may wait, and expired entries leaving: from the middle of the ready list when the timer fires,
 * or as dispatch and basic.get come across them.
 */
export class MessageExpiry {
  /** The queue's TTL in ms; undefined = none (messages may still carry their own). */
  queueTtl: number | undefined = undefined;
  /** Created when the first entry with an expiry is tracked. */
  private timer: ExpiryTimer | undefined;

  constructor(
    private readonly state: QueueState,
    private readonly departures: Pick<Departures, 'leftWhileReady'>,
  ) {}

  /** The TTL that applies to `message` here: the lower of the queue's and its own (RabbitMQ). */
  ttlOf(message: Message): number | undefined {
    const own = messageTtl(message.properties.expiration);
    const queueTtl = this.queueTtl;
    if (queueTtl === undefined) return own;
    if (own === undefined) return queueTtl;
    return own < queueTtl ? own : queueTtl;
  }

  /** A ready entry with an expiry (new, requeued, read back): it leaves when that passes. */
  track(entry: Entry): void {
    this.timer ??= new ExpiryTimer(() => this.expireDue());
    this.timer.track(entry, this.state.ready.length);
  }

  /** Timer (or the end of a restore): every ready entry past its expiry leaves, wherever it is in the queue. */
  expireDue(): void {
    const timer = this.timer;
    if (timer === undefined || this.state.deleted) return;
    const now = Date.now();
    for (let entry = timer.nextExpired(now); entry !== undefined; entry = timer.nextExpired(now)) {
      this.expireReady(entry);
    }
    timer.rearm();
  }

  /** An expired entry still in the ready list (anywhere): left as a tombstone. */
  expireReady(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.state.ready.discard(entry);
    this.state.readyBytes -= entry.message.bodySize;
    this.state.counters.expired++;
    this.departures.leftWhileReady(entry, 'expired');
  }

  /** An expired entry just taken from the ready list for delivery (its bytes are already counted out). */
  expireTaken(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.state.counters.expired++;
    this.departures.leftWhileReady(entry, 'expired');
  }

  /**
   * Stored messages read back into the ready list: a paging queue learns their expiry only now, so those
   * already past it leave and the others are tracked.
   */
  expireReadBack(entries: readonly Entry[]): void {
    const now = Date.now();
    for (const entry of entries) {
      if (entry.expiresAt === 0 || entry.state !== EntryState.Ready) continue;
      if (entry.expiresAt < now) this.expireReady(entry);
      else this.track(entry);
    }
  }

  /** Every ready entry was dropped (purge, delete). */
  clear(): void {
    this.timer?.clear();
  }

  stop(): void {
    this.timer?.stop();
  }
}
