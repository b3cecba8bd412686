import { after, before } from 'node:test';
import pg from 'pg';
import { postgresMissingReason } from '../../src/cluster/postgres/binaries.js';
import { startThrowawayPostgres, type ThrowawayPostgres, type ThrowawayPostgresOptions } from '../../src/cluster/postgres/throwaway.js';

export interface TestPostgres {
  /** The reason to skip (PostgreSQL is not installed, and what to install), or false: pass as { skip }. */
  skip: string | false;
  /** The file's server, started in before() and stopped in after(). */
  server(): ThrowawayPostgres;
  /** A new, empty database on the file's server, for one test: its postgres:// URL. */
  freshDatabase(): Promise<string>;
}

let databases = 0;

/**
 * One throwaway PostgreSQL for the calling test file (call it at the top level), databases per
 * test. Its tests must take { skip: pg.skip }: the server is not started when PostgreSQL is missing.
 */
export function postgresForFile(options: ThrowawayPostgresOptions = {}): TestPostgres {
  const skip = postgresMissingReason();
  let server: ThrowawayPostgres | undefined;
  // Node 20 runs a file's before() hooks side by side: whoever needs the server awaits this.
  let starting: Promise<ThrowawayPostgres> | undefined;
  if (skip === false) {
    before(async () => {
      starting = startThrowawayPostgres(options);
      server = await starting;
    });
    after(() => server?.stop());
  }
  const started = (): ThrowawayPostgres => {
    if (!server) throw new Error(skip || 'the test PostgreSQL is not started: use postgresForFile at the top level of the file');
    return server;
  };
  return {
    skip,
    server: started,
    async freshDatabase() {
      for (let i = 0; i < 100 && starting === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      if (starting !== undefined) await starting;
      const s = started();
      const name = `test_${process.pid}_${++databases}`;
      // The socket (trust) is enough for CREATE DATABASE; tests get the TCP URL like the cluster will.
      const admin = new pg.Client({ host: s.socketDir, port: s.port, user: s.user, database: s.database, ssl: false });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(s.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}
