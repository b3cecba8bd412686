import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowProducer, Queue, Worker, type Job } from '../../../src/jobs/index.js';
import { freePort } from '../../helpers/ports.js';
import { waitFor } from '../../helpers/wait.js';
import { runCli, type CliProcess } from '../cli/process.js';
import { tempDataDir } from '../durability/helpers.js';

/** A broker as its own process (so it can be killed with -9), on fixed ports and a data dir kept across runs. */
async function startBroker(dir: string, amqpPort: number, httpPort: number): Promise<CliProcess> {
  const broker = runCli(['server', '--amqp-host', '127.0.0.1', '--amqp-port', String(amqpPort), '--http-host', '127.0.0.1', '--http-port', String(httpPort), '--data-dir', dir, '--log-level', 'info']);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/api/overview`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } }).catch(() => undefined))?.ok === true, 'the broker answers', 20_000);
  return broker;
}

test('a broker killed (-9) with a flow half done: the finished children stay finished, the running one runs again, the parent runs once with every result', async () => {
  const data = await tempDataDir();
  const [amqpPort, httpPort] = [await freePort(), await freePort()];
  let broker = await startBroker(data.dir, amqpPort, httpPort);
  const connection = { url: `amqp://guest:guest@127.0.0.1:${amqpPort}`, managementUrl: `http://127.0.0.1:${httpPort}`, reconnectDelayMs: 50 };
  const objects: { close(force?: boolean): Promise<void> }[] = [];
  let unblock: (() => void) | undefined;
  try {
    const flows = new FlowProducer({ connection });
    objects.push(flows);
    const tree = await flows.add({
      name: 'report',
      queueName: 'crash-parents',
      children: [0, 1, 2, 3].map((n) => ({ name: 'part', queueName: 'crash-parts', data: { n } })),
    });
    const runs = new Map<number, number>();
    // Part 2's first run never returns by itself: it stands for a job whose worker lost its broker
    // mid-run. The worker's second slot takes the redelivery after the restart.
    const parts = new Worker(
      'crash-parts',
      async (job: Job) => {
        const run = (runs.get(job.data.n) ?? 0) + 1;
        runs.set(job.data.n, run);
        if (job.data.n === 2 && run === 1) await new Promise<void>((resolve) => (unblock = resolve));
        return `part ${job.data.n}`;
      },
      { connection, concurrency: 2 },
    );
    parts.on('error', () => undefined);
    objects.push(parts);
    const parentValues: Record<string, unknown>[] = [];
    const parents = new Worker('crash-parents', async (job: Job) => void parentValues.push(await job.getChildrenValues()), { connection });
    parents.on('error', () => undefined);
    objects.push(parents);
    const partQueue = new Queue('crash-parts', { connection });
    objects.push(partQueue);
    const [id0, id1] = tree.children!.map((child) => child.job.id);
    // Killed only once parts 0 and 1 are durably completed (a result still being written could go either way).
    await waitFor(
      async () => runs.get(2) === 1 && (await partQueue.getJobState(id0!)) === 'completed' && (await partQueue.getJobState(id1!)) === 'completed',
      'parts 0 and 1 are done and part 2 is running',
    );

    broker.child.kill('SIGKILL');
    await broker.exited;
    broker = await startBroker(data.dir, amqpPort, httpPort);

    await waitFor(() => parentValues.length === 1, 'the parent ran after the restart', 30_000);
    const ids = tree.children!.map((child) => child.job.id);
    assert.deepEqual(parentValues[0], Object.fromEntries(ids.map((id, n) => [`crash-parts:${id}`, `part ${n}`])));
    // Parts finished before the kill were not run again; the one running (its result not written) ran again.
    assert.equal(runs.get(0), 1);
    assert.equal(runs.get(1), 1);
    assert.equal(runs.get(2), 2);
    const queue = new Queue('crash-parents', { connection });
    objects.push(queue);
    await waitFor(async () => (await queue.getJobState(tree.job.id)) === 'completed', 'the parent completed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(parentValues.length, 1);
  } finally {
    unblock?.();
    for (const object of objects.reverse()) await object.close(true).catch(() => undefined);
    broker.kill();
    await broker.exited;
    await data.cleanup();
  }
});
