/** Plumbing for the restart tests of queue and exchange features on durable queues. */
import amqp from 'amqplib';
import type { Channel, ConfirmChannel, GetMessage } from 'amqplib';
import type { Queue } from '../../../src/broker/queue.js';
import type { VHost } from '../../../src/broker/vhost.js';
import { startServer, tempDataDir, type RunningServer } from '../durability/helpers.js';

export { getOne, sleep, waitFor } from '../amqp/amqp-helpers.js';

export const PERSISTENT = { persistent: true } as const;

/** One life of the broker: a server on the data dir and one amqplib connection. */
export interface Life {
  readonly running: RunningServer;
  readonly connection: amqp.ChannelModel;
  readonly vhost: VHost;
  confirmChannel(): Promise<ConfirmChannel>;
  channel(): Promise<Channel>;
  queue(name: string): Queue;
}

/**
 * Runs `lives` one after the other on one temp data dir, each a fresh server (a restart), then removes
 * the dir. Every life's connection and server are closed even when its body throws.
 */
export async function acrossRestarts(...lives: ((life: Life) => Promise<void>)[]): Promise<void> {
  const { dir, cleanup } = await tempDataDir();
  try {
    for (const body of lives) await runLife(dir, body);
  } finally {
    await cleanup();
  }
}

async function runLife(dir: string, body: (life: Life) => Promise<void>): Promise<void> {
  const running = await startServer(dir);
  try {
    const connection = await amqp.connect(running.url);
    try {
      const vhost = running.server.broker.getVhost('/')!;
      await body({
        running,
        connection,
        vhost,
        confirmChannel: () => connection.createConfirmChannel(),
        channel: () => connection.createChannel(),
        queue(name) {
          const queue = vhost.getQueue(name);
          if (queue === undefined) throw new Error(`no queue '${name}'`);
          return queue;
        },
      });
    } finally {
      await connection.close().catch(() => undefined);
    }
  } finally {
    await running.server.stop();
  }
}

/** basic.get (no-ack) until the queue is empty. */
export async function drain(ch: Channel, queue: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (let msg = await ch.get(queue, { noAck: true }); msg !== false; msg = await ch.get(queue, { noAck: true })) {
    out.push(msg);
  }
  return out;
}

export function bodies(messages: readonly { content: Buffer }[]): string[] {
  return messages.map((m) => m.content.toString());
}


/** x-death entries as amqplib decodes them. */
export function deathsOf(msg: { properties: { headers?: Record<string, unknown> } }): Record<string, unknown>[] {
  const deaths = msg.properties.headers?.['x-death'];
  return Array.isArray(deaths) ? (deaths as Record<string, unknown>[]) : [];
}

/** Takes `count` deliveries from a consumer with that prefetch and leaves them unacked. */
export async function takeUnacked(ch: Channel, queue: string, count: number): Promise<amqp.ConsumeMessage[]> {
  await ch.prefetch(count);
  const got: amqp.ConsumeMessage[] = [];
  await new Promise<void>((resolve) => {
    void ch.consume(queue, (msg) => {
      if (msg === null) return;
      got.push(msg);
      if (got.length === count) resolve();
    });
  });
  return got;
}
