/**
 * One failover round for bench/cluster.ts: a replicated queue owned by one node, a publisher with
 * confirms on a living node publishing at a steady rate, a consumer on another living node; the owner
 * is killed with SIGKILL and the clients (amqplib, in this process, so that every event has a
 * timestamp on one clock) record:
 *
 * - the first confirm (basic.ack) of a message published after the kill;
 * - the first delivery the new owner made: a message published after the kill, or a redelivery
 *   (messages the dead owner had handed out and not seen acked come back redelivered);
 * - whether the consumer was cancelled (it must not be: Warren keeps consumers on living nodes);
 * - for a client of the killed owner itself, which reconnects to a living node as soon as its
 *   connection drops: the first confirm it gets there (the "reconnecting client").
 *
 * Afterwards the publisher stops, and every confirmed message must reach the consumer (at-least-once):
 * the round reports how many confirmed messages never arrived.
 */
import amqp from 'amqplib';
import type { BenchCluster, BenchNode } from './nodes.js';

export interface FailoverSettings {
  /** Messages per second of the steady publisher. */
  rate: number;
  /** Unconfirmed messages allowed; beyond it the publisher skips its turn. */
  window: number;
  size: number;
  prefetch: number;
  /** Publishing before the kill, ms. */
  warmupMs: number;
  /** Give up waiting for the first confirm/delivery after the kill, ms. */
  timeoutMs: number;
}

export interface FailoverRound {
  queue: string;
  killed: string;
  newOwner: string | undefined;
  /** The living node(s) whose warren_cluster_nodes_declared_dead_total rose in the round. */
  declaredDeadBy: string;
  publisherNode: string;
  consumerNode: string;
  /** Seconds from the kill; undefined when it did not happen within the timeout. */
  firstConfirmS: number | undefined;
  firstDeliveryS: number | undefined;
  /** First delivery of a message published after the kill (a subset of the above). */
  firstNewMessageDeliveryS: number | undefined;
  /** The owner's own client, reconnected to a living node: its first confirm after the kill. */
  reconnectedConfirmS: number | undefined;
  /** When the surviving nodes listed the new owner (polled every 20 ms). */
  ownerVisibleS: number | undefined;
  nackedAfterKill: number;
  redelivered: number;
  consumerCancelled: boolean;
  publishedBeforeKill: number;
  confirmedTotal: number;
  /** Confirmed (acked) messages that had not reached the consumer 10 s after the publisher stopped. */
  confirmedNotDelivered: number;
  errors: string[];
  /** When no delivery came after the kill: the queue as the new owner and the consumer's node list it, and their recent log lines. */
  diagnosis?: string;
}

const DECLARED_DEAD = 'warren_cluster_nodes_declared_dead_total';
/** Marks the reconnecting client's messages (the steady publisher's carry their sequence number). */
const RECONNECTED_MARK = 0xffffffff;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `kill`: SIGKILL of the owner (peers find its port refusing them at once). `pause`: SIGSTOP, so its
 * sockets stay open and only its lapsed lease gives it away; SIGCONT at the end of the round (it then
 * finds itself fenced and rejoins as a new incarnation).
 */
export type OwnerFailure = 'kill' | 'pause';

