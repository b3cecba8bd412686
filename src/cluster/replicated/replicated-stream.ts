import { StoreError, UnknownHandleError } from '../../store/errors.js';
import type { MessageHandle, MessageStream, StoredMessage } from '../../store/store.js';

/** A row not yet committed. */
export interface PendingRow {
  readonly seq: number;
  readonly header: Buffer;
  readonly body: Buffer;
  deliveryCount: number;
}

/** One round's worth of a stream's changes. */
export interface StreamBatch {
  readonly inserts: PendingRow[];
  readonly deletes: number[];
  readonly delivered: number[];
  readonly drop: boolean;
}

/** What a stream asks of its store. */
export interface ReplicatedStreamHost {
  touched(stream: ReplicatedStream): void;
  readRows(stream: ReplicatedStream, seqs: readonly number[]): Promise<Map<number, StoredMessage>>;
}

/**
 * One replicated queue's messages: handles are the queue's own sequence numbers (the rows' `seq`), so a
 * new owner that loads the queue keeps numbering after the last one. Changes wait here until the store's
 * next round takes them; a message appended and removed before that is dropped without a write.
 */
export class ReplicatedStream implements MessageStream {
  /** warren_queues.id, once looked up. */
  queueId: number | undefined;
  private nextSeq = 1;
  private unwritten = new Map<number, PendingRow>();
  /** Rows sent in the round in flight (readable from here until it commits). */
  private inFlight = new Map<number, PendingRow>();
  private deletes = new Set<number>();
  private delivered = new Set<number>();
  private dropRequested = false;
  private dropped = false;

  constructor(
    private readonly host: ReplicatedStreamHost,
    readonly name: string,
  ) {}

  get isDropped(): boolean {
    return this.dropped;
  }

  /** Recovery: numbering continues after the highest stored seq. */
  resumeAfter(lastSeq: number): void {
    if (lastSeq >= this.nextSeq) this.nextSeq = lastSeq + 1;
  }

  append(header: Buffer, body: Buffer): MessageHandle {
    this.assertLive();
    const seq = this.nextSeq++;
    this.unwritten.set(seq, { seq, header, body, deliveryCount: 0 });
    this.host.touched(this);
    return seq;
  }

  /** Each replicated queue keeps its own rows: a fanout is stored once per queue. */
  share(): boolean {
    return false;
  }

  remove(handle: MessageHandle): void {
    if (this.dropped) return;
    if (this.unwritten.delete(handle)) return; // never written, never will be
    this.delivered.delete(handle);
    this.deletes.add(handle);
    this.host.touched(this);
  }

  markDelivered(handle: MessageHandle): void {
    if (this.dropped) return;
    const row = this.unwritten.get(handle);
    if (row !== undefined) {
      row.deliveryCount = Math.max(row.deliveryCount, 1);
      return;
    }
    this.delivered.add(handle);
    this.host.touched(this);
  }

  async read(handles: readonly MessageHandle[]): Promise<StoredMessage[]> {
    // What is buffered now is what the caller asked about; it may be written (and leave the buffer) meanwhile.
    const buffered = handles.map((h) => this.unwritten.get(h) ?? this.inFlight.get(h));
    const rows = await this.host.readRows(this, handles.filter((_, i) => buffered[i] === undefined));
    return handles.map((handle, i) => {
      const found = buffered[i] ?? rows.get(handle);
      if (found === undefined) throw new UnknownHandleError(handle);
      return { header: Buffer.from(found.header), body: Buffer.from(found.body) };
    });
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.dropRequested = true;
    this.unwritten.clear();
    this.deletes.clear();
    this.delivered.clear();
    this.host.touched(this);
  }

  /** The queue left this node: nothing buffered is written any more. */
  discard(): void {
    this.dropped = true;
    this.unwritten.clear();
    this.deletes.clear();
    this.delivered.clear();
  }

  // ---- rounds (ReplicatedStore) -----------------------------------------------------------------

  takeBatch(): StreamBatch {
    const batch: StreamBatch = {
      inserts: [...this.unwritten.values()],
      deletes: [...this.deletes],
      delivered: [...this.delivered],
      drop: this.dropRequested,
    };
    for (const row of batch.inserts) this.inFlight.set(row.seq, row);
    this.unwritten = new Map();
    this.deletes = new Set();
    this.delivered = new Set();
    this.dropRequested = false;
    return batch;
  }

  committed(): void {
    this.inFlight.clear();
  }

  /** The round failed: its changes are due again, except rows removed while it ran (now deletes). */
  restoreBatch(batch: StreamBatch): void {
    this.inFlight.clear();
    if (batch.drop) this.dropRequested = true;
    if (this.dropped && !this.dropRequested) return;
    const requeued = new Map<number, PendingRow>();
    for (const row of batch.inserts) {
      if (this.deletes.delete(row.seq)) continue;
      if (this.delivered.delete(row.seq)) row.deliveryCount = Math.max(row.deliveryCount, 1);
      requeued.set(row.seq, row);
    }
    for (const [seq, row] of this.unwritten) requeued.set(seq, row);
    this.unwritten = requeued;
    for (const seq of batch.deletes) this.deletes.add(seq);
    for (const seq of batch.delivered) if (!this.deletes.has(seq)) this.delivered.add(seq);
  }

  private assertLive(): void {
    if (this.dropped) throw new StoreError(`stream ${this.name} was dropped`);
  }
}
