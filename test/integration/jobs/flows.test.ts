import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowProducer, Queue, UnrecoverableError, Worker, type Job } from '../../../src/jobs/index.js';
import { waitFor } from '../../helpers/wait.js';
import { api, type JobsBroker, jobsBrokerForFile, track } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

test('a flow: the parent waits for its children (in two queues), then reads their results; nested flows too', async () => {
  const connection = broker.connection;
  const flows = track(new FlowProducer({ connection }));
  const parentRuns: Record<string, unknown>[] = [];
  const tree = await flows.add({
    name: 'render',
    queueName: 'flow-parents',
    data: { movie: 'm1' },
    children: [
      { name: 'frame', queueName: 'flow-frames', data: { n: 1 } },
      { name: 'frame', queueName: 'flow-frames', data: { n: 2 } },
      { name: 'audio', queueName: 'flow-audio', data: { n: 3 }, children: [{ name: 'sample', queueName: 'flow-frames', data: { n: 4 } }] },
    ],
  });
  const parents = track(new Queue('flow-parents', { connection }));
  assert.equal(await parents.getJobState(tree.job.id), 'waiting-children');
  assert.deepEqual(await tree.job.getDependenciesCount(), { processed: 0, unprocessed: 3, ignored: 0, failed: 0 });

  const parentWorker = track(new Worker('flow-parents', async (job: Job) => {
    parentRuns.push(await job.getChildrenValues());
    return 'movie';
  }, { connection }));
  // The parent must not run before its children: nothing consumes flow-frames / flow-audio yet, and
  // the parent has no message (published or taken) and is still waiting for children.
  await parentWorker.waitUntilReady();
  const parentQueue = (await api(broker, 'GET', '/api/queues/%2F/jobs.flow-parents')).json as { messages: number };
  assert.equal(parentQueue.messages, 0);
  assert.equal(await parents.getJobState(tree.job.id), 'waiting-children');
  assert.equal(parentRuns.length, 0);

  const audioWorker = track(new Worker('flow-audio', async (job: Job) => ({ audio: job.data.n, sample: Object.values(await job.getChildrenValues())[0] }), { connection }));
  const frameWorker = track(new Worker('flow-frames', async (job: Job) => job.data.n * 10, { connection, concurrency: 3 }));
  await waitFor(() => parentRuns.length === 1, 'the parent ran');
  const [frame1, frame2, audio] = tree.children!;
  assert.deepEqual(parentRuns[0], {
    [`flow-frames:${frame1!.job.id}`]: 10,
    [`flow-frames:${frame2!.job.id}`]: 20,
    [`flow-audio:${audio!.job.id}`]: { audio: 3, sample: 40 },
  });
  await waitFor(async () => (await parents.getJobState(tree.job.id)) === 'completed', 'the parent completed');
  // Finished: the results live in the parent's record, its dependency table is gone.
  const stored = await parents.getJob(tree.job.id);
  assert.deepEqual(await stored!.getChildrenValues(), parentRuns[0]);
  const tables = (await api(broker, 'GET', '/api/records/%2F')).json as { name: string }[];
  assert.equal(tables.filter((t) => t.name.includes('.deps.')).length, 0);
  assert.equal(parentRuns.length, 1);
  await Promise.all([parentWorker.close(), audioWorker.close(), frameWorker.close()]);
});

test('flow failure policies: failParentOnFailure fails the parent, ignoreDependencyOnFailure and removeDependencyOnFailure let it run, the default keeps it waiting', async () => {
  const connection = broker.connection;
  const flows = track(new FlowProducer({ connection }));
  const ran: string[] = [];
  const ignored: Record<string, string>[] = [];
  const parentWorker = track(new Worker('policy-parents', async (job: Job) => {
    ran.push(job.data.policy);
    ignored.push(await job.getIgnoredChildrenFailures());
    return Object.keys(await job.getChildrenValues()).length;
  }, { connection, concurrency: 4 }));
  const childWorker = track(new Worker('policy-children', async (job: Job) => {
    if (job.data.fail) throw new UnrecoverableError(`bad ${job.data.policy}`);
    return 'ok';
  }, { connection, concurrency: 4 }));
  const flow = (policy: string, opts: Record<string, boolean>) =>
    flows.add({
      name: 'p',
      queueName: 'policy-parents',
      data: { policy },
      children: [
        { name: 'good', queueName: 'policy-children', data: { policy } },
        { name: 'bad', queueName: 'policy-children', data: { policy, fail: true }, opts },
      ],
    });
  const failing = await flow('fail', { failParentOnFailure: true });
  const ignoring = await flow('ignore', { ignoreDependencyOnFailure: true });
  const removing = await flow('remove', { removeDependencyOnFailure: true });
  const waiting = await flow('default', {});
  const parents = track(new Queue('policy-parents', { connection }));

  await waitFor(async () => (await parents.getJobState(failing.job.id)) === 'failed', 'failParentOnFailure failed the parent');
  const failed = await parents.getJob(failing.job.id);
  assert.match(failed!.failedReason!, new RegExp(`child policy-children:${failing.children![1]!.job.id} failed: bad fail`));
  await waitFor(async () => (await parents.getJobState(ignoring.job.id)) === 'completed' && (await parents.getJobState(removing.job.id)) === 'completed', 'the ignoring and removing parents completed');
  assert.deepEqual(ran.sort(), ['ignore', 'remove']);
  assert.deepEqual(ignored.find((failures) => Object.keys(failures).length > 0), { [`policy-children:${ignoring.children![1]!.job.id}`]: 'bad ignore' });
  assert.equal((await parents.getJob(ignoring.job.id))!.returnvalue, 1);
  // BullMQ's default: a failed child keeps its parent waiting for children, the failure counted.
  assert.equal(await parents.getJobState(waiting.job.id), 'waiting-children');
  assert.deepEqual(await waiting.job.getDependenciesCount(), { processed: 1, unprocessed: 0, ignored: 0, failed: 1 });
  await Promise.all([parentWorker.close(), childWorker.close()]);
});
