import type { Consumer } from '../front-door.js';
import type { Message } from '../message.js';
import type { Departures } from './departures.js';
import type { Dispatcher } from './dispatcher.js';
import { EntryState } from './entry.js';
import type { LengthLimit } from './length-limit.js';
import type { MessageExpiry } from './message-expiry.js';
import type { QueueState } from './queue-state.js';
import type { Settlement } from './settlement.js';

/**
 * Taking messages in: the plain fast path, the feature path (TTL, length limits, deduplication), the
 * drop-head length limit, and direct reply-to's hand-over.
 */
export class Intake {
  /** x-max-length(-bytes) with its overflow mode (argument or policy); undefined = none. */
  lengthLimit: LengthLimit | undefined = undefined;
  /** No TTL, length limit or deduplication: enqueue takes the short path (unless a message has `expiration`). */
  private plain: boolean;

  constructor(
    private readonly state: QueueState,
    private readonly expiry: Pick<MessageExpiry, 'ttlOf' | 'track' | 'expireReady'>,
    private readonly departures: Pick<Departures, 'deadLetter' | 'leftWhileReady'>,
    private readonly dispatcher: Pick<Dispatcher, 'offer'>,
    private readonly settlement: Pick<Settlement, 'handOut'>,
  ) {
    this.plain = state.dedup === undefined;
  }

  /** The length limit and queue TTL changed (declare, policy): both decide whether the short path will do. */
  configure(lengthLimit: LengthLimit | undefined, queueTtl: number | undefined): void {
    this.lengthLimit = lengthLimit;
    this.plain = queueTtl === undefined && lengthLimit === undefined && this.state.dedup === undefined;
  }

  /** See Queue.enqueue. */
  enqueue(message: Message): boolean {
    const state = this.state;
    if (state.deleted) return false;
    if (!this.plain || message.properties.expiration !== undefined) return this.enqueueWithFeatures(message);
    const entry = state.newEntry(message);
    if (state.persisted !== undefined) state.persisted.stored(entry);
    state.counters.published++;
    state.pushReady(entry);
    this.dispatcher.offer();
    return true;
  }

  /** Direct reply-to: straight to the waiting (no-ack) consumer, settled at once, never in the ready list. */
  handOver(message: Message, consumer: Consumer): void {
    const entry = this.state.newEntry(message);
    this.state.counters.published++;
    this.settlement.handOut(entry, true);
    consumer.deliver(entry, this.state.queue);
  }

  /** x-overflow drop-head: the oldest ready entries go (dead-lettered, reason maxlen) until within limits. */
  enforceDropHead(): void {
    const limit = this.lengthLimit;
    if (limit === undefined || limit.rejectsPublish) return;
    const state = this.state;
    while (limit.isOver(state.ready.length, state.readyBytes)) {
      const entry = state.ready.takeOldest();
      if (entry === undefined) return;
      entry.state = EntryState.Settled;
      state.readyBytes -= entry.message.bodySize;
      state.counters.overflowDropped++;
      this.departures.leftWhileReady(entry, 'maxlen');
    }
  }

  /** The rare path: TTL, length limit, deduplication, or a message with its own expiration. */
  private enqueueWithFeatures(message: Message): boolean {
    const state = this.state;
    const now = Date.now();
    const limit = this.lengthLimit;
    if (limit?.rejectsPublish && limit.wouldOverflow(state.ready.length, state.readyBytes, message.bodySize)) {
      state.counters.refused++;
      if (limit.deadLettersRefused) this.departures.deadLetter(message, 'maxlen');
      return false;
    }
    if (state.dedup !== undefined && !state.dedup.admit(message, now)) {
      state.counters.duplicates++;
      return true;
    }
    const entry = state.newEntry(message);
    state.persisted?.stored(entry);
    state.counters.published++;
    const ttl = this.expiry.ttlOf(message);
    // TTL 0 is set only after the dispatch attempt: the clock may tick in between.
    if (ttl !== undefined && ttl !== 0) entry.expiresAt = now + ttl;
    state.pushReady(entry);
    this.dispatcher.offer();
    if (ttl === 0) {
      // Delivered at once if a consumer could take it, else expired now (RabbitMQ's rule). If it comes
      // back later it is past its expiry.
      entry.expiresAt = now;
      if (entry.state === EntryState.Ready) this.expiry.expireReady(entry);
    } else if (ttl !== undefined && entry.state === EntryState.Ready) {
      this.expiry.track(entry);
    }
    this.enforceDropHead();
    return true;
  }
}
