import type { QueueEntry } from '../consumer.js';
import type { Message } from '../message.js';

/** Where an entry is in its life; guards against double acks and acks after a requeue. */
export const EntryState = {
  Ready: 0,
  /** Handed to an acking consumer (or basic.get without no-ack); waits for ack/reject. */
  Unacked: 1,
  /** Acked, rejected, delivered with no-ack, purged, or its queue was deleted. */
  Settled: 2,
} as const;
export type EntryState = (typeof EntryState)[keyof typeof EntryState];

/**
 * The queue's own implementation of QueueEntry: one fixed shape, so property access stays monomorphic.
 * `queue` is typed loosely to keep this module free of an import cycle; it is the owning Queue.
 */
export class Entry implements QueueEntry {
  redelivered = false;
  deliveryCount = 0;
  state: EntryState = EntryState.Ready;

  constructor(
    readonly queue: object,
    readonly seq: number,
    readonly message: Message,
  ) {}
}
