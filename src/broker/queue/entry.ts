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

const STATE_MASK = 3;
const REDELIVERED_BIT = 4;
const LOW_BITS = STATE_MASK | REDELIVERED_BIT;
const COUNT_SHIFT = 3;
const MAX_COUNT = 2 ** 28 - 1;

/**
 * The queue's own implementation of QueueEntry: one fixed shape, so property access stays monomorphic.
 * `queue` is the owning Queue (settlements check that an entry is theirs).
 */
export class Entry implements QueueEntry {
  /**
   * state (bits 0-1), redelivered (bit 2) and deliveryCount (bits 3 and up) in one small integer: one
   * field instead of three, 16 bytes less per waiting message (millions may wait).
   */
  private bits: number = EntryState.Ready;
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

  get state(): EntryState {
    return (this.bits & STATE_MASK) as EntryState;
  }

  set state(state: EntryState) {
    this.bits = (this.bits & ~STATE_MASK) | state;
  }

  get redelivered(): boolean {
    return (this.bits & REDELIVERED_BIT) !== 0;
  }

  set redelivered(redelivered: boolean) {
    this.bits = redelivered ? this.bits | REDELIVERED_BIT : this.bits & ~REDELIVERED_BIT;
  }

  /** How many times it has been handed out; past 2^28 it stops counting (x-delivery-limit is far lower). */
  get deliveryCount(): number {
    return this.bits >>> COUNT_SHIFT;
  }

  set deliveryCount(count: number) {
    this.bits = (Math.min(count, MAX_COUNT) << COUNT_SHIFT) | (this.bits & LOW_BITS);
  }

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
