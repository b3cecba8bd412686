import pg from 'pg';
import type { Logger } from 'pino';

/** The database refused the login, or the URL names nothing that answers: a mistake to stop for. */
export class ClusterDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterDatabaseError';
  }
}

/** What a statement runs on: the pool, or one client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * The node's connections to the cluster's PostgreSQL: a small pool (heartbeats, the message writer and
 * the definitions poller each take a client for a statement or a transaction, so one slow round does not
 * hold up a lease renewal). Plain SQL over the wire protocol only: no LISTEN/NOTIFY, no advisory locks,
 * so PostgreSQL-compatible engines can stand in. A lost server never crashes the process: failed
 * queries reject, and the pool reconnects on the next use.
 */
export class ClusterDatabase implements Queryable {
  readonly pool: pg.Pool;
  private closed = false;

  constructor(
    readonly url: string,
    private readonly logger: Logger,
    options: { max?: number; applicationName?: string; idleInTransactionMs?: number } = {},
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 6,
      application_name: options.applicationName ?? 'warren',
      connectionTimeoutMillis: 5_000,
      // A node paused (GC, SIGSTOP) inside a transaction would hold its row locks, and with them the
      // declaration of its own death; the server ends such a session and its transaction instead.
      ...(options.idleInTransactionMs === undefined ? {} : { options: `-c idle_in_transaction_session_timeout=${options.idleInTransactionMs}` }),
      // A query the server never answers (a partition) must not hang a heartbeat forever.
      query_timeout: 30_000,
      keepAlive: true,
    });
    // An idle client whose server went away emits 'error' on the pool; unhandled, it would kill the node.
    this.pool.on('error', (error) => this.logger.warn({ err: error }, `cluster database connection lost: ${error.message}`));
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  /** Runs `work` in one transaction on one client: committed if it returns, rolled back if it throws. */
  async transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A server that dies mid-transaction makes the checked-out client emit 'error' (the pool listens
    // only to idle ones); the query in flight rejects anyway, so the event is only noted.
    const onError = (): void => void (broken = true);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /** Checks the URL and the login once, with a message a user can act on. */
  async checkReachable(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw new ClusterDatabaseError(`cannot use the cluster database ${redactUrl(this.url)}: ${describePgError(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid URL>';
  }
}

function describePgError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  if (code === '28P01' || code === '28000') return `the login was refused (${error.message})`;
  if (code === '3D000') return `no such database (${error.message})`;
  if (code === 'ECONNREFUSED') return 'nothing listens there (connection refused)';
  if (code === 'ENOTFOUND') return 'the host name does not resolve';
  return error.message;
}
