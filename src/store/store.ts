/**
 * The seam between the broker core and durable storage, as two interfaces: a `DefinitionStore` for the
 * topology (vhosts, exchanges, queues, bindings, users, policies) and a `MessageStore` for messages. The
 * core never sees file layout or SQL; the store never sees AMQP: a message is an opaque `header` (the
 * core's encoding of exchange, routing key and properties) plus a `body`, in a named stream (one per
 * durable queue).
 *
 * Writes are synchronous and buffered (append, remove, markDelivered, definitions): they become durable
 * in batches (group commit), announced through `whenDurable`. Reads are asynchronous, because a network
 * store answers later: a paging queue asks ahead and waits. A local log may answer at once.
 */

/** A message's identity in its store. Small (one number), stable for the message's whole life. */
export type MessageHandle = number;

/** Definition kinds the broker persists; the store treats them as opaque namespaces. */
export type DefinitionKind = 'vhost' | 'exchange' | 'queue' | 'binding' | 'user' | 'permission' | 'topic-permission' | 'parameter' | 'policy' | 'record';

export interface DefinitionRecord {
  readonly kind: DefinitionKind;
  readonly key: string;
  /** Any JSON-serialisable value. */
  readonly value: unknown;
}

export interface StoredMessage {
  readonly header: Buffer;
  readonly body: Buffer;
}

/** One durable queue's (or delayed exchange's) messages. Names are the core's; the store picks ids. */
export interface MessageStream {
  readonly name: string;
  /** Stores one message; durable at the next group commit. Throws StoreFailedError after an I/O failure. */
  append(header: Buffer, body: Buffer): MessageHandle;
  /**
   * One publish reached several queues (fanout): the message `handle`, just appended to another stream
   * of the same store with an equal header, is held by this stream too, and its bytes are stored once.
   * False when the store cannot share it (it is no longer the newest message, or this stream holds it
   * already): then `append` a copy.
   */
  share(handle: MessageHandle): boolean;
  /** The stream no longer holds the message (ack, reject without requeue, purge, expiry). Once per handle. */
  remove(handle: MessageHandle): void;
  /** First delivery of the message from this stream, so a restart can set the redelivered flag. */
  markDelivered(handle: MessageHandle): void;
  /** Reads messages back, in the order given. Fresh Buffers; rejects with UnknownHandleError for a bad handle. */
  read(handles: readonly MessageHandle[]): Promise<StoredMessage[]>;
  /**
   * The stream is deleted with all its messages; the store finds and frees them itself. Using the stream
   * afterwards is an error; `stream(name)` with the same name then starts a new, empty one.
   */
  drop(): void;
}

/** One stream's live messages as found on open, in stream order. */
export interface RecoveredStream {
  readonly stream: MessageStream;
  readonly handles: Float64Array;
  /** 1 where the message had been handed to a consumer before the restart (AMQP redelivered). */
  readonly delivered: Uint8Array;
}

export interface RecoveredState {
  readonly definitions: DefinitionRecord[];
  readonly streams: RecoveredStream[];
  /** Damage found and repaired on open (torn tail cut off, corrupt record skipped), for the log. */
  readonly problems: string[];
}

/**
 * 'always': a whenDurable callback runs only after fdatasync covered everything before it (default).
 * 'periodic': callbacks run once the data is handed to the OS (it survives a broker crash); fdatasync
 * runs every `intervalMs`, so a power loss can lose up to that much confirmed data.
 */
export type SyncPolicy = { readonly mode: 'always' } | { readonly mode: 'periodic'; readonly intervalMs: number };

/** Figures of a file-backed store, for /metrics. */
export interface StoreStats {
  readonly segments: number;
  readonly diskBytes: number;
  readonly liveMessages: number;
  readonly syncs: number;
  /** Seconds spent in fdatasync rounds in all (with `syncs`: the mean fsync latency). */
  readonly syncSeconds: number;
  /** Duration of the latest fdatasync round. */
  readonly lastSyncSeconds: number;
  readonly compactions: number;
  readonly deletedSegments: number;
}

export type DurableCallback = (error?: Error) => void;

/**
 * A group commit point: `whenDurable(callback)` runs `callback` once everything written to this store
 * before the call is durable per its sync policy; with an Error when the store failed (then nothing
 * after is durable either). Callbacks run in the order they were registered.
 */
export interface DurabilityBarrier {
  whenDurable(callback: DurableCallback): void;
}

export interface DefinitionStore extends DurabilityBarrier {
  putDefinition(kind: DefinitionKind, key: string, value: unknown): void;
  deleteDefinition(kind: DefinitionKind, key: string): void;
}

export interface MessageStore extends DurabilityBarrier {
  /** False for a store whose messages do not survive close (MemoryStore without a backing image). */
  readonly persistent: boolean;
  /** The stream of that name, created on first use; the same object for the same name while open. */
  stream(name: string): MessageStream;
  /** Free bytes where the store writes, for the disk alarm; absent for a store not on a local disk. */
  freeBytes?(): Promise<number>;
  /** File figures for /metrics; absent for a store that has none. */
  stats?(): StoreStats;
}

