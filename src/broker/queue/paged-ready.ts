import { Message } from '../message.js';
import { ColdFlag, ColdRing } from './cold-ring.js';
import { type Entry, EntryState } from './entry.js';
import { browseList, liveEntries, type ReadyEntries } from './ready-entries.js';
import { ReadyList } from './ready-list.js';

/** Stand-in message of an Entry made for a cold record without reading it (purge, queue deletion). */
export const NOT_LOADED = new Message('', '', Object.freeze({}), Buffer.alloc(0), undefined, 0);

/** Most stored messages one read asks for. */
const MAX_LOAD = 512;
/** Bytes of bodies one read aims at, as a fraction of the memory budget. */
const LOAD_BUDGET_SHARE = 8;

/** How cold records become entries again (DurableMessages implements it for its queue). */
export interface EntryReviver {
  /** Reads stored messages, in the order given. Asynchronous: the store may answer later. */
  readStored(handles: readonly number[]): Promise<Message[]>;
  /** An Entry for a stored message (NOT_LOADED when it was not read: purge, deletion). */
  revive(seq: number, handle: number, redelivered: boolean, message: Message): Entry;
  /** A recovered message's size became known (the queue adds it to readyBytes before it subtracts it). */
  restoredSize(bytes: number): void;
  /** Stored messages were read into the hot list: the queue expires or watches their TTLs, and dispatches. */
  loaded(entries: readonly Entry[]): void;
  /** A read failed: the records asked for are dropped (they cannot be delivered); the queue logs it. */
  loadFailed(error: unknown, handles: readonly number[]): void;
}

/**
 * The plain FIFO of a durable queue, with a memory budget for bodies. The oldest entries are "hot":
 * Entry objects holding their message, up to `budgetBytes` of bodies. Once the budget is reached, stored
 * messages go "cold": only (seq, handle, flags) in a typed-array ring (17 bytes each; the Entry and the
 * Message are dropped). Entries that cannot be cold (transient messages, entries with an expiry) queued
 * behind cold ones are "pinned": their record has handle 0 and the Entry waits in a map by seq. Order is
 * kept because every hot entry is older than every cold record (new entries go hot only while nothing is
 * cold; a requeued entry is always older than what is still cold).
 *
 * Reading cold messages back is asynchronous: when the hot list runs low, the oldest cold records are
 * read in one batch (ahead of need, so a draining consumer rarely waits); dispatch sees nothing
 * deliverable while the head is still being read, and the queue resumes when the batch arrives
 * (`EntryReviver.loaded`). An entry in memory is never delayed by this.
 */
export class PagedFifoReady implements ReadyEntries {
  private readonly hot = new ReadyList<Entry>();
  private readonly cold = new ColdRing();
  private readonly pinned = new Map<number, Entry>();
  /** Settled entries still in the hot list, and still pinned (expired in place). */
  private hotTombstones = 0;
  private pinnedTombstones = 0;
  /** Body bytes held by hot and pinned entries. */
  private residentBytes = 0;
  /** Cold records at the front being read now (0 = no read in flight). */
  private loading = 0;
  /** Bumped by clear(): a read that was in flight then is ignored when it arrives. */
  private epoch = 0;
  /** Records the last read asked for: the hot list is topped up when it falls below half of that. */
  private lastBatch = 1;
  /** Moving average of stored body sizes, to size reads to the memory budget. */
  private averageBytes = 1024;
  /** Resolved when the read in flight ends (basic.get waiting for a cold head). */
  private headWaiters: (() => void)[] = [];

  constructor(
    private readonly budgetBytes: number,
    private readonly reviver: EntryReviver,
  ) {}

  get length(): number {
    return this.hot.length + this.cold.size - this.hotTombstones - this.pinnedTombstones;
  }

  /** Body bytes held in memory by ready entries. */
  get memoryBytes(): number {
    return this.residentBytes;
  }

  /** Ready messages held only as cold records. */
  get coldCount(): number {
    return this.cold.size - this.pinned.size;
  }

  /** Only entries in memory can be taken; a cold head is read first (see `prefetch`). */
  hasDeliverable(): boolean {
    if (this.hot.length > this.hotTombstones) return true;
    this.prefetch();
    return false;
  }

