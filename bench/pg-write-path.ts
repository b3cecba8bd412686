/**
 * How fast can Warren write batches of queue messages to PostgreSQL, one transaction per round?
 * Statement shapes, parameter encodings, transaction framing, parallel writers, acks (DELETE) and
 * deliveries (UPDATE), and the latency of one commit. Findings: bench/pg-write-path.md.
 *   npx tsc -p . && node dist/bench/pg-write-path.js [seconds per case = 2]
 * Starts a throwaway PostgreSQL with default durability (fsync on, synchronous_commit on) in
 * BENCH_DIR (default the temp dir), or uses PG_URL when set. Clients connect over TCP.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { uptime as osUptime } from 'node:os';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../src/cluster/postgres/throwaway.js';
import { byteaArray, copyBinary, int4Array, int8Array, type MessageRow } from './pg-binary.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const SECONDS = Number(process.argv[2] ?? 2);
const ROUND_SIZES = [1, 10, 100, 1000];
const HEADER = Buffer.alloc(20, 7);
const BODY_SIZE = 100;
const QUEUES = 4;

const TABLE = `CREATE TABLE messages (queue_id bigint, seq bigint, header bytea, body bytea, delivery_count int,
  PRIMARY KEY (queue_id, seq))`;
const UNNEST_INSERT = `INSERT INTO messages (queue_id, seq, header, body, delivery_count)
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[], $5::int[])`;
const DELETE_ACKED = 'DELETE FROM messages WHERE queue_id = $1 AND seq = ANY($2::bigint[])';
const MARK_DELIVERED = `UPDATE messages m SET delivery_count = m.delivery_count + 1
  FROM unnest($2::bigint[]) AS u(seq) WHERE m.queue_id = $1 AND m.seq = u.seq`;

type Framing = 'autocommit' | 'begin-commit' | 'pipelined';
/** Writes one round of rows with one client; the framing around it is added by the caller. */
type Writer = (client: pg.Client, rows: MessageRow[]) => Promise<unknown>;

let nextSeq = 0;
function makeRows(n: number, round: number): MessageRow[] {
  const rows: MessageRow[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({ queueId: 1 + (round % QUEUES), seq: ++nextSeq, header: HEADER, body: Buffer.alloc(BODY_SIZE, nextSeq & 0xff), deliveryCount: 0 });
  }
  return rows;
}

const valuesSql = (n: number): string =>
  'INSERT INTO messages (queue_id, seq, header, body, delivery_count) VALUES ' +
  Array.from({ length: n }, (_, i) => `($${5 * i + 1}, $${5 * i + 2}, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5})`).join(', ');
const hex = (b: Buffer): string => `\\x${b.toString('hex')}`;

/** Named statements: parsed once per connection, as the store would. */
const WRITERS: Record<string, Writer> = {
  // (a) multi-row VALUES; node-postgres sends Buffer parameters in binary format (format code 1).
  'values, bytea binary': (c, rows) =>
    c.query({ name: `values${rows.length}`, text: valuesSql(rows.length), values: rows.flatMap((r) => [r.queueId, r.seq, r.header, r.body, r.deliveryCount]) }),
  // (d) the same with bytea as '\x..' hex text: twice the bytes, and hex decoding on the server.
  'values, bytea hex text': (c, rows) =>
    c.query({ name: `values${rows.length}`, text: valuesSql(rows.length), values: rows.flatMap((r) => [r.queueId, r.seq, hex(r.header), hex(r.body), r.deliveryCount]) }),
  // (b) unnest of arrays as node-postgres sends JS arrays: text literals, bytea elements as "\\x.." hex.
  'unnest, arrays as text': (c, rows) =>
    c.query({
      name: 'unnest',
      text: UNNEST_INSERT,
      values: [rows.map((r) => r.queueId), rows.map((r) => r.seq), rows.map((r) => r.header), rows.map((r) => r.body), rows.map((r) => r.deliveryCount)],
    }),
  // (b') unnest of arrays encoded here in array_recv's binary format.
  'unnest, arrays binary': (c, rows) =>
    c.query({
      name: 'unnest',
      text: UNNEST_INSERT,
      values: [int8Array(rows.map((r) => r.queueId)), int8Array(rows.map((r) => r.seq)), byteaArray(rows.map((r) => r.header)), byteaArray(rows.map((r) => r.body)), int4Array(rows.map((r) => r.deliveryCount))],
    }),
  // (c) COPY FROM STDIN (FORMAT binary) through pg-copy-streams.
  'COPY binary': (c, rows) =>
    new Promise<void>((resolve, reject) => {
      const stream = c.query(copyFrom('COPY messages FROM STDIN (FORMAT binary)'));
      stream.on('error', reject);
      stream.on('finish', resolve);
      stream.end(copyBinary(rows));
    }),
};

