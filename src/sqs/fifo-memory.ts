import type { InFlightMessage } from './in-flight.js';

/** SQS: "the deduplication interval is 5 minutes" (for sends and for ReceiveRequestAttemptId alike). */
export const FIFO_INTERVAL_MS = 5 * 60 * 1000;

/**
 * A map whose entries count for a fixed time after they were set. Entries are kept in insertion
 * order, which with one fixed lifetime is expiry order, so pruning looks only at the front.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly lifetimeMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): V | undefined {
    this.prune(now);
    return this.entries.get(key)?.value;
  }

  set(key: string, value: V, now = Date.now()): void {
    this.prune(now);
    this.entries.delete(key);
    this.entries.set(key, { value, until: now + this.lifetimeMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.until > now) return;
      this.entries.delete(key);
    }
  }
}

/**
 * What a FIFO send answered, by deduplication key: a duplicate inside the interval is answered with the
 * original's MessageId and SequenceNumber, as SQS does ("the message is accepted successfully but
 * isn't delivered"; API reference, SendMessage, MessageDeduplicationId).
 */
export interface SentRecord {
  messageId: string;
  sequenceNumber: string | undefined;
}

/**
 * A FIFO ReceiveMessage with a ReceiveRequestAttemptId: what it handed out, so a retry with the same id
 * inside 5 minutes gets the same messages and receipt handles, with their visibility timeout reset,
 * provided none of them was deleted or had its visibility changed meanwhile (API reference,
 * ReceiveMessage, ReceiveRequestAttemptId).
 */
export interface ReceiveAttempt {
  held: InFlightMessage[];
  messages: Record<string, unknown>[];
  visibilitySeconds: number;
}
