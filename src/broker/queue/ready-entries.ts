import { type Entry, EntryState } from './entry.js';
import { ReadyList } from './ready-list.js';

/**
 * The ready entries of one queue in delivery order. A strategy chosen at declare time: plain FIFO,
 * per-priority lists (x-max-priority) or message groups (x-message-group-header), so a plain queue pays
 * for none of the others.
 *
 * An entry that leaves from the middle (expired) is marked Settled by the queue and `discard`ed: it stays
 * as a tombstone that `take` skips, so removal is O(1).
 */
export interface ReadyEntries {
  /** Live ready entries (tombstones not counted). */
  readonly length: number;
  /** Whether `take` would return an entry now (message groups may all be busy). */
  hasDeliverable(): boolean;
  push(entry: Entry): void;
  /** Removes and returns the next entry to deliver. */
  take(): Entry | undefined;
  /** Removes and returns the entry max-length drop-head drops: the oldest. */
  takeOldest(): Entry | undefined;
  /** A requeued entry goes back to its place (by seq). */
  putBack(entry: Entry): void;
  /** A live entry left from the middle; the queue has already marked it Settled. */
  discard(entry: Entry): void;
  /** An entry handed out earlier is settled or requeued (message groups unblock). */
  release(entry: Entry): void;
  /** Drops everything; returns the live entries that were dropped. */
  clear(): Entry[];
  /** Live entries in delivery order, without changing anything. */
  browse(offset: number, count: number): Entry[];
}

/** The plain queue: one ring deque in seq order. */
export class FifoReady implements ReadyEntries {
  private readonly list = new ReadyList<Entry>();
  private tombstones = 0;

  get length(): number {
    return this.list.length - this.tombstones;
  }

  hasDeliverable(): boolean {
    return this.list.length !== this.tombstones;
  }

  push(entry: Entry): void {
    this.list.push(entry);
  }

  take(): Entry | undefined {
    let entry = this.list.shift();
    while (entry !== undefined && entry.state !== EntryState.Ready) {
      this.tombstones--;
      entry = this.list.shift();
    }
    return entry;
  }

  takeOldest(): Entry | undefined {
    return this.take();
  }

  putBack(entry: Entry): void {
    this.list.insertBySeq(entry);
  }

  discard(_entry: Entry): void {
    this.tombstones++;
  }

  release(_entry: Entry): void {
    // Nothing waits on a settlement in a plain queue.
  }

  clear(): Entry[] {
    const live = liveEntries(this.list);
    this.list.clear();
    this.tombstones = 0;
    return live;
  }

  browse(offset: number, count: number): Entry[] {
    return browseList(this.list, offset, count, []);
  }
}

/** Live entries of a list, oldest first. */
export function liveEntries(list: ReadyList<Entry>): Entry[] {
  const live: Entry[] = [];
  for (const entry of list) if (entry.state === EntryState.Ready) live.push(entry);
  return live;
}

/**
 * Appends live entries of `list` to `out`, skipping the first `offset` live ones, until `out` holds
 * `count`. Returns `out`. With no tombstones the offset is a direct index.
 */
export function browseList(list: ReadyList<Entry>, offset: number, count: number, out: Entry[]): Entry[] {
  let skip = Math.max(0, offset);
  for (let i = 0; i < list.length && out.length < count; i++) {
    const entry = list.at(i)!;
    if (entry.state !== EntryState.Ready) continue;
    if (skip > 0) skip--;
    else out.push(entry);
  }
  return out;
}
