/**
 * kill -9 of cluster nodes under load: three Warren processes on a real PostgreSQL; a publisher with
 * confirms and an acking consumer on every node, on a replicated (quorum) and a classic queue. Every few
 * seconds one node is killed and restarted, for a minute (CLUSTER_CRASH_SECONDS). Clients reconnect to a
 * living node and re-send what was not confirmed. At the end: no confirmed message is lost, none is
 * delivered that was never published, duplicates are counted (re-sent unconfirmed, or redelivered
 * unacked), every queue is drained.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { linkedClusterForFile, waitForMembers, type TestClusterNode } from '../helpers/cluster.js';
import { sleep, waitFor } from '../helpers/wait.js';

const SECONDS = Number(process.env['CLUSTER_CRASH_SECONDS'] ?? 60);
const QUEUES = ['replicated', 'classic'] as const;
type QueueName = (typeof QUEUES)[number];
const WINDOW = 200;

const { pg, cluster } = linkedClusterForFile(3, { leaseMs: 3000, heartbeatMs: 500 });

interface Ledger {
  sent: Map<QueueName, Set<string>>;
  confirmed: Map<QueueName, Set<string>>;
  /** Sent again after a nack or a lost connection (their duplicates are explained). */
  resent: Map<QueueName, Set<string>>;
  received: Map<QueueName, Map<string, number>>;
  redelivered: Map<QueueName, Set<string>>;
  /** Which node confirmed each message (for failure reports). */
  confirmedBy: Map<string, string>;
}

function ledger(): Ledger {
  const per = <T>(make: () => T): Map<QueueName, T> => new Map(QUEUES.map((q) => [q, make()]));
  return { sent: per(() => new Set()), confirmed: per(() => new Set()), resent: per(() => new Set()), received: per(() => new Map()), redelivered: per(() => new Set()), confirmedBy: new Map() };
}

/** Connects to the first node that answers, starting at `start`. */
async function connectAnywhere(nodes: readonly TestClusterNode[], start: number, stop: () => boolean): Promise<(amqp.ChannelModel & { nodeName?: string }) | undefined> {
  for (let attempt = 0; !stop(); attempt++) {
    const node = nodes[(start + attempt) % nodes.length]!;
    if (!node.running) continue;
    try {
      const connection: amqp.ChannelModel & { nodeName?: string } = await cluster.connect(node.url);
      connection.on('error', () => undefined);
      connection.nodeName = node.name;
      return connection;
    } catch {
      await sleep(50);
    }
  }
  return undefined;
}

/** Publishes ids `<publisher>-<n>` to both queues with confirms; re-sends what was not confirmed. */
async function publisher(index: number, book: Ledger, stop: () => boolean): Promise<void> {
  let next = 0;
  const pending = new Map<QueueName, Set<string>>(QUEUES.map((q) => [q, new Set()]));
  while (!stop()) {
    const connection = await connectAnywhere(cluster.nodes, index, stop);
    if (connection === undefined) return;
    let open = true;
    connection.on('close', () => (open = false));
    try {
      const ch = await connection.createConfirmChannel();
      ch.on('error', () => undefined);
      const inFlight = new Map<QueueName, Set<string>>(QUEUES.map((q) => [q, new Set()]));
      const send = (queue: QueueName, id: string, again: boolean): void => {
        book.sent.get(queue)!.add(id);
        if (again) book.resent.get(queue)!.add(id);
        inFlight.get(queue)!.add(id);
        ch.sendToQueue(queue, Buffer.from(id), { persistent: true }, (error: unknown) => {
          inFlight.get(queue)!.delete(id);
          if (error === null || error === undefined) {
            book.confirmed.get(queue)!.add(id);
            book.confirmedBy.set(`${queue}/${id}`, `${connection.nodeName ?? '?'}@${Date.now() % 100000}`);
            pending.get(queue)!.delete(id);
          } else pending.get(queue)!.add(id); // nacked: sent again
        });
      };
      while (open && !stop()) {
        for (const queue of QUEUES) for (const id of [...pending.get(queue)!]) {
          pending.get(queue)!.delete(id);
          send(queue, id, true);
        }
        const inFlightNow = Math.max(...QUEUES.map((q) => inFlight.get(q)!.size));
        if (inFlightNow < WINDOW) {
          const id = `p${index}-${next++}`;
          for (const queue of QUEUES) send(queue, id, false);
        }
        await sleep(inFlightNow < WINDOW ? 1 : 5);
      }
      // Whatever the broker had not confirmed when the connection went is sent again.
      for (const queue of QUEUES) for (const id of inFlight.get(queue)!) pending.get(queue)!.add(id);
      if (!open) continue;
      await ch.waitForConfirms().catch(() => undefined);
      await connection.close().catch(() => undefined);
      if (QUEUES.every((q) => pending.get(q)!.size === 0)) return;
    } catch {
      // The node died mid-setup: try the next one.
    }
  }
}

/** Consumes both queues on one node (or wherever it can reconnect), acking everything it records. */
async function consumer(index: number, book: Ledger, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const connection = await connectAnywhere(cluster.nodes, index, stop);
    if (connection === undefined) return;
    let open = true;
    connection.on('close', () => (open = false));
    try {
      const ch = await connection.createChannel();
      ch.on('error', () => undefined);
      await ch.prefetch(50);
      for (const queue of QUEUES) {
        await ch.consume(queue, (message) => {
          if (message === null) return;
          const id = message.content.toString();
          const seen = book.received.get(queue)!;
          seen.set(id, (seen.get(id) ?? 0) + 1);
          if (message.fields.redelivered) book.redelivered.get(queue)!.add(id);
          ch.ack(message);
        });
      }
      while (open && !stop()) await sleep(20);
      await connection.close().catch(() => undefined);
    } catch {
      await sleep(50);
    }
  }
}

