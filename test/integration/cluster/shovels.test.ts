/**
 * Dynamic shovels in a cluster: a shovel defined through one node's API reaches every node at once (no
 * restart), runs on exactly one of them, and when that node is kill -9'd it starts on a survivor and goes
 * on moving messages between two replicated queues, losing none (on-confirm: at least once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkedClusterForFile, type TestClusterNode } from '../../helpers/cluster.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const { pg, cluster } = linkedClusterForFile(2, { leaseMs: 3000, heartbeatMs: 500, defaultQueueType: 'quorum' });

interface ShovelStatus {
  name: string;
  node: string;
  state: string;
}

/** The nodes that say they run the shovel (`local=true`: each node's own rows only). */
async function runners(nodes: readonly TestClusterNode[]): Promise<string[]> {
  const rows = await Promise.all(nodes.map((node) => node.api<ShovelStatus[]>('GET', '/api/shovels?local=true').catch(() => [])));
  return rows.flat().filter((row) => row.name === 'mover' && row.state === 'running').map((row) => row.node);
}

/** Publishes ids [from, to) with confirms, sending again what is nacked while a queue moves. */
async function publish(node: TestClusterNode, from: number, to: number): Promise<void> {
  const connection = await cluster.connect(node.url);
  const ch = await connection.createConfirmChannel();
  let pending = Array.from({ length: to - from }, (_, i) => from + i);
  for (let attempt = 0; pending.length !== 0; attempt++) {
    assert.ok(attempt < 50, `still nacked after 50 attempts: ${pending.length}`);
    if (attempt !== 0) await sleep(100);
    const outcomes = pending.map(
      (id) => new Promise<number | undefined>((resolve) => ch.sendToQueue('source', Buffer.from(String(id)), { persistent: true, messageId: String(id) }, (error) => resolve(error == null ? undefined : id))),
    );
    pending = (await Promise.all(outcomes)).filter((id): id is number => id !== undefined);
  }
  await connection.close();
}

test('a dynamic shovel runs on one node of the cluster and moves to a survivor when that node is killed', { skip: pg.skip, timeout: 120_000 }, async () => {
  const [a, b] = cluster.nodes as [TestClusterNode, TestClusterNode];
  const setup = await cluster.connect(a.url);
  const ch = await setup.createChannel();
  await ch.assertQueue('source', { durable: true });
  await ch.assertQueue('target', { durable: true });
  await setup.close();

  await a.api('PUT', '/api/parameters/shovel/%2F/mover', {
    value: { 'src-uri': 'amqp://', 'src-queue': 'source', 'dest-uri': 'amqp://', 'dest-queue': 'target', 'ack-mode': 'on-confirm', 'reconnect-delay': 0.2 },
  });
  // The parameter is on the other node at once, not at its next restart.
  await waitFor(async () => (await b.api<unknown[]>('GET', '/api/parameters/shovel/%2F')).length === 1, 'the shovel parameter on the other node');
  await waitFor(async () => (await runners(cluster.nodes)).length === 1, 'the shovel running on one node');
  await sleep(1500); // a second runner would show up within a couple of heartbeats
  const first = await runners(cluster.nodes);
  assert.equal(first.length, 1, `runs on exactly one node: ${first.join(', ')}`);

  const runner = cluster.node(first[0]!);
  const survivor = cluster.nodes.find((node) => node !== runner)!;
  // Any node's listing is the cluster's: the other node shows the runner's row, and restarts it there.
  const listed = await survivor.api<ShovelStatus[]>('GET', '/api/shovels');
  assert.deepEqual(listed.map((row) => [row.name, row.node]), [['mover', runner.name]]);
  await survivor.api('DELETE', '/api/shovels/vhost/%2F/mover/restart');
  await waitFor(async () => (await runners([runner])).length === 1, 'the shovel running again after the restart');
  await publish(survivor, 0, 500);
  const targetCount = async (): Promise<number> => (await survivor.api<{ messages: number }>('GET', '/api/queues/%2F/target')).messages;
  await waitFor(async () => (await targetCount()) >= 500, 'the first 500 moved');

  await runner.kill();
  await waitFor(async () => (await runners([survivor])).length === 1, 'the shovel running on the survivor', 30_000);
  await publish(survivor, 500, 1000);

  // Every id arrives at least once (on-confirm: a message in flight at the kill may come twice).
  const consumer = await cluster.connect(survivor.url);
  const cch = await consumer.createChannel();
  const ids = new Set<string>();
  await cch.consume('target', (m) => {
    if (m === null) return;
    ids.add(String(m.properties.messageId));
    cch.ack(m);
  });
  await waitFor(() => ids.size === 1000, "all 1000 ids at the target", 60_000);
  await consumer.close();

  await survivor.api('DELETE', '/api/parameters/shovel/%2F/mover');
  await waitFor(async () => (await runners([survivor])).length === 0, 'the shovel gone after its parameter was deleted');
});
