/**
 * A three-node cluster of real Warren processes on a real PostgreSQL, driven by amqplib: declare on n1,
 * publish on n2, consume on n3; definitions and permissions are cluster-wide; the management API of any
 * node lists every node and names each queue's owner.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import pgLib from 'pg';
import { startLinkedCluster, type TestCluster, type TestClusterNode } from '../../helpers/cluster.js';
import { postgresForFile } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';

const pg = postgresForFile();
let cluster: TestCluster;
let n1: TestClusterNode;
let n2: TestClusterNode;
let n3: TestClusterNode;

before(async () => {
  if (pg.skip) return;
  cluster = await startLinkedCluster(pg, 3);
  [n1, n2, n3] = cluster.nodes as [TestClusterNode, TestClusterNode, TestClusterNode];
});

after(() => cluster?.cleanup());

async function connect(node: TestClusterNode, user = 'guest', password = 'guest'): Promise<amqp.ChannelModel> {
  const connection = await cluster.connect(node.url.replace('guest:guest', `${user}:${password}`));
  connection.on('error', () => undefined);
  return connection;
}

/** Publishes `count` persistent messages with confirms through `node`. */
async function publish(node: TestClusterNode, queue: string, count: number, prefix = queue): Promise<void> {
  const connection = await connect(node);
  try {
    const ch = await connection.createConfirmChannel();
    for (let i = 0; i < count; i++) ch.sendToQueue(queue, Buffer.from(`${prefix}-${i}`), { persistent: true });
    await ch.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/** Consumes until `count` messages arrived through `node`; returns their bodies in arrival order. */
async function consume(node: TestClusterNode, queue: string, count: number): Promise<string[]> {
  const connection = await connect(node);
  try {
    const ch = await connection.createChannel();
    await ch.prefetch(10);
    const got: string[] = [];
    await ch.consume(queue, (message) => {
      if (message === null) return;
      got.push(message.content.toString());
      ch.ack(message);
    });
    await waitFor(() => got.length >= count, `${count} messages from ${queue} through ${node.name}`, 15_000);
    // amqplib writes each channel's frames through its own buffer: closing the channel first (its
    // close-ok comes after the acks) keeps connection.close from overtaking the last acks.
    await ch.close();
    return got;
  } finally {
    await connection.close();
  }
}

test('declare on n1, publish on n2, consume on n3: a quorum queue and a classic queue', { skip: pg.skip }, async () => {
  const connection = await connect(n1);
  const ch = await connection.createChannel();
  await ch.assertQueue('orders', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.assertQueue('audit', { durable: true });
  await connection.close();
  // Definitions reach every node within a poll; a node that does not know a queue yet finds it unroutable.
  for (const node of [n1, n2, n3]) await waitFor(async () => (await node.api<unknown[]>('GET', '/api/queues/%2F')).length === 2, `both queues seen on ${node.name}`);
  await publish(n2, 'orders', 200);
  await publish(n2, 'audit', 50);
  assert.deepEqual(await consume(n3, 'orders', 200), Array.from({ length: 200 }, (_, i) => `orders-${i}`));
  assert.deepEqual(await consume(n3, 'audit', 50), Array.from({ length: 50 }, (_, i) => `audit-${i}`));
});

test('exchanges and bindings declared on one node route publishes on another', { skip: pg.skip }, async () => {
  const connection = await connect(n2);
  const ch = await connection.createChannel();
  await ch.assertExchange('events', 'topic', { durable: true });
  await ch.assertQueue('eu-events', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue('eu-events', 'events', 'eu.#');
  await connection.close();
  for (const node of [n1, n3]) await waitFor(async () => (await node.api<unknown[]>('GET', '/api/bindings/%2F/e/events/q/eu-events')).length === 1, `the binding on ${node.name}`);
  const publisher = await connect(n1);
  const pch = await publisher.createConfirmChannel();
  pch.publish('events', 'eu.order.created', Buffer.from('routed'), { persistent: true });
  pch.publish('events', 'us.order.created', Buffer.from('not routed'), { persistent: true });
  await pch.waitForConfirms();
  await publisher.close();
  assert.deepEqual(await consume(n3, 'eu-events', 1), ['routed']);
});

test('users and permissions made through one node hold on every node', { skip: pg.skip }, async () => {
  await n1.api('PUT', '/api/users/alice', { password: 'wonder', tags: '' });
  await n1.api('PUT', '/api/permissions/%2F/alice', { configure: '^alice-', write: '.*', read: '.*' });
  await waitFor(async () => (await n3.api<{ name: string }[]>('GET', '/api/users')).some((u) => u.name === 'alice'), 'alice on n3');
  await waitFor(async () => (await n3.api<unknown[]>('GET', '/api/permissions')).length >= 2, 'her permissions on n3');
  const connection = await cluster.connect(n3.url.replace('guest:guest', 'alice:wonder'));
  connection.on('error', () => undefined);
  const ch = await connection.createChannel();
  ch.on('error', () => undefined);
  await ch.assertQueue('alice-jobs', { durable: true });
  await assert.rejects(ch.assertQueue('bob-jobs', { durable: true }), /ACCESS_REFUSED - configure access to queue 'bob-jobs' in vhost '\/' refused for user 'alice'/);
  await connection.close().catch(() => undefined);
});

test('every node lists the three nodes and names each queue owner', { skip: pg.skip }, async () => {
  const nodes = await n2.api<{ name: string; running: boolean; queues_owned: number }[]>('GET', '/api/nodes');
  assert.deepEqual(nodes.map((n) => [n.name, n.running]), [['n1', true], ['n2', true], ['n3', true]]);
  const owners = new Map((await n3.api<{ name: string; node: string; type: string }[]>('GET', '/api/queues')).map((q) => [q.name, q]));
  assert.equal(owners.get('audit')?.node, 'n1', 'a classic queue is owned where it was declared');
  assert.equal(owners.get('audit')?.type, 'classic');
  assert.ok(['n1', 'n2', 'n3'].includes(owners.get('orders')?.node ?? ''), 'a quorum queue is owned by some node');
  assert.equal(owners.get('orders')?.type, 'quorum');
  const fromN1 = new Map((await n1.api<{ name: string; node: string }[]>('GET', '/api/queues')).map((q) => [q.name, q.node]));
  assert.equal(fromN1.get('orders'), owners.get('orders')?.node, 'every node names the same owner');
});

test('a quorum queue deleted and declared again on its owner starts empty and takes new messages', { skip: pg.skip }, async () => {
  const setup = await connect(n1);
  const ch = await setup.createChannel();
  await ch.assertQueue('reborn', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await setup.close();
  for (const node of [n1, n2, n3]) await waitFor(async () => (await node.api<{ name: string }[]>('GET', '/api/queues/%2F')).some((q) => q.name === 'reborn'), `reborn on ${node.name}`);
  const ownerName = (await n1.api<{ node: string }>('GET', '/api/queues/%2F/reborn')).node;
  const owner = [n1, n2, n3].find((node) => node.name === ownerName) ?? assert.fail(`no node ${ownerName}`);
  await publish(owner, 'reborn', 20, 'old');
  const connection = await connect(owner);
  const again = await connection.createChannel();
  await again.deleteQueue('reborn');
  await again.assertQueue('reborn', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await connection.close();
  for (const node of [n1, n2, n3]) await waitFor(async () => (await node.api<{ name: string }[]>('GET', '/api/queues/%2F')).some((q) => q.name === 'reborn'), `reborn again on ${node.name}`);
  await publish(owner, 'reborn', 5, 'new');
  assert.deepEqual(await consume(owner, 'reborn', 5), Array.from({ length: 5 }, (_, i) => `new-${i}`));
  const db = new pgLib.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  try {
    const rowsLeft = async (): Promise<number> =>
      Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM warren_messages m JOIN warren_queues q ON q.id = m.queue_id WHERE q.name = 'reborn'`)).rows[0]?.n);
    await waitFor(async () => (await rowsLeft()) === 0, 'the old messages gone with their queue, the new ones once acked');
  } finally {
    await db.end();
  }
});
