import type { Binding } from '../binding.js';
import type { Consumer, QueueEntry, SessionOwner } from '../consumer.js';
import { accessRefused, describeResource, notFound, resourceLocked } from '../errors.js';
import type { FieldTable, Message } from '../message.js';
import { resolveQueueSettings, type Policy } from '../policies/index.js';
import type { VHost } from '../vhost.js';
import { ConsumerTimeouts } from './consumer-timeout.js';
import { ConsumerSet } from './consumer-set.js';
import { QueueCounters } from './counters.js';
import { deadLetteredMessage, type DeadLetterTarget, type DeathReason } from './dead-letter.js';
import { DeduplicationCache } from './deduplication.js';
import { DurableMessages, type DurableStoreAccess } from './durable-messages.js';
import { withDeliveryCount } from './delivery-limit.js';
import { Entry, EntryState } from './entry.js';
import { ExpiryTimer, messageTtl } from './expiry-timer.js';
import { IdleExpiry } from './idle-expiry.js';
import { LengthLimit } from './length-limit.js';
import { GroupedReady } from './message-groups.js';
import { PagedFifoReady } from './paged-ready.js';
import { PriorityReady } from './priority-ready.js';
import { restoreReadBackState } from './read-back.js';
import { parseQueueArguments, PLAIN_QUEUE, type QueueSettings } from './queue-arguments.js';
import { FifoReady, type ReadyEntries } from './ready-entries.js';
import { SingleActiveConsumerSet, type ConsumerRoster } from './single-active-consumer.js';

/**
 * Most entries one dispatch pass hands out before yielding to the event loop (a consumer with no
 * prefetch limit attaching to a large backlog must not stall every other connection).
 */
export const DISPATCH_BATCH = 512;

export interface QueueOptions {
  durable: boolean;
  autoDelete: boolean;
  exclusiveOwner: SessionOwner | undefined;
  arguments: FieldTable;
  /** The direct reply-to pseudo queue: never enqueued to, never in the vhost's queue table. */
  directReplyTo?: boolean;
  /** The broker's consumer timeout (limits.consumerTimeoutMs) for queues without x-consumer-timeout; 0 = off. */
  defaultConsumerTimeoutMs?: number;
  /** The durable store, when persistent messages of durable queues are written to disk. */
  durableStore?: DurableStoreAccess | undefined;
  /** The store's stream name of this queue (when durableStore is given). */
  streamName?: string;
}

/**
 * One queue: the ready entries, the consumers it dispatches to, and the count of entries handed out
 * and not yet settled (the entries themselves are held by the consumer side until ack/reject).
 *
 * Features (TTL, dead-lettering, length limits, priorities, delivery limit, consumer timeout, single
 * active consumer, deduplication, message groups, x-expires) are objects chosen from the arguments at
 * declare time; a queue declared without them takes the same fast path as before they existed.
 */
export class Queue {
  readonly kind = 'queue' as const;
  /** Routing epoch this queue was last reached in (see RouteCollector). */
  routeMark = 0;
  readonly counters = new QueueCounters();
  /** Explicit bindings to this queue (the default exchange's implicit one is not listed). */
  readonly bindings = new Set<Binding>();
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusiveOwner: SessionOwner | undefined;
  readonly arguments: FieldTable;
  /** The parsed x-arguments. */
  readonly settings: Readonly<QueueSettings>;
  /** True for the pseudo queue that direct reply-to deliveries name; lets a front door tell them apart. */
  readonly isDirectReplyTo: boolean;

  private readonly ready: ReadyEntries;
  /** `ready` when the queue has message groups (their consumer preference is asked for in dispatch). */
  private readonly grouped: GroupedReady | undefined;
  private readonly consumerSet: ConsumerRoster;
  private nextSeq = 1;
  private unacked = 0;
  private readyBodyBytes = 0;
  private exclusiveConsumer: Consumer | undefined;
  private hadConsumer = false;
  private deletedFlag = false;
  /** Every consumer declined (canTake false): wait for resumeDispatch instead of asking per message. */
  private stalled = false;
  private dispatching = false;
  private continuation: NodeJS.Immediate | undefined;
  private readonly continueDispatch = (): void => {
    this.continuation = undefined;
    this.dispatch();
  };
  /** A settlement freed a message group; one resume at the end of the current task serves them all. */
  private resumeAfterSettlements = false;
  private readonly resumeSettled = (): void => {
    this.resumeAfterSettlements = false;
    if (!this.deletedFlag) this.resumeDispatch();
  };

