import type { Binding } from '../binding.js';
import type { Consumer, QueueEntry, SessionOwner } from '../front-door.js';
import { describeResource, notFound, resourceLocked } from '../errors.js';
import type { FieldTable, Message } from '../message.js';
import { resolveQueueSettings, type EffectiveQueueSettings, type Policy } from '../policies/index.js';
import type { QueueView, StreamFigures } from '../queue-view.js';
import type { VHost } from '../vhost.js';
import type { QueueCounters } from './counters.js';
import { ConsumerSet } from './consumer-set.js';
import { DeduplicationCache } from './deduplication.js';
import { Departures } from './departures.js';
import { Dispatcher } from './dispatcher.js';
import { DispatchLimits, parseDispatchLimitArguments, resolveDispatchLimits, type DispatchLimitSettings } from './dispatch-limits.js';
import { DurableMessages, type DurableStoreAccess } from './durable-messages.js';
import type { StreamLog } from '../../store/store.js';
import { EntryState } from './entry.js';
import { IdleExpiry } from './idle-expiry.js';
import { Intake } from './intake.js';
import { LengthLimit } from './length-limit.js';
import { MessageExpiry } from './message-expiry.js';
import { GroupedReady } from './message-groups.js';
import { PagedFifoReady } from './paged-ready.js';
import { PriorityReady } from './priority-ready.js';
import { assertQueueTypeAllows, parseQueueArguments, PLAIN_QUEUE, type QueueSettings } from './queue-arguments.js';
import { QueueRecovery } from './queue-recovery.js';
import { QueueState } from './queue-state.js';
import type { RemoteOwner } from './remote-owner.js';
import type { DurabilityBarrier } from '../durability.js';
import { FifoReady, type ReadyEntries } from './ready-entries.js';
import { Settlement } from './settlement.js';
import { SingleActiveConsumerSet } from './single-active-consumer.js';
import { Subscriptions } from './subscriptions.js';
import { parseStreamArguments } from '../stream/stream-arguments.js';
import { StreamQueue, type StreamLogAccess } from '../stream/stream-queue.js';
import { notImplemented } from '../errors.js';

export { DISPATCH_BATCH } from './dispatcher.js';

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
  /** The store's stream name of this queue (when durableStore is given; a stream queue's log name). */
  streamName?: string;
  /** Where stream queues (x-queue-type: stream) keep their logs; without it a stream cannot be declared. */
  streamLogs?: StreamLogAccess | undefined;
}

/** What x-arguments and a policy together decide, and may change while the queue lives. */
type PolicySettings = Pick<
  EffectiveQueueSettings,
  | 'messageTtl'
  | 'expires'
  | 'maxLength'
  | 'maxLengthBytes'
  | 'overflow'
  | 'deadLetterExchange'
  | 'deadLetterRoutingKey'
  | 'deliveryLimit'
  | 'consumerTimeout'
>;

/**
 * One queue: the ready entries, the consumers it dispatches to, and the count of entries handed out
 * and not yet settled (the entries themselves are held by the consumer side until ack/reject).
 *
 * The queue holds one object per concern and delegates to them; they share a QueueState (the entries
 * and counts) and reach each other through narrow views given at construction:
 * Departures (dead-lettering, settled entries), MessageExpiry (TTL), Settlement (hand-out, ack, reject,
 * requeue, consumer timeout, delivery limit), Dispatcher (the dispatch loop), Intake (enqueue, length
 * limits), Subscriptions (consumers), QueueRecovery (stored messages coming back). Policies, purge,
 * deletion and x-expires are small enough to live here.
 *
 * Features (TTL, dead-lettering, length limits, priorities, delivery limit, consumer timeout, single
 * active consumer, deduplication, message groups, x-expires) are objects chosen from the arguments at
 * declare time; a queue declared without them takes the same fast path as before they existed.
 */
export class Queue implements QueueView {
  readonly kind = 'queue' as const;
  /** Routing epoch this queue was last reached in (see RouteCollector). */
  routeMark = 0;
  readonly counters: QueueCounters;
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

