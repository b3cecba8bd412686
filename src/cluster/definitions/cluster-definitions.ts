import type { Logger } from 'pino';
import type { DefinitionKind, DefinitionRecord, DefinitionStore, DurableCallback } from '../../store/store.js';
import type { ClusterDatabase, Queryable } from '../db/database.js';

/** A definition as another node changed it: `value` undefined means deleted. */
export interface DefinitionChange {
  readonly kind: DefinitionKind;
  readonly key: string;
  readonly value: unknown;
  readonly deleted: boolean;
}

/** How a queue declared through this node gets its owner and its row in warren_queues. */
export interface QueueRows {
  /** Called in the definitions transaction for a queue put or delete. */
  queuePut(client: Queryable, vhost: string, name: string, value: unknown): Promise<void>;
  queueDeleted(client: Queryable, vhost: string, name: string): Promise<void>;
}

const RETRY_MS = 200;

/**
 * The cluster-wide definitions (vhosts, users, permissions, exchanges, queues, bindings, policies) in
 * PostgreSQL's warren_definitions, as the broker's DefinitionStore. Writes are batched per event-loop
 * turn into one transaction that takes the next revision from warren_revision; that row's lock makes
 * revisions commit in order, so a node that polls "revision > the last one I saw" never skips a change.
 * A deletion is a row with a NULL value (a tombstone), so pollers see deletions too. Changes made here
 * while applying another node's changes are not written back (`applying`).
 */
