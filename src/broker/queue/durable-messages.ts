import type { MessageHandle, MessageStore, MessageStream } from '../../store/store.js';
import type { DurabilityBarrier } from '../durability.js';
import type { Message } from '../message.js';
import type { MessageHeaderCodec } from '../persistence/message-header.js';
import { Entry } from './entry.js';
import { NOT_LOADED, PagedFifoReady, type EntryReviver } from './paged-ready.js';
import type { QueueSettings } from './queue-arguments.js';
import type { Queue } from './queue.js';

/**
 * What durable queues need to store their persistent messages. One per message store: it also remembers
 * the message the store wrote last, so that the next queue of the same publish shares it (fanout stores
 * a body once: MessageStream.share).
 */
export class DurableStoreAccess {
  private lastMessage: Message | undefined;
  private lastHandle: MessageHandle = 0;

  constructor(
    readonly store: MessageStore,
    readonly headers: MessageHeaderCodec,
    /** Body bytes a queue keeps in memory before it pages out (config store.queueMemoryBytes). */
    readonly queueMemoryBytes: number,
    /**
     * What confirms of messages in this store wait for beyond the broker's own barrier (a replicated
     * store); undefined for the broker's local store, which that barrier covers.
     */
    readonly extraBarrier?: DurabilityBarrier,
  ) {}

  /** Stores `message` in `stream`: shared with the stream that stored the same Message just before, if it can be. */
  write(stream: MessageStream, message: Message): MessageHandle {
    if (message === this.lastMessage && stream.share(this.lastHandle)) return this.lastHandle;
    const handle = stream.append(this.headers.encode(message), message.body);
    this.lastMessage = message;
    this.lastHandle = handle;
    return handle;
  }

  /** Reads stored messages back (asynchronous). */
  async load(stream: MessageStream, handles: readonly MessageHandle[]): Promise<Message[]> {
    const stored = await stream.read(handles);
    return stored.map((m) => this.headers.decode(m.header, m.body));
  }
}

/** What a queue is told by its DurableMessages (the queue's QueueRecovery listens). */
export interface DurableMessagesHost {
  /** A recovered message's size became known (it joins readyBytes). */
  restoredSize(bytes: number): void;
  /** A stored message was read back into an entry: its expiry and delivery count (read-back.ts). */
  readBack(entry: Entry): void;
  /** Stored messages became deliverable (paged in). */
  pagedIn(entries: readonly Entry[]): void;
  /** Stored messages could not be read: they are dropped. */
  unreadable(error: unknown, count: number): void;
}

/**
 * The seam between one durable queue and its message stream: persistent messages are appended when
 * enqueued, marked delivered at their first delivery (so a restart sets redelivered), removed when
 * settled (ack, reject, expiry, drop, purge, no-ack delivery), and the whole stream is dropped with the
 * queue. Transient messages and queues that are not durable never get here.
 *
 * Writes are synchronous (buffered); the publisher's confirm waits for the store's group commit through
 * the channel's durability barriers. Reads are asynchronous (PagedFifoReady reads ahead).
 */
export class DurableMessages {
  private streamValue: MessageStream;
  private closing = false;
  private readonly reviver: EntryReviver = {
    readStored: (handles) => this.access.load(this.stream, handles),
    revive: (seq, handle, redelivered, message) => this.revive(seq, handle, redelivered, message),
    restoredSize: (bytes) => this.host.restoredSize(bytes),
    loaded: (entries) => this.host.pagedIn(entries),
    loadFailed: (error, handles) => {
      for (const handle of handles) this.stream.remove(handle);
      this.host.unreadable(error, handles.length);
    },
  };

  /** Set by reportTo before anything is read (reads are asynchronous and start after the queue is built). */
  private host!: DurableMessagesHost;

  constructor(
    private readonly access: DurableStoreAccess,
    private readonly streamName: string,
    private readonly queue: Queue,
  ) {
    this.streamValue = access.store.stream(streamName);
  }

  get stream(): MessageStream {
    return this.streamValue;
  }

  /** See DurableStoreAccess.extraBarrier. */
  get extraBarrier(): DurabilityBarrier | undefined {
    return this.access.extraBarrier;
  }

  /** The store's current stream of this name (a cluster queue that came back here may have a new one). */
  reopen(): void {
    this.streamValue = this.access.store.stream(this.streamName);
  }

  /**
   * Who hears of reads: the queue's recovery part, which is built after the ready list chosen here
   * (readyEntriesFor), hence not a constructor argument.
   */
  reportTo(host: DurableMessagesHost): void {
    this.host = host;
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
    if (entry.message.properties.deliveryMode !== 2) return;
    entry.handle = this.access.write(this.stream, entry.message);
  }

  /** Delivered: no-ack settles at once; otherwise its first delivery is recorded. */
  handedOut(entry: Entry, noAck: boolean): void {
    if (entry.handle === 0) return;
    if (noAck) return this.settled(entry);
    this.stream.markDelivered(entry.handle);
  }

  /** Gone for good from this queue: acked, rejected, expired, dead-lettered, dropped. */
  settled(entry: Entry): void {
    const handle = entry.handle;
    if (handle === 0) return;
    entry.handle = 0;
    this.stream.remove(handle);
  }

  /** Ready entries dropped together: purged, or (while closing) the queue deleted with its stream. */
  dropped(entries: readonly Entry[]): void {
    if (this.closing) return this.stream.drop();
    for (const entry of entries) this.settled(entry);
  }

  /** The queue is being deleted: the next `dropped` drops the whole stream. */
  beginClose(): void {
    this.closing = true;
  }

  /** Reads recovered messages into entries (queues that keep every message in memory), in order. */
  async reviveAll(first: number, handles: Float64Array, delivered: Uint8Array): Promise<Entry[]> {
    const entries: Entry[] = [];
    for (let from = 0; from < handles.length; from += 1024) {
      const batch = Array.from(handles.subarray(from, from + 1024));
      const messages = await this.access.load(this.stream, batch);
      messages.forEach((message, i) => entries.push(this.revive(first + from + i, batch[i]!, delivered[from + i] === 1, message)));
    }
    return entries;
  }

  /** An Entry for a stored message; one that was read gets its expiry and delivery count back. */
  private revive(seq: number, handle: MessageHandle, redelivered: boolean, message: Message): Entry {
    const entry = new Entry(this.queue, seq, message);
    entry.handle = handle;
    entry.redelivered = redelivered;
    if (message !== NOT_LOADED) this.host.readBack(entry);
    return entry;
  }
}