export async function failoverRound(
  cluster: BenchCluster,
  queue: string,
  settings: FailoverSettings,
  progress: (line: string) => void,
  failure: OwnerFailure = 'kill',
): Promise<FailoverRound> {
  const declarer = cluster.living[0]!;
  {
    const connection = await amqp.connect(declarer.url);
    const ch = await connection.createChannel();
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await connection.close();
  }
  const ownerName = await cluster.waitForQueue(queue);
  const owner = cluster.node(ownerName);
  const others = cluster.living.filter((n) => n !== owner);
  const [publisherNode, consumerNode] = [others[0]!, others[1] ?? others[0]!] as [BenchNode, BenchNode];

  const errors: string[] = [];
  const publishedAt = new Map<number, number>(); // seq -> performance.now()
  const confirmed = new Set<number>();
  const delivered = new Set<number>();
  let killAt = Number.POSITIVE_INFINITY;
  let firstConfirm: number | undefined;
  let firstDelivery: number | undefined;
  let firstNewDelivery: number | undefined;
  let nackedAfterKill = 0;
  let redelivered = 0;
  let consumerCancelled = false;
  let outstanding = 0;

  const consumerConnection = await amqp.connect(consumerNode.url);
  consumerConnection.on('error', (e: Error) => errors.push(`consumer connection: ${e.message}`));
  consumerConnection.on('close', () => errors.push('consumer connection closed'));
  const consumer = await consumerConnection.createChannel();
  consumer.on('error', (e: Error) => errors.push(`consumer channel: ${e.message}`));
  await consumer.prefetch(settings.prefetch);
  await consumer.consume(queue, (message) => {
    const now = performance.now();
    if (message === null) {
      consumerCancelled = true;
      return;
    }
    const seq = message.content.readUInt32BE(0);
    delivered.add(seq);
    if (message.fields.redelivered) redelivered++;
    if (now > killAt) {
      const publishedAfterKill = (publishedAt.get(seq) ?? 0) > killAt;
      if (firstDelivery === undefined && (publishedAfterKill || message.fields.redelivered)) firstDelivery = now;
      if (firstNewDelivery === undefined && publishedAfterKill) firstNewDelivery = now;
    }
    consumer.ack(message);
  });

  const publisherConnection = await amqp.connect(publisherNode.url);
  publisherConnection.on('error', (e: Error) => errors.push(`publisher connection: ${e.message}`));
  publisherConnection.on('close', () => errors.push('publisher connection closed'));
  const publisher = await publisherConnection.createConfirmChannel();
  publisher.on('error', (e: Error) => errors.push(`publisher channel: ${e.message}`));

  let seq = 0;
  let publishing = true;
  const startedAt = performance.now();
  const body = Buffer.alloc(settings.size, 0x61);
  const tick = (): void => {
    if (!publishing) return;
    const due = Math.floor(((performance.now() - startedAt) / 1000) * settings.rate) - seq;
    for (let i = 0; i < due && outstanding < settings.window; i++) {
      const mine = seq++;
      const content = Buffer.from(body);
      content.writeUInt32BE(mine, 0);
      const at = performance.now();
      publishedAt.set(mine, at);
      outstanding++;
      publisher.publish('', queue, content, { persistent: true }, (error) => {
        outstanding--;
        const now = performance.now();
        if (error !== null && error !== undefined) {
          if (at > killAt) nackedAfterKill++;
          return;
        }
        confirmed.add(mine);
        if (firstConfirm === undefined && at > killAt) firstConfirm = now;
      });
    }
  };
  const timer = setInterval(tick, 2);
  const reconnecting = await reconnectingClient(owner.url, publisherNode.url, queue, body, errors);

  let ownerVisible: number | undefined;
  let newOwner: string | undefined;
  try {
    await sleep(settings.warmupMs);
    if (delivered.size === 0) throw new Error(`no delivery in ${settings.warmupMs} ms of warm-up (published ${seq}, confirmed ${confirmed.size})`);
    const publishedBeforeKill = seq;
    const declaredDead = async (): Promise<number[]> =>
      Promise.all(others.map(async (n) => (await n.metrics([DECLARED_DEAD]).catch(() => ({} as Record<string, number>)))[DECLARED_DEAD] ?? 0));
    const declaredBefore = await declaredDead();
    killAt = performance.now();
    if (failure === 'kill') await owner.kill9();
    else owner.pause();
    progress(`${failure === 'kill' ? 'killed' : 'paused'} ${owner.name} (owner of ${queue}); publisher on ${publisherNode.name}, consumer on ${consumerNode.name}`);
    // Poll the new owner as the survivors see it, meanwhile the clients record their events.
    const deadline = killAt + settings.timeoutMs;
    while (performance.now() < deadline && (firstConfirm === undefined || firstDelivery === undefined || ownerVisible === undefined || (failure === 'kill' && reconnecting.confirmedAt === undefined))) {
      if (ownerVisible === undefined) {
        const info = await publisherNode.queue(queue).catch(() => undefined);
        if (info !== undefined && info.node !== owner.name) {
          ownerVisible = performance.now();
          newOwner = info.node;
        }
      }
      await sleep(20);
    }
    // Stop, let outstanding confirms come back, then wait for every confirmed message to be delivered.
    publishing = false;
    clearInterval(timer);
    const settleUntil = performance.now() + 10_000;
    while (outstanding > 0 && performance.now() < settleUntil) await sleep(20);
    const deliverUntil = performance.now() + 10_000;
    const missing = (): number => [...confirmed].filter((s) => !delivered.has(s)).length;
    while (missing() > 0 && performance.now() < deliverUntil) await sleep(50);
    const declaredAfter = await declaredDead();
    const declaredDeadBy = others.filter((_, i) => (declaredAfter[i] ?? 0) > (declaredBefore[i] ?? 0)).map((n) => n.name).join(', ') || '?';
    const s = (t: number | undefined): number | undefined => (t === undefined ? undefined : (t - killAt) / 1000);
    let diagnosis: string | undefined;
    if (firstDelivery === undefined) {
      const view = async (n: BenchNode): Promise<string> => {
        const q = (await n.queue(queue).catch(() => undefined)) as (Record<string, unknown> | undefined);
        return `${n.name} lists ${queue}: ${q === undefined ? 'nothing' : JSON.stringify({ node: q['node'], messages: q['messages'], messages_ready: q['messages_ready'], messages_unacknowledged: q['messages_unacknowledged'], consumers: q['consumers'] })}`;
      };
      const nodes = [...new Set([consumerNode, ...cluster.living])];
      const views = await Promise.all(nodes.map(view));
      const logs = nodes.map((n) => `--- ${n.name}, last log lines:\n${n.output()}`);
      diagnosis = [...views, ...logs].join('\n');
    }
    return {
      queue,
      killed: owner.name,
      newOwner,
      declaredDeadBy,
      publisherNode: publisherNode.name,
      consumerNode: consumerNode.name,
      firstConfirmS: s(firstConfirm),
      firstDeliveryS: s(firstDelivery),
      firstNewMessageDeliveryS: s(firstNewDelivery),
      reconnectedConfirmS: s(reconnecting.confirmedAt),
      ownerVisibleS: s(ownerVisible),
      nackedAfterKill,
      redelivered,
      consumerCancelled,
      publishedBeforeKill,
      confirmedTotal: confirmed.size,
      confirmedNotDelivered: missing(),
      errors: [...errors],
      ...(diagnosis === undefined ? {} : { diagnosis }),
    };
  } finally {
    publishing = false;
    clearInterval(timer);
    reconnecting.stop();
    if (failure === 'pause') owner.resume();
    await publisherConnection.close().catch(() => undefined);
    await consumerConnection.close().catch(() => undefined);
  }
}

