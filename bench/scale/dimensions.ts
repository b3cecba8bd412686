/**
 * What bench/scale.ts grows on a broker, one kind of thing each: idle connections, queues, topic
 * bindings, waiting messages. A dimension is started on a broker, grown to each step's count (timed, so
 * the rate of declaring or binding can be read as counts grow) and finally torn down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PerfConnection, type PerfChannel } from '../../src/perf/client.js';
import { parseAmqpUrl } from '../../src/perf/url.js';

export interface GrowingThing {
  /** Adds things until there are `count`; resolves with the seconds it took. */
  growTo(count: number): Promise<number>;
  /** A measurement at this count besides memory (publish rate to the topic exchange), if any. */
  probe?(count: number): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface Dimension {
  name: 'connections' | 'queues' | 'bindings' | 'messages';
  title: string;
  unit: string;
  start(url: string): Promise<GrowingThing>;
}

const BATCH = 1000;

async function pipelined(total: number, from: number, each: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = from; start < total; start += BATCH) {
    const end = Math.min(total, start + BATCH);
    await Promise.all(Array.from({ length: end - start }, (_, k) => each(start + k)));
  }
}

const timed = async (work: () => Promise<void>): Promise<number> => {
  const t0 = performance.now();
  await work();
  return (performance.now() - t0) / 1000;
};

async function openChannel(url: string, name: string): Promise<{ connection: PerfConnection; channel: PerfChannel }> {
  const connection = await PerfConnection.connect(parseAmqpUrl(url), { connectionName: name, timeoutMs: 60_000 });
  return { connection, channel: await connection.openChannel() };
}

/** Worker processes of bench/scale/connections-worker.ts, each holding up to PER_WORKER connections. */
const PER_WORKER = 5000;
const WORKER = new URL('./connections-worker.js', import.meta.url).pathname;

class ConnectionWorker {
  held = 0;
  private readonly child: ChildProcess;
  private readonly replies: Array<(line: string) => void> = [];

  constructor(url: string) {
    this.child = spawn(process.execPath, [WORKER, url], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.replies.shift()?.(line));
  }

  open(count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.replies.push((line) => {
        const match = /^opened (\d+)$/.exec(line);
        if (match === null) return reject(new Error(`connections worker: ${line}`));
        this.held = Number(match[1]);
        resolve();
      });
      this.child.stdin!.write(`open ${count}\n`);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((done) => this.child.once('exit', done));
    this.child.stdin!.end();
    await exited;
  }
}

export const connections: Dimension = {
  name: 'connections',
  title: 'idle connections',
  unit: 'connection',
  async start(url) {
    const workers: ConnectionWorker[] = [];
    let held = 0;
    return {
      growTo: (count) =>
        timed(async () => {
          const opening: Array<Promise<void>> = [];
          while (held < count) {
            let worker = workers.find((w) => w.held < PER_WORKER);
            if (worker === undefined || opening.length >= workers.length) {
              worker = new ConnectionWorker(url);
              workers.push(worker);
            }
            const n = Math.min(count - held, PER_WORKER - worker.held);
            worker.held += n;
            held += n;
            opening.push(worker.open(n));
          }
          await Promise.all(opening);
        }),
      stop: async () => {
        await Promise.all(workers.map((w) => w.stop()));
      },
    };
  },
};

export const queues: Dimension = {
  name: 'queues',
  title: 'queues',
  unit: 'queue',
  async start(url) {
    const { connection, channel } = await openChannel(url, 'scale queues');
    let declared = 0;
    return {
      growTo: (count) =>
        timed(async () => {
          await pipelined(count, declared, (i) => channel.declareQueue(`scale-q-${i}`, { durable: false }));
          declared = count;
        }),
      stop: async () => {
        await pipelined(declared, 0, (i) => channel.deleteQueue(`scale-q-${i}`));
        await connection.close();
      },
    };
  },
};

/** Publish-rate probes: this many messages to a key matching one binding, with confirms. */
const PROBE_MESSAGES = 20_000;
const PROBE_WINDOW = 2000;
const EXCHANGE = 'scale-topic';
const BOUND_QUEUE = 'scale-bound';

export const bindings: Dimension = {
  name: 'bindings',
  title: 'topic bindings',
  unit: 'binding',
  async start(url) {
    const { connection, channel } = await openChannel(url, 'scale bindings');
    await channel.declareExchange(EXCHANGE, 'topic', false);
    await channel.declareQueue(BOUND_QUEUE, { durable: false });
    const publisher = await connection.openChannel();
    await publisher.confirmSelect();
    let bound = 0;
    return {
      // Keys of three words, each binding distinct: "scale.<i>.key".
      growTo: (count) =>
        timed(async () => {
          await pipelined(count, bound, (i) => channel.bindQueue(BOUND_QUEUE, EXCHANGE, `scale.${i}.key`));
          bound = count;
        }),
      probe: async () => {
        const template = publisher.makeTemplate(EXCHANGE, 'scale.0.key', Buffer.alloc(16), {});
        const seconds = await timed(() => publishConfirmed(publisher, template, PROBE_MESSAGES));
        await channel.purgeQueue(BOUND_QUEUE);
        return PROBE_MESSAGES / seconds;
      },
      stop: async () => {
        await channel.deleteQueue(BOUND_QUEUE);
        await channel.deleteExchange(EXCHANGE);
        await connection.close();
      },
    };
  },
};

/** Publishes `count` copies of the template with at most PROBE_WINDOW unconfirmed; resolves when all are confirmed. */
function publishConfirmed(channel: PerfChannel, template: ReturnType<PerfChannel['makeTemplate']>, count: number): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < count && channel.confirms.outstanding < PROBE_WINDOW) {
        const n = Math.min(template.perBatch, count - sent, PROBE_WINDOW - channel.confirms.outstanding);
        channel.publishBatch(template, n);
        sent += n;
      }
      if (sent >= count && channel.confirms.outstanding === 0) {
        channel.onConfirmed = undefined;
        resolve();
      }
    };
    channel.onConfirmed = pump;
    pump();
  });
}

const BACKLOG_QUEUE = 'scale-backlog';

export const messages: Dimension = {
  name: 'messages',
  title: 'waiting messages (16 B, transient, non-durable queue)',
  unit: 'message',
  async start(url) {
    const { connection, channel } = await openChannel(url, 'scale messages');
    await channel.declareQueue(BACKLOG_QUEUE, { durable: false });
    await channel.confirmSelect();
    const template = channel.makeTemplate('', BACKLOG_QUEUE, Buffer.alloc(16), {});
    let waiting = 0;
    return {
      growTo: (count) =>
        timed(async () => {
          await publishConfirmed(channel, template, count - waiting);
          waiting = count;
        }),
      stop: async () => {
        await channel.deleteQueue(BACKLOG_QUEUE);
        await connection.close();
      },
    };
  },
};

export const DIMENSIONS: readonly Dimension[] = [connections, queues, bindings, messages];