  private readonly state: QueueState;
  private readonly departures: Departures;
  private readonly expiry: MessageExpiry;
  private readonly settlement: Settlement;
  private readonly dispatcher: Dispatcher;
  private readonly intake: Intake;
  private readonly subscriptions: Subscriptions;
  /** Durable queues on a persistent store only. */
  private readonly recovery: QueueRecovery | undefined;
  private readonly defaultConsumerTimeoutMs: number;
  /** x-expires; undefined when the queue has none. */
  private idleExpiry: IdleExpiry | undefined;
  /** Set while another cluster node owns the queue: its work is done there (remote-owner.ts). */
  private remote: RemoteOwner | undefined;
  /** A stream queue: its log and readers do all the work (src/broker/stream/). */
  readonly stream: StreamQueue | undefined;

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
    this.defaultConsumerTimeoutMs = options.defaultConsumerTimeoutMs ?? 0;
    const resource = describeResource('queue', name, vhost.name);
    const settings = this.isDirectReplyTo ? PLAIN_QUEUE : parseQueueArguments(options.arguments, resource);
    if (!this.isDirectReplyTo) parseDispatchLimitArguments(options.arguments, resource);
    assertQueueTypeAllows(settings.queueType, { ...options, exclusive: options.exclusiveOwner !== undefined }, resource);
    this.settings = settings;

