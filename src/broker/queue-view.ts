import type { Binding } from './binding.js';
import type { DurabilityBarrier } from './durability.js';
import type { Consumer, QueueEntry, SessionOwner } from './front-door.js';
import type { FieldTable, Message } from './message.js';
import type { QueueCounters } from './queue/counters.js';
import type { VHost } from './vhost.js';
import type { StreamLog } from '../store/store.js';

/**
 * A queue as the front doors (src/amqp, src/http, src/session) see it: what they read and ask of it,
 * nothing of how it keeps its messages. The core's `Queue` implements it; a cluster adds a second
 * implementation (a queue whose owner is another node) behind the same view, so doors must hold queues
 * as QueueView and never as the class. Semantics are the core's (src/broker/CONTRACT.md); everything
 * is synchronous except where a Promise is returned.
 */
export interface QueueView {
  readonly kind: 'queue';
  readonly name: string;
  readonly vhost: VHost;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusiveOwner: SessionOwner | undefined;
  readonly arguments: FieldTable;
  /** Deleted: consumers were cancelled and settlements are no-ops from now on. */
  readonly deleted: boolean;
  /** Running totals for rates (management API, Prometheus). */
  readonly counters: Readonly<QueueCounters>;
  /** Explicit bindings to this queue (the default exchange's implicit one is not listed). */
  readonly bindings: ReadonlySet<Binding>;
  readonly consumers: readonly Consumer[];

  /** What a confirm of a message routed here waits for beyond the broker's own barrier (cluster); usually none. */
  readonly durability: DurabilityBarrier | undefined;

  readyCount(): number;
  unackedCount(): number;
  consumerCount(): number;
  /** Body bytes of the ready messages. */
  readyBytes(): number;

  /** 405 RESOURCE_LOCKED unless `owner` may use the queue (exclusive queues belong to one connection). */
  checkAccess(owner: SessionOwner): void;
  /** Registers a consumer and dispatches to it at once (see CONTRACT.md on consume-ok ordering). */
  addConsumer(consumer: Consumer): void;
  /** basic.cancel or channel closed; the last consumer of an auto-delete queue deletes it. */
  removeConsumer(consumer: Consumer): void;
  /** A consumer may take more now: MUST be called whenever a consumer's canTake() may have turned true. */
  resumeDispatch(): void;

  /** basic.get; with noAck the entry is settled at once, otherwise the caller acks or rejects it. */
  get(noAck: boolean): QueueEntry | undefined;
  /** basic.get that waits while a stored head is being read from disk. */
  getOrWait(noAck: boolean): Promise<QueueEntry | undefined>;
  /** basic.get found nothing while the head is being read: resolves when it is; undefined if nothing to wait for. */
  whenHeadLoaded(noAck?: boolean): Promise<void> | undefined;
  ack(entry: QueueEntry): void;
  /** requeue: back to its place, redelivered; otherwise dead-lettered or dropped. */
  reject(entry: QueueEntry, requeue: boolean): void;
  /** Many entries back at once (channel closed, basic.recover), in queue order. */
  requeue(entries: Iterable<QueueEntry>): void;
  /** Consumer timeout extension for an unacked delivery; false if the queue has no timeout or the entry is not its. */
  extendDelivery(entry: QueueEntry): boolean;

  /** Ready entries from `offset`, left untouched (management API browsing). */
  browse(offset: number, count: number): Promise<QueueEntry[]>;
  /** Puts a message in directly (management API move); false if the queue refused it. */
  enqueue(message: Message): boolean;

  /** True for a stream queue: messages stay when consumed (publisher flow control ignores its length). */
  readonly appendOnly?: boolean;
  /** A stream queue's log and readers (management API, metrics); undefined for other queues. */
  streamFigures?(): StreamFigures | undefined;
  /**
   * A stream queue's log, for doors that read and append by offset themselves (the Kafka door: a
   * partition is a stream). Appends through it count as the queue's own; undefined for other queues
   * and for a stream served from another cluster node.
   */
  streamLog?(): StreamLog | undefined;
}

/** What a stream queue shows of itself: its log, and how far behind each consumer is. */
export interface StreamFigures {
  readonly segments: number;
  readonly bytes: number;
  readonly firstOffset: number;
  /** The offset the next message gets (the last one is nextOffset - 1). */
  readonly nextOffset: number;
  readonly consumers: ReadonlyArray<{ readonly tag: string; readonly offset: number; readonly lag: number; readonly active: boolean }>;
}
