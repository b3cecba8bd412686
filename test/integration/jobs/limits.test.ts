import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { Queue, Worker } from '../../../src/jobs/index.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { api, track, type JobsBroker, jobsBrokerForFile } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

/** Counts processor calls running at once. */
function gauge() {
  let now = 0;
  let max = 0;
  return {
    async run(ms: number) {
      now++;
      max = Math.max(max, now);
      await sleep(ms);
      now--;
    },
    get max() {
      return max;
    },
  };
}

test('Worker limiter { max, duration } is the broker token bucket: 9 jobs at 3 per 500 ms take at least 900 ms to start', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('limited', { connection }));
  const starts: number[] = [];
  const worker = track(new Worker('limited', async () => void starts.push(Date.now()), { connection, concurrency: 10, limiter: { max: 3, duration: 500 } }));
  await worker.waitUntilReady();
  await waitFor(async () => (await queue.getGlobalRateLimit()) !== null, 'the limiter to be stored');
  await queue.addBulk(Array.from({ length: 9 }, (_, i) => ({ name: 'tick', data: { i } })));
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === 9, 'nine completed jobs');
  const span = Math.max(...starts) - Math.min(...starts);
  assert.ok(span >= 900, `9 jobs started within ${span} ms`);
  // It is a broker policy on both job queues, visible to operators and applied to AMQP consumers too.
  const policy = await api(broker, 'GET', '/api/policies/%2F/jobs.limited.limits');
  assert.equal(policy.status, 200);
  assert.deepEqual(policy.json.definition, { 'dispatch-rate-limit': 3, 'dispatch-rate-interval': 500 });
  const queueInfo = broker.server.broker.getVhost('/')!.getQueue('jobs.limited.groups')!;
  assert.equal(queueInfo.dispatchLimits?.rateLimit, 3);
  assert.deepEqual(await queue.getGlobalRateLimit(), { max: 3, duration: 500 });
  await worker.close();
  await queue.removeGlobalRateLimit();
  assert.equal(await queue.getGlobalRateLimit(), null);
  assert.equal((await api(broker, 'GET', '/api/policies/%2F/jobs.limited.limits')).status, 404);
  await queue.close();
});

test('setGlobalConcurrency caps active jobs across two workers; removing it lets them run wider', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('capped', { connection }));
  await queue.setGlobalConcurrency(2);
  assert.equal(await queue.getGlobalConcurrency(), 2);
  const running = gauge();
  const workers = [0, 1].map(() => track(new Worker('capped', () => running.run(80), { connection, concurrency: 5 })));
  await queue.addBulk(Array.from({ length: 12 }, (_, i) => ({ name: 'slow', data: { i } })));
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === 12, 'twelve completed jobs');
  assert.equal(running.max, 2, `at most two at once, saw ${running.max}`);
  // A plain AMQP consumer of the job queue is held by the same cap.
  await queue.removeGlobalConcurrency();
  assert.equal(await queue.getGlobalConcurrency(), null);
  const wide = gauge();
  for (const w of workers) await w.close();
  const again = [0, 1].map(() => track(new Worker('capped', () => wide.run(150), { connection, concurrency: 5 })));
  await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: 'slow', data: { i } })));
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === 22, 'ten more completed jobs');
  assert.ok(wide.max > 2, `without the cap more than two ran at once (${wide.max})`);
  for (const w of again) await w.close();
  await queue.close();
});

test('the cap holds for a plain amqplib consumer of the job queue too (max-in-flight is a broker feature)', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('shared', { connection }));
  await queue.setGlobalConcurrency(1);
  await queue.addBulk(Array.from({ length: 3 }, (_, i) => ({ name: 'x', data: { i } })));
  const amqpConnection = await amqp.connect(broker.amqpUrl);
  try {
    const channel = await amqpConnection.createChannel();
    const got: amqp.ConsumeMessage[] = [];
    await channel.consume('jobs.shared', (message) => message !== null && got.push(message));
    await waitFor(() => got.length === 1, 'one delivery');
    await sleep(200);
    assert.equal(got.length, 1, 'the cap of 1 holds the others back');
    channel.ack(got[0]!);
    await waitFor(() => got.length === 2, 'the next after the ack');
  } finally {
    await amqpConnection.close();
  }
  await queue.close();
});

test('Worker group { concurrency: 2 }: at most two jobs of one group at once, other groups alongside', async () => {
  const connection = broker.connection;
  const byGroup = new Map<string, ReturnType<typeof gauge>>();
  const worker = track(new Worker(
    'grouped2',
    async (job) => {
      const id = job.opts.group!.id;
      if (!byGroup.has(id)) byGroup.set(id, gauge());
      await byGroup.get(id)!.run(100);
    },
    { connection, concurrency: 10, group: { concurrency: 2 } },
  ));
  await worker.waitUntilReady();
  const queue = track(new Queue('grouped2', { connection }));
  await queue.addBulk([
    ...Array.from({ length: 6 }, (_, i) => ({ name: 'a', data: { i }, opts: { group: { id: 'a' } } })),
    ...Array.from({ length: 2 }, (_, i) => ({ name: 'b', data: { i }, opts: { group: { id: 'b' } } })),
  ]);
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === 8, 'eight completed jobs');
  assert.equal(byGroup.get('a')!.max, 2);
  assert.ok(byGroup.get('b')!.max >= 1);
  await worker.close();
  await queue.close();
});
