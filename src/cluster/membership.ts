import type { Logger } from 'pino';
import type { ClusterDatabase, Queryable } from './db/database.js';

/** How a node is reached, as it records itself in warren_nodes. */
export interface NodeAddress {
  readonly host: string;
  readonly linkPort: number;
  readonly amqpPort: number;
  readonly httpPort: number;
}

/** One row of warren_nodes as the living see it. */
export interface NodeRecord extends NodeAddress {
  readonly name: string;
  readonly incarnation: number;
  readonly alive: boolean;
  /** The lease had not run out (by the database's clock) when this was read. */
  readonly leased: boolean;
  readonly leaseUntil: Date;
  readonly joinedAt: Date;
  readonly diedAt: Date | undefined;
  readonly connections: number;
}

export class DuplicateNodeError extends Error {
  constructor(name: string) {
    super(`another node named '${name}' is alive in this cluster (its lease is current); give this node another --node-name`);
    this.name = 'DuplicateNodeError';
  }
}

export interface MembershipOptions {
  readonly nodeName: string;
  /** Identity of this node's data dir: the same name from another data dir is another node. */
  readonly uid: string;
  readonly address: NodeAddress;
  readonly leaseMs: number;
}

/**
 * This node's row in warren_nodes: joining (a new incarnation each time), renewing its lease against the
 * database's clock, and declaring other nodes dead. The incarnation is the fencing token: declaring a
 * node dead bumps it with a compare-and-set, and every commit of a node checks its own incarnation in the
 * same transaction (`assertCurrent`), so a node that was only paused can never write after it was
 * replaced. No advisory locks, no LISTEN/NOTIFY: plain rows and conditional updates.
 */
export class Membership {
  private incarnationValue = 0;

  constructor(
    private readonly db: ClusterDatabase,
    private readonly options: MembershipOptions,
    private readonly logger: Logger,
  ) {}

  get nodeName(): string {
    return this.options.nodeName;
  }

  /** This node's current incarnation (0 before it joined). */
  get incarnation(): number {
    return this.incarnationValue;
  }

  /**
   * Joins as a new incarnation. Refuses when a node of the same name from another data dir holds a
   * current lease; the same data dir (this node restarting after a crash) takes its name over at once.
   */
  async join(): Promise<number> {
    const { nodeName, uid, address, leaseMs } = this.options;
    const incarnation = await this.db.transaction(async (client) => {
      const { rows } = await client.query<{ uid: string; incarnation: string; alive: boolean; leased: boolean }>(
        `SELECT uid, incarnation, alive, lease_until > now() AS leased FROM warren_nodes WHERE name = $1 FOR UPDATE`,
        [nodeName],
      );
      const existing = rows[0];
      if (existing !== undefined && existing.alive && existing.leased && existing.uid !== uid) throw new DuplicateNodeError(nodeName);
      const next = Number(existing?.incarnation ?? 0) + 1;
      await client.query(
        `INSERT INTO warren_nodes (name, uid, incarnation, alive, lease_until, host, link_port, amqp_port, http_port, joined_at, died_at)
         VALUES ($1, $2, $3, true, now() + make_interval(secs => $4::float8 / 1000), $5, $6, $7, $8, now(), NULL)
         ON CONFLICT (name) DO UPDATE SET uid = $2, incarnation = $3, alive = true,
           lease_until = EXCLUDED.lease_until, host = $5, link_port = $6, amqp_port = $7, http_port = $8, joined_at = now(), died_at = NULL`,
        [nodeName, uid, next, leaseMs, address.host, address.linkPort, address.amqpPort, address.httpPort],
      );
      return next;
    });
    this.incarnationValue = incarnation;
    this.logger.info({ node: nodeName, incarnation }, `joined the cluster as ${nodeName}, incarnation ${incarnation}`);
    return incarnation;
  }

