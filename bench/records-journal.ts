/**
 * The broker's side of a job queue's state, without the network: the record tables over a LogStore
 * (definitions journal, group commit, running compaction) for bench/jobs.ts's add + process phases.
 * N jobs are added (addBulk's 500 per commit), then each is taken (active), completed and trimmed
 * (removeOnComplete 1000, a commit per 100 jobs, as a worker's batches). Values are parsed from JSON
 * as a request body would be. Prints the process phase's CPU per job and the journal's compactions.
 *
 *   node dist/bench/records-journal.js [jobs=30000] [--rounds 2] [--baseline DIR]
 *
 * This checkout writes a take as the worker does now (a transient merge of processedOn) and a result
 * as a merge of its fields; with --baseline (a built checkout, bench/baseline.sh) that checkout's store
 * and record tables run too, alternating, with whole-record puts for the take and the result (as its
 * worker wrote them before merge and transient puts existed).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseBenchArgs } from './harness/usage.js';

const { values, positionals } = parseBenchArgs(import.meta.url, {
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '2' }, baseline: { type: 'string' } },
});
const JOBS = Number(positionals[0] ?? 30_000);
const ROUNDS = Number(values.rounds);
/** This checkout's dist/ (the script runs as dist/bench/records-journal.js). */
const DIST = resolve(fileURLToPath(new URL('..', import.meta.url)));

interface Records {
  persistTo(store: unknown): void;
  put(vhost: string, table: string, key: string, tag: string, value: unknown, condition?: object, now?: number, mode?: object): boolean;
  trim(vhost: string, table: string, request: object): string[];
}
interface Store {
  open(): Promise<unknown>;
  close(): Promise<void>;
  whenDurable(callback: (error?: Error) => void): void;
}

/** The job record as Queue.add writes it. */
const jobRecord = (i: number): Record<string, unknown> => ({ name: 'noop', data: { i }, opts: { removeOnComplete: 1000 }, timestamp: 1_765_000_000_000 + i, attemptsMade: 0, progress: 0 });
/** A value as the records route gets it: parsed from the request's JSON. */
const parsed = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

async function run(distDir: string, merging: boolean): Promise<{ cpuUsPerJob: number; compactions: number }> {
  const { LogStore } = (await import(pathToFileURL(join(distDir, 'src/store/log-store.js')).href)) as { LogStore: new (options: object) => Store };
  const { RecordTables } = (await import(pathToFileURL(join(distDir, 'src/broker/records.js')).href)) as { RecordTables: new () => Records };
  const dir = mkdtempSync(join(process.env['BENCH_DIR'] ?? '/tmp', 'warren-records-bench-'));
  try {
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await store.open();
    const records = new RecordTables();
    records.persistTo(store);
    const durable = (): Promise<void> => new Promise((done, fail) => store.whenDurable((error) => (error ? fail(error) : done())));
    const id = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    for (let i = 0; i < JOBS; i++) {
      records.put('/', 'jobs.bench', id(i), 'waiting', parsed({ ...jobRecord(i), addToken: id(i) }), { ifAbsent: true });
      if (i % 500 === 499) await durable();
    }
    await durable();
    // The journal's running compactions (a counter of the store's definitions journal, for tests and metrics).
    const compactions = (): number => (store as unknown as { definitions: { compactions: number } }).definitions.compactions;
    const before = compactions();
    const cpu = process.cpuUsage();
    for (let i = 0; i < JOBS; i++) {
      const now = Date.now();
      if (merging) {
        records.put('/', 'jobs.bench', id(i), 'active', parsed({ processedOn: now }), { ifTagIn: ['waiting', 'delayed', 'active'] }, now, { merge: true, transient: true });
        records.put('/', 'jobs.bench', id(i), 'completed', parsed({ processedOn: now, finishedOn: now }), { ifTagIn: ['active'] }, now, { merge: true });
      } else {
        records.put('/', 'jobs.bench', id(i), 'active', parsed({ ...jobRecord(i), processedOn: now }), { ifTagIn: ['waiting', 'delayed', 'active'] }, now);
        records.put('/', 'jobs.bench', id(i), 'completed', parsed({ ...jobRecord(i), processedOn: now, finishedOn: now }), { ifTagIn: ['active'] }, now);
      }
      if (i % 100 === 99) {
        records.trim('/', 'jobs.bench', { tag: 'completed', keep: 1000 });
        await durable();
      }
    }
    await durable();
    const used = process.cpuUsage(cpu);
    const result = { cpuUsPerJob: (used.user + used.system) / JOBS, compactions: compactions() - before };
    await store.close();
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
for (let round = 1; round <= ROUNDS; round++) {
  const contenders: [string, string, boolean][] = [];
  if (values.baseline !== undefined) contenders.push([`baseline ${values.baseline}`, resolve(values.baseline, 'dist'), false]);
  contenders.push(['this checkout', DIST, true]);
  for (const [label, distDir, merging] of contenders) {
    const r = await run(distDir, merging);
    console.log(`round ${round} ${label.padEnd(30)} ${JOBS} jobs: ${r.cpuUsPerJob.toFixed(1)} us CPU per processed job, ${r.compactions} journal compactions (load ${load()})`);
  }
}