export class ClusterDefinitions implements DefinitionStore {
  private pending = new Map<string, { kind: DefinitionKind; key: string; value: unknown; deleted: boolean }>();
  private waiting: DurableCallback[] = [];
  private flushing = false;
  /** Keys of the batch being written now. */
  private inFlight = new Set<string>();
  private scheduled = false;
  private applyingDepth = 0;
  private seenRevision = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: ClusterDatabase,
    private readonly nodeName: string,
    private readonly queues: QueueRows,
    /** Every write checks this node's incarnation first: a node declared dead changes nothing. */
    private readonly fencing: { assertCurrent(client: Queryable): Promise<void> },
    private readonly logger: Logger,
  ) {}

  /** What the last `load` returned (the server restores users from it after the broker started). */
  loaded: DefinitionRecord[] = [];

  /** Every live definition, and the revision they are current at (polling continues from there). */
  async load(): Promise<DefinitionRecord[]> {
    this.loaded = await this.db.transaction(async (client) => {
      const { rows: revision } = await client.query<{ revision: string }>(`SELECT revision FROM warren_revision WHERE id = 1`);
      this.seenRevision = Number(revision[0]?.revision ?? 0);
      const { rows } = await client.query<{ kind: DefinitionKind; key: string; value: string }>(
        `SELECT kind, key, value FROM warren_definitions WHERE value IS NOT NULL AND revision <= $1 ORDER BY revision`,
        [this.seenRevision],
      );
      return rows.map((row) => ({ kind: row.kind, key: row.key, value: JSON.parse(row.value) as unknown }));
    });
    return this.loaded;
  }

  putDefinition(kind: DefinitionKind, key: string, value: unknown): void {
    if (this.applyingDepth !== 0) return;
    this.pending.set(`${kind}\u0000${key}`, { kind, key, value, deleted: false });
    this.schedule();
  }

  deleteDefinition(kind: DefinitionKind, key: string): void {
    if (this.applyingDepth !== 0) return;
    this.pending.set(`${kind}\u0000${key}`, { kind, key, value: undefined, deleted: true });
    this.schedule();
  }

  whenDurable(callback: DurableCallback): void {
    this.waiting.push(callback);
    this.schedule();
  }

  /** Runs `work` (applying another node's changes to this broker) without writing them back. */
  applying<T>(work: () => T): T {
    this.applyingDepth++;
    try {
      return work();
    } finally {
      this.applyingDepth--;
    }
  }

  /** Polls for other nodes' changes every `intervalMs`, handing them over in revision order. */
  startPolling(intervalMs: number, apply: (changes: DefinitionChange[]) => void): void {
    const poll = async (): Promise<void> => {
      try {
        const changes = await this.changesSince();
        if (changes.length !== 0) apply(changes);
      } catch (error) {
        this.logger.debug({ err: error }, 'definitions poll failed; retrying');
      }
      if (!this.stopped) this.pollTimer = setTimeout(() => void poll(), intervalMs);
    };
    this.pollTimer = setTimeout(() => void poll(), intervalMs);
  }

  /** Writes what is pending now and waits for it, for at most `timeoutMs` (shutdown). */
  async flushNow(timeoutMs = 2000): Promise<void> {
    if (this.pending.size === 0 && !this.flushing) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
      void this.flush();
    });
  }

  /** Stops polling; what is pending can still be flushed (flushNow). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
  }

  private async changesSince(): Promise<DefinitionChange[]> {
    const { rows } = await this.db.query<{ kind: DefinitionKind; key: string; value: string | null; revision: string; written_by: string }>(
      `SELECT kind, key, value, revision, written_by FROM warren_definitions WHERE revision > $1 ORDER BY revision`,
      [this.seenRevision],
    );
    const changes: DefinitionChange[] = [];
    for (const row of rows) {
      this.seenRevision = Math.max(this.seenRevision, Number(row.revision));
      if (row.written_by === this.nodeName) continue; // already applied here when it was made
      // A change of ours to the same definition is on its way and will win in the database: keep ours.
      const id = `${row.kind}\u0000${row.key}`;
      if (this.pending.has(id) || this.inFlight.has(id)) continue;
      changes.push({ kind: row.kind, key: row.key, value: row.value === null ? undefined : (JSON.parse(row.value) as unknown), deleted: row.value === null });
    }
    return changes;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    const batch = [...this.pending.values()];
    const callbacks = this.waiting;
    if (batch.length === 0 && callbacks.length === 0) return;
    this.pending = new Map();
    this.waiting = [];
    this.flushing = true;
    this.inFlight = new Set(batch.map((change) => `${change.kind}\u0000${change.key}`));
    try {
      if (batch.length !== 0) await this.db.transaction((client) => this.write(client, batch));
      this.flushing = false;
      this.inFlight.clear();
      for (const callback of callbacks) callback();
    } catch (error) {
      this.flushing = false;
      this.inFlight.clear();
      this.logger.warn({ err: error }, `writing definitions to the cluster database failed, retrying: ${(error as Error).message}`);
      for (const change of batch) {
        const id = `${change.kind}\u0000${change.key}`;
        if (!this.pending.has(id)) this.pending.set(id, change);
      }
      this.waiting = [...callbacks, ...this.waiting];
      setTimeout(() => this.schedule(), RETRY_MS).unref();
      return;
    }
    if (this.pending.size !== 0 || this.waiting.length !== 0) this.schedule();
  }

  private async write(client: Queryable, batch: readonly { kind: DefinitionKind; key: string; value: unknown; deleted: boolean }[]): Promise<void> {
    await this.fencing.assertCurrent(client);
    const { rows } = await client.query<{ revision: string }>(`UPDATE warren_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision`);
    const revision = Number(rows[0]!.revision);
    for (const change of batch) {
      await client.query(
        `INSERT INTO warren_definitions (kind, key, value, revision, written_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind, key) DO UPDATE SET value = $3, revision = $4, written_by = $5`,
        [change.kind, change.key, change.deleted ? null : JSON.stringify(change.value), revision, this.nodeName],
      );
      if (change.kind !== 'queue') continue;
      const [vhost, name] = JSON.parse(change.key) as [string, string];
      if (change.deleted) await this.queues.queueDeleted(client, vhost, name);
      else await this.queues.queuePut(client, vhost, name, change.value);
    }
  }
}