// ---- stream logs (append-only, read by offset: src/store/stream-log/) -------------------------------

/** One record of a stream log, as read back. */
export interface StreamRecord {
  /** Position in its log: 0, 1, 2, ... in append order, never reused (retention only moves the start). */
  readonly offset: number;
  /** Milliseconds since the epoch when its chunk was written (all records of a chunk share it). */
  readonly timestamp: number;
  /** The value the publisher tagged it with for server-side filtering; undefined when untagged. */
  readonly filterValue: string | undefined;
  /** The core's opaque header (as for MessageStream) and the body. */
  readonly header: Buffer;
  readonly body: Buffer;
  /**
   * Set for a batch a door appended with appendBatch: this one record stands for `batchCount` offsets
   * from `offset` on, `body` is the batch as appended, `header` is empty. Readers that want messages
   * expand it with the decoder of the door that wrote it (the broker's stream batch decoder).
   */
  readonly batchCount?: number;
}

/** How much of a stream log is kept. Applied by whole segments: the active segment is never removed. */
export interface StreamRetention {
  /** Oldest segments go while the log is bigger than this (x-max-length-bytes). */
  readonly maxBytes?: number | undefined;
  /** A segment whose newest chunk is older than this goes (x-max-age). */
  readonly maxAgeMs?: number | undefined;
  /** A new segment is started once the active one reached this (x-stream-max-segment-size-bytes). */
  readonly segmentBytes?: number | undefined;
}

export interface StreamLogStats {
  readonly segments: number;
  readonly bytes: number;
  /** The first offset still kept; equals nextOffset when the log is empty. */
  readonly firstOffset: number;
  /** The offset the next append gets. */
  readonly nextOffset: number;
  readonly chunks: number;
}

/**
 * An append-only log (a stream queue, a Kafka partition): records are never removed by reading; many
 * readers read it from any offset at their own pace; retention drops whole segments from the start.
 * Appends made in one event-loop turn are written together as one chunk (the unit of the offset and
 * timestamp index, and what `last` means). Appended records become readable when their chunk is written
 * (the store's next group commit, or the turn's end) and durable with the store's `whenDurable`.
 * Consumer offsets are kept by reference name (stored consumer offsets, Kafka group commits), durable
 * with the same barrier.
 */
export interface StreamLog {
  readonly name: string;
  /** Stores one record; returns its offset. Throws StoreFailedError after an I/O failure. */
  append(header: Buffer, body: Buffer, filterValue?: string): number;
  /**
   * Stores one opaque batch of `count` records (a door's own format, e.g. a Kafka record batch) as its own
   * chunk, byte for byte; returns the offset of its first record (the next `count` offsets are its). The
   * batch is copied before this returns. Read back as one record with `batchCount` set.
   */
  appendBatch(batch: Buffer, count: number): number;
  /** The first offset still kept. */
  readonly firstOffset: number;
  /** The offset the next append gets (appended records count, written or not). */
  readonly nextOffset: number;
  /** The end of what `read` can return now (records before it are written). */
  readonly readableOffset: number;
  /** First offset of the newest written chunk; readableOffset when none is. */
  lastChunkOffset(): number;
  /** First offset of the first written chunk with a timestamp at or after `timestamp`; readableOffset if none. */
  offsetAt(timestamp: number): number;
  /**
   * Records from `from` on (an offset before firstOffset reads from firstOffset), whole chunks of about
   * `maxBytes` in all (at least one chunk); [] when nothing is readable there yet. Fresh buffers.
   */
  read(from: number, maxBytes: number): Promise<StreamRecord[]>;
  /** `listener` runs (later, not inside append) whenever newly written records became readable. Returns an unsubscribe. */
  onReadable(listener: () => void): () => void;
  /** Sets the retention (and segment size) and applies it. */
  configure(retention: StreamRetention): void;
  /** Applies the retention now (a timer calls this for x-max-age). Returns the number of segments removed. */
  applyRetention(now?: number): number;
  /** Remembers `offset` for the consumer named `reference` (durable at the next group commit). */
  storeOffset(reference: string, offset: number): void;
  storedOffset(reference: string): number | undefined;
  /** Every stored consumer offset by reference (AMQP consumer names, Kafka group offsets). */
  storedOffsets(): ReadonlyMap<string, number>;
  stats(): StreamLogStats;
  /** The log is deleted with all its files; `streamLog(name)` afterwards starts a new, empty one. */
  drop(): void;
}

export interface StreamLogStore {
  /** The stream log of that name, created on first use; the same object for the same name while open. */
  streamLog(name: string): StreamLog;
  /** Names of the stream logs that exist (found on open or created since). */
  streamLogNames(): string[];
}

/** A store of both kinds with one life cycle: the local data dir (LogStore) or memory (MemoryStore). */
export interface Store extends DefinitionStore, MessageStore, StreamLogStore {
  /** Locks the data dir (LogStore), recovers definitions and messages. Call once, before anything else. */
  open(): Promise<RecoveredState>;
  /** Flushes and syncs what is buffered, releases files and the lock. Safe after a failure. */
  close(): Promise<void>;
}