  /**
   * Nothing in memory can be taken but stored messages wait: resolves once the read of the head has
   * ended (then `take` has something, unless it was purged or unreadable). Undefined when there is no
   * such wait (something is in memory, or nothing is stored).
   */
  whenHeadLoaded(): Promise<void> | undefined {
    if (this.hot.length > this.hotTombstones || this.cold.size === 0) return undefined;
    this.prefetch();
    return new Promise((resolve) => this.headWaiters.push(resolve));
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

  /** A recovered message: a cold record from the start, read when it nears the front. */
  pushStored(seq: number, handle: number, delivered: boolean): void {
    this.cold.push(seq, handle, ColdFlag.Uncounted | (delivered ? ColdFlag.Redelivered : 0));
  }

  take(): Entry | undefined {
    for (let entry = this.hot.shift(); entry !== undefined; entry = this.hot.shift()) {
      if (entry.state !== EntryState.Ready) {
        this.hotTombstones--;
        continue;
      }
      this.residentBytes -= entry.message.bodySize;
      if (this.hot.length < this.lastBatch / 2) this.prefetch();
      return entry;
    }
    this.prefetch();
    return undefined;
  }

  /** Drop-head takes the oldest in memory; a cold head waits for its read (the queue retries on `loaded`). */
  takeOldest(): Entry | undefined {
    return this.take();
  }

  putBack(entry: Entry): void {
    // A taken entry is older than everything still cold, so it belongs in the hot list.
    this.residentBytes += entry.message.bodySize;
    this.hot.insertBySeq(entry);
  }

  discard(entry: Entry): void {
    if (this.pinned.get(entry.seq) === entry) this.pinnedTombstones++;
    else this.hotTombstones++;
    this.residentBytes -= entry.message.bodySize;
  }

  release(_entry: Entry): void {
    // Nothing waits on a settlement in a plain queue.
  }

  /** Starts reading the oldest cold records into the hot list, unless a read is in flight. */
  prefetch(): void {
    if (this.loading !== 0 || this.cold.size === 0) return;
    const count = Math.min(this.cold.size, this.batchSize());
    const handles: number[] = [];
    for (let i = 0; i < count; i++) {
      this.cold.peekAt(i);
      if (this.cold.handle !== 0) handles.push(this.cold.handle);
    }
    this.loading = count;
    this.lastBatch = count;
    const epoch = this.epoch;
    if (handles.length === 0) return void queueMicrotask(() => this.finishLoad(epoch, []));
    this.reviver.readStored(handles).then(
      (messages) => this.finishLoad(epoch, messages),
      (error: unknown) => this.failLoad(epoch, error, handles),
    );
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
        live.push(this.reviver.revive(seq, handle, (flag & ColdFlag.Redelivered) !== 0, NOT_LOADED));
      }
    }
    this.hot.clear();
    this.cold.clear();
    this.pinned.clear();
    this.hotTombstones = 0;
    this.pinnedTombstones = 0;
    this.residentBytes = 0;
    this.loading = 0;
    this.epoch++;
    this.wakeHeadWaiters();
    return live;
  }

  /** In-memory entries only; `browseStored` reads cold ones too. */
  browse(offset: number, count: number): Entry[] {
    return browseList(this.hot, offset, count, []);
  }

  /** Hot entries as they are; cold ones read into fresh entries that are not kept (browsing only). */
  async browseStored(offset: number, count: number): Promise<Entry[]> {
    const out = browseList(this.hot, offset, count, []);
    let skip = Math.max(0, offset - this.liveHot());
    const wanted: { seq: number; handle: number; flag: number; entry: Entry | undefined }[] = [];
    for (let i = 0; i < this.cold.size && out.length + wanted.length < count; i++) {
      this.cold.peekAt(i);
      const { seq, handle, flag } = this.cold;
      const entry = handle === 0 ? this.pinned.get(seq)! : undefined;
      if (entry !== undefined && entry.state !== EntryState.Ready) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      wanted.push({ seq, handle, flag, entry });
    }
    const messages = await this.reviver.readStored(wanted.filter((w) => w.entry === undefined).map((w) => w.handle));
    let next = 0;
    for (const w of wanted) {
      out.push(w.entry ?? this.reviver.revive(w.seq, w.handle, (w.flag & ColdFlag.Redelivered) !== 0, messages[next++]!));
    }
    return out;
  }

  private batchSize(): number {
    const fit = Math.floor(this.budgetBytes / LOAD_BUDGET_SHARE / Math.max(1, this.averageBytes));
    return Math.max(1, Math.min(MAX_LOAD, fit));
  }

  /** The read arrived: its records leave the cold ring, in order, as hot entries. */
  private finishLoad(epoch: number, messages: readonly Message[]): void {
    if (epoch !== this.epoch) return;
    const count = this.loading;
    this.loading = 0;
    const revived: Entry[] = [];
    let next = 0;
    for (let i = 0; i < count && this.cold.shift(); i++) {
      const { seq, handle, flag } = this.cold;
      if (handle === 0) {
        this.unpin(seq);
        continue;
      }
      const message = messages[next++]!;
      const entry = this.reviver.revive(seq, handle, (flag & ColdFlag.Redelivered) !== 0, message);
      if ((flag & ColdFlag.Uncounted) !== 0) this.reviver.restoredSize(message.bodySize);
      this.averageBytes += (message.bodySize - this.averageBytes) / 16;
      this.residentBytes += message.bodySize;
      this.hot.push(entry);
      revived.push(entry);
    }
    this.reviver.loaded(revived);
    this.wakeHeadWaiters();
  }

  /** The read failed: those stored records are dropped (pinned entries among them go on); the queue logs it. */
  private failLoad(epoch: number, error: unknown, handles: readonly number[]): void {
    if (epoch !== this.epoch) return;
    const count = this.loading;
    this.loading = 0;
    for (let i = 0; i < count && this.cold.shift(); i++) {
      const { seq, handle } = this.cold;
      if (handle === 0) this.unpin(seq);
    }
    this.reviver.loadFailed(error, handles);
    this.wakeHeadWaiters();
  }

  private wakeHeadWaiters(): void {
    if (this.headWaiters.length === 0) return;
    const waiters = this.headWaiters;
    this.headWaiters = [];
    for (const wake of waiters) wake();
  }

  /** A pinned entry reaches the hot list (a tombstone stays one). */
  private unpin(seq: number): void {
    const pinned = this.pinned.get(seq)!;
    this.pinned.delete(seq);
    if (pinned.state !== EntryState.Ready) {
      this.pinnedTombstones--;
      this.hotTombstones++;
    }
    this.hot.push(pinned);
  }

  private liveHot(): number {
    let live = 0;
    for (const entry of this.hot) if (entry.state === EntryState.Ready) live++;
    return live;
  }
}
