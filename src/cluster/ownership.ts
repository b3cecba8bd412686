import type { Logger } from 'pino';
import type { ClusterDatabase, Queryable } from './db/database.js';
import { placementKey, rendezvousOwner } from './placement.js';

/** One row of warren_queues. */
export interface QueueOwnership {
  readonly vhost: string;
  readonly name: string;
  readonly owner: string;
  /** Messages in PostgreSQL (a quorum queue): it moves when its owner dies. */
  readonly replicated: boolean;
  /** A rebalance asked the owner to hand the queue to this node. */
  readonly movingTo?: string | undefined;
}

export interface OwnershipEvents {
  /** A queue's owner changed (a failover, a rebalance, another node's declaration won). */
  ownerChanged(row: QueueOwnership, previous: string | undefined): void;
  /** A rebalance asks this node, the owner, to hand the queue over. */
  handOverRequested(row: QueueOwnership): void;
}

const key = (vhost: string, name: string): string => placementKey(vhost, name);

/**
 * Which node owns each queue (warren_queues), as this node last read it, and the rules that place and
 * move queues: a queue declared here gets an owner at once (replicated queues by rendezvous hashing over
 * the living nodes, classic ones on the declaring node, RabbitMQ's client-local default); when a node
 * is declared dead, the node that declared it moves its replicated queues in the same transaction, each
 * to the node the hash ranks first among the living. Classic queues stay with their node, unavailable
 * while it is down, as in RabbitMQ.
 */
export class OwnershipTable {
  private readonly rows = new Map<string, QueueOwnership>();
  /** Owners this node chose for queues declared here whose rows are not written yet. */
  private readonly chosen = new Map<string, QueueOwnership>();

  constructor(
    private readonly db: ClusterDatabase,
    private readonly self: string,
    private readonly events: OwnershipEvents,
    private readonly logger: Logger,
  ) {}

  ownerOf(vhost: string, name: string): string | undefined {
    const k = key(vhost, name);
    return (this.rows.get(k) ?? this.chosen.get(k))?.owner;
  }

  /** How many queues each node owns. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const row of this.rows.values()) counts.set(row.owner, (counts.get(row.owner) ?? 0) + 1);
    return counts;
  }

  /** Every queue this node owns by the table (to load replicated ones at start). */
  ownedHere(): QueueOwnership[] {
    return [...this.rows.values()].filter((row) => row.owner === this.self);
  }

  /** Where a queue declared on this node goes. */
  place(vhost: string, name: string, replicated: boolean, living: readonly string[]): string {
    const known = this.ownerOf(vhost, name);
    if (known !== undefined) return known;
    const owner = replicated ? (rendezvousOwner(key(vhost, name), living.includes(this.self) ? living : [...living, this.self]) ?? this.self) : this.self;
    this.chosen.set(key(vhost, name), { vhost, name, owner, replicated });
    return owner;
  }

  /** In the definitions transaction: the queue's row, with the owner chosen here (an existing row wins). */
  async queuePut(client: Queryable, vhost: string, name: string, replicated: boolean): Promise<void> {
    const owner = this.ownerOf(vhost, name) ?? this.self;
    await client.query(
      `INSERT INTO warren_queues (vhost, name, id, replicated, owner) VALUES ($1, $2, nextval('warren_queue_ids'), $3, $4)
       ON CONFLICT (vhost, name) DO NOTHING`,
      [vhost, name, replicated, owner],
    );
  }

  /** In the definitions transaction: the queue is gone cluster-wide, and so are its stored messages. */
  async queueDeleted(client: Queryable, vhost: string, name: string): Promise<void> {
    await client.query(`DELETE FROM warren_messages WHERE queue_id = (SELECT id FROM warren_queues WHERE vhost = $1 AND name = $2)`, [vhost, name]);
    await client.query(`DELETE FROM warren_queues WHERE vhost = $1 AND name = $2`, [vhost, name]);
    this.chosen.delete(key(vhost, name));
  }

