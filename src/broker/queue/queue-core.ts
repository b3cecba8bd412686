import type { Binding } from '../binding.js';
import type { Consumer, QueueEntry, SessionOwner } from '../front-door.js';
import { describeResource, resourceLocked } from '../errors.js';
import type { FieldTable, Message } from '../message.js';
import type { VHost } from '../vhost.js';
import { ConsumerTimeouts } from './consumer-timeout.js';
import { ConsumerSet } from './consumer-set.js';
import { QueueCounters } from './counters.js';
import { deadLetteredMessage, type DeadLetterTarget, type DeathReason } from './dead-letter.js';
import { DeduplicationCache } from './deduplication.js';
import { DurableMessages, type DurableStoreAccess } from './durable-messages.js';
import { Entry, EntryState } from './entry.js';
import { ExpiryTimer } from './expiry-timer.js';
import { IdleExpiry } from './idle-expiry.js';
import { LengthLimit } from './length-limit.js';
import { GroupedReady } from './message-groups.js';
import { PriorityReady } from './priority-ready.js';
import { restoreReadBackState } from './read-back.js';
import { assertQueueTypeAllows, parseQueueArguments, PLAIN_QUEUE, type QueueSettings } from './queue-arguments.js';
import { FifoReady, type ReadyEntries } from './ready-entries.js';
import { SingleActiveConsumerSet, type ConsumerRoster } from './single-active-consumer.js';
import type { Queue } from './queue.js';

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
 * The state every part of a queue works on, and the dispatch loop. The queue is built in layers, one file
 * per concern, each extending the one before: this core; enqueue and expiry (queue-enqueue.ts); settlement
 * (queue-settlement.ts); consumers, policies, deletion and recovery (queue.ts, the Queue everyone uses).
 * Queue is the only concrete class, so `this` is a Queue wherever one is handed out (see `self`).
 */
export abstract class QueueCore {
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

  protected readonly ready: ReadyEntries;
  /** `ready` when the queue has message groups (dispatch asks it which consumer may take what). */
  protected readonly grouped: GroupedReady | undefined;
  protected readonly consumerSet: ConsumerRoster;
  protected nextSeq = 1;
  protected unacked = 0;
  protected readyBodyBytes = 0;
  protected exclusiveConsumer: Consumer | undefined;
  protected hadConsumer = false;
  protected deletedFlag = false;
  /** Every consumer declined (canTake false): wait for resumeDispatch instead of asking per message. */
  protected stalled = false;
  protected dispatching = false;
  protected continuation: NodeJS.Immediate | undefined;
  protected readonly continueDispatch = (): void => {
    this.continuation = undefined;
    this.dispatch();
  };
  /** A settlement freed a message group; one resume at the end of the current task serves them all. */
  protected resumeAfterSettlements = false;
  protected readonly resumeSettled = (): void => {
    this.resumeAfterSettlements = false;
    if (!this.deletedFlag) this.resumeDispatch();
  };

  // ---- features; undefined when the queue does not use them ----------------------------------
  /** No TTL, length limit or deduplication: enqueue takes the short path (unless a message has `expiration`). */
  protected plainEnqueue: boolean;
  protected messageTtl: number | undefined;
  protected expiry: ExpiryTimer | undefined;
  protected deadLetterTarget: DeadLetterTarget | undefined;
  protected lengthLimit: LengthLimit | undefined;
  protected deliveryLimit: number | undefined;
  protected timeouts: ConsumerTimeouts | undefined;
  protected readonly dedup: DeduplicationCache | undefined;
  protected idleExpiry: IdleExpiry | undefined;
  protected readonly defaultConsumerTimeoutMs: number;
  protected readonly takeBackLate = (entry: Entry): void => this.takeBack(entry);
  /** Message groups or deduplication by presence need to hear when an entry is settled. */
  protected readonly watchesSettlement: boolean;
  /** Durable queue with a disk store: persistent messages are written (durable-messages.ts). */
  protected readonly persisted: DurableMessages | undefined;

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
    const resource = describeResource('queue', name, vhost.name);
    const settings = this.isDirectReplyTo ? PLAIN_QUEUE : parseQueueArguments(options.arguments, resource);
    assertQueueTypeAllows(settings.queueType, { ...options, exclusive: options.exclusiveOwner !== undefined }, resource);
    this.settings = settings;
    this.persisted =
      options.durableStore !== undefined && this.durable && this.exclusiveOwner === undefined
        ? new DurableMessages(options.durableStore, options.streamName ?? name, this.self, {
            restoredSize: (bytes) => void (this.readyBodyBytes += bytes),
            readBack: (entry) => restoreReadBackState(entry, this.messageTtl, this.deliveryLimit),
            pagedIn: (entries) => this.pagedIn(entries),
            unreadable: (error, count) =>
              this.vhost.logger.error({ err: error, queue: this.name, vhost: this.vhost.name, count }, `${count} stored messages of ${this.resource} could not be read and are dropped`),
          })
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

