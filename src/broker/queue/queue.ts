import type { Binding } from '../binding.js';
import type { Consumer, QueueEntry, SessionOwner } from '../consumer.js';
import { accessRefused, describeResource, notFound, resourceLocked } from '../errors.js';
import type { FieldTable, Message } from '../message.js';
import type { VHost } from '../vhost.js';
import { ConsumerSet } from './consumer-set.js';
import { QueueCounters } from './counters.js';
import { Entry, EntryState } from './entry.js';
import { ReadyList } from './ready-list.js';

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
}

/**
 * One queue: FIFO of ready entries, the consumers it dispatches to, and the count of entries handed out
 * and not yet settled (the entries themselves are held by the consumer side until ack/reject).
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
  /** True for the pseudo queue that direct reply-to deliveries name; lets a front door tell them apart. */
  readonly isDirectReplyTo: boolean;

  private readonly ready = new ReadyList<Entry>();
  private readonly consumerSet = new ConsumerSet();
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
   * Takes a routed message. Returns false if the queue refused it (deleted; later: overflow
   * reject-publish). Dispatch happens synchronously, so a waiting consumer gets it before this returns.
   */
  enqueue(message: Message): boolean {
    if (this.deletedFlag) return false;
    const entry = new Entry(this, this.nextSeq++, message);
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
    if (this.exclusiveConsumer === consumer) this.exclusiveConsumer = undefined;
    if (this.consumerSet.size === 0 && this.autoDelete && this.hadConsumer && !this.deletedFlag) {
      this.vhost.destroyQueue(this);
    }
  }

  /** basic.get: the oldest ready entry. With noAck it is settled at once; otherwise the caller acks it. */
  get(noAck: boolean): QueueEntry | undefined {
    if (this.deletedFlag) return undefined;
    const entry = this.ready.shift();
    if (entry === undefined) return undefined;
    this.readyBodyBytes -= entry.message.bodySize;
    this.markHandedOut(entry, noAck);
    return entry;
  }

  /**
   * Up to `count` ready entries from position `offset` (0 = next to deliver), left exactly as they are:
   * no delivery counted, no redelivered flag (management API message browsing).
   */
  peek(offset: number, count: number): QueueEntry[] {
    const entries: QueueEntry[] = [];
    const end = Math.min(this.ready.length, offset + count);
    for (let i = Math.max(0, offset); i < end; i++) entries.push(this.ready.at(i)!);
    return entries;
  }

  ack(entry: QueueEntry): void {
    const own = this.unackedEntry(entry);
    if (own === undefined) return;
    own.state = EntryState.Settled;
    this.unacked--;
    this.counters.acked++;
  }

  /** requeue=true: back to its original place, redelivered. false: dropped (dead-lettering later). */
  reject(entry: QueueEntry, requeue: boolean): void {
    const own = this.unackedEntry(entry);
    if (own === undefined) return;
    if (requeue) {
      this.putBack(own);
      this.resumeDispatch();
      return;
    }
    own.state = EntryState.Settled;
    this.unacked--;
    this.counters.rejected++;
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
    for (const entry of own) this.putBack(entry);
    this.resumeDispatch();
  }

  /** Drops every ready entry; unacked ones are not touched. Returns how many were dropped. */
  purge(): number {
    const purged = this.ready.clear();
    this.readyBodyBytes = 0;
    this.counters.purged += purged;
    return purged;
  }

  /** A consumer may take more now (ack freed prefetch, socket drained, flow resumed). */
  resumeDispatch(): void {
    this.stalled = false;
    if (this.ready.length !== 0 && this.consumerSet.size !== 0) this.dispatch();
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
    const dropped = this.ready.clear();
    this.readyBodyBytes = 0;
    this.unacked = 0;
    this.exclusiveConsumer = undefined;
    for (const consumer of this.consumerSet.drain()) consumer.cancelledByBroker(this);
    return dropped;
  }

  /** Cancels a pending dispatch continuation (broker stopping, queue deleted). */
  stopTimers(): void {
    if (this.continuation !== undefined) {
      clearImmediate(this.continuation);
      this.continuation = undefined;
    }
  }

  private dispatch(): void {
    if (this.dispatching || this.deletedFlag) return;
    this.dispatching = true;
    try {
      let budget = DISPATCH_BATCH;
      while (this.ready.length !== 0) {
        if (budget-- === 0) {
          this.continuation ??= setImmediate(this.continueDispatch);
          return;
        }
        const consumer = this.consumerSet.pick();
        if (consumer === undefined) {
          this.stalled = true;
          return;
        }
        const entry = this.ready.shift()!;
        this.readyBodyBytes -= entry.message.bodySize;
        this.markHandedOut(entry, consumer.noAck);
        consumer.deliver(entry, this);
        if (this.deletedFlag) return;
      }
    } finally {
      this.dispatching = false;
    }
  }

  private markHandedOut(entry: Entry, noAck: boolean): void {
    entry.deliveryCount++;
    if (entry.redelivered) this.counters.redelivered++;
    this.counters.delivered++;
    if (noAck) {
      entry.state = EntryState.Settled;
    } else {
      entry.state = EntryState.Unacked;
      this.unacked++;
    }
  }

  private putBack(entry: Entry): void {
    entry.state = EntryState.Ready;
    entry.redelivered = true;
    this.unacked--;
    this.counters.requeued++;
    this.ready.insertBySeq(entry);
    this.readyBodyBytes += entry.message.bodySize;
  }

  /** The entry as this queue's own, if it is one of ours and still waiting for a settlement. */
  private unackedEntry(entry: QueueEntry): Entry | undefined {
    if (this.deletedFlag || !(entry instanceof Entry)) return undefined;
    if (entry.queue !== this || entry.state !== EntryState.Unacked) return undefined;
    return entry;
  }
}