  /**
   * In the transaction that declared `dead` dead: its replicated queues move to the living, each where
   * the hash ranks it first. Returns the moves.
   */
  async moveQueuesOf(client: Queryable, dead: string, living: readonly string[]): Promise<QueueOwnership[]> {
    const others = living.filter((node) => node !== dead);
    if (others.length === 0) return [];
    const { rows } = await client.query<{ vhost: string; name: string }>(
      `SELECT vhost, name FROM warren_queues WHERE owner = $1 AND replicated FOR UPDATE`,
      [dead],
    );
    const moves: QueueOwnership[] = [];
    for (const row of rows) {
      const owner = rendezvousOwner(key(row.vhost, row.name), others)!;
      await client.query(`UPDATE warren_queues SET owner = $3 WHERE vhost = $1 AND name = $2`, [row.vhost, row.name, owner]);
      moves.push({ vhost: row.vhost, name: row.name, owner, replicated: true });
    }
    if (moves.length !== 0) this.logger.info({ from: dead, queues: moves.length }, `moved ${moves.length} replicated queues of ${dead}`);
    return moves;
  }

  /**
   * Rebalance: every replicated queue whose owner is not the one the hash ranks first among `living`
   * is marked to move there; its owner hands it over (ClusterNode.handOver). Returns the marks made.
   */
  async requestRebalance(living: readonly string[]): Promise<{ queue: string; vhost: string; from: string; to: string }[]> {
    await this.refresh();
    const moves: { queue: string; vhost: string; from: string; to: string }[] = [];
    for (const row of this.rows.values()) {
      if (!row.replicated) continue;
      const to = rendezvousOwner(key(row.vhost, row.name), living);
      if (to === undefined || to === row.owner || !living.includes(row.owner)) continue;
      const { rowCount } = await this.db.query(`UPDATE warren_queues SET moving_to = $4 WHERE vhost = $1 AND name = $2 AND owner = $3`, [row.vhost, row.name, row.owner, to]);
      if (rowCount === 1) moves.push({ queue: row.name, vhost: row.vhost, from: row.owner, to });
    }
    return moves;
  }

  /** The owner hands a queue over (in a fenced transaction): the new owner loads it when it sees this. */
  async completeMove(client: Queryable, vhost: string, name: string, to: string): Promise<boolean> {
    const { rowCount } = await client.query(
      `UPDATE warren_queues SET owner = $4, moving_to = NULL WHERE vhost = $1 AND name = $2 AND owner = $3 AND moving_to = $4`,
      [vhost, name, this.self, to],
    );
    return rowCount === 1;
  }

  private reading: Promise<void> = Promise.resolve();

  /**
   * Reads the table again; reports every owner that changed since the last read. Reads run one after
   * another: an older snapshot applied after a newer one would move a queue back and forth.
   */
  refresh(): Promise<void> {
    const read = this.reading.then(() => this.readTable());
    this.reading = read.catch(() => undefined);
    return read;
  }

  private async readTable(): Promise<void> {
    const { rows } = await this.db.query<{ vhost: string; name: string; owner: string; replicated: boolean; moving_to: string | null }>(
      `SELECT vhost, name, owner, replicated, moving_to FROM warren_queues`,
    );
    const seen = new Set<string>();
    for (const row of rows) {
      const k = key(row.vhost, row.name);
      seen.add(k);
      this.chosen.delete(k);
      const previous = this.rows.get(k);
      const current: QueueOwnership = { vhost: row.vhost, name: row.name, owner: row.owner, replicated: row.replicated, movingTo: row.moving_to ?? undefined };
      this.rows.set(k, current);
      if (previous !== undefined && previous.owner !== current.owner) this.events.ownerChanged(current, previous.owner);
      else if (previous === undefined) this.events.ownerChanged(current, undefined);
      if (current.movingTo !== undefined && current.owner === this.self) this.events.handOverRequested(current);
    }
    for (const k of [...this.rows.keys()]) if (!seen.has(k)) this.rows.delete(k);
  }
}