test(`kill -9 of nodes every few seconds for ${SECONDS} s: nothing confirmed is lost, every queue drains`, { skip: pg.skip, timeout: (SECONDS + 180) * 1000 }, async () => {
  const setup = await cluster.connect(cluster.nodes[0]!.url);
  const ch = await setup.createChannel();
  await ch.assertQueue('replicated', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.assertQueue('classic', { durable: true });
  await setup.close();
  // Definitions reach the other nodes within a poll (a publish to a queue a node does not know yet is unroutable).
  for (const node of cluster.nodes) await waitFor(async () => (await node.api<unknown[]>('GET', '/api/queues/%2F')).length === 2, `both queues on ${node.name}`);

  const book = ledger();
  let publishing = true;
  let consuming = true;
  const publishers = [0, 1, 2].map((i) => publisher(i, book, () => !publishing));
  const consumers = [0, 1, 2].map((i) => consumer(i, book, () => !consuming));

  const kills: string[] = [];
  const until = Date.now() + SECONDS * 1000;
  while (Date.now() < until) {
    await sleep(3000 + Math.random() * 2000);
    // Every node in turn, starting with n1 (the classic queue's owner), then at random (or as CLUSTER_CRASH_VICTIMS says).
    const chosen = process.env['CLUSTER_CRASH_VICTIMS']?.split(',')[kills.length];
    const victim = chosen !== undefined ? cluster.node(chosen) : kills.length < cluster.nodes.length ? cluster.nodes[kills.length]! : cluster.nodes[Math.floor(Math.random() * cluster.nodes.length)]!;
    kills.push(`${victim.name}@${Date.now() % 100000}`);
    await victim.kill();
    await sleep(500 + Math.random() * 1500);
    await victim.start();
  }
  await waitForMembers(cluster.nodes, 3, 30_000);
  publishing = false;
  await Promise.all(publishers);

  for (const queue of QUEUES) {
    const confirmed = book.confirmed.get(queue)!;
    const received = book.received.get(queue)!;
    await waitFor(() => [...confirmed].every((id) => received.has(id)), `every confirmed message of ${queue} consumed`, 60_000).catch(() => undefined);
  }
  await sleep(1000);
  consuming = false;
  await Promise.all(consumers);

  for (const queue of QUEUES) {
    const { confirmed, sent, received, resent, redelivered } = {
      confirmed: book.confirmed.get(queue)!,
      sent: book.sent.get(queue)!,
      received: book.received.get(queue)!,
      resent: book.resent.get(queue)!,
      redelivered: book.redelivered.get(queue)!,
    };
    const lost = [...confirmed].filter((id) => !received.has(id));
    const invented = [...received.keys()].filter((id) => !sent.has(id));
    const duplicates = [...received].filter(([, n]) => n > 1).map(([id]) => id);
    const unexplained = duplicates.filter((id) => !resent.has(id) && !redelivered.has(id));
    console.log(
      `${queue}: sent ${sent.size}, confirmed ${confirmed.size}, received ${received.size}, duplicates ${duplicates.length} ` +
        `(re-sent ${duplicates.filter((id) => resent.has(id)).length}, redelivered ${duplicates.filter((id) => redelivered.has(id)).length}); kills ${kills.join(' ')}`,
    );
    if (lost.length !== 0) await reportLoss(book, queue, lost);
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} confirmed ${queue} messages lost`);
    assert.deepEqual(invented, [], `messages delivered that were never published to ${queue}`);
    assert.deepEqual(unexplained, [], `duplicates of ${queue} neither re-sent nor redelivered`);
    assert.ok(confirmed.size > 500, `enough traffic on ${queue} (${confirmed.size} confirmed)`);
  }
  for (const node of cluster.nodes) {
    const drained = async (): Promise<boolean> => (await node.api<{ name: string; messages: number }[]>('GET', '/api/queues')).every((q) => q.messages === 0);
    await waitFor(drained, `queues drained as ${node.name} sees them`, 30_000).catch(async (error: unknown) => {
      await reportQueues();
      throw error;
    });
  }
});

/** On a failure: which messages, confirmed by which node when, and what the nodes warned about. */
async function reportLoss(book: Ledger, queue: QueueName, lost: string[]): Promise<void> {
  console.log(`lost from ${queue}:`, lost.slice(0, 40).map((id) => `${id} confirmed by ${book.confirmedBy.get(`${queue}/${id}`)}`).join(', '));
  for (const node of cluster.nodes) console.log(node.name, node.output().split('\n').filter((line) => /"level":(40|50|60)|link to/.test(line)).slice(-20).join('\n'));
  await reportQueues();
}

async function reportQueues(): Promise<void> {
  for (const node of cluster.nodes) {
    const queues = await node.api<Record<string, unknown>[]>('GET', '/api/queues').catch(() => []);
    console.log(node.name, JSON.stringify(queues.map((q) => [q['name'], q['node'], q['messages_ready'], q['messages_unacknowledged'], q['consumers']])));
  }
}