  // ---- features; undefined when the queue does not use them ----------------------------------
  /** No TTL, length limit or deduplication: enqueue takes the short path (unless a message has `expiration`). */
  private plainEnqueue: boolean;
  private messageTtl: number | undefined;
  private expiry: ExpiryTimer | undefined;
  private deadLetterTarget: DeadLetterTarget | undefined;
  private lengthLimit: LengthLimit | undefined;
  private deliveryLimit: number | undefined;
  private timeouts: ConsumerTimeouts | undefined;
  private readonly dedup: DeduplicationCache | undefined;
  private idleExpiry: IdleExpiry | undefined;
  private readonly defaultConsumerTimeoutMs: number;
  private readonly takeBackLate = (entry: Entry): void => this.takeBack(entry);
  /** Message groups or deduplication by presence need to hear when an entry is settled. */
  private readonly watchesSettlement: boolean;
  /** Durable queue with a disk store: persistent messages are written (durable-messages.ts). */
  private readonly persisted: DurableMessages | undefined;

  constructor(
    readonly vhost: VHost,
    readonly name: string,
    options: QueueOptions,
  ) {
    this.durable = options.durable;
    this.autoDelete = options.autoDelete;
    this.exclusiveOwner = options.exclusiveOwner;
    this.arguments = options.arguments;
    this.isDirectReplyTo = options.directReplyTo === true;
    const settings = this.isDirectReplyTo
      ? PLAIN_QUEUE
      : parseQueueArguments(options.arguments, describeResource('queue', name, vhost.name));
    this.settings = settings;
    this.persisted =
      options.durableStore !== undefined && this.durable && this.exclusiveOwner === undefined
        ? new DurableMessages(
            options.durableStore,
            options.streamName ?? name,
            this,
            (bytes) => void (this.readyBodyBytes += bytes),
            (entry) => restoreReadBackState(entry, this.messageTtl, this.deliveryLimit),
          )
        : undefined;
    this.ready = this.persisted?.readyEntriesFor(settings) ?? readyEntriesFor(settings);
    this.grouped = this.ready instanceof GroupedReady ? this.ready : undefined;
    this.consumerSet = settings.singleActiveConsumer ? new SingleActiveConsumerSet() : new ConsumerSet();
    this.messageTtl = settings.messageTtl;
    this.deadLetterTarget =
      settings.deadLetterExchange === undefined
        ? undefined
        : { exchange: settings.deadLetterExchange, routingKey: settings.deadLetterRoutingKey };
    this.lengthLimit = LengthLimit.of(settings.maxLength, settings.maxLengthBytes, settings.overflow);
    this.deliveryLimit = settings.deliveryLimit;
    this.defaultConsumerTimeoutMs = options.defaultConsumerTimeoutMs ?? 0;
    const timeoutMs = settings.consumerTimeout ?? this.defaultConsumerTimeoutMs;
    this.timeouts = timeoutMs > 0 ? new ConsumerTimeouts(timeoutMs, this.takeBackLate) : undefined;
    this.dedup = settings.deduplication === undefined ? undefined : new DeduplicationCache(settings.deduplication);
    this.watchesSettlement = settings.messageGroupHeader !== undefined || this.dedup?.tracksPresence === true;
    this.plainEnqueue = this.messageTtl === undefined && this.lengthLimit === undefined && this.dedup === undefined;
    if (settings.expires !== undefined) {
      this.idleExpiry = new IdleExpiry(settings.expires, () => this.expireIdle());
      this.idleExpiry.start();
    }
  }

  /** "queue 'q' in vhost '/'" for reply texts. */
  get resource(): string {
    return describeResource('queue', this.name, this.vhost.name);
  }

  get deleted(): boolean {
    return this.deletedFlag;
  }

  readyCount(): number {
    return this.ready.length;
  }

  unackedCount(): number {
    return this.unacked;
  }

  consumerCount(): number {
    return this.consumerSet.size;
  }

  /** Body bytes of the ready entries (for max-length-bytes and metrics). */
  readyBytes(): number {
    return this.readyBodyBytes;
  }

  get consumers(): readonly Consumer[] {
    return this.consumerSet.consumers;
  }

