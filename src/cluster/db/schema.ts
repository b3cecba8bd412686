import { randomBytes } from 'node:crypto';
import type { ClusterDatabase, Queryable } from './database.js';

/**
 * The cluster's tables (ARCHITECTURE.md "Cluster"), created and migrated by whichever node starts
 * first. Versioned: each migration runs once, in order, in the transaction that records it; a schema
 * newer than this Warren knows is refused, so an old node never writes into a layout it does not know.
 */
export const SCHEMA_VERSION = 1;

const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: membership, definitions, queue ownership, replicated messages.
  [
    `CREATE TABLE warren_nodes (
       name text PRIMARY KEY,
       uid text NOT NULL,
       incarnation bigint NOT NULL,
       alive boolean NOT NULL,
       lease_until timestamptz NOT NULL,
       host text NOT NULL,
       link_port integer NOT NULL,
       amqp_port integer NOT NULL,
       http_port integer NOT NULL,
       connections integer NOT NULL DEFAULT 0,
       joined_at timestamptz NOT NULL DEFAULT now(),
       died_at timestamptz
     )`,
    `CREATE TABLE warren_revision (id integer PRIMARY KEY CHECK (id = 1), revision bigint NOT NULL)`,
    `INSERT INTO warren_revision (id, revision) VALUES (1, 0)`,
    `CREATE TABLE warren_definitions (
       kind text NOT NULL,
       key text NOT NULL,
       value text,
       revision bigint NOT NULL,
       written_by text NOT NULL,
       PRIMARY KEY (kind, key)
     )`,
    `CREATE INDEX warren_definitions_revision ON warren_definitions (revision)`,
    `CREATE TABLE warren_queues (
       vhost text NOT NULL,
       name text NOT NULL,
       id bigint NOT NULL UNIQUE,
       replicated boolean NOT NULL,
       owner text NOT NULL,
       moving_to text,
       PRIMARY KEY (vhost, name)
     )`,
    `CREATE SEQUENCE warren_queue_ids`,
    `CREATE TABLE warren_messages (
       queue_id bigint NOT NULL,
       seq bigint NOT NULL,
       header bytea NOT NULL,
       body bytea NOT NULL,
       delivery_count integer NOT NULL DEFAULT 0,
       PRIMARY KEY (queue_id, seq)
     )`,
  ],
];

export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(`the cluster database has schema version ${found}, newer than this Warren's (${SCHEMA_VERSION}); upgrade this node`);
    this.name = 'SchemaTooNewError';
  }
}

/** Creates or migrates the schema; returns the cluster's shared secret (node links prove they know it). */
export async function migrateSchema(db: ClusterDatabase): Promise<{ secret: string; version: number }> {
  // Nodes starting together race on CREATE TABLE IF NOT EXISTS (a catalog unique violation): retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((client) => migrateOnce(client));
    } catch (error) {
      if (error instanceof SchemaTooNewError || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function migrateOnce(client: Queryable): Promise<{ secret: string; version: number }> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS warren_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL, cluster_secret text NOT NULL)`,
  );
  await client.query(`INSERT INTO warren_schema (id, version, cluster_secret) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING`, [
    randomBytes(32).toString('hex'),
  ]);
  // The row lock makes concurrent starters migrate one after the other.
  const { rows } = await client.query<{ version: number; cluster_secret: string }>(
    `SELECT version, cluster_secret FROM warren_schema WHERE id = 1 FOR UPDATE`,
  );
  const row = rows[0]!;
  if (row.version > SCHEMA_VERSION) throw new SchemaTooNewError(row.version);
  for (let version = row.version + 1; version <= SCHEMA_VERSION; version++) {
    for (const statement of MIGRATIONS[version - 1]!) await client.query(statement);
    await client.query(`UPDATE warren_schema SET version = $1 WHERE id = 1`, [version]);
  }
  return { secret: row.cluster_secret, version: SCHEMA_VERSION };
}
