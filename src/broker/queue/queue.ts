import type { Consumer, QueueEntry } from '../front-door.js';
import { accessRefused, notFound } from '../errors.js';
import { resolveQueueSettings, type Policy } from '../policies/index.js';
import { ConsumerTimeouts } from './consumer-timeout.js';
import { Entry, EntryState } from './entry.js';
import { IdleExpiry } from './idle-expiry.js';
import { LengthLimit } from './length-limit.js';
import { PagedFifoReady } from './paged-ready.js';
import { SettlingQueue } from './queue-settlement.js';
import type { QueueView } from '../queue-view.js';

export { DISPATCH_BATCH, type QueueOptions } from './queue-core.js';

/**
 * One queue: the ready entries, the consumers it dispatches to, and the count of entries handed out
 * and not yet settled (the entries themselves are held by the consumer side until ack/reject).
 *
 * Features (TTL, dead-lettering, length limits, priorities, delivery limit, consumer timeout, single
 * active consumer, deduplication, message groups, x-expires) are objects chosen from the arguments at
 * declare time; a queue declared without them takes the same fast path as before they existed.
 */
export class Queue extends SettlingQueue implements QueueView {
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
    this.grouped?.consumerAdded();
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
    this.grouped?.consumerGone(consumer);
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

  /**
   * Up to `count` ready entries from position `offset` (0 = next to deliver), in delivery order, left
   * exactly as they are: no delivery counted, no redelivered flag (management API message browsing).
   * Asynchronous because a paging queue reads stored messages for it.
   */
  async browse(offset: number, count: number): Promise<QueueEntry[]> {
    if (count <= 0) return [];
    if (this.ready instanceof PagedFifoReady) return this.ready.browseStored(offset, count);
    return this.ready.browse(offset, count);
  }

  /**
   * basic.get found nothing in memory while stored messages are being read (a paging queue): resolves
   * when the head has been read, so the caller can try again. Undefined when there is nothing to wait for.
   */
  whenHeadLoaded(): Promise<void> | undefined {
    return this.ready instanceof PagedFifoReady ? this.ready.whenHeadLoaded() : undefined;
  }

  /** basic.get that waits while a stored head is being read (management API, moves). */
  async getOrWait(noAck: boolean): Promise<QueueEntry | undefined> {
    for (;;) {
      const entry = this.get(noAck);
      if (entry !== undefined) return entry;
      const loading = this.whenHeadLoaded();
      if (loading === undefined) return undefined;
      await loading;
    }
  }

  /** Drops every ready entry; unacked ones are not touched. Returns how many were dropped. */
  purge(): number {
    const purged = this.dropAllReady();
    this.counters.purged += purged;
    return purged;
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
  protected expireIdle(): void {
    if (this.deletedFlag || this.consumerSet.size !== 0) return;
    this.vhost.logger.debug({ queue: this.name, vhost: this.vhost.name }, 'queue expired (x-expires)');
    this.vhost.destroyQueue(this);
  }

  /**
   * Messages recovered from the store, in queue order, behind whatever is ready. Delivered ones come back
   * redelivered. A paging queue reads them as they near the head (unless x-max-length-bytes needs their
   * sizes now); others read them now. Nothing leaves the queue here: finishRestore does that once every
   * queue is restored, so dead letters land behind the recovered messages of their DLQ.
   * @internal Broker.start
   */
  async restoreStored(handles: Float64Array, delivered: Uint8Array): Promise<void> {
    const persisted = this.persisted;
    if (persisted === undefined) return;
    const ready = this.ready;
    if (ready instanceof PagedFifoReady && this.lengthLimit?.limitsBytes !== true) {
      for (let i = 0; i < handles.length; i++) ready.pushStored(this.nextSeq++, handles[i]!, delivered[i] === 1);
      return;
    }
    const first = this.nextSeq;
    this.nextSeq += handles.length;
    for (const entry of await persisted.reviveAll(first, handles, delivered)) this.restoreEntry(entry);
  }

  /**
   * After every queue restored its messages: what expired while the broker was down leaves (dead-lettered
   * if configured; a paging queue reads its head for that), drop-head length limits are enforced
   * (deliveries that were unacked came back), and dispatch starts. @internal Broker.start
   */
  finishRestore(): void {
    if (this.persisted === undefined || this.deletedFlag) return;
    if (this.expiry !== undefined) this.expireDue();
    if (this.ready instanceof PagedFifoReady) this.ready.prefetch();
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
}
