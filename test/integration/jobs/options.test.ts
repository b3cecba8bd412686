import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { Queue, Worker, UnrecoverableError, type Job } from '../../../src/jobs/index.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { api, type JobsBroker, jobsBrokerForFile } from './helpers.js';
import { track } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

test('attempts with exponential backoff: fails twice, succeeds on the third attempt, the delays are honoured', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('retries', { connection }));
  const times: number[] = [];
  const worker = track(new Worker(
    'retries',
    async (job) => {
      times.push(Date.now());
      if (job.attemptsMade < 2) throw new Error(`boom ${job.attemptsMade}`);
      return 'ok';
    },
    { connection },
  ));
  const job = await queue.add('flaky', {}, { attempts: 3, backoff: { type: 'exponential', delay: 200 } });
  await waitFor(async () => (await queue.getJobState(job.id)) === 'completed', 'the job to complete');
  assert.equal(times.length, 3);
  assert.ok(times[1]! - times[0]! >= 190, `first backoff ${times[1]! - times[0]!} ms`);
  assert.ok(times[2]! - times[1]! >= 390, `second backoff ${times[2]! - times[1]!} ms`);
  const stored = await queue.getJob(job.id);
  assert.equal(stored?.attemptsMade, 2);
  assert.equal(stored?.returnvalue, 'ok');
  await worker.close();
  await queue.close();
});

test('exhausted attempts and UnrecoverableError end in failed with reason and stack; retry() runs it again', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('failing', { connection }));
  let fix = false;
  const worker = track(new Worker(
    'failing',
    async (job) => {
      if (job.name === 'fatal') throw new UnrecoverableError('no way');
      if (!fix) throw new Error('still broken');
      return 'fixed';
    },
    { connection, concurrency: 2 },
  ));
  const flaky = await queue.add('flaky', {}, { attempts: 2, backoff: 10 });
  const fatal = await queue.add('fatal', {}, { attempts: 5 });
  await waitFor(async () => (await queue.getJobCounts('failed'))['failed'] === 2, 'two failed jobs');
  const failed = await queue.getJob(flaky.id);
  assert.equal(failed?.failedReason, 'still broken');
  assert.equal(failed?.attemptsMade, 2);
  assert.match(failed?.stacktrace[0] ?? '', /still broken/);
  assert.equal((await queue.getJob(fatal.id))?.attemptsMade, 1);
  fix = true;
  await failed!.retry();
  await waitFor(async () => (await queue.getJobState(flaky.id)) === 'completed', 'the retried job to complete');
  await worker.close();
  await queue.close();
});

test('delay, priority, jobId idempotence, removeOnComplete by count, paging', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('options', { connection }));
  const order: string[] = [];
  const started = Date.now();
  // Lowest priority too, so that even if it falls due early (a loaded machine) it goes last.
  await queue.add('late', {}, { delay: 1000, priority: 100 });
  await queue.add('low', {}, { priority: 5 });
  await queue.add('high', {}, { priority: 1 });
  await queue.add('plain', {});
  const first = await queue.add('same', { n: 1 }, { jobId: 'only-once' });
  const second = await queue.add('same', { n: 2 }, { jobId: 'only-once' });
  assert.equal(second.id, first.id);
  assert.deepEqual(second.data, { n: 1 });
  assert.equal((await queue.getJobCounts('delayed'))['delayed'], 1);
  let lateAt = 0;
  const worker = track(new Worker(
    'options',
    async (job) => {
      order.push(job.name);
      if (job.name === 'late') lateAt = Date.now();
    },
    { connection },
  ));
  await waitFor(() => order.length === 5, 'five jobs');
  assert.deepEqual(order.slice(0, 4), ['plain', 'same', 'high', 'low']);
  assert.equal(order[4], 'late');
  assert.ok(lateAt - started >= 900, 'the delayed job waited');
  assert.equal((await queue.getCompleted(0, 1)).length, 2, 'paging: first page of two');
  assert.equal((await queue.getCompleted(2, 10)).length, 3);
  await worker.close();

  for (let i = 0; i < 6; i++) await queue.add('kept', { i }, { removeOnComplete: 3 });
  const keeper = track(new Worker('options', async () => undefined, { connection, concurrency: 6 }));
  await waitFor(async () => (await queue.getJobCounts('waiting', 'active'))['waiting'] === 0, 'the kept jobs to run');
  await sleep(200);
  assert.ok(((await queue.getJobCounts('completed'))['completed'] ?? 0) <= 3, 'removeOnComplete keeps at most 3');
  await keeper.close();
  await queue.close();
});

