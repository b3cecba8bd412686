/**
 * The PerfTest-style scenarios (bench/clients/scenarios.ts) on amqplib, the AMQP client most Node
 * services use, as an application would use it: one producer and one consumer connection in one
 * process, `publish` until it asks to wait for 'drain', a confirm callback per publish, an ack per
 * delivery. Prints one JSON line (ClientResult).
 *
 *   node dist/bench/clients/amqplib-perf.js URL SCENARIO SECONDS     (AMQPLIB_NODELAY=1: TCP_NODELAY on)
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import amqp, { type Channel, type ConfirmChannel, type ChannelModel } from 'amqplib';
import { CLIENT_SCENARIOS, CONSUMER_PREFETCH, clientResult, type ClientScenario } from './scenarios.js';

/** Publishes between two yields to the event loop, so the consumer's deliveries are read meanwhile. */
const PUBLISHES_PER_TURN = 200;

/** amqplib leaves Nagle's algorithm on unless asked; AMQPLIB_NODELAY=1 measures it with TCP_NODELAY. */
const NO_DELAY = process.env['AMQPLIB_NODELAY'] === '1';

async function connect(url: string, name: string): Promise<ChannelModel> {
  const connection = await amqp.connect(url, { clientProperties: { connection_name: name }, noDelay: NO_DELAY });
  connection.on('error', () => undefined);
  return connection;
}

/**
 * Closes a connection. amqplib 0.10 never settles close() when its socket fails while closing (an EPIPE
 * when the broker closed the socket after close-ok while publishes were still being written), but it
 * always emits 'close', so that is what is waited for.
 */
async function close(connection: ChannelModel): Promise<void> {
  const closed = once(connection, 'close').catch(() => undefined);
  connection.close().catch(() => undefined);
  await closed;
}

async function declare(channel: Channel, s: ClientScenario, exchange: string, run: string): Promise<string[]> {
  if (exchange !== '') await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
  const queues: string[] = [];
  for (let i = 0; i < s.queues; i++) {
    const name = `amqplibperf-${run}-${i}`;
    await channel.assertQueue(name, { durable: s.persistent, exclusive: false, autoDelete: false });
    if (exchange !== '') await channel.bindQueue(name, exchange, '');
    queues.push(name);
  }
  return queues;
}

interface Counters {
  received: number;
  latenciesMs: number[];
}

async function consume(connection: ChannelModel, queue: string, s: ClientScenario, counters: Counters): Promise<void> {
  const channel = await connection.createChannel();
  await channel.prefetch(CONSUMER_PREFETCH);
  await channel.consume(
    queue,
    (message) => {
      if (message === null) return;
      if (s.ratePerSecond > 0) counters.latenciesMs.push(performance.now() - message.content.readDoubleLE(0));
      counters.received++;
      if (!s.autoAck) channel.ack(message);
    },
    { noAck: s.autoAck },
  );
}

/** At most `size` publishes wait for their confirm; `acquire` resolves when one more may go. */
class ConfirmWindow {
  private outstanding = 0;
  private waiter: (() => void) | undefined;
  constructor(private readonly size: number) {}
  async acquire(): Promise<void> {
    while (this.outstanding >= this.size) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.outstanding++;
  }
  readonly settle = (): void => {
    this.outstanding--;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  };
}

async function produce(channel: Channel | ConfirmChannel, s: ClientScenario, exchange: string, routingKey: string, seconds: number): Promise<{ sent: number; elapsed: number }> {
  const window = s.confirmWindow > 0 ? new ConfirmWindow(s.confirmWindow) : undefined;
  const start = performance.now();
  const end = start + seconds * 1000;
  const intervalMs = s.ratePerSecond > 0 ? 1000 / s.ratePerSecond : 0;
  let sent = 0;
  for (let now = start; now < end; now = performance.now()) {
    if (intervalMs > 0 && now < start + sent * intervalMs) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + sent * intervalMs - now)));
      continue;
    }
    if (window !== undefined) await window.acquire();
    const body = Buffer.alloc(s.bodyBytes);
    body.writeDoubleLE(performance.now(), 0);
    const writable =
      window === undefined
        ? channel.publish(exchange, routingKey, body, { persistent: s.persistent })
        : (channel as ConfirmChannel).publish(exchange, routingKey, body, { persistent: s.persistent }, window.settle);
    sent++;
    if (!writable) await once(channel, 'drain');
    else if (sent % PUBLISHES_PER_TURN === 0) await turn();
  }
  return { sent, elapsed: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const [url, name, secondsArg] = process.argv.slice(2);
  const s = name === undefined ? undefined : CLIENT_SCENARIOS[name];
  if (url === undefined || s === undefined || secondsArg === undefined) {
    process.stderr.write(`usage: amqplib-perf URL ${Object.keys(CLIENT_SCENARIOS).join('|')} SECONDS\n`);
    process.exit(2);
  }
  const run = process.hrtime.bigint().toString(16);
  const consumer = await connect(url, 'amqplibperf-consumer');
  const producer = await connect(url, 'amqplibperf-producer');
  const exchange = s.queues > 1 ? `amqplibperf-fanout-${run}` : '';
  const setup = await consumer.createChannel();
  const queues = await declare(setup, s, exchange, run);
  const counters: Counters = { received: 0, latenciesMs: [] };
  for (const queue of queues) await consume(consumer, queue, s, counters);
  // Confirm mode only where the scenario waits for confirms (confirm.select changes what the broker does).
  const channel = s.confirmWindow > 0 ? await producer.createConfirmChannel() : await producer.createChannel();
  const { sent, elapsed } = await produce(channel, s, exchange, s.queues > 1 ? '' : queues[0]!, Number(secondsArg));
  const receivedAtEnd = counters.received;
  await close(producer);
  // In-flight deliveries land before the queues go, so they do not count as lost in the next run.
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const queue of queues) await setup.deleteQueue(queue);
  if (exchange !== '') await setup.deleteExchange(exchange);
  await close(consumer);
  process.stdout.write(`${JSON.stringify(clientResult(name!, elapsed, sent, receivedAtEnd, counters.latenciesMs))}\n`);
}

await main();
