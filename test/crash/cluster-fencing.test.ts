/**
 * Fencing and database failures in a three-node cluster of real processes:
 * - the owner of a replicated queue is paused (SIGSTOP) past its lease, replaced, and resumed (SIGCONT):
 *   nothing it is sent after the pause is ever committed, and it rejoins as a new incarnation;
 * - PostgreSQL is killed and restarted under confirmed publishing: nothing confirmed is lost, publishers
 *   are blocked meanwhile (connection.blocked), and no node is declared dead for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkedClusterForFile, waitForMembers, type TestClusterNode } from '../helpers/cluster.js';
import { sleep, waitFor } from '../helpers/wait.js';

const LEASE_MS = 3000;
const { pg, cluster } = linkedClusterForFile(3, { leaseMs: LEASE_MS, heartbeatMs: 500 });

async function declareEverywhere(queue: string): Promise<void> {
  const connection = await cluster.connect(cluster.nodes[0]!.url);
  const ch = await connection.createChannel();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await connection.close();
  for (const node of cluster.nodes) await waitFor(async () => (await node.api<unknown[]>('GET', `/api/queues/%2F/${queue}`).then(() => [1])).length === 1, `${queue} on ${node.name}`);
}

/** Everything the queue holds, read through `node` until nothing arrives for a second. */
async function drain(node: TestClusterNode, queue: string): Promise<Set<string>> {
  const connection = await cluster.connect(node.url);
  connection.on('error', () => undefined);
  const ch = await connection.createChannel();
  await ch.prefetch(200);
  const got = new Set<string>();
  let last = Date.now();
  await ch.consume(queue, (message) => {
    if (message === null) return;
    got.add(message.content.toString());
    last = Date.now();
    ch.ack(message);
  });
  await waitFor(() => Date.now() - last > 1500, `${queue} quiet`, 60_000);
  await connection.close();
  return got;
}

test('a paused owner is replaced and, resumed, commits nothing it was sent after the pause', { skip: pg.skip, timeout: 120_000 }, async () => {
  await declareEverywhere('paused');
  const ownerName = await cluster.nodes[0]!.ownerOf('paused');
  const owner = cluster.node(ownerName);
  const connection = await cluster.connect(owner.url);
  connection.on('error', () => undefined);
  const ch = await connection.createConfirmChannel();
  ch.on('error', () => undefined);
  const confirmed = new Set<string>();
  let next = 0;
  let pausedFrom = Infinity;
  let publishing = true;
  const publisher = (async () => {
    while (publishing) {
      const id = next++;
      try {
        ch.sendToQueue('paused', Buffer.from(String(id)), { persistent: true }, (error: unknown) => {
          if (error === null || error === undefined) confirmed.add(String(id));
        });
      } catch {
        return; // the channel closed when the node dropped its clients
      }
      await sleep(id < pausedFrom ? 2 : 20);
    }
  })();
  await waitFor(() => confirmed.size > 200, 'confirmed publishing to the owner');
  owner.pause();
  pausedFrom = next;
  await sleep(LEASE_MS + 2500);
  const others = cluster.nodes.filter((n) => n !== owner);
  const newOwner = await others[0]!.ownerOf('paused');
  assert.notEqual(newOwner, ownerName, 'the queue moved while its owner was paused');
  owner.resume();
  await waitFor(() => /fenced/.test(owner.output()), 'the resumed node finds itself fenced', 20_000);
  await waitFor(() => (owner.output().match(/joined the cluster as/g) ?? []).length >= 2, 'it rejoins as a new incarnation', 20_000).catch((error: unknown) => {
    console.log(owner.output().split('\n').filter((line) => !/"level":20/.test(line)).slice(-25).map((line) => line.slice(0, 300)).join('\n'));
    throw error;
  });
  publishing = false;
  await publisher;
  await connection.close().catch(() => undefined);

  const stored = await drain(others[0]!, 'paused');
  for (const id of confirmed) assert.ok(stored.has(id), `confirmed message ${id} is in the queue`);
  const afterPause = [...stored].filter((id) => Number(id) >= pausedFrom);
  assert.deepEqual(afterPause, [], 'nothing sent to the paused node after the pause was committed');
  assert.ok([...confirmed].every((id) => Number(id) < pausedFrom), 'nothing sent after the pause was confirmed');
});

test('PostgreSQL killed and restarted under load: nothing confirmed is lost, publishers are blocked, no node is declared dead', { skip: pg.skip, timeout: 120_000 }, async () => {
  await waitForMembers(cluster.nodes, 3, 30_000);
  await declareEverywhere('through-outage');
  const before = new Map((await cluster.nodes[0]!.api<{ name: string; incarnation: number }[]>('GET', '/api/nodes')).map((n) => [n.name, n.incarnation]));
  const confirmed = new Set<string>();
  const sent = new Set<string>();
  let blockedSeen = false;
  let publishing = true;
  const publishers = cluster.nodes.map(async (node, index) => {
    const connection = await cluster.connect(node.url);
    connection.on('error', () => undefined);
    connection.on('blocked', () => (blockedSeen = true));
    const ch = await connection.createConfirmChannel();
    ch.on('error', () => undefined);
    let n = 0;
    while (publishing) {
      const id = `${index}-${n++}`;
      sent.add(id);
      ch.sendToQueue('through-outage', Buffer.from(id), { persistent: true }, (error: unknown) => {
        if (error === null || error === undefined) confirmed.add(id);
      });
      await sleep(3);
    }
    await ch.waitForConfirms().catch(() => undefined);
    await connection.close().catch(() => undefined);
  });
  await waitFor(() => confirmed.size > 300, 'publishing is confirmed');
  await pg.server().kill();
  await sleep(2000);
  const confirmedDuringOutage = confirmed.size;
  await sleep(500);
  assert.equal(confirmed.size, confirmedDuringOutage, 'nothing is confirmed while the database is down');
  await pg.server().restart();
  await waitFor(() => confirmed.size > confirmedDuringOutage + 300, 'confirms resume after the database is back', 30_000);
  publishing = false;
  await Promise.all(publishers);

  const stored = await drain(cluster.nodes[1]!, 'through-outage');
  const lost = [...confirmed].filter((id) => !stored.has(id));
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} confirmed messages lost`);
  assert.ok(blockedSeen, 'publishers saw connection.blocked while the database was down');
  const after = new Map((await cluster.nodes[0]!.api<{ name: string; incarnation: number; running: boolean }[]>('GET', '/api/nodes')).map((n) => [n.name, n.incarnation]));
  assert.deepEqual(after, before, 'no node was declared dead (or rejoined) because of the outage');
});
