import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker } from '../../../src/jobs/index.js';
import { waitFor } from '../../helpers/wait.js';
import { type JobsBroker, jobsBrokerForFile, track } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

/** Six jobs and a worker at concurrency 2 whose processor holds every job until `finish()`. */
async function sixJobsAndAGatedWorker(name: string): Promise<{ queue: Queue; worker: Worker; started: string[]; finish: () => void }> {
  const connection = broker.connection;
  const queue = track(new Queue(name, { connection }));
  await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'slow', data: { i } })));
  const started: string[] = [];
  let finish!: () => void;
  const gate = new Promise<void>((resolve) => (finish = resolve));
  const processor = async (job: { id: string }): Promise<void> => {
    started.push(job.id);
    await gate;
  };
  const worker = track(new Worker(name, processor, { connection, concurrency: 2 }));
  return { queue, worker, started, finish };
}

test('a worker takes the next `concurrency` jobs ahead of a free slot, runs no more than `concurrency` at once, and gives the taken ones back on close', async () => {
  const connection = broker.connection;
  const { queue, worker: first, started, finish } = await sixJobsAndAGatedWorker('ahead');
  // Two running and two taken ahead: four active records, two processor calls.
  await waitFor(async () => (await queue.getJobCounts('active'))['active'] === 4, 'two jobs running and two taken ahead');
  assert.equal(started.length, 2);

  // Closing gives the two taken ahead back to waiting before the running ones finish.
  const closed = first.close();
  try {
    await waitFor(async () => (await queue.getJobCounts('active'))['active'] === 2, 'the jobs taken ahead to go back');
  } finally {
    finish(); // else a failure here leaves the close (and the file's cleanup) waiting forever
  }
  await closed;
  assert.deepEqual(await queue.getJobCounts('waiting', 'active', 'completed'), { waiting: 4, active: 0, completed: 2 });

  // Another worker runs the other four, each once.
  const second = track(new Worker('ahead', async (job) => void started.push(job.id), { connection, concurrency: 2 }));
  await waitFor(async () => (await queue.getJobCounts('completed'))['completed'] === 6, 'the rest to complete');
  await second.close();
  assert.equal(started.length, 6);
  assert.equal(new Set(started).size, 6);
});

test('a pause puts the jobs taken ahead back to waiting; a resume runs them', async () => {
  const { queue, worker, started, finish } = await sixJobsAndAGatedWorker('ahead-paused');
  const paused = new Promise((resolve) => worker.once('paused', resolve));
  try {
    await waitFor(async () => (await queue.getJobCounts('active'))['active'] === 4, 'two jobs running and two taken ahead');
    await queue.pause();
    await paused;
    assert.deepEqual(await queue.getJobCounts('waiting', 'active'), { waiting: 4, active: 2 });
  } finally {
    finish();
  }
  await waitFor(async () => (await queue.getJobCounts('completed'))['completed'] === 2, 'the two running to complete');
  assert.deepEqual(await queue.getJobCounts('waiting', 'active'), { waiting: 4, active: 0 });
  assert.equal(started.length, 2);

  await queue.resume();
  await waitFor(async () => (await queue.getJobCounts('completed'))['completed'] === 6, 'the rest to complete after the resume');
  await worker.close();
  assert.equal(new Set(started).size, 6);
});
