import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { AmqpConnection } from '../../../src/amqp/connection.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

const HIGH_WATER = 300;
const LOW_WATER = 150;
/** Publishes of one socket chunk (64 KiB of ~60-byte publishes) may land before a hold takes effect. */
const ONE_CHUNK_OF_PUBLISHES = 1200;
const MESSAGES = 30_000;

/** A broker whose flow-control water marks are low enough for a test to cross them quickly. */
function startFlowBroker(): Promise<TestBroker> {
  return startBroker({ listener: { publisherFlow: { queueHighWater: HIGH_WATER, queueLowWater: LOW_WATER } } });
}

function connectionNamed(server: TestBroker, name: string): AmqpConnection {
  const found = [...server.listener.amqpConnections].find((c) => c.info().clientProperties['test'] === name);
  assert.ok(found, `connection ${name}`);
  return found;
}

/** Publishes `count` numbered messages, waiting for amqplib's 'drain' whenever its buffer is full. */
async function flood(ch: Channel, queue: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (!ch.sendToQueue(queue, Buffer.from(String(i)))) await new Promise((resolve) => ch.once('drain', resolve));
  }
}

/** Calls `sample` once per event-loop turn until `stop` resolves. */
async function sampleWhile<T>(stop: Promise<T>, sample: () => void): Promise<T> {
  let running = true;
  const loop = (async () => {
    while (running) {
      sample();
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  try {
    return await stop;
  } finally {
    running = false;
    await loop;
  }
}

describe('publisher flow control', () => {
  it('keeps a flooded queue near its high water mark while the consumer receives everything in order', async () => {
    const server = await startFlowBroker();
    const connections: ChannelModel[] = [];
    try {
      const publisher = await amqp.connect(server.url, { clientProperties: { test: 'publisher' } });
      const consumer = await amqp.connect(server.url, { clientProperties: { test: 'consumer' } });
      connections.push(publisher, consumer);
      const sub = await consumer.createChannel();
      await sub.assertQueue('flow-q');
      await sub.prefetch(100);
      const received: number[] = [];
      const allReceived = new Promise<void>((resolve) => {
        void sub.consume('flow-q', (msg) => {
          if (msg === null) return;
          received.push(Number(msg.content.toString()));
          sub.ack(msg);
          if (received.length === MESSAGES) resolve();
        });
      });
      const queue = server.broker.getVhost('/')!.getQueue('flow-q')!;
      const pubConnection = connectionNamed(server, 'publisher');
      let maxReady = 0;
      const statesSeen = new Set<string>();

      const pub = await publisher.createChannel();
      await sampleWhile(Promise.all([flood(pub, 'flow-q', MESSAGES), allReceived]), () => {
        maxReady = Math.max(maxReady, queue.readyCount());
        statesSeen.add(pubConnection.info().state);
      });

      assert.equal(received.length, MESSAGES);
      assert.ok(received.every((n, i) => n === i), 'delivered in publish order, none lost');
      assert.ok(pubConnection.creditHolds > 0, 'the publisher was held at least once');
      assert.ok(statesSeen.has('flow'), `publisher state seen as 'flow' (saw ${[...statesSeen].join(', ')})`);
      assert.ok(
        maxReady <= HIGH_WATER + ONE_CHUNK_OF_PUBLISHES,
        `ready stayed near the high water mark (max ${maxReady} of ${MESSAGES} published)`,
      );
      assert.equal(connectionNamed(server, 'consumer').creditHolds, 0, 'a consumer is never held');
    } finally {
      for (const c of connections) await c.close().catch(() => undefined);
      await server.close();
    }
  });

  it('lets a queue without consumers take a whole backlog without ever holding its publisher', async () => {
    const server = await startFlowBroker();
    const publisher = await amqp.connect(server.url, { clientProperties: { test: 'backlog' } });
    try {
      const ch = await publisher.createChannel();
      await ch.assertQueue('backlog-q');
      const queue = server.broker.getVhost('/')!.getQueue('backlog-q')!;
      await flood(ch, 'backlog-q', MESSAGES);
      await ch.checkQueue('backlog-q'); // a round trip: everything published before it was handled
      assert.equal(queue.readyCount(), MESSAGES);
      const connection = connectionNamed(server, 'backlog');
      assert.equal(connection.creditHolds, 0);
      assert.equal(connection.info().state, 'running');
    } finally {
      await publisher.close().catch(() => undefined);
      await server.close();
    }
  });
});
