import type { QueueEntry } from '../../broker/front-door.js';
import type { QueueView } from '../../broker/queue-view.js';
import { emptyArray } from '../../util/empty-array.js';

/** Receives each entry a ledger operation removes, oldest delivery tag first. */
export interface UnackedVisitor<C> {
  visit(tag: number, entry: QueueEntry, queue: QueueView, consumer: C | undefined): void;
}

/** Compact the arrays once this many slots at the front are dead and they are half the array. */
const COMPACT_MIN_HEAD = 1024;

/**
 * The deliveries of one channel that await ack/nack/reject, in delivery-tag order.
 *
 * Tags are handed out in increasing order, so appending keeps the arrays sorted: acking the oldest (the
 * common case) and `multiple=true` up to a tag are a walk from the head; a single tag out of order is a
 * binary search and a tombstone. Parallel arrays rather than one object per delivery keep the per-message
 * path free of allocation.
 */
export class UnackedLedger<C> {
  private tags: number[] = [];
  private entries: (QueueEntry | undefined)[] = [];
  private queues: (QueueView | undefined)[] = [];
  private consumers: (C | undefined)[] = [];
  private head = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  /** Deliveries must be added with increasing tags. */
  push(tag: number, entry: QueueEntry, queue: QueueView, consumer: C | undefined): void {
    this.tags.push(tag);
    this.entries.push(entry);
    this.queues.push(queue);
    this.consumers.push(consumer);
    this.live++;
  }

  has(tag: number): boolean {
    return this.indexOf(tag) >= 0;
  }

  /** The outstanding delivery with this tag, left in place. */
  lookup(tag: number): { entry: QueueEntry; queue: QueueView } | undefined {
    const i = this.indexOf(tag);
    return i < 0 ? undefined : { entry: this.entries[i] as QueueEntry, queue: this.queues[i] as QueueView };
  }

  /** Removes one delivery; false when the tag is not outstanding. */
  removeOne(tag: number, visitor: UnackedVisitor<C>): boolean {
    const i = this.indexOf(tag);
    if (i < 0) return false;
    this.removeAt(i, visitor);
    this.advanceHead();
    return true;
  }

  /**
   * `multiple=true`: removes every delivery up to and including `tag`. As RabbitMQ does, the tag itself
   * must be outstanding; false (nothing removed) otherwise.
   */
  removeUpTo(tag: number, visitor: UnackedVisitor<C>): boolean {
    const last = this.indexOf(tag);
    if (last < 0) return false;
    for (let i = this.head; i <= last; i++) {
      if (this.entries[i] !== undefined) this.removeAt(i, visitor);
    }
    this.advanceHead();
    return true;
  }

  removeAll(visitor: UnackedVisitor<C>): void {
    const end = this.tags.length;
    for (let i = this.head; i < end; i++) {
      if (this.entries[i] !== undefined) this.removeAt(i, visitor);
    }
    this.clear();
  }

  /** Puts a delivery back at its place by tag (tx.rollback returns the acks it had taken). */
  restore(tag: number, entry: QueueEntry, queue: QueueView, consumer: C | undefined): void {
    this.compact();
    const at = this.lowerBound(tag);
    this.tags.splice(at, 0, tag);
    this.entries.splice(at, 0, entry);
    this.queues.splice(at, 0, queue);
    this.consumers.splice(at, 0, consumer);
    this.live++;
  }

  private removeAt(i: number, visitor: UnackedVisitor<C>): void {
    const entry = this.entries[i] as QueueEntry;
    const queue = this.queues[i] as QueueView;
    const consumer = this.consumers[i];
    this.entries[i] = undefined;
    this.queues[i] = undefined;
    this.consumers[i] = undefined;
    this.live--;
    visitor.visit(this.tags[i] as number, entry, queue, consumer);
  }

  private indexOf(tag: number): number {
    const i = this.lowerBound(tag);
    return i < this.tags.length && this.tags[i] === tag && this.entries[i] !== undefined ? i : -1;
  }

  /** First index at or after head whose tag is >= `tag`. */
  private lowerBound(tag: number): number {
    let lo = this.head;
    let hi = this.tags.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.tags[mid] as number) < tag) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private advanceHead(): void {
    if (this.live === 0) {
      this.clear();
      return;
    }
    while (this.head < this.tags.length && this.entries[this.head] === undefined) this.head++;
    if (this.head >= COMPACT_MIN_HEAD && this.head * 2 >= this.tags.length) this.compact();
  }

  private compact(): void {
    if (this.head === 0) return;
    this.tags.splice(0, this.head);
    this.entries.splice(0, this.head);
    this.queues.splice(0, this.head);
    this.consumers.splice(0, this.head);
    this.head = 0;
  }

  private clear(): void {
    emptyArray(this.tags);
    emptyArray(this.entries);
    emptyArray(this.queues);
    emptyArray(this.consumers);
    this.head = 0;
    this.live = 0;
  }
}