  /** The consumer deliveries go to (x-single-active-consumer), if any. */
  get activeConsumer(): Consumer | undefined {
    return this.consumerSet instanceof SingleActiveConsumerSet ? this.consumerSet.active : undefined;
  }

  /** 405 unless `owner` may use this queue: an exclusive queue belongs to one connection. */
  checkAccess(owner: SessionOwner): void {
    if (this.exclusiveOwner !== undefined && this.exclusiveOwner !== owner) throw this.lockedError();
  }

  lockedError(): Error {
    return resourceLocked(
      `cannot obtain exclusive access to locked ${this.resource}. It could be originally declared on another ` +
        'connection or the exclusive property value does not match that of the original declaration.',
    );
  }

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
    consumer.deliver(entry, this);
  }

  /**
   * Adds a consumer and dispatches to it at once. A front door that must send consume-ok before the
   * first delivery either writes it first or keeps canTake() false until then and calls resumeDispatch.
   */
  addConsumer(consumer: Consumer): void {
    if (this.deletedFlag) throw notFound('queue', this.name, this.vhost.name);
    this.checkAccess(consumer.owner);
    this.assertConsumable(consumer);
    this.consumerSet.add(consumer);
    if (consumer.exclusive) this.exclusiveConsumer = consumer;
    this.hadConsumer = true;
    this.grouped?.forgetConsumers();
    this.idleExpiry?.pause();
    this.resumeDispatch();
  }

  /** 403 when an exclusive consumer is or would be involved; lets a front door check before consume-ok. */
  assertConsumable(consumer: Consumer): void {
    if (this.exclusiveConsumer !== undefined || (consumer.exclusive && this.consumerSet.size !== 0)) {
      throw accessRefused(`${this.resource} in exclusive use`);
    }
  }

  /** Removes a consumer (basic.cancel, channel closed). The last one gone deletes an auto-delete queue. */
  removeConsumer(consumer: Consumer): void {
    if (!this.consumerSet.remove(consumer)) return;
    this.grouped?.forgetConsumers();
    if (this.exclusiveConsumer === consumer) this.exclusiveConsumer = undefined;
    if (this.consumerSet.size === 0 && this.autoDelete && this.hadConsumer && !this.deletedFlag) {
      this.vhost.destroyQueue(this);
      return;
    }
    if (this.consumerSet.size === 0) this.idleExpiry?.start();
    // A single active consumer handed over. The next one starts on the next turn, so that the deliveries
    // the old one held (requeued by its closing channel right after this) go out first, in order.
    else if (this.activeConsumer !== undefined && !this.deletedFlag) {
      this.stalled = false;
      this.continuation ??= setImmediate(this.continueDispatch);
    }
  }

  /** basic.get: the next ready entry. With noAck it is settled at once; otherwise the caller acks it. */
  get(noAck: boolean): QueueEntry | undefined {
    if (this.deletedFlag) return undefined;
    this.idleExpiry?.touch();
    for (;;) {
      const entry = this.ready.take();
      if (entry === undefined) return undefined;
      this.readyBodyBytes -= entry.message.bodySize;
      if (entry.expiresAt !== 0 && entry.expiresAt < Date.now()) {
        this.expireTaken(entry);
        continue;
      }
      this.markHandedOut(entry, noAck);
      return entry;
    }
  }

  /**
   * Up to `count` ready entries from position `offset` (0 = next to deliver), in delivery order, left
   * exactly as they are: no delivery counted, no redelivered flag (management API message browsing).
   */
  browse(offset: number, count: number): QueueEntry[] {
    if (count <= 0) return [];
    return this.ready.browse(offset, count);
  }

  /** Same as browse (the name the management API first used). */
  peek(offset: number, count: number): QueueEntry[] {
    return this.browse(offset, count);
  }

  ack(entry: QueueEntry): void {
    const own = this.unackedEntry(entry);
    if (own === undefined) return;
    own.state = EntryState.Settled;
    this.persisted?.settled(own);
    this.unacked--;
    this.counters.acked++;
    if (this.watchesSettlement) this.settledAfterDelivery(own);
  }

  /**
   * requeue=true: back to its original place, redelivered (unless the delivery limit is reached).
   * false: dead-lettered (reason rejected) or dropped.
   */
  reject(entry: QueueEntry, requeue: boolean): void {
    const own = this.unackedEntry(entry);
    if (own === undefined) return;
    if (requeue) {
      this.returnEntry(own);
      this.resumeDispatch();
      return;
    }
    own.state = EntryState.Settled;
    this.persisted?.settled(own);
    this.unacked--;
    this.counters.rejected++;
    if (this.watchesSettlement) this.settledAfterDelivery(own);
    this.deadLetter(own.message, 'rejected');
  }

  /** Many entries back at once (channel closed, basic.recover), each to its original place. */
  requeue(entries: Iterable<QueueEntry>): void {
    const own: Entry[] = [];
    for (const entry of entries) {
      const candidate = this.unackedEntry(entry);
      if (candidate === undefined) continue;
      candidate.state = EntryState.Ready; // a duplicate in `entries` is then skipped
      own.push(candidate);
    }
    if (own.length === 0) return;
    // Newest first: each then lands in front of the previous one, O(1) per entry in the usual case.
    own.sort((a, b) => b.seq - a.seq);
    for (const entry of own) this.returnEntry(entry);
    this.resumeDispatch();
  }

  /**
   * Consumer timeout extension: the unacked delivery `entry` gets the full timeout again from now.
   * False when the queue has no consumer timeout or the entry is not an unacked delivery of this queue.
   */
  extendDelivery(entry: QueueEntry): boolean {
    const own = this.unackedEntry(entry);
    if (own === undefined || this.timeouts === undefined) return false;
    return this.timeouts.extend(own, Date.now(), this.unacked);
  }

  /** Drops every ready entry; unacked ones are not touched. Returns how many were dropped. */
  purge(): number {
    const purged = this.dropAllReady();
    this.counters.purged += purged;
    return purged;
  }

  /** A consumer may take more now (ack freed prefetch, socket drained, flow resumed). */
  resumeDispatch(): void {
    this.stalled = false;
    if (this.ready.hasDeliverable() && this.consumerSet.size !== 0) this.dispatch();
  }

  /**
   * The policy that applies changed (src/broker/policies): TTL, x-expires, length limits, overflow,
   * dead-lettering, delivery limit and consumer timeout are recomputed from the x-arguments and the
   * policy with RabbitMQ's precedence (resolveQueueSettings). A new length limit is enforced at once;
   * a new TTL applies to messages enqueued from now on (and to stored messages read back from disk,
   * counted from their publish time: read-back.ts); a changed consumer timeout applies to
   * deliveries made from now on. @internal VHostPolicies
   */
  applyPolicy(policy: Policy | undefined): void {
    if (this.isDirectReplyTo || this.deletedFlag) return;
    const s = resolveQueueSettings(this.arguments, policy);
    this.messageTtl = s.messageTtl;
    this.deadLetterTarget =
      s.deadLetterExchange === undefined ? undefined : { exchange: s.deadLetterExchange, routingKey: s.deadLetterRoutingKey };
    this.lengthLimit = LengthLimit.of(s.maxLength, s.maxLengthBytes, s.overflow ?? 'drop-head');
    this.deliveryLimit = s.deliveryLimit;
    this.plainEnqueue = this.messageTtl === undefined && this.lengthLimit === undefined && this.dedup === undefined;
    this.reconfigureConsumerTimeout(s.consumerTimeout ?? this.defaultConsumerTimeoutMs);
    this.reconfigureIdleExpiry(s.expires);
    if (this.lengthLimit !== undefined && !this.lengthLimit.rejectsPublish) this.dropHeadOverflow(this.lengthLimit);
  }

  private reconfigureConsumerTimeout(ms: number): void {
    if ((this.timeouts?.timeoutMs ?? 0) === ms) return;
    this.timeouts?.stop();
    this.timeouts = ms > 0 ? new ConsumerTimeouts(ms, this.takeBackLate) : undefined;
  }

  private reconfigureIdleExpiry(ms: number | undefined): void {
    if (this.idleExpiry?.ms === ms) return;
    this.idleExpiry?.stop();
    this.idleExpiry = ms === undefined ? undefined : new IdleExpiry(ms, () => this.expireIdle());
    if (this.consumerSet.size === 0) this.idleExpiry?.start();
  }

  /** A non-passive redeclare: counts as use for x-expires. @internal VHost.declareQueue */
  redeclared(): void {
    this.idleExpiry?.touch();
  }

  /**
   * Called by the VHost when the queue is deleted: cancels consumers, drops ready entries and forgets
   * unacked ones (their later acks are no-ops). Returns the number of ready entries dropped.
   * @internal use VHost.deleteQueue
   */
  close(): number {
    if (this.deletedFlag) return 0;
    this.deletedFlag = true;
    this.stopTimers();
    this.persisted?.beginClose();
    const dropped = this.dropAllReady();
    this.unacked = 0;
    this.exclusiveConsumer = undefined;
    this.dedup?.clear();
    for (const consumer of this.consumerSet.drain()) consumer.cancelledByBroker(this);
    return dropped;
  }

  /** Cancels pending dispatch continuations and feature timers (broker stopping, queue deleted). */
  stopTimers(): void {
    if (this.continuation !== undefined) {
      clearImmediate(this.continuation);
      this.continuation = undefined;
    }
    this.expiry?.stop();
    this.timeouts?.stop();
    this.idleExpiry?.stop();
  }

  private dispatch(): void {
    if (this.dispatching || this.deletedFlag) return;
    this.dispatching = true;
    try {
      let budget = DISPATCH_BATCH;
      while (this.ready.hasDeliverable()) {
        if (budget-- === 0) {
          this.continuation ??= setImmediate(this.continueDispatch);
          return;
        }
        const grouped = this.grouped;
        const consumer =
          grouped === undefined ? this.consumerSet.pick() : this.consumerSet.pickPreferring(grouped.nextPreferredConsumer());
        if (consumer === undefined) {
          this.stalled = true;
          return;
        }
        const entry = this.ready.take()!;
        if (grouped !== undefined) grouped.deliveredTo(entry, consumer);
        this.readyBodyBytes -= entry.message.bodySize;
        if (entry.expiresAt !== 0 && entry.expiresAt < Date.now()) {
          this.expireTaken(entry);
          continue;
        }
        this.markHandedOut(entry, consumer.noAck);
        consumer.deliver(entry, this);
        if (this.deletedFlag) return;
      }
    } finally {
      this.dispatching = false;
    }
  }

  private markHandedOut(entry: Entry, noAck: boolean): void {
    this.persisted?.handedOut(entry, noAck);
    entry.deliveryCount++;
    if (entry.redelivered) this.counters.redelivered++;
    this.counters.delivered++;
    if (noAck) {
      entry.state = EntryState.Settled;
      if (this.watchesSettlement) this.settledAfterDelivery(entry);
    } else {
      entry.state = EntryState.Unacked;
      this.unacked++;
      if (this.timeouts !== undefined) this.timeouts.track(entry, Date.now(), this.unacked);
    }
  }

  /** A delivered entry came back (reject/nack with requeue, recover, channel closed). */
  private returnEntry(entry: Entry): void {
    if (this.deliveryLimit !== undefined && entry.deliveryCount > this.deliveryLimit) {
      this.dropOverDeliveryLimit(entry);
      return;
    }
    entry.state = EntryState.Ready;
    entry.redelivered = true;
    this.unacked--;
    this.counters.requeued++;
    if (this.deliveryLimit !== undefined) entry.message = withDeliveryCount(entry.message, entry.deliveryCount);
    this.putBackReady(entry);
    // Put back before releasing, so a message group is never forgotten while its entry is on the way back.
    if (this.watchesSettlement) this.ready.release(entry);
  }

  private putBackReady(entry: Entry): void {
    this.persisted?.returned(entry);
    this.ready.putBack(entry);
    this.readyBodyBytes += entry.message.bodySize;
    if (entry.expiresAt !== 0) this.trackExpiry(entry);
  }

  /** x-delivery-limit: returned more often than allowed; dead-lettered (delivery_limit) or dropped. */
  private dropOverDeliveryLimit(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.persisted?.settled(entry);
    this.unacked--;
    this.counters.deliveryLimited++;
    if (this.watchesSettlement) this.settledAfterDelivery(entry);
    this.deadLetter(entry.message, 'delivery_limit');
  }

  /**
   * Consumer timeout: the delivery was not settled in time. It goes back to its place as a fresh entry
   * (redelivered); the late consumer's copy is settled, so its ack or reject later is a no-op.
   */
  private takeBack(late: Entry): void {
    if (this.deletedFlag || late.state !== EntryState.Unacked) return;
    this.counters.timedOut++;
    this.vhost.logger.debug({ queue: this.name, vhost: this.vhost.name, seq: late.seq }, 'consumer timeout: delivery taken back');
    const fresh = late.cloneForRequeue();
    late.state = EntryState.Settled;
    if (this.deliveryLimit !== undefined && fresh.deliveryCount > this.deliveryLimit) {
      this.dropOverDeliveryLimit(lateCopyUnacked(fresh));
      return;
    }
    this.unacked--;
    this.counters.requeued++;
    if (this.deliveryLimit !== undefined) fresh.message = withDeliveryCount(fresh.message, fresh.deliveryCount);
    this.putBackReady(fresh);
    if (this.watchesSettlement) this.ready.release(late);
    this.resumeDispatch();
  }

  /** A handed-out entry is done with (acked, rejected, delivered no-ack): groups and dedup hear of it. */
  private settledAfterDelivery(entry: Entry): void {
    this.ready.release(entry);
    if (this.dedup?.tracksPresence) this.dedup.forget(entry.message);
    // A message group may be free now. Consumers' acks resume dispatch after their whole ack frame, but
    // basic.get acks and no-ack deliveries do not: one resume after the current task (a microtask) covers
    // every group a frame or a dispatch pass freed, instead of a dispatch pass per settled message.
    if (this.grouped !== undefined && !this.resumeAfterSettlements) {
      this.resumeAfterSettlements = true;
      queueMicrotask(this.resumeSettled);
    }
  }

  /** The rare path: TTL, length limit, deduplication, or a message with its own expiration. */
  private enqueueWithFeatures(message: Message): boolean {
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
  private dropHeadOverflow(limit: LengthLimit): void {
    while (limit.isOver(this.ready.length, this.readyBodyBytes)) {
      const entry = this.ready.takeOldest();
      if (entry === undefined) return;
      entry.state = EntryState.Settled;
      this.readyBodyBytes -= entry.message.bodySize;
      this.counters.overflowDropped++;
      this.leftWhileReady(entry, 'maxlen');
    }
  }

  private trackExpiry(entry: Entry): void {
    this.expiry ??= new ExpiryTimer(() => this.expireDue());
    this.expiry.track(entry, this.ready.length);
  }

  /** Timer: every ready entry past its expiry leaves, wherever it is in the queue. */
  private expireDue(): void {
    const expiry = this.expiry;
    if (expiry === undefined || this.deletedFlag) return;
    const now = Date.now();
    for (let entry = expiry.nextExpired(now); entry !== undefined; entry = expiry.nextExpired(now)) {
      this.expireReady(entry);
    }
    if (this.ready instanceof PagedFifoReady) this.expireStoredHead(this.ready, now);
    expiry.rearm();
  }

  /** An expired entry still in the ready list (anywhere): left as a tombstone. */
  private expireReady(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.ready.discard(entry);
    this.readyBodyBytes -= entry.message.bodySize;
    this.counters.expired++;
    this.leftWhileReady(entry, 'expired');
  }

  /** An expired entry just taken from the ready list for delivery. */
  private expireTaken(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.counters.expired++;
    this.leftWhileReady(entry, 'expired');
  }

  private leftWhileReady(entry: Entry, reason: DeathReason): void {
    this.persisted?.settled(entry);
    if (this.dedup?.tracksPresence) this.dedup.forget(entry.message);
    this.deadLetter(entry.message, reason);
  }

  private deadLetter(message: Message, reason: DeathReason): void {
    const target = this.deadLetterTarget;
    if (target === undefined) return;
    this.counters.deadLettered++;
    this.vhost.publishDeadLetter(deadLetteredMessage(message, reason, this.name, target, Date.now()), reason);
  }

  private dropAllReady(): number {
    const dropped = this.ready.clear();
    for (const entry of dropped) entry.state = EntryState.Settled;
    this.persisted?.dropped(dropped);
    if (this.dedup?.tracksPresence) for (const entry of dropped) this.dedup.forget(entry.message);
    this.readyBodyBytes = 0;
    this.expiry?.clear();
    return dropped.length;
  }

  /** x-expires: unused for that long. Deleted like queue.delete (consumers would have paused the clock). */
  private expireIdle(): void {
    if (this.deletedFlag || this.consumerSet.size !== 0) return;
    this.vhost.logger.debug({ queue: this.name, vhost: this.vhost.name }, 'queue expired (x-expires)');
    this.vhost.destroyQueue(this);
  }

  /**
   * Messages recovered from the store, in queue order, behind whatever is ready. Delivered ones come back
   * redelivered. A paging queue reads them when they reach the head (unless x-max-length-bytes needs
   * their sizes now); others read them now. Nothing leaves the queue here: finishRestore does that once
   * every queue is restored, so dead letters land behind the recovered messages of their DLQ.
   * @internal Broker.start
   */
  restoreStored(handles: Float64Array, delivered: Uint8Array): void {
    const persisted = this.persisted;
    if (persisted === undefined) return;
    const ready = this.ready;
    const paging = ready instanceof PagedFifoReady && this.lengthLimit?.limitsBytes !== true;
    for (let i = 0; i < handles.length; i++) {
      if (paging) ready.pushStored(this.nextSeq++, handles[i]!, delivered[i] === 1);
      else this.restoreEntry(persisted.revive(this.nextSeq++, handles[i]!, delivered[i] === 1, true));
    }
  }

  /**
   * After every queue restored its messages: what expired while the broker was down leaves (dead-lettered
   * if configured), drop-head length limits are enforced (deliveries that were unacked came back), and
   * dispatch starts. @internal Broker.start
   */
  finishRestore(): void {
    if (this.persisted === undefined || this.deletedFlag) return;
    const now = Date.now();
    if (this.expiry !== undefined) this.expireDue();
    else if (this.ready instanceof PagedFifoReady) this.expireStoredHead(this.ready, now);
    if (this.lengthLimit !== undefined && !this.lengthLimit.rejectsPublish) this.dropHeadOverflow(this.lengthLimit);
    this.resumeDispatch();
  }

  /** A recovered entry read now (expiry and delivery count already set by restoreReadBackState). */
  private restoreEntry(entry: Entry): void {
    // Presence mode: ids of queued messages are duplicates again; a window counts from their publish time.
    this.dedup?.admit(entry.message, entry.message.publishedAt);
    this.ready.push(entry);
    this.readyBodyBytes += entry.message.bodySize;
    if (entry.expiresAt !== 0) this.trackExpiry(entry);
  }

  /**
   * A paging queue knows a stored message's TTL only once it has read it, so expiry works from the head,
   * as RabbitMQ's does for per-message TTL: the head is read; if expired it leaves and the next is read,
   * at most a batch per turn; if it expires later, the timer watches it. A head without TTL ends the scan
   * (messages behind it expire when they reach the head or a consumer).
   */
  private expireStoredHead(ready: PagedFifoReady, now: number): void {
    for (let budget = DISPATCH_BATCH; ; budget--) {
      const head = ready.loadColdHead();
      if (head === undefined || head.expiresAt === 0) return;
      if (head.expiresAt >= now || budget === 0) {
        this.trackExpiry(head);
        return;
      }
      ready.take();
      this.readyBodyBytes -= head.message.bodySize;
      this.expireTaken(head);
    }
  }

  /** The entry as this queue's own, if it is one of ours and still waiting for a settlement. */
  private unackedEntry(entry: QueueEntry): Entry | undefined {
    if (this.deletedFlag || !(entry instanceof Entry)) return undefined;
    if (entry.queue !== this || entry.state !== EntryState.Unacked) return undefined;
    return entry;
  }
}

function readyEntriesFor(settings: QueueSettings): ReadyEntries {
  if (settings.messageGroupHeader !== undefined) return new GroupedReady(settings.messageGroupHeader);
  if (settings.maxPriority !== undefined) return new PriorityReady(settings.maxPriority);
  return new FifoReady();
}

/** Queue TTL and message TTL: the lower applies (RabbitMQ). */
function lowerTtl(queueTtl: number | undefined, ownTtl: number | undefined): number | undefined {
  if (queueTtl === undefined) return ownTtl;
  if (ownTtl === undefined) return queueTtl;
  return ownTtl < queueTtl ? ownTtl : queueTtl;
}

/** The clone of a taken-back delivery counts as unacked until dropOverDeliveryLimit settles it. */
function lateCopyUnacked(fresh: Entry): Entry {
  fresh.state = EntryState.Unacked;
  return fresh;
}
