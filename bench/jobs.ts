/**
 * warren/jobs against BullMQ on Debian's redis-server, side by side in one run, the same client code
 * for both: (1) add N jobs (addBulk in batches), (2) process them with a no-op processor at concurrency
 * 50, (3) a delayed-job storm: N jobs added with one due time (at least --delay-ms, and twice as long
 * as phase 1's adds took), processed once due (measured from the due time to the last completion). For each: jobs/s, CPU ms per 1000 jobs of the server and of the
 * client process, and the server's resident memory (after the adds, and its peak).
 *
 *   npm run bench:jobs -- [N=100000] [--only warren|bullmq|bullmq-aof] [--batch 500] [--delay-ms 3000]
 *   WARREN_CPU_PROF=/tmp/prof npm run bench:jobs -- 20000 --only warren   # also profile the broker
 *
 * Warren runs with its default durability: fdatasync before an add resolves (the job's record and its
 * message are in one group commit). redis-server runs with its defaults (no AOF: an acknowledged add
 * can be lost); `bullmq-aof` also runs it with `appendonly yes, appendfsync always`, the closest Redis
 * gets to the same guarantee. Servers run as child processes on ephemeral ports in temp dirs, stopped
 * by PID. The load average is printed at the start and the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './harness/ports.js';
import { exitOnHelp } from './harness/usage.js';

interface Args {
  count: number;
  only: string[] | undefined;
  batch: number;
  delayMs: number;
  concurrency: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { count: 100_000, only: undefined, batch: 500, delayMs: 3000, concurrency: 50 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--only') args.only = argv[++i]!.split(',');
    else if (a === '--batch') args.batch = Number(argv[++i]);
    else if (a === '--delay-ms') args.delayMs = Number(argv[++i]);
    else if (a === '--concurrency') args.concurrency = Number(argv[++i]);
    else args.count = Number(a);
  }
  return args;
}

exitOnHelp(import.meta.url);
const ARGS = parseArgs(process.argv.slice(2));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** utime + stime of a process in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

const clientCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Lib {
  Queue: new (name: string, opts: any) => any;
  Worker: new (name: string, processor: (job: any) => Promise<unknown>, opts: any) => any;
}

interface Phase {
  perSecond: number;
  serverCpuPer1k: number;
  clientCpuPer1k: number;
}

interface Contender {
  label: string;
  lib: Lib;
  connect: () => unknown;
  pid: number;
  cleanup?: () => void;
}

async function measure(c: Contender, count: number, body: () => Promise<number>): Promise<Phase> {
  const server0 = cpuMsOf(c.pid);
  const client0 = clientCpuMs();
  const seconds = await body();
  return { perSecond: count / seconds, serverCpuPer1k: ((cpuMsOf(c.pid) - server0) * 1000) / count, clientCpuPer1k: ((clientCpuMs() - client0) * 1000) / count };
}

async function addAll(queue: any, count: number, opts: (i: number) => Record<string, unknown>): Promise<void> {
  for (let i = 0; i < count; i += ARGS.batch) {
    const batch = Array.from({ length: Math.min(ARGS.batch, count - i) }, (_, j) => ({ name: 'noop', data: { i: i + j }, opts: opts(i + j) }));
    await queue.addBulk(batch);
  }
}

/** Runs a worker until `count` jobs completed; resolves with the time of the last completion. */
function processAll(c: Contender, name: string, count: number): { done: Promise<number> } {
  let completed = 0;
  const done = new Promise<number>((resolve) => {
    const worker = new c.lib.Worker(
      name,
      async () => {
        if (++completed === count) {
          const at = performance.now();
          setImmediate(() => void worker.close().then(() => resolve(at)));
        }
      },
      { connection: c.connect(), concurrency: ARGS.concurrency },
    );
    worker.on('error', () => undefined);
  });
  return { done };
}

