/**
 * The store contract (test/unit/store/store-suite.ts) run against the cluster's message store on a real
 * PostgreSQL. ReplicatedStore is a MessageStore only: the cluster keeps definitions in its own table
 * (tested by the cluster's integration tests), recovers one queue at a time when it takes the queue
 * over, and keeps a fanned-out message once per queue. The adapter below gives the suite a `Store`:
 * open() recovers every queue with rows, and stream names the suite uses become queue rows (a
 * node's queues have their row before their first message, written with the queue's definition).
 */
import { pino } from 'pino';
import { ClusterDatabase, type Queryable } from '../../../src/cluster/db/database.js';
import { migrateSchema } from '../../../src/cluster/db/schema.js';
import { ReplicatedStore } from '../../../src/cluster/replicated/replicated-store.js';
import type { DurableCallback, MessageHandle, MessageStream, RecoveredState, RecoveredStream, Store, StoredMessage } from '../../../src/store/store.js';
import { postgresForFile } from '../../helpers/postgres.js';
import { runStoreSuite } from '../store/store-suite.js';

const pgServer = postgresForFile();
const logger = pino({ level: 'silent' });
const VHOST = '/';

/** Gives every stream name the suite uses its warren_queues row, in the transaction that first needs it. */
class QueueRowsDatabase extends ClusterDatabase {
  private readonly pending = new Set<string>();

  register(name: string): void {
    this.pending.add(name);
  }

  override transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    return super.transaction(async (client) => {
      await this.insertPending(client);
      return work(client);
    });
  }

  private async insertPending(client: Queryable): Promise<void> {
    for (const name of [...this.pending]) {
      await client.query(
        `INSERT INTO warren_queues (vhost, name, id, replicated, owner) VALUES ($1, $2, nextval('warren_queue_ids'), true, 'n1')
         ON CONFLICT (vhost, name) DO NOTHING`,
        [VHOST, name],
      );
      this.pending.delete(name);
    }
  }
}

/** The suite's names ('/jobs') as the stream names ReplicatedStore uses (a queue's [vhost, name]). */
const streamName = (name: string): string => JSON.stringify([VHOST, name]);

/** A replicated stream under the name the suite gave it. */
class NamedStream implements MessageStream {
  constructor(
    readonly name: string,
    readonly inner: MessageStream,
  ) {}
  append(header: Buffer, body: Buffer): MessageHandle {
    return this.inner.append(header, body);
  }
  share(handle: MessageHandle): boolean {
    return this.inner.share(handle);
  }
  remove(handle: MessageHandle): void {
    this.inner.remove(handle);
  }
  markDelivered(handle: MessageHandle): void {
    this.inner.markDelivered(handle);
  }
  read(handles: readonly MessageHandle[]): Promise<StoredMessage[]> {
    return this.inner.read(handles);
  }
  drop(): void {
    this.inner.drop();
  }
}

class ReplicatedStoreUnderTest implements Store {
  readonly persistent = true;
  private store: ReplicatedStore | undefined;
  private readonly streams = new Map<string, NamedStream>();

  constructor(private readonly db: QueueRowsDatabase) {}

  // The replicated store keeps queue messages only; stream logs are the local store's.
  streamLog(): never {
    throw new Error('the replicated store keeps no stream logs');
  }
  streamLogNames(): string[] {
    return [];
  }

  async open(): Promise<RecoveredState> {
    await migrateSchema(this.db);
    const store = new ReplicatedStore(this.db, { assertCurrent: async () => undefined }, { availability: () => undefined, fenced: () => undefined }, logger);
    this.store = store;
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT q.name FROM warren_queues q WHERE EXISTS (SELECT 1 FROM warren_messages m WHERE m.queue_id = q.id) ORDER BY q.name`,
    );
    const streams: RecoveredStream[] = [];
    for (const { name } of rows) {
      const recovered = await store.recover(streamName(name));
      const stream = new NamedStream(name, recovered.stream);
      this.streams.set(name, stream);
      streams.push({ ...recovered, stream });
    }
    return { definitions: [], streams, problems: [] };
  }

  stream(name: string): MessageStream {
    const store = this.opened();
    const inner = store.stream(streamName(name));
    const known = this.streams.get(name);
    if (known?.inner === inner) return known;
    this.db.register(name);
    const stream = new NamedStream(name, inner);
    this.streams.set(name, stream);
    return stream;
  }

  whenDurable(callback: DurableCallback): void {
    this.opened().whenDurable(callback);
  }

  putDefinition(): void {
    throw new Error('the cluster keeps definitions in warren_definitions');
  }

  deleteDefinition(): void {
    throw new Error('the cluster keeps definitions in warren_definitions');
  }

  async close(): Promise<void> {
    await this.store?.close();
    this.store = undefined;
  }

  private opened(): ReplicatedStore {
    if (this.store === undefined) throw new Error('the store is not open');
    return this.store;
  }
}

if (pgServer.skip !== false) {
  const { test } = await import('node:test');
  test('ReplicatedStore: the store contract', { skip: pgServer.skip }, () => undefined);
} else {
  runStoreSuite('ReplicatedStore', async () => {
    const db = new QueueRowsDatabase(await pgServer.freshDatabase(), logger);
    return { create: () => new ReplicatedStoreUnderTest(db), cleanup: () => db.close(), sharesMessages: false, definitions: false };
  });
}