test('timeout aborts the signal and fails the attempt; group keeps per-key order one at a time', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('limits', { connection }));
  let aborted = false;
  const seen: string[] = [];
  let running = 0;
  let maxRunningPerGroup = 0;
  const worker = track(new Worker(
    'limits',
    async (job: Job, _token, signal) => {
      if (job.name === 'slow') {
        await new Promise<void>((resolve) => signal!.addEventListener('abort', () => ((aborted = true), resolve())));
        return;
      }
      running++;
      maxRunningPerGroup = Math.max(maxRunningPerGroup, running);
      await sleep(20);
      seen.push(String(job.data.n));
      running--;
    },
    { connection, concurrency: 4 },
  ));
  const slow = await queue.add('slow', {}, { timeout: 100 });
  for (let n = 0; n < 6; n++) await queue.add('grouped', { n }, { group: { id: 'customer-1' } });
  await waitFor(async () => (await queue.getJobState(slow.id)) === 'failed', 'the slow job to time out');
  assert.ok(aborted);
  assert.match((await queue.getJob(slow.id))?.failedReason ?? '', /timed out/);
  await waitFor(() => seen.length === 6, 'six grouped jobs');
  assert.deepEqual(seen, ['0', '1', '2', '3', '4', '5']);
  assert.equal(maxRunningPerGroup, 1);
  await worker.close();
  await queue.close();
});

test('pause is durable: a worker started while paused takes nothing until resume; drain and clean', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('paused', { connection }));
  await queue.pause();
  assert.equal(await queue.isPaused(), true);
  await queue.add('wait', {});
  const done: string[] = [];
  const worker = track(new Worker('paused', async (job) => void done.push(job.id), { connection }));
  await worker.waitUntilReady();
  await sleep(300);
  assert.equal(done.length, 0);
  await queue.resume();
  await waitFor(() => done.length === 1, 'the job after resume');
  const cleaned = await queue.clean(0, 100, 'completed');
  assert.deepEqual(cleaned, done);
  await worker.close();
  await queue.add('a', {});
  await queue.add('b', {});
  await queue.drain();
  assert.equal((await queue.getJobCounts('waiting'))['waiting'], 0);
  await queue.close();
});

test('a plain AMQP client (amqplib) sees the job messages in the same queue', async () => {
  const queue = track(new Queue('visible', { connection: broker.connection }));
  const job = await queue.add('hello', { x: 1 });
  const connection = await amqp.connect(broker.amqpUrl);
  const channel = await connection.createChannel();
  const message = await channel.get('jobs.visible', { noAck: true });
  assert.ok(message);
  assert.equal(message.properties.messageId, job.id);
  assert.deepEqual(JSON.parse(message.content.toString()).data, { x: 1 });
  await connection.close();
  await queue.close();
});

test('the record API refuses bad input with 400, not a crash', async () => {
  const bad = await api(broker, 'POST', '/api/records/%2F/t', { ops: [{ op: 'nope' }] });
  assert.equal(bad.status, 400);
  const bad2 = await api(broker, 'POST', '/api/records/%2F/t', { ops: 'x' });
  assert.equal(bad2.status, 400);
  const missing = await api(broker, 'GET', '/api/records/nohost/t');
  assert.equal(missing.status, 404);
});
