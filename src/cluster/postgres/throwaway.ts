import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findPostgresBinaries } from './binaries.js';
import { destroySync, killServerProcessesSync, startWatchdog } from './reaper.js';

/**
 * A throwaway PostgreSQL server: a fresh initdb in a temp dir, postgres on 127.0.0.1:<free port>,
 * everything removed by stop(). Used by `warren cluster dev` and by the cluster store's tests, so
 * it is configured like a real server: fsync and synchronous_commit stay at PostgreSQL's defaults
 * unless `fast` is asked for.
 *
 * Authentication: trust on the Unix socket (in the temp dir, mode 0700, so only its owner and root
 * reach it) and scram-sha-256 with a random password on TCP, which is what `url` uses.
 *
 * What is left behind when the Node process ends:
 * - stop() shuts the server down (fast mode, like `pg_ctl stop -m fast`) and removes the dir.
 * - Exiting without stop() (process.exit, the event loop running out): an 'exit' handler SIGKILLs
 *   the server's processes and removes the dir before the process is gone.
 * - Dying without 'exit' handlers (SIGKILL; SIGINT or SIGTERM with no handler installed): a
 *   watchdog sh per server, reading a pipe from this process, sees the pipe close and does the same,
 *   typically within 100 ms. Only a SIGKILL of the watchdog itself as well leaves the server running.
 */
export interface ThrowawayPostgresOptions {
  /** Database created for `url` (default 'warren'); lower-case letters, digits and _. */
  database?: string;
  /**
   * FOR UNIT TESTS ONLY: fsync=off and full_page_writes=off (and initdb --no-sync). Commits still
   * reach the kernel, so kill() loses nothing; a crash of the machine would corrupt the data.
   * Never for durability measurements.
   */
  fast?: boolean;
  /** Where the temp dir is made (default os.tmpdir()); the postgres user must be able to reach it. */
  parentDir?: string;
  /** More server settings, passed as `-c name=value`. */
  settings?: Record<string, string | number>;
  /** How long start and restart may wait for connections to be accepted (default 60 s: crash recovery). */
  startTimeoutMs?: number;
}

export interface ThrowawayPostgres {
  /** postgres://warren:<password>@127.0.0.1:<port>/<database> */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Directory of the Unix socket (.s.PGSQL.<port>): host for clients that use the socket (trust). */
  readonly socketDir: string;
  readonly dataDir: string;
  /** The server's log (stderr of every start), useful when a test fails. */
  readonly logFile: string;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** PID of the running postmaster; undefined while it is down. */
  readonly pid: number | undefined;
  /** Fast shutdown, then removes every file. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILLs the postmaster and its children, as a crash would; resolves once none is left. Keeps the files. */
  kill(): Promise<void>;
  /** Starts the server again on the same dir and port (after kill(): with crash recovery); shuts it down first if it runs. */
  restart(): Promise<void>;
}

const USER = 'warren';
const HOST = '127.0.0.1';
const live = new Set<Server>();
let exitHandlerInstalled = false;

/** Starts a throwaway PostgreSQL and resolves once its database accepts connections. */
export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const database = options.database ?? 'warren';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`database name ${JSON.stringify(database)}: use lower-case letters, digits and _`);
  const { binDir } = findPostgresBinaries();
  const owner = serverOwner();
  const dir = realpathSync(mkdtempSync(join(options.parentDir ?? tmpdir(), 'warren-pg-')));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const server = new Server(binDir, dir, owner, database, options);
  try {
    await server.create();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

interface Owner {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: as root, its programs run as the postgres user. */
function serverOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error("running as root, and there is no 'postgres' user to run PostgreSQL as (Debian's postgresql package creates it)");
  }
}

