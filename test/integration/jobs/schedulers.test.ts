import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker } from '../../../src/jobs/index.js';
import { nextSlot } from '../../../src/jobs/schedulers.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { type JobsBroker, jobsBrokerForFile } from './helpers.js';
import { track } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

test('a job scheduler with `every`, upserted by two Queues with two Workers running, fires once per slot', async () => {
  const connection = broker.connection;
  const queues = [track(new Queue('ticks', { connection })), track(new Queue('ticks', { connection }))];
  const fired: number[] = [];
  const workers = [0, 1].map(() => track(new Worker('ticks', async (job) => void fired.push(job.opts.repeat!.slot), { connection })));
  await Promise.all(queues.map((q) => q.upsertJobScheduler('tick', { every: 300 }, { name: 'tick', data: {} })));
  await waitFor(() => fired.length >= 4, 'four slots', 10_000);
  await queues[0]!.removeJobScheduler('tick');
  await sleep(700);
  const slots = [...fired].sort((a, b) => a - b);
  assert.equal(new Set(slots).size, slots.length, `a slot fired twice: ${slots.join(',')}`);
  for (const slot of slots) assert.equal(slot % 300, 0, 'slots on the 300 ms grid');
  const after = fired.length;
  await sleep(700);
  assert.equal(fired.length, after, 'nothing fires after removeJobScheduler');
  assert.deepEqual(await queues[1]!.getJobSchedulers(), []);
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
});

test('the worker running a slot dies: the next slot is still scheduled by whoever runs it next', async () => {
  const connection = broker.connection;
  const queue = track(new Queue('survive', { connection }));
  const first = track(new Worker('survive', async () => undefined, { connection }));
  await queue.upsertJobScheduler('s', { every: 250 });
  await sleep(600);
  await first.close(true);
  const fired: number[] = [];
  const second = track(new Worker('survive', async (job) => void fired.push(job.opts.repeat!.slot), { connection }));
  await waitFor(() => fired.length >= 2, 'slots after the first worker is gone', 10_000);
  await queue.removeJobScheduler('s');
  await second.close();
  await queue.close();
});

test('cron slots across DST changes (cron-parser in the time zone): one run per local day, none doubled', () => {
  // Europe/Berlin springs forward on 2026-03-29 (02:00 -> 03:00) and falls back on 2026-10-25 (03:00 -> 02:00).
  const daily = { pattern: '30 2 * * *', tz: 'Europe/Berlin' };
  let at = Date.parse('2026-03-27T12:00:00Z');
  const spring: string[] = [];
  for (let i = 0; i < 3; i++) spring.push(new Date((at = nextSlot(daily, at, 0)!)).toISOString());
  assert.deepEqual(spring, ['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  at = Date.parse('2026-10-24T12:00:00Z');
  const autumn: string[] = [];
  for (let i = 0; i < 3; i++) autumn.push(new Date((at = nextSlot(daily, at, 0)!)).toISOString());
  // 02:30 happens twice on 2026-10-25; it fires once.
  assert.deepEqual(autumn, ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']);
  assert.equal(nextSlot({ every: 1000 }, 1500, 0), 2000);
  assert.equal(nextSlot({ every: 1000, limit: 2 }, 1500, 2), undefined);
});