async function runContender(c: Contender): Promise<Record<string, Phase | number>> {
  const count = ARGS.count;
  const keep = { removeOnComplete: 1000 };
  const queue = new c.lib.Queue('bench', { connection: c.connect() });
  await queue.waitUntilReady();
  const add = await measure(c, count, async () => {
    const start = performance.now();
    await addAll(queue, count, () => keep);
    return (performance.now() - start) / 1000;
  });
  const afterAdd = memoryOf(c.pid);
  const processed = await measure(c, count, async () => {
    const start = performance.now();
    const end = await processAll(c, 'bench', count).done;
    return (end - start) / 1000;
  });
  // The storm: every job due at the same moment, a worker already waiting for them.
  const stormQueue = new c.lib.Queue('storm', { connection: c.connect() });
  await stormQueue.waitUntilReady();
  // Due after all are added (twice the time the first phase's adds took), so the storm is measured
  // from one due time for all of them.
  const delayMs = Math.max(ARGS.delayMs, Math.ceil((2000 * count) / add.perSecond));
  const storm = await measure(c, count, async () => {
    const worker = processAll(c, 'storm', count);
    const due = performance.now() + delayMs;
    const dueAt = Date.now() + delayMs;
    await addAll(stormQueue, count, () => ({ ...keep, delay: Math.max(1, dueAt - Date.now()) }));
    const added = performance.now();
    if (added > due) console.log(`  (${c.label}: adding the storm took longer than its delay, ${Math.round(added - due)} ms late)`);
    const end = await worker.done;
    return (end - Math.max(due, added)) / 1000;
  });
  const memory = memoryOf(c.pid);
  await stormQueue.close();
  await queue.close();
  c.cleanup?.();
  return { add, process: processed, storm, rssAfterAddMb: afterAdd.rssMb, peakMb: memory.peakMb };
}

function row(label: string, r: Record<string, Phase | number>): string {
  const p = (name: string): string => {
    const phase = r[name] as Phase;
    return `${phase.perSecond.toFixed(0).padStart(7)}/s (cpu ${phase.serverCpuPer1k.toFixed(0)}+${phase.clientCpuPer1k.toFixed(0)} ms/1k)`;
  };
  return `${label.padEnd(12)} add ${p('add')}  process ${p('process')}  storm ${p('storm')}  server rss ${(r['rssAfterAddMb'] as number).toFixed(0)} MB after adds, peak ${(r['peakMb'] as number).toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-bench-jobs-'));
  const children: ChildProcess[] = [];
  const wanted = (name: string): boolean => (ARGS.only === undefined ? name !== 'bullmq-aof' : ARGS.only.includes(name));
  const results = new Map<string, Record<string, Phase | number>>();
  try {
    console.log(`${ARGS.count} jobs, addBulk batches of ${ARGS.batch}, concurrency ${ARGS.concurrency}, storm delay ${ARGS.delayMs} ms; load ${loadavg()}`);
    console.log('cpu a+b: server + client CPU ms per 1000 jobs');
    if (wanted('warren')) {
      const [amqpPort, httpPort] = [await freePort(), await freePort()];
      const prof = process.env['WARREN_CPU_PROF'];
      const warren = spawn(process.execPath, [...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), CLI, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', String(amqpPort), '--http-host', '127.0.0.1', '--http-port', String(httpPort), '--data-dir', join(dir, 'warren'), '--log-level', 'error'], {
        stdio: 'inherit',
        env: { PATH: process.env['PATH'] ?? '' },
      });
      children.push(warren);
      await waitForPort(amqpPort);
      await waitForPort(httpPort);
      const jobs = (await import('../src/jobs/index.js')) as unknown as Lib;
      const r = await runContender({ label: 'warren/jobs', lib: jobs, pid: warren.pid!, connect: () => ({ url: `amqp://guest:guest@127.0.0.1:${amqpPort}`, managementUrl: `http://127.0.0.1:${httpPort}` }) });
      results.set('warren', r);
      console.log(row('warren/jobs', r));
      await stop(warren);
    }
    for (const variant of ['bullmq', 'bullmq-aof']) {
      if (!wanted(variant)) continue;
      const redisPort = await freePort();
      const persistence = variant === 'bullmq-aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
      const redisDir = join(dir, variant);
      await import('node:fs/promises').then((fs) => fs.mkdir(redisDir));
      const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', ...persistence], { stdio: 'ignore' });
      children.push(redis);
      await waitForPort(redisPort);
      const bullmq = (await import('bullmq')) as unknown as Lib;
      // BullMQ under native ESM takes a constructed ioredis client; it leaves clients it was given open.
      const { Redis } = await import('ioredis');
      const clients: InstanceType<typeof Redis>[] = [];
      const connect = (): unknown => {
        const client = new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null });
        clients.push(client);
        return client;
      };
      const r = await runContender({ label: variant, lib: bullmq, pid: redis.pid!, connect, cleanup: () => clients.forEach((client) => client.disconnect()) });
      results.set(variant, r);
      console.log(row(variant, r));
      await stop(redis);
    }
    const w = results.get('warren');
    for (const variant of ['bullmq', 'bullmq-aof']) {
      const b = results.get(variant);
      if (w === undefined || b === undefined) continue;
      const ratio = (name: string): string => ((w[name] as Phase).perSecond / (b[name] as Phase).perSecond).toFixed(2);
      console.log(`ratio warren/${variant}: add ${ratio('add')}x, process ${ratio('process')}x, storm ${ratio('storm')}x`);
    }
    console.log(`load at the end ${loadavg()}`);
  } finally {
    for (const child of children) await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
