import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { FlowProducer, Queue, UnrecoverableError, Worker, type Job, type JobNode } from '../../../src/jobs/index.js';
import { waitFor } from '../../helpers/wait.js';
import { api, type JobsBroker, jobsBrokerForFile, track } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

/** The dependency tables (`jobs.<queue>.deps.<id>`) that exist now of the queues named `<prefix>...` (one test's). */
async function dependencyTables(prefix: string): Promise<string[]> {
  const tables = (await api(broker, 'GET', '/api/records/%2F')).json as { name: string }[];
  return tables.map((t) => t.name).filter((name) => name.startsWith(`jobs.${prefix}`) && name.includes('.deps.'));
}

/** A JobNode as names: `queue/name(state)` with its children, for comparing trees. */
async function shape(node: JobNode): Promise<unknown> {
  const state = await node.job.getState();
  const job = `${node.job.queueName}/${node.job.name}(${state})`;
  if (node.children === undefined) return { job };
  // Children in a stable order (as JSON), whatever order their fates listed them in.
  const children = (await Promise.all(node.children.map(shape))).map((child) => JSON.stringify(child)).sort();
  return { job, children: children.map((child) => JSON.parse(child) as unknown) };
}

const idle = (name: string) => ({ job: `tree-leaves/${name}(waiting)` });

test('getFlow: the tree as added (depth and maxChildren limit it), then as finished, from the parents\' records', async () => {
  const connection = broker.connection;
  const flows = track(new FlowProducer({ connection }));
  const added = await flows.add({
    name: 'root',
    queueName: 'tree-roots',
    children: [
      { name: 'a', queueName: 'tree-leaves' },
      { name: 'b', queueName: 'tree-leaves' },
      { name: 'mid', queueName: 'tree-mids', children: [{ name: 'c', queueName: 'tree-leaves' }] },
    ],
  });
  const root = { id: added.job.id, queueName: 'tree-roots' };
  const mid = { job: 'tree-mids/mid(waiting-children)', children: [idle('c')] };
  assert.deepEqual(await shape((await flows.getFlow(root))!), { job: 'tree-roots/root(waiting-children)', children: [idle('a'), idle('b'), mid] });
  assert.deepEqual(await shape((await flows.getFlow({ ...root, depth: 1 }))!), { job: 'tree-roots/root(waiting-children)' });
  assert.deepEqual(await shape((await flows.getFlow({ ...root, depth: 2 }))!), { job: 'tree-roots/root(waiting-children)', children: [idle('a'), idle('b'), { job: 'tree-mids/mid(waiting-children)' }] });
  // maxChildren: at most that many per fate (all three are unprocessed).
  assert.equal((await flows.getFlow({ ...root, maxChildren: 2 }))!.children!.length, 2);
  assert.equal(await flows.getFlow({ id: 'no-such-job', queueName: 'tree-roots' }), undefined);
  assert.equal((await flows.getFlow({ id: added.children![0]!.job.id, queueName: 'tree-leaves' }))!.children, undefined);

  const workers = ['tree-roots', 'tree-mids', 'tree-leaves'].map((queue) => track(new Worker(queue, async (job: Job) => `${job.name} done`, { connection, concurrency: 3 })));
  const roots = track(new Queue('tree-roots', { connection }));
  await waitFor(async () => (await roots.getJobState(root.id)) === 'completed', 'the root completed');
  // Finished parents keep their dependencies in their records: the same tree, every job completed.
  const done = (name: string, queue = 'tree-leaves') => ({ job: `${queue}/${name}(completed)` });
  const expected = { job: 'tree-roots/root(completed)', children: [done('a'), done('b'), { ...done('mid', 'tree-mids'), children: [done('c')] }] };
  // A child reports to its parent before it writes its own result (flow-deps.ts), so the root may
  // complete a moment before its last child's record says completed: wait for that write too.
  await waitFor(async () => isDeepStrictEqual(await shape((await flows.getFlow(root))!), expected), 'every child completed');
  const finished = (await flows.getFlow(root))!;
  assert.deepEqual(await shape(finished), expected);
  assert.equal(finished.job.returnvalue, 'root done');
  assert.deepEqual(await dependencyTables('tree-'), []);
  await Promise.all(workers.map((worker) => worker.close()));
});