interface Outcome {
  msgsPerS: number;
  commitsPerS: number;
  p50Ms: number;
  p99Ms: number;
  wireBytesPerMsg: number;
  clientCpuUsPerMsg: number;
  serverCpuUsPerMsg: number;
  msgs: number;
}

async function connect(url: string, pipeline = false): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, pipeline });
  // Without a listener, a connection the server ends (as stop() does after a failure) would crash
  // the process before the failure itself is reported; its queries reject anyway.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Bytes this client has written to its socket (node-postgres keeps the net.Socket on connection.stream). */
function bytesWritten(client: pg.Client): number {
  return (client as unknown as { connection: { stream: { bytesWritten: number } } }).connection.stream.bytesWritten;
}

/** utime + stime of a backend, in µs; 0 when PG_URL points elsewhere and /proc has no such process. */
function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return 0;
  }
}

async function backendPid(client: pg.Client): Promise<number> {
  return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
}

/**
 * Runs `round` on each of `clients` in parallel, back to back, for `durationS` (after a short warm-up)
 * or until `maxRounds` per client; each call is one commit of `rowsPerRound` rows.
 */
async function measure(
  clients: pg.Client[],
  rowsPerRound: number,
  round: (c: pg.Client, i: number) => Promise<unknown>,
  maxRounds = Infinity,
  durationS = SECONDS,
): Promise<Outcome> {
  const warmUntil = performance.now() + 200;
  let calls = 0;
  for (const c of clients) while (performance.now() < warmUntil && calls < Math.min(20, maxRounds / 10)) await round(c, calls++);
  const pids = await Promise.all(clients.map(backendPid));
  const server0 = pids.reduce((s, p) => s + cpuOf(p), 0);
  const bytes0 = clients.reduce((s, c) => s + bytesWritten(c), 0);
  const client0 = process.cpuUsage();
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + durationS * 1000;
  await Promise.all(
    clients.map(async (c) => {
      for (let n = 0; n < maxRounds && performance.now() < until; n++) {
        const t = performance.now();
        await round(c, calls++);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(client0);
  const msgs = latencies.length * rowsPerRound;
  latencies.sort((a, b) => a - b);
  const pct = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    msgsPerS: msgs / seconds,
    commitsPerS: latencies.length / seconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    wireBytesPerMsg: (clients.reduce((s, c) => s + bytesWritten(c), 0) - bytes0) / msgs,
    clientCpuUsPerMsg: (cpu.user + cpu.system) / msgs,
    serverCpuUsPerMsg: (pids.reduce((s, p) => s + cpuOf(p), 0) - server0) / msgs,
    msgs,
  };
}

/**
 * A case on fresh connections (statements prepared in the warm-up). The WAL flushes it caused come
 * from pg_stat_wal, which a backend reports for sure when it exits: hence the connections end first.
 */
async function runCase(
  admin: pg.Client,
  name: string,
  rowsPerRound: number,
  connections: { count?: number; pipeline?: boolean; url: string },
  round: (c: pg.Client, i: number) => Promise<unknown>,
  maxRounds?: number,
): Promise<string[]> {
  const clients = await Promise.all(Array.from({ length: connections.count ?? 1 }, () => connect(connections.url, connections.pipeline)));
  const flushes0 = await walFlushes(admin);
  const outcome = await measure(clients, rowsPerRound, round, maxRounds);
  await Promise.all(clients.map((c) => c.end()));
  await new Promise((resolve) => setTimeout(resolve, 200));
  return cells(name, rowsPerRound, outcome, outcome.msgs / Math.max(1, (await walFlushes(admin)) - flushes0));
}

async function walFlushes(admin: pg.Client): Promise<number> {
  return Number((await admin.query<{ n: string }>('SELECT wal_sync AS n FROM pg_stat_wal')).rows[0]?.n ?? 0);
}

/** One round in a transaction of its own: a lone statement, BEGIN..COMMIT, or BEGIN..COMMIT sent at once. */
function framed(write: Writer, framing: Framing, rowsPerRound: number): (c: pg.Client, i: number) => Promise<unknown> {
  if (framing === 'autocommit') return (c, i) => write(c, makeRows(rowsPerRound, i));
  if (framing === 'begin-commit')
    return async (c, i) => {
      await c.query('BEGIN');
      await write(c, makeRows(rowsPerRound, i));
      await c.query('COMMIT');
    };
  // Pipelined: all three go out before the first answer. A failed statement leaves COMMIT to answer
  // ROLLBACK without an error, so its own promise is what must be checked.
  return (c, i) => Promise.all([c.query('BEGIN'), write(c, makeRows(rowsPerRound, i)), c.query('COMMIT')]);
}

const f0 = (n: number): string => Math.round(n).toLocaleString('en');
const f2 = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
const HEAD = ['rows/commit', 'msg/s', 'commits/s', 'p50 ms', 'p99 ms', 'msg/WAL flush', 'wire B/msg', 'client CPU µs/msg', 'server CPU µs/msg'];
function print(title: string, lines: string[][]): void {
  console.log(`\n### ${title}\n\n${row(['case', ...HEAD])}\n${row(['case', ...HEAD].map(() => '---'))}`);
  for (const l of lines) console.log(row(l));
}
const cells = (name: string, rows: number, o: Outcome, msgsPerFlush: number): string[] => [
  name, String(rows), f0(o.msgsPerS), f0(o.commitsPerS), f2(o.p50Ms), f2(o.p99Ms), f2(msgsPerFlush), f0(o.wireBytesPerMsg), f2(o.clientCpuUsPerMsg), f2(o.serverCpuUsPerMsg),
];

async function main(): Promise<void> {
  let server: ThrowawayPostgres | undefined;
  const url = process.env.PG_URL ?? (server = await startThrowawayPostgres({ ...(process.env.BENCH_DIR ? { parentDir: process.env.BENCH_DIR } : {}) })).url;
  try {
    const admin = await connect(url);
    await admin.query('DROP TABLE IF EXISTS messages');
    await admin.query(TABLE);
    await describeMachine(admin, server);
    const reset = (): Promise<unknown> => admin.query('TRUNCATE messages');

    // One untimed pass over every writer first: otherwise the first case also pays for V8 warming
    // up node-postgres's code paths, which made it look slowest in early runs.
    for (const write of Object.values(WRITERS)) {
      const c = await connect(url);
      for (const n of ROUND_SIZES) await measure([c], n, framed(write, 'autocommit', n), Infinity, 0.3);
      await c.end();
    }

    const shapes: string[][] = [];
    for (const [name, write] of Object.entries(WRITERS)) {
      for (const n of ROUND_SIZES) {
        await reset();
        shapes.push(await runCase(admin, name, n, { url }, framed(write, 'autocommit', n)));
      }
    }
    print('Insert: statement shape and encoding (one statement = one transaction)', shapes);

    const framings: string[][] = [];
    const best = WRITERS['unnest, arrays binary'];
    if (!best) throw new Error('no such writer');
    for (const framing of ['autocommit', 'begin-commit', 'pipelined'] as const) {
      for (const n of ROUND_SIZES) {
        await reset();
        framings.push(await runCase(admin, framing, n, { url, pipeline: framing === 'pipelined' }, framed(best, framing, n)));
      }
    }
    print('Insert: transaction framing (unnest, arrays binary)', framings);

    const parallel: string[][] = [];
    for (const writers of [1, 4, 16]) {
      for (const n of [1, 10, 100]) {
        await reset();
        parallel.push(await runCase(admin, `${writers} connection(s)`, n, { url, count: writers }, framed(best, 'autocommit', n)));
      }
    }
    print('Insert: writers in parallel, each one commit per round (unnest, arrays binary)', parallel);

    print('Acks and deliveries: one statement per round on rows of one queue', await settlements(url, admin));
    await latency(url);
    await admin.end();
  } finally {
    await server?.stop();
  }
}

/** DELETE acked messages and mark delivered ones, in batches, on prefilled rows of queue 1. */
async function settlements(url: string, admin: pg.Client): Promise<string[][]> {
  const out: string[][] = [];
  for (const kind of ['DELETE seq = ANY', 'UPDATE FROM unnest'] as const) {
    for (const n of ROUND_SIZES) {
      const maxRounds = Math.min(3000, Math.ceil(300_000 / n));
      await admin.query('TRUNCATE messages');
      const first = nextSeq + 1;
      const total = n * (maxRounds + 20); // + warm-up rounds
      for (let done = 0; done < total; done += 5000) {
        const rows = makeRows(Math.min(5000, total - done), 0).map((r) => ({ ...r, queueId: 1 }));
        await WRITERS['COPY binary']?.(admin, rows);
      }
      await admin.query('VACUUM ANALYZE messages');
      const seqs = (i: number): number[] => Array.from({ length: n }, (_, k) => first + i * n + k);
      const round = kind === 'DELETE seq = ANY'
        ? (cl: pg.Client, i: number) => cl.query({ name: 'delete', text: DELETE_ACKED, values: [1, seqs(i)] })
        : (cl: pg.Client, i: number) => cl.query({ name: 'update', text: MARK_DELIVERED, values: [1, seqs(i)] });
      out.push(await runCase(admin, kind, n, { url }, round, maxRounds));
    }
  }
  return out;
}

/** One commit's round trip, sequentially: what a publisher confirm waits for at the least. */
async function latency(url: string): Promise<void> {
  const plain = await connect(url);
  const piped = await connect(url, true);
  const insert = (c: pg.Client): Promise<unknown> => WRITERS['values, bytea binary']!(c, makeRows(1, 0));
  const cases: [string, () => Promise<unknown>][] = [
    ['SELECT 1 (round trip, no commit)', () => plain.query({ name: 'one', text: 'SELECT 1' })],
    ['INSERT 1 row, autocommit', () => insert(plain)],
    ['BEGIN; INSERT 1 row; COMMIT (3 round trips)', async () => {
      await plain.query('BEGIN');
      await insert(plain);
      await plain.query('COMMIT');
    }],
    ['BEGIN; INSERT; COMMIT pipelined (1 round trip)', () => Promise.all([piped.query('BEGIN'), insert(piped), piped.query('COMMIT')])],
    ['same, SET LOCAL synchronous_commit = off (no flush wait; reference only)', async () => {
      await plain.query('BEGIN');
      await plain.query('SET LOCAL synchronous_commit = off');
      await insert(plain);
      await plain.query('COMMIT');
    }],
  ];
  console.log(`\n### One commit, sequential (${SECONDS} s each)\n\n| case | p50 ms | p90 ms | p99 ms | mean ms |\n| --- | --- | --- | --- | --- |`);
  for (const [name, run] of cases) {
    for (let i = 0; i < 20; i++) await run();
    const samples: number[] = [];
    const until = performance.now() + SECONDS * 1000;
    while (performance.now() < until) {
      const t = performance.now();
      await run();
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number): string => f2(samples[Math.floor(q * samples.length)] ?? NaN);
    console.log(`| ${name} | ${at(0.5)} | ${at(0.9)} | ${at(0.99)} | ${f2(samples.reduce((s, x) => s + x, 0) / samples.length)} |`);
  }
  await plain.end();
  await piped.end();
}

async function describeMachine(admin: pg.Client, server: ThrowawayPostgres | undefined): Promise<void> {
  const settings = await admin.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers', 'commit_delay')`,
  );
  const fs = server ? execFileSync('df', ['-T', server.dataDir], { encoding: 'utf8' }).split('\n')[1]?.split(/\s+/).slice(0, 2).join(' ') : 'n/a (PG_URL)';
  console.log(`## pg-write-path: ${new Date().toISOString()}, ${SECONDS} s per case`);
  console.log(`- load: ${execFileSync('uptime', { encoding: 'utf8' }).trim()} (up ${Math.round(osUptime() / 60)} min)`);
  console.log(`- node ${process.version}, pg ${(createRequire(import.meta.url)('pg/package.json') as { version: string }).version}, data dir on ${fs}`);
  console.log(`- ${settings.rows.map((r) => `${r.name}=${r.setting}`).join(', ')}`);
  console.log(`- ${HEADER.length} B headers, ${BODY_SIZE} B bodies, ${QUEUES} queues; TCP to 127.0.0.1; named (prepared) statements`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
