import type { Consumer } from '../front-door.js';
import type { Message } from '../message.js';
import { Entry, EntryState } from './entry.js';
import { ExpiryTimer, messageTtl } from './expiry-timer.js';
import { LengthLimit } from './length-limit.js';
import { PagedFifoReady } from './paged-ready.js';
import { QueueCore } from './queue-core.js';

/**
 * Taking messages in: the plain fast path, and the feature path (TTL, length limits, deduplication);
 * and expiry of ready messages (TTL timer, expiry of stored messages as they reach the head).
 */
export abstract class EnqueuingQueue extends QueueCore {
  /**
   * Takes a routed message. Returns false if the queue refused it (deleted, or x-overflow
   * reject-publish when full): the publisher gets basic.nack. A duplicate (x-message-deduplication) is
   * dropped but counts as taken. Dispatch happens synchronously, so a waiting consumer gets it before
   * this returns.
   */
  enqueue(message: Message): boolean {
    if (this.deletedFlag) return false;
    if (!this.plainEnqueue || message.properties.expiration !== undefined) return this.enqueueWithFeatures(message);
    const entry = new Entry(this, this.nextSeq++, message);
    if (this.persisted !== undefined) this.persisted.stored(entry);
    this.counters.published++;
    this.ready.push(entry);
    this.readyBodyBytes += message.bodySize;
    if (!this.stalled && !this.dispatching && this.continuation === undefined && this.consumerSet.size !== 0) {
      this.dispatch();
    }
    return true;
  }

  /**
   * Direct reply-to: hands a message straight to the waiting consumer, bypassing the ready list. The
   * entry is settled at once (reply consumers are always no-ack).
   * @internal used by VHost.publish on the pseudo queue
   */
  handOver(message: Message, consumer: Consumer): void {
    const entry = new Entry(this, this.nextSeq++, message);
    this.counters.published++;
    this.markHandedOut(entry, true);
    consumer.deliver(entry, this.self);
  }

  /** The rare path: TTL, length limit, deduplication, or a message with its own expiration. */
  protected enqueueWithFeatures(message: Message): boolean {
    const now = Date.now();
    const limit = this.lengthLimit;
    if (limit?.rejectsPublish && limit.wouldOverflow(this.ready.length, this.readyBodyBytes, message.bodySize)) {
      this.counters.refused++;
      if (limit.deadLettersRefused) this.deadLetter(message, 'maxlen');
      return false;
    }
    if (this.dedup !== undefined && !this.dedup.admit(message, now)) {
      this.counters.duplicates++;
      return true;
    }
    const entry = new Entry(this, this.nextSeq++, message);
    this.persisted?.stored(entry);
    this.counters.published++;
    const ttl = lowerTtl(this.messageTtl, messageTtl(message.properties.expiration));
    // TTL 0 is set only after the dispatch attempt: the clock may tick in between.
    if (ttl !== undefined && ttl !== 0) entry.expiresAt = now + ttl;
    this.ready.push(entry);
    this.readyBodyBytes += message.bodySize;
    if (!this.stalled && !this.dispatching && this.continuation === undefined && this.consumerSet.size !== 0) {
      this.dispatch();
    }
    if (ttl === 0) {
      // Delivered at once if a consumer could take it, else expired now (RabbitMQ's rule). If it comes
      // back later it is past its expiry.
      entry.expiresAt = now;
      if (entry.state === EntryState.Ready) this.expireReady(entry);
    } else if (ttl !== undefined && entry.state === EntryState.Ready) {
      this.trackExpiry(entry);
    }
    if (limit !== undefined && !limit.rejectsPublish) this.dropHeadOverflow(limit);
    return true;
  }

  /** x-overflow drop-head: the oldest ready entries go (dead-lettered, reason maxlen) until within limits. */
  protected dropHeadOverflow(limit: LengthLimit): void {
    while (limit.isOver(this.ready.length, this.readyBodyBytes)) {
      const entry = this.ready.takeOldest();
      if (entry === undefined) return;
      entry.state = EntryState.Settled;
      this.readyBodyBytes -= entry.message.bodySize;
      this.counters.overflowDropped++;
      this.leftWhileReady(entry, 'maxlen');
    }
  }

  protected trackExpiry(entry: Entry): void {
    this.expiry ??= new ExpiryTimer(() => this.expireDue());
    this.expiry.track(entry, this.ready.length);
  }

  /** Timer: every ready entry past its expiry leaves, wherever it is in the queue. */
  protected expireDue(): void {
    const expiry = this.expiry;
    if (expiry === undefined || this.deletedFlag) return;
    const now = Date.now();
    for (let entry = expiry.nextExpired(now); entry !== undefined; entry = expiry.nextExpired(now)) {
      this.expireReady(entry);
    }
    expiry.rearm();
  }

  /** An expired entry still in the ready list (anywhere): left as a tombstone. */
  protected expireReady(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.ready.discard(entry);
    this.readyBodyBytes -= entry.message.bodySize;
    this.counters.expired++;
    this.leftWhileReady(entry, 'expired');
  }

  /**
   * Stored messages were read back (paged in, ahead of the consumers): a paging queue learns their TTLs
   * only now, so those already past it leave (dead-lettered if configured) and the others are watched;
   * messages further back are looked at as they come in, as RabbitMQ does from the head for
   * per-message TTL. A drop-head limit that waited for the head is applied, and dispatch resumes.
   */
  protected pagedIn(entries: readonly Entry[]): void {
    if (this.deletedFlag) return;
    const now = Date.now();
    for (const entry of entries) {
      if (entry.expiresAt === 0 || entry.state !== EntryState.Ready) continue;
      if (entry.expiresAt < now) this.expireReady(entry);
      else this.trackExpiry(entry);
    }
    const limit = this.lengthLimit;
    if (limit !== undefined && !limit.rejectsPublish) this.dropHeadOverflow(limit);
    // Everything read had expired: read on, so what expired while waiting leaves without a consumer.
    if (this.ready instanceof PagedFifoReady && !this.ready.hasDeliverable()) this.ready.prefetch();
    this.resumeDispatch();
  }
}

/** Queue TTL and message TTL: the lower applies (RabbitMQ). */
function lowerTtl(queueTtl: number | undefined, ownTtl: number | undefined): number | undefined {
  if (queueTtl === undefined) return ownTtl;
  if (ownTtl === undefined) return queueTtl;
  return ownTtl < queueTtl ? ownTtl : queueTtl;
}