test('continueParentOnFailure: the parent starts when that child fails, reads getFailedChildrenValues, removes the unstarted children; a late child recreates no table', async () => {
  const connection = broker.connection;
  const flows = track(new FlowProducer({ connection }));
  const seen = new Map<string, { failed: Record<string, string>; counts: unknown }>();
  const parentWorker = track(new Worker('cpof-parents', async (job: Job) => {
    seen.set(job.data.flow, { failed: await job.getFailedChildrenValues(), counts: await job.getDependenciesCount() });
    if (job.data.flow === 'remove') await job.removeUnprocessedChildren();
    return 'handled';
  }, { connection }));
  const failWorker = track(new Worker('cpof-failing', async () => {
    throw new UnrecoverableError('cannot');
  }, { connection }));
  // Nothing consumes cpof-idle yet: its children stay unstarted while the parents run.
  const flow = (name: string) =>
    flows.add({
      name: 'parent',
      queueName: 'cpof-parents',
      data: { flow: name },
      children: [
        { name: 'breaks', queueName: 'cpof-failing', opts: { continueParentOnFailure: true } },
        { name: 'idle', queueName: 'cpof-idle' },
        { name: 'idle-parent', queueName: 'cpof-idle', children: [{ name: 'grandchild', queueName: 'cpof-idle' }] },
      ],
    });
  const removing = await flow('remove');
  const keeping = await flow('keep');
  const parents = track(new Queue('cpof-parents', { connection }));
  const idleQueue = track(new Queue('cpof-idle', { connection }));
  await waitFor(async () => (await parents.getJobState(removing.job.id)) === 'completed' && (await parents.getJobState(keeping.job.id)) === 'completed', 'both parents completed');

  const failedKey = `cpof-failing:${removing.children![0]!.job.id}`;
  assert.deepEqual(seen.get('remove'), { failed: { [failedKey]: 'cannot' }, counts: { processed: 0, unprocessed: 2, ignored: 1, failed: 0 } });
  // The removed ones are gone (the grandchild with its parent); the kept flow's are still waiting.
  const [, idleChild, idleParent] = removing.children!;
  assert.equal(await idleQueue.getJob(idleChild!.job.id), undefined);
  assert.equal(await idleQueue.getJob(idleParent!.job.id), undefined);
  assert.equal(await idleQueue.getJob(idleParent!.children![0]!.job.id), undefined);
  assert.deepEqual((await parents.getJob(removing.job.id))!.dependencies!.unprocessed, []);
  assert.equal(await idleQueue.getJobState(keeping.children![1]!.job.id), 'waiting');
  assert.deepEqual(await dependencyTables('cpof-'), [`jobs.cpof-idle.deps.${keeping.children![2]!.job.id}`]);

  // The kept flow's children run after their parent finished: nothing comes back for that parent.
  const idleWorker = track(new Worker('cpof-idle', async () => 'late', { connection, concurrency: 2 }));
  const idleMessages = async () => (await api(broker, 'GET', '/api/queues/%2F/jobs.cpof-idle')).json.messages as number;
  await waitFor(async () => (await idleQueue.getJobCounts('completed'))['completed'] === 3 && (await idleMessages()) === 0, 'the late children completed, every message taken');
  assert.deepEqual(await dependencyTables('cpof-'), []);
  const kept = await parents.getJob(keeping.job.id);
  assert.deepEqual(await kept!.getDependenciesCount(), { processed: 0, unprocessed: 2, ignored: 1, failed: 0 });
  // The removed flow's messages were dropped by the worker (their records are gone): none of them ran.
  assert.equal((await idleQueue.getJobCounts('completed'))['completed'], 3);
  await Promise.all([parentWorker.close(), failWorker.close(), idleWorker.close()]);
});

test('getDependencies pages every fate with cursors, the same while waiting and from the record; getDependenciesCount agrees', async () => {
  const connection = broker.connection;
  const flows = track(new FlowProducer({ connection }));
  const added = await flows.add({
    name: 'parent',
    queueName: 'deps-parents',
    children: [
      ...[1, 2, 3].map((n) => ({ name: `fast${n}`, queueName: 'deps-fast', data: { n } })),
      ...[4, 5].map((n) => ({ name: `idle${n}`, queueName: 'deps-idle', data: { n } })),
    ],
  });
  const key = (node: JobNode) => `${node.job.queueName}:${node.job.id}`;
  const fastKeys = added.children!.slice(0, 3).map(key);
  const idleKeys = added.children!.slice(3).map(key);
  const fastWorker = track(new Worker('deps-fast', async (job: Job) => job.data.n * 10, { connection }));
  const parent = added.job;
  await waitFor(async () => (await parent.getDependenciesCount({ processed: true })).processed === 3, 'three children processed');

  /** Every page of one fate, following the cursors until 0. */
  const pages = async (job: Job, type: 'processed' | 'unprocessed') => {
    const seen: unknown[] = [];
    let cursor = 0;
    for (let round = 0; round < 10; round++) {
      const page = await job.getDependencies({ [type]: { cursor, count: 2 } });
      assert.equal(Object.keys(page).length, 2, `only ${type} and its cursor: ${JSON.stringify(page)}`);
      seen.push(page[type]);
      cursor = type === 'processed' ? page.nextProcessedCursor! : page.nextUnprocessedCursor!;
      if (cursor === 0) return seen;
    }
    throw new Error('the cursor never came back to 0');
  };
  const check = async (job: Job, unprocessed: string[]) => {
    const processedPages = (await pages(job, 'processed')) as Record<string, number>[];
    assert.deepEqual(processedPages.map((page) => Object.keys(page).length), [2, 1]);
    assert.deepEqual(Object.assign({}, ...processedPages), Object.fromEntries(fastKeys.map((k, i) => [k, (i + 1) * 10])));
    if (unprocessed.length > 0) assert.deepEqual(((await pages(job, 'unprocessed')) as string[][]).flat().sort(), [...unprocessed].sort());
    const all = await job.getDependencies();
    assert.deepEqual({ ...all, unprocessed: [...all.unprocessed!].sort() }, { processed: Object.assign({}, ...processedPages), unprocessed: [...unprocessed].sort(), failed: [], ignored: {} });
    assert.deepEqual(await job.getDependenciesCount(), { processed: 3, unprocessed: unprocessed.length, ignored: 0, failed: 0 });
    assert.deepEqual(await job.getDependenciesCount({ unprocessed: true, failed: true }), { unprocessed: unprocessed.length, failed: 0 });
  };
  await check(parent, idleKeys);
  assert.equal(await parent.getState(), 'waiting-children');

  // The unstarted children removed from a parent still waiting: nothing is pending, so it starts.
  await parent.removeUnprocessedChildren();
  const parents = track(new Queue('deps-parents', { connection }));
  await waitFor(async () => (await parents.getJobState(parent.id)) === 'waiting', 'the parent released');
  assert.deepEqual(await dependencyTables('deps-'), []);
  await check((await parents.getJob(parent.id))!, []);
  await check(parent, []);
  await fastWorker.close();
});

