import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from '../../../src/jobs/index.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { api, type JobsBroker, jobsBrokerForFile } from './helpers.js';
import { track } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

const JOBS_INDEX = fileURLToPath(new URL('../../../src/jobs/index.js', import.meta.url));

test('a worker whose connection is closed through the management API reconnects and keeps consuming', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('reconnect', { connection }));
  const done: number[] = [];
  const worker = track(new Worker('reconnect', async (job) => void done.push(job.data.n), { connection }));
  worker.on('error', () => undefined);
  await queue.add('one', { n: 1 });
  await waitFor(() => done.length === 1, 'the first job');
  const { json: connections } = await api(broker, 'GET', '/api/connections');
  const workerConnection = (connections as { name: string; client_properties?: { connection_name?: string } }[]).find((c) =>
    c.client_properties?.connection_name?.startsWith('warren/jobs worker reconnect'),
  );
  assert.ok(workerConnection, 'the worker connection is listed');
  const closed = await api(broker, 'DELETE', `/api/connections/${encodeURIComponent(workerConnection.name)}`);
  assert.equal(closed.status, 204);
  await sleep(100);
  await queue.add('two', { n: 2 });
  await waitFor(() => done.length === 2, 'a job after the reconnect');
  assert.deepEqual(done, [1, 2]);
  await worker.close();
  await queue.close();
});

test('a broker restart: waiting and delayed jobs survive, the worker resumes by itself, none is lost', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('restart', { connection }));
  queue.on('error', () => undefined);
  for (let n = 0; n < 5; n++) await queue.add('before', { n });
  await queue.add('delayed', { n: 99 }, { delay: 1500 });
  await broker.restart();
  const done = new Set<number>();
  const worker = track(new Worker('restart', async (job) => void done.add(job.data.n), { connection, concurrency: 3 }));
  worker.on('error', (e) => process.env['JOBS_DEBUG'] && console.error('worker error', e));
  await waitFor(() => done.size === 5, 'the five waiting jobs after the restart');
  await broker.restart();
  await queue.add('after', { n: 5 });
  await waitFor(() => done.size === 7, 'the delayed job and a job added after a second restart', 20_000);
  assert.deepEqual([...done].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 99]);
  await worker.close();
  await queue.close();
});

test('a worker killed (-9) mid-job gives the job back at once; it runs again, once, and a completed job never reruns', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('crash', { connection }));
  const dir = await mkdtemp(join(tmpdir(), 'warren-jobs-crash-'));
  const script = join(dir, 'worker.mjs');
  await writeFile(
    script,
    `import { Worker } from ${JSON.stringify(JOBS_INDEX)};
     const w = new Worker('crash', async () => { process.stdout.write('started\\n'); await new Promise(() => {}); }, { connection: ${JSON.stringify(connection)} });
     w.on('error', () => {});`,
  );
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const job = await queue.add('hang', {});
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('started') && resolve()));
    assert.equal(await queue.getJobState(job.id), 'active');
    child.kill('SIGKILL');
    const runs: string[] = [];
    const worker = track(new Worker('crash', async (j) => void runs.push(j.id), { connection }));
    await waitFor(async () => (await queue.getJobState(job.id)) === 'completed', 'the job to run again');
    await sleep(300);
    assert.deepEqual(runs, [job.id]);

    // A copy of a finished job's message (as after a lost ack) is dropped, not run.
    const wire = { id: job.id, name: 'hang', data: {}, opts: {}, timestamp: Date.now(), attemptsMade: 0 };
    await worker.enqueue(wire, 0);
    await sleep(300);
    assert.deepEqual(runs, [job.id]);
    await worker.close();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await queue.close();
  }
});

test('a hung worker (connection open) loses its job after lockDuration; another worker runs it once', async () => {
  const connection = broker.connection;
  const runs: string[] = [];
  // The first worker declares the queue with a 400 ms consumer timeout and never extends (its timer is blocked).
  const hung = track(new Worker('hung', async () => new Promise(() => undefined), { connection, lockDuration: 400, autorun: false }));
  (hung as unknown as { keepLock: () => undefined }).keepLock = () => undefined;
  hung.on('error', () => undefined);
  await hung.run();
  await hung.waitUntilReady();
  const queue = track(new Queue('hung', { connection }));
  const job = await queue.add('stuck', {});
  await waitFor(async () => (await queue.getJobState(job.id)) === 'active', 'the hung worker to take it');
  const other = track(new Worker('hung', async (j) => void runs.push(j.id), { connection }));
  await waitFor(() => runs.length === 1, 'the other worker to run it', 10_000);
  await sleep(300);
  assert.deepEqual(runs, [job.id]);
  await other.close();
  await hung.close(true);
  await queue.close();
});
