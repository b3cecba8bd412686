import type { Logger } from 'pino';
import type { DurableCallback, MessageStore, MessageStream, RecoveredStream, StoredMessage } from '../../store/store.js';
import { byteaArray, int4Array, int8Array } from '../db/binary-arrays.js';
import type { ClusterDatabase, Queryable } from '../db/database.js';
import { ReplicatedStream, type PendingRow, type ReplicatedStreamHost, type StreamBatch } from './replicated-stream.js';

/** What a round needs besides the database: the fencing check of this node's incarnation. */
export interface Fencing {
  assertCurrent(client: Queryable): Promise<void>;
}

export interface ReplicatedStoreEvents {
  /** The database stopped (false) or started (true) taking rounds: publishers are blocked meanwhile. */
  availability(available: boolean, error?: Error): void;
  /** This node was declared dead: it must stop and rejoin. */
  fenced(error: Error): void;
}

const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2000;

/**
 * The messages of replicated (quorum) queues, in PostgreSQL (table warren_messages), written in group
 * commits: at most one transaction in flight; everything accepted while it runs goes into the next one,
 * one statement per kind of change with binary array parameters (bench/pg-write-path.md). A message
 * removed before its round is written is never written. Every round first checks this node's
 * incarnation (fencing), so a node that was declared dead commits nothing. A confirm waits for the
 * commit of the round that holds its message. A failed round is retried, with everything after it,
 * until the database answers again; nothing is confirmed meanwhile.
 */
export class ReplicatedStore implements MessageStore, ReplicatedStreamHost {
  readonly persistent = true;
  private readonly streams = new Map<string, ReplicatedStream>();
  /** Streams with changes not yet written. */
  private readonly dirty = new Set<ReplicatedStream>();
  private waiting: DurableCallback[] = [];
  private inFlight = false;
  private scheduled = false;
  private retryMs = RETRY_FIRST_MS;
  private available = true;
  private closed = false;
  private fencedError: Error | undefined;
  /** Rounds committed and rows written, for /metrics and BENCHMARKS. */
  rounds = 0;
  rowsWritten = 0;

  constructor(
    private readonly db: ClusterDatabase,
    private readonly fencing: Fencing,
    private readonly events: ReplicatedStoreEvents,
    private readonly logger: Logger,
  ) {}

  stream(name: string): MessageStream {
    return this.streamNamed(name);
  }

  whenDurable(callback: DurableCallback): void {
    if (this.fencedError !== undefined) return;
    this.waiting.push(callback);
    this.schedule();
  }

  /** A stream changed (ReplicatedStream calls this). */
  touched(stream: ReplicatedStream): void {
    this.dirty.add(stream);
    this.schedule();
  }

  /** Reads rows (ReplicatedStream calls this for what is not in its write buffer). */
  async readRows(stream: ReplicatedStream, seqs: readonly number[]): Promise<Map<number, StoredMessage>> {
    const id = await this.idOf(stream, this.db);
    const found = new Map<number, StoredMessage>();
    if (id === undefined || seqs.length === 0) return found;
    const { rows } = await this.db.query<{ seq: string; header: Buffer; body: Buffer }>(
      `SELECT seq, header, body FROM warren_messages WHERE queue_id = $1 AND seq = ANY($2::bigint[])`,
      [id, int8Array(seqs)],
    );
    for (const row of rows) found.set(Number(row.seq), { header: row.header, body: row.body });
    return found;
  }

  /**
   * The stored messages of a queue this node now owns, in order, with the delivered flag: what a new
   * owner loads after a failover (delivered and unacked ones come back redelivered).
   */
  async recover(name: string): Promise<RecoveredStream> {
    const stream = this.streamNamed(name);
    const id = await this.idOf(stream, this.db);
    if (id === undefined) return { stream, handles: new Float64Array(0), delivered: new Uint8Array(0) };
    const { rows } = await this.db.query<{ seq: string; delivery_count: number }>(
      `SELECT seq, delivery_count FROM warren_messages WHERE queue_id = $1 ORDER BY seq`,
      [id],
    );
    const handles = Float64Array.from(rows, (row) => Number(row.seq));
    stream.resumeAfter(handles.length === 0 ? 0 : handles[handles.length - 1]!);
    return { stream, handles, delivered: Uint8Array.from(rows, (row) => (row.delivery_count > 0 ? 1 : 0)) };
  }

  /** Forgets a stream's buffered state (the queue moved to another node or was deleted elsewhere). */
  forget(name: string): void {
    const stream = this.streams.get(name);
    if (stream === undefined) return;
    stream.discard();
    this.dirty.delete(stream);
    this.streams.delete(name);
  }

