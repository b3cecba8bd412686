import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker, QueueEvents, type Job } from '../../../src/jobs/index.js';
import { waitFor } from '../../helpers/wait.js';
import { api, type JobsBroker, jobsBrokerForFile } from './helpers.js';
import { track } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

test("README's first example: add an email job, a worker sends it, QueueEvents sees it complete", async () => {
  const connection = broker.connection;
  const sent: string[] = [];
  const queue = track(new Queue('emails', { connection }));
  const events = track(new QueueEvents('emails', { connection }));
  await events.waitUntilReady();
  const completedEvent = new Promise<{ jobId: string; returnvalue: unknown }>((resolve) => events.once('completed', resolve));

  const worker = track(new Worker(
    'emails',
    async (job: Job<{ to: string; subject: string }>) => {
      sent.push(job.data.to);
      await job.updateProgress(50);
      return { delivered: true };
    },
    { connection, concurrency: 5 },
  ));

  const job = await queue.add('welcome', { to: 'ada@example.com', subject: 'Welcome!' });
  const event = await completedEvent;
  assert.equal(event.jobId, job.id);
  assert.deepEqual(event.returnvalue, { delivered: true });
  assert.deepEqual(sent, ['ada@example.com']);

  const stored = await queue.getJob(job.id);
  assert.equal(await stored?.getState(), 'completed');
  assert.deepEqual(stored?.returnvalue, { delivered: true });
  assert.equal(stored?.progress, 50);
  assert.equal(stored?.name, 'welcome');
  const counts = await queue.getJobCounts();
  assert.deepEqual(counts, { waiting: 0, active: 0, delayed: 0, completed: 1, failed: 0 });

  // The state is the broker's: the management API shows the job record.
  const record = await api(broker, 'GET', `/api/records/%2F/jobs.emails/${job.id}`);
  assert.equal(record.status, 200);
  assert.equal(record.json.tag, 'completed');

  await worker.close();
  await events.close();
  await queue.close();
});
