/**
 * warren/jobs against BullMQ on Debian's redis-server, side by side in one run: add N jobs, then
 * process them (no-op processor, concurrency 50). Both servers run as child processes on ephemeral
 * ports in temp dirs and are stopped by PID. Run: `npx tsc -p . && node dist/bench/jobs.js [N]`.
 * Warren runs with its default durability (fdatasync before a job's add resolves); Redis with its
 * defaults (no fsync per write).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const COUNT = Number(process.argv[2] ?? 5000);
const CONCURRENCY = 50;
const BATCH = 500;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createServer().listen(port, '127.0.0.1');
      socket.once('listening', () => socket.close(() => resolve(false)));
      socket.once('error', () => resolve(true));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Lib {
  Queue: new (name: string, opts: any) => any;
  Worker: new (name: string, processor: (job: any) => Promise<unknown>, opts: any) => any;
}

async function run(label: string, lib: Lib, connect: () => unknown): Promise<{ add: number; process: number }> {
  const queue = new lib.Queue('bench', { connection: connect() });
  const addStart = performance.now();
  for (let i = 0; i < COUNT; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, COUNT - i) }, (_, j) => ({ name: 'noop', data: { i: i + j }, opts: { removeOnComplete: 1000 } }));
    await queue.addBulk(batch);
  }
  const addSeconds = (performance.now() - addStart) / 1000;
  let done = 0;
  const processStart = performance.now();
  const finished = new Promise<void>((resolve) => {
    const worker = new lib.Worker(
      'bench',
      async () => {
        if (++done === COUNT) setImmediate(() => void worker.close().then(resolve));
      },
      { connection: connect(), concurrency: CONCURRENCY },
    );
    worker.on('error', () => undefined);
  });
  await finished;
  const processSeconds = (performance.now() - processStart) / 1000;
  await queue.close();
  const result = { add: COUNT / addSeconds, process: COUNT / processSeconds };
  console.log(`${label.padEnd(12)} add ${result.add.toFixed(0).padStart(7)} jobs/s   process ${result.process.toFixed(0).padStart(7)} jobs/s`);
  return result;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-bench-jobs-'));
  const children: ChildProcess[] = [];
  try {
    const [amqpPort, httpPort, redisPort] = [await freePort(), await freePort(), await freePort()];
    const warren = spawn(process.execPath, [CLI, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', String(amqpPort), '--http-host', '127.0.0.1', '--http-port', String(httpPort), '--data-dir', join(dir, 'warren'), '--log-level', 'warn'], { stdio: 'inherit' });
    children.push(warren);
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    children.push(redis);
    await waitForPort(amqpPort);
    await waitForPort(httpPort);
    await waitForPort(redisPort);
    console.log(`${COUNT} jobs, process concurrency ${CONCURRENCY}; load ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
    const jobs = (await import('../src/jobs/index.js')) as unknown as Lib;
    const bullmq = (await import('bullmq')) as unknown as Lib;
    const w = await run('warren/jobs', jobs, () => ({ url: `amqp://guest:guest@127.0.0.1:${amqpPort}`, managementUrl: `http://127.0.0.1:${httpPort}` }));
    // BullMQ under native ESM takes a constructed ioredis client.
    const { Redis } = await import('ioredis');
    const clients: InstanceType<typeof Redis>[] = [];
    const b = await run('bullmq', bullmq, () => {
      const client = new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null });
      clients.push(client);
      return client;
    });
    // BullMQ leaves clients it was given open.
    for (const client of clients) client.disconnect();
    console.log(`ratio warren/bullmq: add ${(w.add / b.add).toFixed(2)}x, process ${(w.process / b.process).toFixed(2)}x`);
  } finally {
    for (const child of children) await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