  async close(): Promise<void> {
    this.closed = true;
    // The last round still in flight finishes; what was never committed was never confirmed.
    for (let i = 0; i < 200 && this.inFlight; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private streamNamed(name: string): ReplicatedStream {
    let stream = this.streams.get(name);
    // A dropped stream (its queue deleted) still writes its drop; the name used again is a new, empty queue.
    if (stream === undefined || stream.isDropped) {
      stream = new ReplicatedStream(this, name);
      this.streams.set(name, stream);
    }
    return stream;
  }

  private async idOf(stream: ReplicatedStream, client: Queryable): Promise<number | undefined> {
    if (stream.queueId !== undefined) return stream.queueId;
    const [vhost, queue] = JSON.parse(stream.name) as [string, string];
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM warren_queues WHERE vhost = $1 AND name = $2`, [vhost, queue]);
    if (rows[0] !== undefined) stream.queueId = Number(rows[0].id);
    return stream.queueId;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.round();
    });
  }

  /** One group commit: every dirty stream's inserts, deletes and delivered marks, fenced. */
  private async round(): Promise<void> {
    if (this.inFlight || this.closed || this.fencedError !== undefined) return;
    if (this.dirty.size === 0 && this.waiting.length === 0) return;
    this.inFlight = true;
    const streams = [...this.dirty];
    this.dirty.clear();
    const batches = streams.map((stream) => stream.takeBatch());
    const callbacks = this.waiting;
    this.waiting = [];
    try {
      const written = await this.db.transaction(async (client) => {
        await this.fencing.assertCurrent(client);
        let rows = 0;
        for (let i = 0; i < streams.length; i++) rows += await this.writeBatch(client, streams[i]!, batches[i]!);
        return rows;
      });
      this.rounds++;
      this.rowsWritten += written;
      this.retryMs = RETRY_FIRST_MS;
      this.setAvailable(true);
      for (const stream of streams) stream.committed();
      this.inFlight = false;
      for (const callback of callbacks) callback();
    } catch (error) {
      this.inFlight = false;
      for (let i = 0; i < streams.length; i++) {
        streams[i]!.restoreBatch(batches[i]!);
        this.dirty.add(streams[i]!);
      }
      this.waiting = [...callbacks, ...this.waiting];
      if (isFenced(error)) return this.fail(error as Error);
      this.setAvailable(false, error as Error);
      const delay = this.retryMs;
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
      setTimeout(() => void this.round(), delay).unref();
      return;
    }
    if (this.dirty.size !== 0 || this.waiting.length !== 0) this.schedule();
  }

  private async writeBatch(client: Queryable, stream: ReplicatedStream, batch: StreamBatch): Promise<number> {
    const id = await this.idOf(stream, client);
    if (id === undefined) return 0; // the queue is gone cluster-wide: nothing of it to keep
    if (batch.drop) {
      await client.query(`DELETE FROM warren_messages WHERE queue_id = $1`, [id]);
      return 0;
    }
    const inserts = batch.inserts;
    if (inserts.length !== 0) await this.insertRows(client, id, inserts);
    if (batch.deletes.length !== 0) {
      await client.query(`DELETE FROM warren_messages WHERE queue_id = $1 AND seq = ANY($2::bigint[])`, [id, int8Array(batch.deletes)]);
    }
    if (batch.delivered.length !== 0) {
      await client.query(
        `UPDATE warren_messages SET delivery_count = GREATEST(delivery_count, 1) WHERE queue_id = $1 AND seq = ANY($2::bigint[])`,
        [id, int8Array(batch.delivered)],
      );
    }
    return inserts.length;
  }

  private async insertRows(client: Queryable, id: number, rows: readonly PendingRow[]): Promise<void> {
    await client.query(
      `INSERT INTO warren_messages (queue_id, seq, header, body, delivery_count)
       SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bytea[], $5::int[])
       ON CONFLICT (queue_id, seq) DO NOTHING`,
      [
        id,
        int8Array(rows.map((row) => row.seq)),
        byteaArray(rows.map((row) => row.header)),
        byteaArray(rows.map((row) => row.body)),
        int4Array(rows.map((row) => row.deliveryCount)),
      ],
    );
  }

  private setAvailable(available: boolean, error?: Error): void {
    if (this.available === available) return;
    this.available = available;
    if (!available) this.logger.warn({ err: error }, `replicated queue writes failing, retrying: ${error?.message ?? ''}`);
    else this.logger.info('replicated queue writes are committing again');
    this.events.availability(available, error);
  }

  private fail(error: Error): void {
    if (this.fencedError !== undefined) return;
    this.fencedError = error;
    this.waiting = [];
    this.events.fenced(error);
  }
}

function isFenced(error: unknown): boolean {
  return error instanceof Error && error.name === 'FencedError';
}
