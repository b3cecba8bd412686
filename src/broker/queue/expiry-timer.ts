import { type Entry, EntryState } from './entry.js';
import { MinHeap } from './min-heap.js';

/** setTimeout's largest delay; a later expiry simply re-arms when this one fires. */
const MAX_DELAY = 0x7fffffff;
/** Rebuild the heap once it holds this many more stale items than there are ready entries. */
const COMPACT_SLACK = 1024;

/**
 * Message TTL (x-message-ttl and per-message `expiration`): ready entries that carry an expiry, in a
 * min-heap by expiry time, with one timer armed for the earliest. Expired entries leave promptly even
 * when nobody consumes and even when they are not at the head.
 *
 * Entries are not removed from the heap when they are delivered (that would cost a search); a popped
 * entry that is no longer ready is skipped, and the heap is rebuilt when stale items pile up.
 * With a queue-wide TTL expiries arrive in increasing order, so `track` is O(1).
 */
export class ExpiryTimer {
  private readonly heap = new MinHeap<Entry>(expiresFirst);
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;

  /** `expireDue` is called from the timer: the queue pops and expires what is due. */
  constructor(private readonly expireDue: () => void) {}

  /** A ready entry with an expiry (new, or requeued). */
  track(entry: Entry, readyCount: number): void {
    this.heap.push(entry);
    if (this.heap.size > 2 * readyCount + COMPACT_SLACK) this.compact();
    if (this.timer === undefined || entry.expiresAt < this.timerAt) this.arm();
  }

  /** Removes and returns the next ready entry expired at `now`, skipping stale items. */
  nextExpired(now: number): Entry | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.expiresAt >= now) return undefined;
      this.heap.pop();
      if (top.state === EntryState.Ready) return top;
    }
  }

  /** After expiring what was due: wait for the next one. */
  rearm(): void {
    this.disarm();
    if (this.heap.size !== 0) this.arm();
  }

  /** Everything ready was dropped (purge, delete). */
  clear(): void {
    this.heap.clear();
    this.disarm();
  }

  stop(): void {
    this.disarm();
  }

  private arm(): void {
    const top = this.heap.peek();
    if (top === undefined) return;
    this.disarm();
    this.timerAt = top.expiresAt;
    // Expired means now > expiresAt, hence the + 1.
    const delay = Math.min(MAX_DELAY, Math.max(0, top.expiresAt - Date.now() + 1));
    this.timer = setTimeout(this.fire, delay);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.expireDue();
  };

  private compact(): void {
    const seen = new Set<Entry>();
    this.heap.retain((entry) => {
      if (entry.state !== EntryState.Ready || seen.has(entry)) return false;
      seen.add(entry);
      return true;
    });
  }
}

/** Earlier expiry first; equal expiries leave in queue order, so dead letters keep it too. */
function expiresFirst(a: Entry, b: Entry): boolean {
  return a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.seq < b.seq);
}

/**
 * A message's own TTL from its `expiration` property (ms as a decimal string). RabbitMQ refuses an
 * invalid one at publish; here it is ignored. Returns undefined when there is none.
 */
export function messageTtl(expiration: string | undefined): number | undefined {
  if (expiration === undefined) return undefined;
  const ttl = Number(expiration);
  return Number.isInteger(ttl) && ttl >= 0 ? ttl : undefined;
}
