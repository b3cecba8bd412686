import { Message } from '../message.js';
import { ColdFlag, ColdRing } from './cold-ring.js';
import { type Entry, EntryState } from './entry.js';
import { browseList, liveEntries, type ReadyEntries } from './ready-entries.js';
import { ReadyList } from './ready-list.js';

/** Stand-in message of an Entry made for a cold record without reading it (purge, queue deletion). */
export const NOT_LOADED = new Message('', '', Object.freeze({}), Buffer.alloc(0), undefined, 0);

/** How cold records become entries again. */
export interface EntryReviver {
  /** An Entry for a stored message, with its message read from the store (or NOT_LOADED if !load). */
  revive(seq: number, handle: number, redelivered: boolean, load: boolean): Entry;
  /** A recovered message's size became known (the queue adds it to readyBytes before it subtracts it). */
  restoredSize(bytes: number): void;
}

/**
 * The plain FIFO of a durable queue, with a memory budget for bodies. The oldest entries are "hot":
 * Entry objects holding their message, up to `budgetBytes` of bodies. Once the budget is reached, stored
 * messages go "cold": only (seq, handle, flags) in a typed-array ring (17 bytes each; the Entry and the
 * Message are dropped) and are read back synchronously when they reach the front. Entries that cannot
 * be cold (transient messages, entries with an expiry) queued behind cold ones are "pinned": their
 * record has handle 0 and the Entry waits in a map by seq. Order is kept because every hot entry is
 * older than every cold record (new entries go hot only while nothing is cold; a requeued entry is
 * always older than what is still cold).
 */
export class PagedFifoReady implements ReadyEntries {
  private readonly hot = new ReadyList<Entry>();
  private readonly cold = new ColdRing();
  private readonly pinned = new Map<number, Entry>();
  /** Settled entries still in the hot list or pinned (expired in place). */
  private tombstones = 0;
  /** Body bytes held by hot and pinned entries. */
  private residentBytes = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly reviver: EntryReviver,
  ) {}

  get length(): number {
    return this.hot.length + this.cold.size - this.tombstones;
  }

  /** Body bytes held in memory by ready entries. */
  get memoryBytes(): number {
    return this.residentBytes;
  }

  /** Ready messages held only as cold records. */
  get coldCount(): number {
    return this.cold.size - this.pinned.size;
  }

  hasDeliverable(): boolean {
    return this.length !== 0;
  }

  push(entry: Entry): void {
    const size = entry.message.bodySize;
    const storable = entry.handle !== 0 && entry.expiresAt === 0;
    if (this.cold.size === 0 && (!storable || this.residentBytes + size <= this.budgetBytes)) {
      this.hot.push(entry);
      this.residentBytes += size;
    } else if (storable) {
      this.cold.push(entry.seq, entry.handle, entry.redelivered ? ColdFlag.Redelivered : 0);
    } else {
      this.cold.push(entry.seq, 0, 0);
      this.pinned.set(entry.seq, entry);
      this.residentBytes += size;
    }
  }

  /** A recovered message: a cold record from the start, read when it reaches the front. */
  pushStored(seq: number, handle: number, delivered: boolean): void {
    this.cold.push(seq, handle, ColdFlag.Uncounted | (delivered ? ColdFlag.Redelivered : 0));
  }

  take(): Entry | undefined {
    for (;;) {
      const hot = this.hot.shift();
      const entry = hot ?? this.takeCold();
      if (entry === undefined) return undefined;
      if (entry.state !== EntryState.Ready) {
        this.tombstones--;
        continue;
      }
      if (entry !== this.revived) this.residentBytes -= entry.message.bodySize;
      this.revived = undefined;
      return entry;
    }
  }

  takeOldest(): Entry | undefined {
    return this.take();
  }

  /**
   * When nothing hot is left and the head is a stored cold record, reads it into the hot list and returns
   * it (the queue then watches its expiry: stored messages' TTLs are only known once read). Otherwise
   * undefined: the head is already in memory, or the queue is empty.
   */
  loadColdHead(): Entry | undefined {
    for (let hot = this.hot.peek(); hot !== undefined; hot = this.hot.peek()) {
      if (hot.state === EntryState.Ready) return undefined;
      this.hot.shift();
      this.tombstones--;
    }
    if (this.cold.size === 0) return undefined;
    this.cold.peekAt(0);
    if (this.cold.handle === 0) return undefined;
    const entry = this.takeCold()!;
    this.revived = undefined;
    this.residentBytes += entry.message.bodySize;
    this.hot.push(entry);
    return entry;
  }

  putBack(entry: Entry): void {
    // A taken entry is older than everything still cold, so it belongs in the hot list.
    this.residentBytes += entry.message.bodySize;
    this.hot.insertBySeq(entry);
  }

  discard(entry: Entry): void {
    this.tombstones++;
    this.residentBytes -= entry.message.bodySize;
  }

  release(_entry: Entry): void {
    // Nothing waits on a settlement in a plain queue.
  }

  /**
   * Drops everything. Cold records become Entry objects without their messages (the caller needs their
   * handles and the count), so a purge of a huge paged queue costs one short-lived Entry per message.
   */
  clear(): Entry[] {
    const live = liveEntries(this.hot);
    while (this.cold.shift()) {
      const { seq, handle, flag } = this.cold;
      if (handle === 0) {
        const pinned = this.pinned.get(seq)!;
        if (pinned.state === EntryState.Ready) live.push(pinned);
      } else {
        live.push(this.reviver.revive(seq, handle, (flag & ColdFlag.Redelivered) !== 0, false));
      }
    }
    this.hot.clear();
    this.cold.clear();
    this.pinned.clear();
    this.tombstones = 0;
    this.residentBytes = 0;
    return live;
  }

  /** Hot entries as they are; cold ones read into fresh entries that are not kept (browsing only). */
  browse(offset: number, count: number): Entry[] {
    const out = browseList(this.hot, offset, count, []);
    let skip = Math.max(0, offset - this.liveHot());
    for (let i = 0; i < this.cold.size && out.length < count; i++) {
      this.cold.peekAt(i);
      const { seq, handle, flag } = this.cold;
      const entry = handle === 0 ? this.pinned.get(seq)! : undefined;
      if (entry !== undefined && entry.state !== EntryState.Ready) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(entry ?? this.reviver.revive(seq, handle, (flag & ColdFlag.Redelivered) !== 0, true));
    }
    return out;
  }

  /** The entry `take` just made from a cold record (its body was never counted as resident). */
  private revived: Entry | undefined;

  private takeCold(): Entry | undefined {
    if (!this.cold.shift()) return undefined;
    const { seq, handle, flag } = this.cold;
    if (handle === 0) {
      const pinned = this.pinned.get(seq)!;
      this.pinned.delete(seq);
      return pinned;
    }
    const entry = this.reviver.revive(seq, handle, (flag & ColdFlag.Redelivered) !== 0, true);
    if ((flag & ColdFlag.Uncounted) !== 0) this.reviver.restoredSize(entry.message.bodySize);
    this.revived = entry;
    return entry;
  }

  private liveHot(): number {
    let live = 0;
    for (const entry of this.hot) if (entry.state === EntryState.Ready) live++;
    return live;
  }
}