    // Built in dependency order: each part gets the ones it asks, none is built before what it needs.
    const isStream = settings.queueType === 'stream';
    const persisted =
      !isStream && options.durableStore !== undefined && this.durable && this.exclusiveOwner === undefined
        ? new DurableMessages(options.durableStore, options.streamName ?? name, this)
        : undefined;
    const ready = persisted?.readyEntriesFor(settings) ?? readyEntriesFor(settings);
    const roster = settings.singleActiveConsumer ? new SingleActiveConsumerSet() : new ConsumerSet();
    const dedup = settings.deduplication === undefined ? undefined : new DeduplicationCache(settings.deduplication);
    const state = new QueueState(this, ready, roster, persisted, dedup);
    this.state = state;
    this.counters = state.counters;
    this.departures = new Departures(state);
    this.expiry = new MessageExpiry(state, this.departures);
    const watchesSettlement = settings.messageGroupHeader !== undefined || dedup?.tracksPresence === true;
    this.settlement = new Settlement(state, this.departures, this.expiry, watchesSettlement);
    this.dispatcher = new Dispatcher(state, this.settlement, this.expiry);
    this.intake = new Intake(state, this.expiry, this.departures, this.dispatcher, this.settlement);
    this.subscriptions = new Subscriptions(state, this.dispatcher, {
      inUse: () => this.idleExpiry?.pause(),
      unused: () => this.lastConsumerGone(),
    });
    if (persisted !== undefined) {
      this.recovery = new QueueRecovery(state, persisted, this.expiry, this.intake, this.settlement, this.dispatcher);
      persisted.reportTo(this.recovery);
    }
    this.configure(settings);
    this.setDispatchLimits(resolveDispatchLimits(options.arguments, undefined));
    if (isStream) {
      const streamSettings = parseStreamArguments(options.arguments, resource);
      if (options.streamLogs === undefined) throw notImplemented(`cannot declare ${resource}: this broker keeps no stream logs`);
      this.stream = new StreamQueue(this, options.streamLogs, options.streamName ?? name, streamSettings, this.counters);
    }
  }

  /** "queue 'q' in vhost '/'" for reply texts. */
  get resource(): string {
    return describeResource('queue', this.name, this.vhost.name);
  }

  get deleted(): boolean {
    return this.state.deleted;
  }

  readyCount(): number {
    if (this.stream !== undefined) return this.stream.messageCount();
    return this.remote === undefined ? this.state.ready.length : this.remote.figures().ready;
  }

  unackedCount(): number {
    if (this.stream !== undefined) return this.stream.unackedCount();
    return this.remote === undefined ? this.state.unacked : this.remote.figures().unacked;
  }

  consumerCount(): number {
    if (this.stream !== undefined) return this.stream.consumers.length;
    return this.state.roster.size;
  }

  /** Body bytes of the ready entries (for max-length-bytes and metrics). */
  readyBytes(): number {
    if (this.stream !== undefined) return this.stream.bytes();
    return this.remote === undefined ? this.state.readyBytes : this.remote.figures().bytes;
  }

  // ---- cluster ownership ------------------------------------------------------------------------

  /**
   * What a publisher confirm of a message routed here waits for beyond the broker's own group commit: the
   * owner's acknowledgement when another node owns the queue, the replicated store for a replicated
   * queue; undefined when the broker's barrier is all there is.
   */
  get durability(): DurabilityBarrier | undefined {
    return this.remote?.durability ?? this.state.persisted?.extraBarrier;
  }

  /** The owner elsewhere while another cluster node owns this queue; undefined when it is served here. */
  get remoteOwner(): RemoteOwner | undefined {
    return this.remote;
  }

  /**
   * From now on the queue is served from its owner on another node: what it held here is dropped from
   * memory (the owner has the messages), and its consumers are served from there. @internal cluster
   */
  serveFrom(remote: RemoteOwner): void {
    const state = this.state;
    for (const entry of state.ready.clear()) entry.state = EntryState.Settled;
    state.readyBytes = 0;
    this.expiry.clear();
    this.remote = remote;
    for (const consumer of state.roster.consumers) remote.consumerAdded(consumer);
  }

  /**
   * This node owns the queue now (a failover moved it here): the owner elsewhere is let go; the caller
   * restores its stored messages (restoreStored, finishRestore), and consumers here are served locally.
   * @internal cluster
   */
  takeOwnership(): void {
    const remote = this.remote;
    this.remote = undefined;
    remote?.detach();
    this.state.persisted?.reopen();
  }

  get consumers(): readonly Consumer[] {
    if (this.stream !== undefined) return this.stream.consumers;
    return this.state.roster.consumers;
  }

  /** The consumer deliveries go to (x-single-active-consumer), if any. */
  get activeConsumer(): Consumer | undefined {
    return this.subscriptions.active;
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

  /** See QueueView.appendOnly. */
  get appendOnly(): boolean {
    return this.stream !== undefined;
  }

  /** See QueueView.streamFigures. */
  streamFigures(): StreamFigures | undefined {
    return this.stream?.figures();
  }

  /** See QueueView.streamLog. */
  streamLog(): StreamLog | undefined {
    return this.stream?.log;
  }

  // ---- messages in ------------------------------------------------------------------------------

  /**
   * Takes a routed message. Returns false if the queue refused it (deleted, or x-overflow
   * reject-publish when full): the publisher gets basic.nack. A duplicate (x-message-deduplication) is
   * dropped but counts as taken. Dispatch happens synchronously, so a waiting consumer gets it before
   * this returns.
   */
  enqueue(message: Message): boolean {
    if (this.stream !== undefined) return !this.state.deleted && this.stream.enqueue(message);
    if (this.remote === undefined) return this.intake.enqueue(message);
    if (this.state.deleted) return false;
    this.counters.published++;
    return this.remote.enqueue(message);
  }

  /**
   * Direct reply-to: hands a message straight to the waiting consumer, bypassing the ready list. The
   * entry is settled at once (reply consumers are always no-ack).
   * @internal used by VHost.publish on the pseudo queue
   */
  handOver(message: Message, consumer: Consumer): void {
    this.intake.handOver(message, consumer);
  }

  // ---- consumers and dispatch -------------------------------------------------------------------

  /**
   * Adds a consumer and dispatches to it at once. A front door that must send consume-ok before the
   * first delivery either writes it first or keeps canTake() false until then and calls resumeDispatch.
   */
  addConsumer(consumer: Consumer): void {
    if (this.state.deleted) throw notFound('queue', this.name, this.vhost.name);
    this.checkAccess(consumer.owner);
    if (this.stream !== undefined) return this.stream.addConsumer(consumer);
    this.subscriptions.add(consumer);
    this.remote?.consumerAdded(consumer);
  }

  /** 403 when an exclusive consumer is or would be involved; lets a front door check before consume-ok. */
  assertConsumable(consumer: Consumer): void {
    this.subscriptions.assertConsumable(consumer);
  }

  /** Removes a consumer (basic.cancel, channel closed). The last one gone deletes an auto-delete queue. */
  removeConsumer(consumer: Consumer): void {
    if (this.stream !== undefined) return this.stream.removeConsumer(consumer);
    this.remote?.consumerRemoved(consumer);
    this.subscriptions.remove(consumer);
  }

  /** A consumer may take more now (ack freed prefetch, socket drained, flow resumed). */
  resumeDispatch(): void {
    if (this.stream !== undefined) this.stream.resume();
    else if (this.remote === undefined) this.dispatcher.resume();
    else this.remote.resume();
  }

  // ---- settlement -------------------------------------------------------------------------------

  /** basic.get: the next ready entry. With noAck it is settled at once; otherwise the caller acks it. */
  get(noAck: boolean): QueueEntry | undefined {
    if (this.stream !== undefined) this.stream.get();
    if (this.state.deleted) return undefined;
    this.idleExpiry?.touch();
    if (this.remote !== undefined) return this.remote.takeGot(noAck);
    return this.settlement.get(noAck);
  }

  ack(entry: QueueEntry): void {
    if (this.stream !== undefined) return this.stream.ack(entry);
    if (this.remote?.owns(entry) === true) return this.remote.settle(entry, 'ack');
    this.settlement.ack(entry);
  }

  /**
   * requeue=true: back to its original place, redelivered (unless the delivery limit is reached).
   * false: dead-lettered (reason rejected) or dropped.
   */
  reject(entry: QueueEntry, requeue: boolean): void {
    if (this.stream !== undefined) this.stream.reject();
    if (this.remote?.owns(entry) === true) return this.remote.settle(entry, requeue ? 'requeue' : 'reject');
    this.settlement.reject(entry, requeue);
  }

  /** Many entries back at once (channel closed, basic.recover), each to its original place. */
  requeue(entries: Iterable<QueueEntry>): void {
    if (this.stream !== undefined) return this.stream.forget([...entries].length);
    const remote = this.remote;
    if (remote === undefined) return this.settlement.requeue(entries);
    for (const entry of entries) if (remote.owns(entry)) remote.settle(entry, 'requeue');
  }

  /**
   * Consumer timeout extension: the unacked delivery `entry` gets the full timeout again from now.
   * False when the queue has no consumer timeout or the entry is not an unacked delivery of this queue.
   */
  extendDelivery(entry: QueueEntry): boolean {
    return this.settlement.extendDelivery(entry);
  }

  // ---- reading without taking -------------------------------------------------------------------

  /**
   * Up to `count` ready entries from position `offset` (0 = next to deliver), in delivery order, left
   * exactly as they are: no delivery counted, no redelivered flag (management API message browsing).
   * Asynchronous because a paging queue reads stored messages for it.
   */
  async browse(offset: number, count: number): Promise<QueueEntry[]> {
    if (count <= 0) return [];
    if (this.stream !== undefined) return this.stream.browse(offset, count);
    const ready = this.state.ready;
    if (ready instanceof PagedFifoReady) return ready.browseStored(offset, count);
    return ready.browse(offset, count);
  }

  /**
   * basic.get found nothing in memory while stored messages are being read (a paging queue): resolves
   * when the head has been read, so the caller can try again. Undefined when there is nothing to wait for.
   */
  whenHeadLoaded(noAck = false): Promise<void> | undefined {
    if (this.remote !== undefined) return this.remote.fetch(noAck);
    const ready = this.state.ready;
    return ready instanceof PagedFifoReady ? ready.whenHeadLoaded() : undefined;
  }

  /** basic.get that waits while a stored head is being read (management API, moves). */
  async getOrWait(noAck: boolean): Promise<QueueEntry | undefined> {
    for (;;) {
      const entry = this.get(noAck);
      if (entry !== undefined) return entry;
      const loading = this.whenHeadLoaded(noAck);
      if (loading === undefined) return undefined;
      await loading;
    }
  }

  // ---- policies ---------------------------------------------------------------------------------

  /**
   * The policy that applies changed (src/broker/policies): TTL, x-expires, length limits, overflow,
   * dead-lettering, delivery limit and consumer timeout are recomputed from the x-arguments and the
   * policy with RabbitMQ's precedence (resolveQueueSettings). A new length limit is enforced at once;
   * a new TTL applies to messages enqueued from now on (and to stored messages read back from disk,
   * counted from their publish time: read-back.ts); a changed consumer timeout applies to
   * deliveries made from now on. @internal VHostPolicies
   */
  applyPolicy(policy: Policy | undefined): void {
    if (this.isDirectReplyTo || this.state.deleted) return;
    this.configure(resolveQueueSettings(this.arguments, policy));
    this.setDispatchLimits(resolveDispatchLimits(this.arguments, policy?.definition));
  }

  /** x-dispatch-rate-limit and x-max-in-flight with the policy's values (dispatch-limits.ts), or undefined. */
  get dispatchLimits(): DispatchLimitSettings | undefined {
    return this.dispatcher.limits?.settings;
  }

  /** Installs the dispatch limits (a hook the dispatch loop asks); a change resumes dispatch. */
  private setDispatchLimits(settings: DispatchLimitSettings): void {
    this.dispatcher.limits?.stop();
    this.dispatcher.limits = DispatchLimits.of(settings, () => this.resumeDispatch());
    if (!this.state.deleted) this.resumeDispatch();
  }

  /** A non-passive redeclare: counts as use for x-expires. @internal VHost.declareQueue */
  redeclared(): void {
    this.idleExpiry?.touch();
  }

  /** Hands each part its share of the settings (at declare time, and whenever the policy changes). */
  private configure(s: PolicySettings): void {
    this.expiry.queueTtl = s.messageTtl;
    this.departures.deadLetterTarget =
      s.deadLetterExchange === undefined ? undefined : { exchange: s.deadLetterExchange, routingKey: s.deadLetterRoutingKey };
    this.settlement.deliveryLimit = s.deliveryLimit;
    this.settlement.setConsumerTimeout(s.consumerTimeout ?? this.defaultConsumerTimeoutMs);
    this.setIdleExpiry(s.expires);
    this.intake.configure(LengthLimit.of(s.maxLength, s.maxLengthBytes, s.overflow ?? 'drop-head'), s.messageTtl);
    this.intake.enforceDropHead();
  }

  private setIdleExpiry(ms: number | undefined): void {
    if (this.idleExpiry?.ms === ms) return;
    this.idleExpiry?.stop();
    this.idleExpiry = ms === undefined ? undefined : new IdleExpiry(ms, () => this.expireIdle());
    if (this.state.roster.size === 0) this.idleExpiry?.start();
  }

  // ---- purge, deletion, x-expires, auto-delete --------------------------------------------------

  /** Drops every ready entry; unacked ones are not touched. Returns how many were dropped. */
  purge(): number {
    if (this.stream !== undefined) this.stream.purge();
    if (this.remote !== undefined) {
      // The owner purges; the count is what it last reported (its answer comes later).
      const ready = this.remote.figures().ready;
      void this.remote.purge().catch(() => undefined);
      return ready;
    }
    const purged = this.dropAllReady();
    this.counters.purged += purged;
    return purged;
  }

  /** Cancels pending dispatch continuations and feature timers (broker stopping, queue deleted). */
  stopTimers(): void {
    this.stream?.stopTimers();
    this.dispatcher.stop();
    this.dispatcher.limits?.stop();
    this.expiry.stop();
    this.settlement.stop();
    this.idleExpiry?.stop();
  }

  /**
   * Called by the VHost when the queue is deleted: cancels consumers, drops ready entries and forgets
   * unacked ones (their later acks are no-ops). Returns the number of ready entries dropped.
   * @internal use VHost.deleteQueue
   */
  close(): number {
    const state = this.state;
    if (state.deleted) return 0;
    state.deleted = true;
    if (this.stream !== undefined) {
      for (const consumer of this.stream.close()) consumer.cancelledByBroker(this);
      return 0;
    }
    this.remote?.detach();
    this.stopTimers();
    state.persisted?.beginClose();
    const dropped = this.dropAllReady();
    state.unacked = 0;
    state.dedup?.clear();
    this.subscriptions.cancelAll();
    return dropped;
  }

  private dropAllReady(): number {
    const state = this.state;
    const dropped = state.ready.clear();
    for (const entry of dropped) entry.state = EntryState.Settled;
    state.persisted?.dropped(dropped);
    if (state.dedup?.tracksPresence) for (const entry of dropped) state.dedup.forget(entry.message);
    state.readyBytes = 0;
    this.expiry.clear();
    return dropped.length;
  }

  /** x-expires: unused for that long. Deleted like queue.delete (consumers would have paused the clock). */
  private expireIdle(): void {
    if (this.state.deleted || this.state.roster.size !== 0) return;
    this.vhost.logger.debug({ queue: this.name, vhost: this.vhost.name }, 'queue expired (x-expires)');
    this.vhost.destroyQueue(this);
  }

  /** The last consumer left: an auto-delete queue goes, any other starts its x-expires clock. */
  private lastConsumerGone(): void {
    if (this.autoDelete && !this.state.deleted) this.vhost.destroyQueue(this);
    else this.idleExpiry?.start();
  }

  // ---- recovery ---------------------------------------------------------------------------------

  /**
   * Messages recovered from the store, in queue order, behind whatever is ready. Delivered ones come back
   * redelivered. A paging queue reads them as they near the head (unless x-max-length-bytes needs their
   * sizes now); others read them now. Nothing leaves the queue here: finishRestore does that once every
   * queue is restored, so dead letters land behind the recovered messages of their DLQ.
   * @internal Broker.start
   */
  async restoreStored(handles: Float64Array, delivered: Uint8Array): Promise<void> {
    await this.recovery?.restoreStored(handles, delivered);
  }

  /**
   * After every queue restored its messages: what expired while the broker was down leaves (dead-lettered
   * if configured; a paging queue reads its head for that), drop-head length limits are enforced
   * (deliveries that were unacked came back), and dispatch starts. @internal Broker.start
   */
  finishRestore(): void {
    this.recovery?.finishRestore();
  }
}

function readyEntriesFor(settings: QueueSettings): ReadyEntries {
  if (settings.messageGroupHeader !== undefined) {
    return new GroupedReady(settings.messageGroupHeader, settings.messageGroupMaxInFlight);
  }
  if (settings.maxPriority !== undefined) return new PriorityReady(settings.maxPriority);
  return new FifoReady();
}