  /**
   * Renews the lease (and records the client connection count for the cluster's listings). False: this
   * node was declared dead (fenced) and must rejoin as a new incarnation.
   */
  async renewLease(connections = 0): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE warren_nodes SET lease_until = now() + make_interval(secs => $3::float8 / 1000), connections = $4
       WHERE name = $1 AND incarnation = $2 AND alive`,
      [this.options.nodeName, this.incarnationValue, this.options.leaseMs, connections],
    );
    return rowCount === 1;
  }

  /**
   * Fencing inside another transaction: locks this node's row against a concurrent death declaration
   * until the transaction ends, and fails it if this incarnation is no longer the alive one.
   */
  async assertCurrent(client: Queryable): Promise<void> {
    const { rowCount } = await client.query(
      `SELECT 1 FROM warren_nodes WHERE name = $1 AND incarnation = $2 AND alive FOR SHARE`,
      [this.options.nodeName, this.incarnationValue],
    );
    if (rowCount !== 1) throw new FencedError(this.options.nodeName, this.incarnationValue);
  }

  /** Every node's row, living and dead. */
  async nodes(client: Queryable = this.db): Promise<NodeRecord[]> {
    const { rows } = await client.query<RawNode>(
      `SELECT name, incarnation, alive, lease_until > now() AS leased, lease_until, host, link_port, amqp_port, http_port, joined_at, died_at, connections
       FROM warren_nodes ORDER BY name`,
    );
    return rows.map(toNodeRecord);
  }

  /**
   * Declares `name` dead if it is still at `incarnation` (compare-and-set: of several nodes racing, one
   * wins), bumping its incarnation so anything it still tries to commit fails. `onlyIfLapsed`: only if its
   * lease ran out by the database's clock (a suspicion from a dropped link skips that check). Runs
   * `andThen` in the same transaction when this call won. Returns whether it did.
   */
  async declareDead(
    name: string,
    incarnation: number,
    onlyIfLapsed: boolean,
    andThen?: (client: Queryable) => Promise<void>,
  ): Promise<boolean> {
    if (name === this.options.nodeName) return false;
    return this.db.transaction(async (client) => {
      const { rowCount } = await client.query(
        `UPDATE warren_nodes SET alive = false, died_at = now(), incarnation = incarnation + 1
         WHERE name = $1 AND incarnation = $2 AND alive ${onlyIfLapsed ? 'AND lease_until < now()' : ''}`,
        [name, incarnation],
      );
      if (rowCount !== 1) return false;
      await andThen?.(client);
      this.logger.warn({ node: name, incarnation }, `declared node ${name} (incarnation ${incarnation}) dead`);
      return true;
    });
  }

  /** Leaves on a clean stop: the row says dead at once, so the living need not wait for the lease. */
  async leave(andThen?: (client: Queryable) => Promise<void>): Promise<void> {
    await this.db.transaction(async (client) => {
      const { rowCount } = await client.query(
        `UPDATE warren_nodes SET alive = false, died_at = now(), incarnation = incarnation + 1 WHERE name = $1 AND incarnation = $2 AND alive`,
        [this.options.nodeName, this.incarnationValue],
      );
      if (rowCount === 1) await andThen?.(client);
    });
  }
}

export class FencedError extends Error {
  constructor(name: string, incarnation: number) {
    super(`node ${name} incarnation ${incarnation} was declared dead by the cluster (fenced); it must rejoin`);
    this.name = 'FencedError';
  }
}

interface RawNode {
  name: string;
  incarnation: string;
  alive: boolean;
  leased: boolean;
  lease_until: Date;
  host: string;
  link_port: number;
  amqp_port: number;
  http_port: number;
  joined_at: Date;
  died_at: Date | null;
  connections: number;
}

function toNodeRecord(row: RawNode): NodeRecord {
  return {
    name: row.name,
    incarnation: Number(row.incarnation),
    alive: row.alive,
    leased: row.leased,
    leaseUntil: row.lease_until,
    host: row.host,
    linkPort: row.link_port,
    amqpPort: row.amqp_port,
    httpPort: row.http_port,
    joinedAt: row.joined_at,
    diedAt: row.died_at ?? undefined,
    connections: row.connections,
  };
}