test('a parent with a delay waits that long after its last child completed, with its dependency table already gone', async () => {
  const connection = broker.connection;
  const flows = track(new FlowProducer({ connection }));
  const delay = 1_500;
  const addedAt = Date.now();
  const added = await flows.add({ name: 'later', queueName: 'delay-parents', opts: { delay }, children: [{ name: 'first', queueName: 'delay-children' }] });
  // The child completes only after the parent's delay has passed since the add: a delay counted from
  // the add would start the parent as soon as the child is done.
  const childWorker = track(new Worker('delay-children', async () => {
    await waitFor(() => Date.now() >= addedAt + delay + 100, 'the delay passed since the add', 30_000);
    return 'ok';
  }, { connection }));
  const parents = track(new Queue('delay-parents', { connection }));
  const children = track(new Queue('delay-children', { connection }));
  await waitFor(async () => (await parents.getJobState(added.job.id)) === 'delayed', 'the parent delayed', 30_000);
  assert.deepEqual(await dependencyTables('delay-'), []);
  const delayed = await parents.getJob(added.job.id);
  assert.deepEqual(await delayed!.getChildrenValues(), { [`delay-children:${added.children![0]!.job.id}`]: 'ok' });

  let startedAt = 0;
  const parentWorker = track(new Worker('delay-parents', async () => void (startedAt = Date.now()), { connection }));
  await waitFor(async () => (await parents.getJobState(added.job.id)) === 'completed', 'the parent completed', 30_000);
  const childDone = (await children.getJob(added.children![0]!.job.id))!.finishedOn!;
  assert.ok(startedAt - childDone >= delay - 50, `the parent started ${startedAt - childDone} ms after its child completed`);
  await Promise.all([childWorker.close(), parentWorker.close()]);
});

test('queuesOptions: default job options per queue, under each node\'s own', async () => {
  const connection = broker.connection;
  const flows = track(new FlowProducer({ connection }));
  const runs = new Map<string, number>();
  const childWorker = track(new Worker('qo-children', async (job: Job) => {
    const run = (runs.get(job.name) ?? 0) + 1;
    runs.set(job.name, run);
    if (run < 3) throw new Error(`run ${run}`);
    return run;
  }, { connection, concurrency: 2 }));
  const added = await flows.add(
    { name: 'parent', queueName: 'qo-parents', children: [{ name: 'retried', queueName: 'qo-children' }, { name: 'once', queueName: 'qo-children', opts: { attempts: 1, ignoreDependencyOnFailure: true } }] },
    { queuesOptions: { 'qo-children': { defaultJobOptions: { attempts: 3, backoff: 10 } } } },
  );
  assert.equal(added.children![0]!.job.opts.attempts, 3);
  assert.equal(added.children![1]!.job.opts.attempts, 1);
  assert.equal(added.job.opts.attempts, undefined);
  const parentWorker = track(new Worker('qo-parents', async (job: Job) => Object.values(await job.getChildrenValues()), { connection }));
  const parents = track(new Queue('qo-parents', { connection }));
  await waitFor(async () => (await parents.getJobState(added.job.id)) === 'completed', 'the parent completed');
  assert.deepEqual((await parents.getJob(added.job.id))!.returnvalue, [3]);
  assert.equal(runs.get('once'), 1);
  await Promise.all([childWorker.close(), parentWorker.close()]);
});
