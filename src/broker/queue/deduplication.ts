import { fieldNumber, fieldString, type Message } from '../message.js';
import type { DeduplicationSettings } from './queue-arguments.js';

/** The message header that carries the deduplication id (the community plugin's name). */
export const DEDUPLICATION_HEADER = 'x-deduplication-header';

/** The id a message is deduplicated by, or undefined when it carries none (never a duplicate). */
export function deduplicationId(message: Message): string | undefined {
  const value = message.properties.headers?.[DEDUPLICATION_HEADER];
  if (value === undefined || value === null) return undefined;
  const text = fieldString(value);
  if (text !== undefined) return text;
  const n = fieldNumber(value);
  return n !== undefined ? String(n) : undefined;
}

/**
 * x-message-deduplication (as the rabbitmq-message-deduplication plugin names it): a message whose
 * x-deduplication-header value was seen is dropped (its publisher still gets basic.ack).
 *
 * Without x-cache-ttl / x-cache-size an id counts while a message carrying it is in the queue (ready or
 * unacked), the plugin's queue-level rule. With either, ids are remembered for a window instead: for
 * x-cache-ttl ms after they were first seen and/or the newest x-cache-size ids, whether or not the
 * message is still queued (Warren's extension, like the plugin's exchange-level cache).
 */
export class DeduplicationCache {
  /** id -> time it stops counting (Infinity: until evicted or the message leaves). Insertion-ordered. */
  private readonly seen = new Map<string, number>();
  readonly tracksPresence: boolean;

  constructor(private readonly settings: DeduplicationSettings) {
    this.tracksPresence = settings.cacheTtl === undefined && settings.cacheSize === undefined;
  }

  get size(): number {
    return this.seen.size;
  }

  /** False for a duplicate. Otherwise remembers the message's id. */
  admit(message: Message, now: number): boolean {
    const id = deduplicationId(message);
    if (id === undefined) return true;
    this.pruneExpired(now);
    const until = this.seen.get(id);
    if (until !== undefined && until > now) return false;
    this.seen.delete(id);
    const ttl = this.settings.cacheTtl;
    this.seen.set(id, ttl === undefined ? Infinity : now + ttl);
    const size = this.settings.cacheSize;
    if (size !== undefined && this.seen.size > size) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }

  /** Presence mode: the message left the queue, its id may come again. */
  forget(message: Message): void {
    const id = deduplicationId(message);
    if (id !== undefined) this.seen.delete(id);
  }

  clear(): void {
    this.seen.clear();
  }

  /** With a fixed TTL, insertion order is expiry order: stale ids are at the front. */
  private pruneExpired(now: number): void {
    if (this.settings.cacheTtl === undefined) return;
    for (const [id, until] of this.seen) {
      if (until > now) return;
      this.seen.delete(id);
    }
  }
}