interface ReconnectingClient {
  /** performance.now() of the first confirm on the node it reconnected to. */
  readonly confirmedAt: number | undefined;
  stop(): void;
}

/**
 * A client connected to the owner: when the owner dies and its connection drops, it connects to
 * `fallbackUrl` at once and publishes one message every 20 ms until one is confirmed (the others are
 * nacked while the queue moves).
 */
async function reconnectingClient(ownerUrl: string, fallbackUrl: string, queue: string, body: Buffer, errors: string[]): Promise<ReconnectingClient> {
  const state: { confirmedAt: number | undefined; stopped: boolean } = { confirmedAt: undefined, stopped: false };
  const content = Buffer.from(body);
  content.writeUInt32BE(RECONNECTED_MARK, 0);
  let fallback: amqp.ChannelModel | undefined;
  const reconnect = async (): Promise<void> => {
    if (state.stopped) return;
    try {
      fallback = await amqp.connect(fallbackUrl);
      fallback.on('error', (e: Error) => errors.push(`reconnected client: ${e.message}`));
      const ch = await fallback.createConfirmChannel();
      while (!state.stopped && state.confirmedAt === undefined) {
        ch.publish('', queue, content, { persistent: true }, (error) => {
          if ((error === null || error === undefined) && state.confirmedAt === undefined) state.confirmedAt = performance.now();
        });
        await sleep(20);
      }
    } catch (error) {
      errors.push(`reconnected client: ${(error as Error).message}`);
    }
  };
  const first = await amqp.connect(ownerUrl);
  first.on('error', () => undefined); // the owner's death is what this client is for
  first.on('close', () => void reconnect());
  return {
    get confirmedAt() {
      return state.confirmedAt;
    },
    stop: () => {
      state.stopped = true;
      void first.close().catch(() => undefined);
      void fallback?.close().catch(() => undefined);
    },
  };
}
