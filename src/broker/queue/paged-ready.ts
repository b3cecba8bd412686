import { Message } from '../message.js';
import { type Entry, EntryState } from './entry.js';
import { browseList, liveEntries, type ReadyEntries } from './ready-entries.js';
import { ReadyList } from './ready-list.js';

/**
 * Stand-ins for the message of an entry whose body lives only on disk. Shared by every such entry, so a
 * paged-out entry costs its Entry object and nothing else (no Message, properties or body).
 */
const EMPTY = Buffer.alloc(0);
/** Paged out after the queue counted its body in readyBytes. */
export const PAGED_OUT = new Message('', '', Object.freeze({}), EMPTY, undefined, 0);
/** Recovered from the store and not read yet: its size is not known to the queue. */
export const NOT_LOADED = new Message('', '', Object.freeze({}), EMPTY, undefined, 0);

/** How a paged entry gets its message back. */
export interface MessageLoader {
  /** Reads the stored message (synchronous pread, or the store's write buffer). */
  load(handle: number): Message;
  /** A recovered entry's size became known (the queue adds it to readyBytes before it subtracts it). */
  restoredSize(bytes: number): void;
}

/**
 * The plain FIFO of a durable queue, with a memory budget for bodies: entries beyond `budgetBytes` keep
 * only their store handle (their message is PAGED_OUT) and are read back synchronously when they are
 * taken, browsed or dropped from the head. Only entries that are stored and have no expiry are paged (the
 * expiry timer and dead-lettering need the message while it waits).
 */
export class PagedFifoReady implements ReadyEntries {
  private readonly list = new ReadyList<Entry>();
  private tombstones = 0;
  /** Body bytes of the entries in the list that hold their message. */
  private residentBytes = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly loader: MessageLoader,
  ) {}

  get length(): number {
    return this.list.length - this.tombstones;
  }

  /** Body bytes held in memory by ready entries (for tests and metrics). */
  get memoryBytes(): number {
    return this.residentBytes;
  }

  hasDeliverable(): boolean {
    return this.list.length !== this.tombstones;
  }

  push(entry: Entry): void {
    this.admit(entry);
    this.list.push(entry);
  }

  /** A recovered entry: stored, not read. It is loaded when it reaches the head. */
  pushNotLoaded(entry: Entry): void {
    entry.message = NOT_LOADED;
    this.list.push(entry);
  }

  take(): Entry | undefined {
    let entry = this.list.shift();
    while (entry !== undefined && entry.state !== EntryState.Ready) {
      this.tombstones--;
      entry = this.list.shift();
    }
    if (entry !== undefined) this.leave(entry);
    return entry;
  }

  takeOldest(): Entry | undefined {
    return this.take();
  }

  putBack(entry: Entry): void {
    // A delivered entry comes back with its message; it is near the head, where bodies stay resident.
    this.residentBytes += entry.message.bodySize;
    this.list.insertBySeq(entry);
  }

  discard(entry: Entry): void {
    this.tombstones++;
    this.residentBytes -= entry.message.bodySize;
  }

  release(_entry: Entry): void {
    // Nothing waits on a settlement in a plain queue.
  }

  clear(): Entry[] {
    const live = liveEntries(this.list);
    this.list.clear();
    this.tombstones = 0;
    this.residentBytes = 0;
    return live;
  }

  browse(offset: number, count: number): Entry[] {
    const entries = browseList(this.list, offset, count, []);
    for (const entry of entries) this.load(entry, true);
    return entries;
  }

  /** Keeps the body in memory while within budget; otherwise drops the reference to it. */
  private admit(entry: Entry): void {
    const size = entry.message.bodySize;
    if (entry.handle !== 0 && entry.expiresAt === 0 && this.residentBytes + size > this.budgetBytes) {
      entry.message = PAGED_OUT;
      return;
    }
    this.residentBytes += size;
  }

  /** An entry leaves the list: it must carry its message from here on. */
  private leave(entry: Entry): void {
    if (entry.message === PAGED_OUT || entry.message === NOT_LOADED) this.load(entry, false);
    else this.residentBytes -= entry.message.bodySize;
  }

  private load(entry: Entry, staysInList: boolean): void {
    const placeholder = entry.message;
    if (placeholder !== PAGED_OUT && placeholder !== NOT_LOADED) return;
    entry.message = this.loader.load(entry.handle);
    const size = entry.message.bodySize;
    if (placeholder === NOT_LOADED) this.loader.restoredSize(size);
    if (staysInList) this.residentBytes += size;
  }
}
