/**
 * The narrow seam between the broker core and durable storage. The core never sees file layout; the
 * store never sees AMQP: a message is an opaque `header` (the core's encoding of exchange, routing key
 * and properties) plus a `body`. Queues are known to the store only by a name the core chooses
 * (e.g. "vhost/queue") and the small integer id the store gives it.
 *
 * Everything on the hot path (append, remove, markDelivered, read) is synchronous: writes are buffered
 * and become durable in batches (group commit), announced through `whenDurable`.
 */

/** A message's identity in the store. Small (one number), stable for the message's whole life. */
export type MessageHandle = number;

/** Definition kinds the broker persists; the store treats them as opaque namespaces. */
export type DefinitionKind = 'vhost' | 'exchange' | 'queue' | 'binding' | 'user' | 'permission' | 'parameter' | 'policy';

export interface DefinitionRecord {
  readonly kind: DefinitionKind;
  readonly key: string;
  /** Any JSON-serialisable value. */
  readonly value: unknown;
}

/** One durable queue's live messages as found on open, in queue order. */
export interface RecoveredQueue {
  readonly id: number;
  readonly name: string;
  readonly handles: Float64Array;
  /** 1 where the message had been handed to a consumer before the restart (AMQP redelivered). */
  readonly delivered: Uint8Array;
}

export interface RecoveredState {
  readonly definitions: DefinitionRecord[];
  readonly queues: RecoveredQueue[];
  /** Damage found and repaired on open (torn tail cut off, corrupt record skipped), for the log. */
  readonly problems: string[];
}

export interface StoredMessage {
  readonly header: Buffer;
  readonly body: Buffer;
}

/**
 * 'always': a whenDurable callback runs only after fdatasync covered everything before it (default).
 * 'periodic': callbacks run once the data is handed to the OS (it survives a broker crash); fdatasync
 * runs every `intervalMs`, so a power loss can lose up to that much confirmed data.
 */
export type SyncPolicy = { readonly mode: 'always' } | { readonly mode: 'periodic'; readonly intervalMs: number };

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

export interface Store {
  /** False for MemoryStore: nothing survives close. */
  readonly persistent: boolean;
  /** Locks the data dir (LogStore), recovers definitions and messages. Call once, before anything else. */
  open(): Promise<RecoveredState>;
  /** Flushes and syncs what is buffered, releases files and the lock. Safe after a failure. */
  close(): Promise<void>;

  putDefinition(kind: DefinitionKind, key: string, value: unknown): void;
  deleteDefinition(kind: DefinitionKind, key: string): void;

  /** The id of a durable queue's message stream, created on first use. Same name, same id, across restarts. */
  queueId(name: string): number;
  /**
   * The queue is deleted: all its messages are gone. `handles` must list every message the queue still
   * holds (ready and unacked) so the store can free their space without a per-queue index.
   */
  dropQueue(queueId: number, handles: Iterable<MessageHandle>): void;

  /**
   * Stores one message for one queue. Appending the same body Buffer with an equal header to several
   * queues in a row (fanout) stores the bytes once, so a body must not be mutated after it was appended
   * (the broker's Message bodies never are). Throws StoreFailedError after an I/O failure.
   */
  append(queueId: number, header: Buffer, body: Buffer): MessageHandle;
  /** The queue no longer holds the message (ack, reject without requeue, purge, expiry). Each pair once. */
  remove(queueId: number, handle: MessageHandle): void;
  /** First delivery of the message from this queue, so a restart can set the redelivered flag. */
  markDelivered(queueId: number, handle: MessageHandle): void;
  /** Reads a message back (synchronous pread when it is no longer buffered). Fresh Buffers. */
  read(handle: MessageHandle): StoredMessage;

  /**
   * Group commit: `callback` runs once everything appended/removed/defined before this call is durable
   * per the sync policy; with an Error when the store failed (then nothing after is durable either).
   */
  whenDurable(callback: DurableCallback): void;
  /** Free bytes on the data dir's filesystem, for the broker's disk alarm. */
  freeBytes(): Promise<number>;
  stats(): StoreStats;
}
