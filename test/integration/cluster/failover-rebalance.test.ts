/**
 * A replicated queue's owner is killed: the queue moves to a living node with every confirmed message, a
 * consumer on a living node keeps consuming without subscribing again, unacked deliveries come back
 * redelivered; the owner comes back, `warren ctl cluster status` lists it, and `warren ctl cluster
 * rebalance` moves the queue back to it without losing anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { runCtl } from '../cli/process.js';
import { linkedClusterForFile, waitForMembers, type TestClusterNode } from '../../helpers/cluster.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const { pg, cluster } = linkedClusterForFile(3, { leaseMs: 3000, heartbeatMs: 500 });

/**
 * Publishes with confirms as a client should through a failover: what is nacked (the queue was between
 * owners, or this node had not yet heard of the new one) is sent again until all is confirmed.
 */
async function publish(node: TestClusterNode, queue: string, ids: readonly number[]): Promise<void> {
  const connection = await cluster.connect(node.url);
  const ch = await connection.createConfirmChannel();
  let unconfirmed = [...ids];
  for (let attempt = 0; unconfirmed.length !== 0; attempt++) {
    assert.ok(attempt < 50, `still nacked after 50 attempts: ${unconfirmed.join(',')}`);
    if (attempt !== 0) await sleep(100);
    const outcomes = unconfirmed.map(
      (id) => new Promise<number | undefined>((resolve) => ch.sendToQueue(queue, Buffer.from(String(id)), { persistent: true }, (error) => resolve(error === null || error === undefined ? undefined : id))),
    );
    unconfirmed = (await Promise.all(outcomes)).filter((id): id is number => id !== undefined);
  }
  await ch.close();
  await connection.close();
}

test('the owner dies: the queue moves with its messages, consumers elsewhere go on; rebalance brings it back', { skip: pg.skip, timeout: 120_000 }, async () => {
  const setup = await cluster.connect(cluster.nodes[0]!.url);
  await (await setup.createChannel()).assertQueue('moving', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await setup.close();
  for (const node of cluster.nodes) await waitFor(async () => (await node.api<unknown[]>('GET', '/api/queues/%2F')).length === 1, `the queue on ${node.name}`);
  const ownerName = await cluster.nodes[0]!.ownerOf('moving');
  const owner = cluster.node(ownerName);
  const [living, other] = cluster.nodes.filter((n) => n !== owner) as [TestClusterNode, TestClusterNode];

  // A consumer on a living node holds two deliveries unacked when the owner dies.
  const consumerConnection = await cluster.connect(living.url);
  const consumer = await consumerConnection.createChannel();
  await consumer.prefetch(2);
  const got: { id: string; redelivered: boolean }[] = [];
  const held: amqp.ConsumeMessage[] = [];
  let holding = true;
  await consumer.consume('moving', (message) => {
    if (message === null) return;
    got.push({ id: message.content.toString(), redelivered: message.fields.redelivered });
    if (holding) held.push(message);
    else consumer.ack(message);
  });
  await publish(other, 'moving', Array.from({ length: 100 }, (_, i) => i));
  await waitFor(() => held.length === 2, 'two deliveries held');

  await owner.kill();
  await waitFor(async () => (await living.ownerOf('moving')) !== ownerName, 'the queue has a new owner', 10_000);
  holding = false;
  // Their delivery died with the owner, so these acks settle nothing; they free the consumer's prefetch.
  for (const message of held) consumer.ack(message);
  await publish(other, 'moving', Array.from({ length: 50 }, (_, i) => 100 + i));
  await waitFor(() => new Set(got.map((g) => g.id)).size === 150, 'every message delivered through the same consumer', 20_000);
  const newOwner = cluster.node(await living.ownerOf('moving'));
  // Membership is read again at each heartbeat: the node that won the death declaration knows first.
  await waitFor(async () => (await metricsOf(newOwner)).get('warren_cluster_nodes{state="down"}') === 1, 'the new owner sees one node down');
  const metrics = await metricsOf(newOwner);
  assert.ok((metrics.get('warren_cluster_queues_taken_over_total') ?? 0) >= 1, 'and counts the queue it took over');
  assert.ok((metrics.get('warren_cluster_replicated_commits_total') ?? 0) >= 1, 'and the commits of the messages published to it since');
  assert.equal(metrics.get('warren_cluster_database_alarm'), 0);
  const redelivered = got.filter((g) => g.redelivered).map((g) => g.id);
  assert.ok(held.every((m) => redelivered.includes(m.content.toString())), 'the deliveries held when the owner died came back redelivered');
  await consumerConnection.close();

  // The old owner comes back; status lists it; rebalance gives the queue back to it.
  await owner.start();
  await waitForMembers(cluster.nodes, 3);
  const status = await runCtl(`http://127.0.0.1:${living.httpPort}`, 'cluster', 'status');
  assert.equal(status.code, 0, status.stderr);
  for (const node of cluster.nodes) assert.match(status.stdout, new RegExp(`${node.name}\\s+running`));
  await publish(other, 'moving', [1000, 1001, 1002]);
  const rebalance = await runCtl(`http://127.0.0.1:${other.httpPort}`, 'cluster', 'rebalance');
  assert.equal(rebalance.code, 0, rebalance.stderr);
  assert.match(rebalance.stdout, new RegExp(`moving\\s+\\S+\\s+${ownerName}`));
  await waitFor(async () => (await other.ownerOf('moving')) === ownerName, 'the queue is back with its old owner', 15_000);
  const back = await cluster.connect(owner.url);
  const ch = await back.createChannel();
  const rest: string[] = [];
  await ch.consume('moving', (message) => {
    if (message === null) return;
    rest.push(message.content.toString());
    ch.ack(message);
  });
  await waitFor(() => rest.length === 3, 'the messages published before the rebalance, from the owner again');
  assert.deepEqual(rest.sort(), ['1000', '1001', '1002']);
  await back.close();
});

/** A node's /metrics as sample name (with labels) -> value. */
async function metricsOf(node: TestClusterNode): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${node.httpPort}/metrics`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^(\S+) (\S+)$/.exec(line);
    if (match !== null && !line.startsWith('#')) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}