class Server implements ThrowawayPostgres {
  readonly host = HOST;
  readonly user = USER;
  readonly password = randomBytes(12).toString('hex');
  readonly dataDir: string;
  readonly logFile: string;
  port = 0;
  private postmaster: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;
  private readonly postgresExe: string;
  private readonly watchdog: ChildProcess;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly binDir: string,
    readonly socketDir: string,
    private readonly owner: Owner | undefined,
    readonly database: string,
    private readonly options: ThrowawayPostgresOptions,
  ) {
    this.dataDir = join(socketDir, 'data');
    this.logFile = join(socketDir, 'postgres.log');
    this.postgresExe = realpathSync(join(binDir, 'postgres'));
    this.watchdog = startWatchdog(socketDir, this.dataDir, this.postgresExe);
    live.add(this);
    if (!exitHandlerInstalled) {
      exitHandlerInstalled = true;
      process.on('exit', () => {
        for (const server of live) destroySync(server.socketDir, server.dataDir, server.postgresExe);
      });
    }
  }

  get url(): string {
    return `postgres://${USER}:${this.password}@${HOST}:${this.port}/${this.database}`;
  }

  get pid(): number | undefined {
    return this.postmaster?.pid;
  }

  async create(): Promise<void> {
    this.initdb();
    // The free port is found by binding port 0 and letting go of it, so another process can take it
    // before postgres binds it: then try another one.
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      try {
        await this.start();
        break;
      } catch (error) {
        if (attempt === 3 || !/could not bind|could not create any TCP\/IP sockets/.test(this.logTail())) throw error;
      }
    }
    await this.withSocketClient((client) => client.query(`CREATE DATABASE ${this.database}`));
  }

  async kill(): Promise<void> {
    const postmaster = this.postmaster;
    if (!postmaster) return;
    postmaster.kill('SIGKILL');
    await this.untilExited(postmaster);
    // Its children would notice the postmaster's death and exit by themselves, but a restart
    // refuses to start while any of them still holds the old shared memory: kill them now.
    if (!killServerProcessesSync(this.dataDir, this.postgresExe)) throw new Error(`postgres processes of ${this.dataDir} survived SIGKILL`);
  }

  async restart(): Promise<void> {
    if (this.stopping) throw new Error('restart() after stop(): the server and its files are gone');
    await this.shutdown();
    await this.start();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.shutdown();
      killServerProcessesSync(this.dataDir, this.postgresExe); // none, unless shutdown gave up
      await rm(this.socketDir, { recursive: true, force: true, maxRetries: 3 });
      live.delete(this);
      if (this.watchdog.exitCode === null && this.watchdog.signalCode === null) {
        const gone = once(this.watchdog, 'exit');
        this.watchdog.ref(); // unref'd so far; now its exit is awaited
        this.watchdog.stdin?.end(); // it finds nothing left to do, and exits
        await gone;
      }
    })();
    return this.stopping;
  }

  private initdb(): void {
    const passwordFile = join(this.socketDir, 'password');
    writeFileSync(passwordFile, `${this.password}\n`, { mode: 0o600 });
    if (this.owner) chownSync(passwordFile, this.owner.uid, this.owner.gid);
    const args = ['-D', this.dataDir, '-U', USER, `--pwfile=${passwordFile}`, '--auth-local=trust', '--auth-host=scram-sha-256'];
    args.push('--encoding=UTF8', '--locale=C', '--no-instructions');
    if (this.options.fast) args.push('--no-sync');
    try {
      execFileSync(join(this.binDir, 'initdb'), args, { ...this.spawnOptions(), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`initdb failed:\n${stderr ?? ''}${stdout ?? ''}`);
    } finally {
      rmSync(passwordFile, { force: true });
    }
  }

  /** Runs postgres in the foreground as our child, so its exit is seen without polling. */
  private async start(): Promise<void> {
    const settings: Record<string, string | number> = {
      listen_addresses: HOST,
      port: this.port,
      unix_socket_directories: this.socketDir,
      ...(this.options.fast ? { fsync: 'off', full_page_writes: 'off' } : {}),
      ...this.options.settings,
    };
    const args = ['-D', this.dataDir, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
    const log = openSync(this.logFile, 'a');
    let postmaster: ChildProcess;
    try {
      // Detached: a Ctrl-C meant for `warren cluster dev` must not shut the server down under it.
      postmaster = spawn(join(this.binDir, 'postgres'), args, { ...this.spawnOptions(), detached: true, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    postmaster.unref(); // it must not keep the event loop alive: the 'exit' handler ends it
    this.postmaster = postmaster;
    // 'error' instead of 'exit' when it could not be started at all.
    this.exited = new Promise((resolve) => {
      postmaster.once('exit', resolve);
      postmaster.once('error', resolve);
    }).then(() => {
      if (this.postmaster === postmaster) this.postmaster = undefined;
    });
    await this.untilAccepting(postmaster);
  }

  /** Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit); SIGKILL after 30 s. */
  private async shutdown(): Promise<void> {
    const postmaster = this.postmaster;
    if (!postmaster) return;
    postmaster.kill('SIGINT');
    const timer = setTimeout(() => postmaster.kill('SIGKILL'), 30_000);
    await this.untilExited(postmaster);
    clearTimeout(timer);
  }

  /** The postmaster is unref'd; while someone awaits its exit, the event loop must stay alive. */
  private async untilExited(postmaster: ChildProcess): Promise<void> {
    postmaster.ref();
    await this.exited;
    postmaster.unref();
  }

  private async untilAccepting(postmaster: ChildProcess): Promise<void> {
    const until = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    let lastError: unknown;
    while (Date.now() < until) {
      if (this.postmaster !== postmaster) throw new Error(`postgres exited while starting:\n${this.logTail()}`);
      try {
        await this.withSocketClient(async () => undefined);
        return;
      } catch (error) {
        lastError = error; // no socket yet, or "the database system is starting up"
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    postmaster.kill('SIGKILL');
    await this.untilExited(postmaster);
    throw new Error(`postgres did not accept connections in time (${String(lastError)}):\n${this.logTail()}`);
  }

  private async withSocketClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    // ssl: false and every parameter given, so that PG* variables of the environment change nothing.
    const client = new pg.Client({ host: this.socketDir, port: this.port, user: USER, database: 'postgres', ssl: false });
    client.on('error', () => undefined); // a server going away mid-use rejects the query as well
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }

  private spawnOptions(): { uid?: number; gid?: number; cwd: string; env: NodeJS.ProcessEnv } {
    // LC_ALL=C: messages in English, so that the log can be matched (see create()). cwd: the
    // postgres user may not be allowed into ours.
    return { ...(this.owner ?? {}), cwd: this.socketDir, env: { ...process.env, LC_ALL: 'C' } };
  }

  private logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, HOST, resolve);
  });
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}
