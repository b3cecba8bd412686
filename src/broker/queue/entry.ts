import type { QueueEntry } from '../front-door.js';
import type { Message } from '../message.js';
import type { MessageGroup } from './message-group.js';
import type { Queue } from './queue.js';

/** Where an entry is in its life; guards against double acks and acks after a requeue. */
export const EntryState = {
  Ready: 0,
  /** Handed to an acking consumer (or basic.get without no-ack); waits for ack/reject. */
  Unacked: 1,
  /**
   * Acked, rejected, delivered with no-ack, purged, expired, dropped, taken back from a late consumer,
   * or its queue was deleted. A settled entry may still sit in a ready list as a tombstone (expired in
   * the middle): ready lists skip those.
   */
  Settled: 2,
} as const;
export type EntryState = (typeof EntryState)[keyof typeof EntryState];

/**
 * The queue's own implementation of QueueEntry: one fixed shape, so property access stays monomorphic.
 * `queue` is the owning Queue (settlements check that an entry is theirs).
 */
export class Entry implements QueueEntry {
  redelivered = false;
  deliveryCount = 0;
  state: EntryState = EntryState.Ready;
  /** Date.now() after which the entry is expired (TTL); 0 = never. */
  expiresAt = 0;
  /** Date.now() by which an unacked delivery must be settled (consumer timeout); 0 = none. */
  deadline = 0;
  /** The message group it belongs to (x-message-group-header queues only). */
  group: MessageGroup | undefined = undefined;
  /** The message's handle in the durable store (durable-messages.ts); 0 = not stored. */
  handle = 0;

  constructor(
    readonly queue: Queue,
    readonly seq: number,
    /** Replaced only by the queue itself (x-delivery-count on redelivery). */
    public message: Message,
  ) {}

  /** The same queue position as a fresh object: a delivery taken back from a late consumer. */
  cloneForRequeue(): Entry {
    const copy = new Entry(this.queue, this.seq, this.message);
    copy.redelivered = true;
    copy.deliveryCount = this.deliveryCount;
    copy.expiresAt = this.expiresAt;
    copy.group = this.group;
    copy.handle = this.handle;
    return copy;
  }
}
