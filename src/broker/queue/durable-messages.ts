import type { MessageHandle, Store } from '../../store/store.js';
import type { Message } from '../message.js';
import type { MessageHeaderCodec } from '../persistence/message-header.js';
import { Entry } from './entry.js';
import { NOT_LOADED, PagedFifoReady, type EntryReviver } from './paged-ready.js';
import type { QueueSettings } from './queue-arguments.js';
import type { QueueCore } from './queue-core.js';

/** What a durable queue needs to store its persistent messages. Absent when nothing is persisted. */
export interface DurableStoreAccess {
  readonly store: Store;
  readonly headers: MessageHeaderCodec;
  /** Body bytes a queue keeps in memory before it pages out (config store.queueMemoryBytes). */
  readonly queueMemoryBytes: number;
}

/**
 * The seam between one durable queue and the store: persistent messages are appended when enqueued,
 * marked delivered at their first delivery (so a restart sets redelivered), removed when settled (ack,
 * reject, expiry, drop, purge, no-ack delivery), and the whole stream is dropped with the queue.
 * Transient messages and queues that are not durable never get here.
 *
 * Calls are synchronous (buffered writes); the publisher's confirm waits for the group commit through
 * Broker.whenDurable.
 */
export class DurableMessages {
  readonly id: number;
  /** Handles of delivered, unsettled stored entries: dropQueue must name every message the queue holds. */
  private readonly unacked = new Set<MessageHandle>();
  private closing = false;
  private readonly reviver: EntryReviver = {
    revive: (seq, handle, redelivered, load) => this.revive(seq, handle, redelivered, load),
    restoredSize: (bytes) => this.onRestoredSize(bytes),
  };

  constructor(
    private readonly access: DurableStoreAccess,
    streamName: string,
    /** The owning queue, for the entries it revives (see Entry.queue). */
    private readonly queue: QueueCore,
    private readonly onRestoredSize: (bytes: number) => void,
    /** A stored message was read back into an entry (recovered or paged in): the queue sets its expiry and count. */
    private readonly onReadBack: (entry: Entry) => void = () => undefined,
  ) {
    this.id = access.store.queueId(streamName);
  }

  /**
   * The ready list for this queue: a paging FIFO for plain queues. Priorities, message groups and
   * deduplication by presence keep every message in memory (they look at messages while they wait).
   */
  readyEntriesFor(settings: QueueSettings): PagedFifoReady | undefined {
    if (settings.messageGroupHeader !== undefined || settings.maxPriority !== undefined) return undefined;
    if (settings.deduplication !== undefined) return undefined;
    return new PagedFifoReady(this.access.queueMemoryBytes, this.reviver);
  }

  /** A new entry: persistent messages are written (into the store's buffer; durable at the next commit). */
  stored(entry: Entry): void {
    const message = entry.message;
    if (message.properties.deliveryMode !== 2) return;
    entry.handle = this.access.store.append(this.id, this.access.headers.encode(message), message.body);
  }

  /** Delivered: no-ack settles at once; otherwise it is unacked, and its first delivery is recorded. */
  handedOut(entry: Entry, noAck: boolean): void {
    const handle = entry.handle;
    if (handle === 0) return;
    if (noAck) return this.settled(entry);
    this.unacked.add(handle);
    this.access.store.markDelivered(this.id, handle);
  }

  /** Back to the ready list (requeue, consumer timeout). */
  returned(entry: Entry): void {
    if (entry.handle !== 0) this.unacked.delete(entry.handle);
  }

  /** Gone for good from this queue: acked, rejected, expired, dead-lettered, dropped. */
  settled(entry: Entry): void {
    const handle = entry.handle;
    if (handle === 0) return;
    entry.handle = 0;
    this.unacked.delete(handle);
    this.access.store.remove(this.id, handle);
  }

  /** Ready entries dropped together: purged, or (while closing) the queue deleted. */
  dropped(entries: readonly Entry[]): void {
    if (!this.closing) {
      for (const entry of entries) this.settled(entry);
      return;
    }
    const handles: MessageHandle[] = [...this.unacked];
    for (const entry of entries) if (entry.handle !== 0) handles.push(entry.handle);
    this.unacked.clear();
    this.access.store.dropQueue(this.id, handles);
  }

  /** The queue is being deleted: the next `dropped` drops the whole stream. */
  beginClose(): void {
    this.closing = true;
  }

  /** An Entry for a stored message (recovered, or paged out), its message read now unless !load. */
  revive(seq: number, handle: MessageHandle, redelivered: boolean, load: boolean): Entry {
    const entry = new Entry(this.queue, seq, load ? this.load(handle) : NOT_LOADED);
    entry.handle = handle;
    entry.redelivered = redelivered;
    if (load) this.onReadBack(entry);
    return entry;
  }

  /** Reads a stored message back (synchronous). */
  load(handle: MessageHandle): Message {
    const stored = this.access.store.read(handle);
    return this.access.headers.decode(stored.header, stored.body);
  }
}