  /** This queue as the Queue it always is (the only concrete subclass), for callbacks that want one. */
  protected get self(): Queue {
    return this as unknown as Queue;
  }

  /** Consumer timeout fired: the late delivery goes back (queue-settlement.ts). */
  protected abstract takeBack(late: Entry): void;
  /** x-expires fired (queue.ts). */
  protected abstract expireIdle(): void;
  /** The TTL timer fired (queue-enqueue.ts). */
  protected abstract expireDue(): void;
  /** A stored entry back in the ready list with an expiry (queue-enqueue.ts). */
  protected abstract trackExpiry(entry: Entry): void;
  /** Stored messages were read back into the ready list (queue-enqueue.ts). */
  protected abstract pagedIn(entries: readonly Entry[]): void;

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

  /** A consumer may take more now (ack freed prefetch, socket drained, flow resumed). */
  resumeDispatch(): void {
    this.stalled = false;
    if (this.ready.hasDeliverable() && this.consumerSet.size !== 0) this.dispatch();
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

  protected dispatch(): void {
    if (this.dispatching || this.deletedFlag) return;
    this.dispatching = true;
    try {
      let budget = DISPATCH_BATCH;
      // A grouped queue asks takeNext directly: whether anything is deliverable depends on who has room.
      while (this.grouped !== undefined || this.ready.hasDeliverable()) {
        if (budget-- === 0) {
          this.continuation ??= setImmediate(this.continueDispatch);
          return;
        }
        const grouped = this.grouped;
        let consumer: Consumer | undefined;
        let entry: Entry | undefined;
        if (grouped === undefined) {
          consumer = this.consumerSet.pick();
          entry = consumer === undefined ? undefined : this.ready.take();
        } else {
          entry = grouped.takeNext(this.consumerSet);
          consumer = grouped.taker;
        }
        if (entry === undefined || consumer === undefined) {
          // Grouped work that only full owners may take does not stall a queue whose other consumers
          // have room: a new message of a free group must still reach them.
          this.stalled = grouped === undefined || grouped.hasFreeWork();
          return;
        }
        this.readyBodyBytes -= entry.message.bodySize;
        if (entry.expiresAt !== 0 && entry.expiresAt < Date.now()) {
          this.expireTaken(entry);
          continue;
        }
        this.markHandedOut(entry, consumer.noAck);
        consumer.deliver(entry, this.self);
        if (this.deletedFlag) return;
      }
    } finally {
      this.dispatching = false;
    }
  }

  protected markHandedOut(entry: Entry, noAck: boolean): void {
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

  /** A handed-out entry is done with (acked, rejected, delivered no-ack): groups and dedup hear of it. */
  protected settledAfterDelivery(entry: Entry): void {
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

  /** An expired entry just taken from the ready list for delivery. */
  protected expireTaken(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.counters.expired++;
    this.leftWhileReady(entry, 'expired');
  }

  protected leftWhileReady(entry: Entry, reason: DeathReason): void {
    this.persisted?.settled(entry);
    if (this.dedup?.tracksPresence) this.dedup.forget(entry.message);
    this.deadLetter(entry.message, reason);
  }

  protected deadLetter(message: Message, reason: DeathReason): void {
    const target = this.deadLetterTarget;
    if (target === undefined) return;
    this.counters.deadLettered++;
    this.vhost.publishDeadLetter(deadLetteredMessage(message, reason, this.name, target, Date.now()), reason);
  }

  /** The entry as this queue's own, if it is one of ours and still waiting for a settlement. */
  protected unackedEntry(entry: QueueEntry): Entry | undefined {
    if (this.deletedFlag || !(entry instanceof Entry)) return undefined;
    if (entry.queue !== this || entry.state !== EntryState.Unacked) return undefined;
    return entry;
  }
}

function readyEntriesFor(settings: QueueSettings): ReadyEntries {
  if (settings.messageGroupHeader !== undefined) {
    return new GroupedReady(settings.messageGroupHeader, settings.messageGroupMaxInFlight);
  }
  if (settings.maxPriority !== undefined) return new PriorityReady(settings.maxPriority);
  return new FifoReady();
}
