/** The six RabbitMQ tutorials, run with amqplib against a real Warren listener. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Channel, ConsumeMessage } from 'amqplib';
import { bodies, consumeN, roundTrip, session, sleep, withTimeout } from './amqp-helpers.js';

test('1 hello world: sendToQueue then consume', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('hello', { durable: false });
  ch.sendToQueue('hello', Buffer.from('Hello World!'));
  const [msg] = await consumeN(ch, 'hello', 1);
  assert.equal(msg?.content.toString(), 'Hello World!');
  assert.equal(msg?.fields.exchange, '');
  assert.equal(msg?.fields.routingKey, 'hello');
  assert.equal(msg?.fields.redelivered, false);
});

test('2 work queues: prefetch 1 dispatches fairly to the worker that is free', async (t) => {
  const s = await session(t);
  const producer = await s.channel();
  await producer.assertQueue('task_queue', { durable: true });

  // The slow worker finishes its task only once the fast one has done all the others, so the outcome
  // does not depend on timing: with prefetch 1 nothing more may be pushed to the busy slow worker.
  const log: string[] = [];
  let acked = 0;
  const fastDone = (): boolean => log.filter((l) => l.startsWith('fast:')).length >= 9;
  const startWorker = async (name: string, finished: () => boolean): Promise<Channel> => {
    const ch = await (await s.connect()).createChannel();
    let open = true;
    ch.on('close', () => (open = false));
    await ch.prefetch(1);
    await ch.consume('task_queue', (msg) => {
      if (msg === null) return;
      log.push(`${name}:${msg.content.toString()}`);
      const ackWhenFinished = (): void => {
        if (!open) return;
        if (!finished()) return void setTimeout(ackWhenFinished, 5);
        ch.ack(msg);
        acked++;
      };
      ackWhenFinished();
    });
    return ch;
  };
  await startWorker('slow', fastDone);
  await startWorker('fast', () => true);
  for (let i = 0; i < 10; i++) producer.sendToQueue('task_queue', Buffer.from(`task${i}`), { persistent: true });

  await withTimeout(
    (async () => {
      // Every task acked, so no worker acks on a connection the test is closing.
      while (log.length < 10 || acked < 10) await sleep(10);
    })(),
    5000,
    'ten tasks',
  );
  const slow = log.filter((l) => l.startsWith('slow:')).length;
  // With prefetch 1 the busy slow worker holds its one task; the fast one takes the rest.
  assert.equal(slow, 1, `slow worker got ${slow} of 10: ${log.join(' ')}`);
  const tasks = log.map((l) => l.split(':')[1]).sort();
  assert.deepEqual(tasks, Array.from({ length: 10 }, (_, i) => `task${i}`).sort());
});

test('3 publish/subscribe: fanout to exclusive server-named queues', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('logs', 'fanout', { durable: false });
  const subscribers = await Promise.all(
    [1, 2].map(async () => {
      const sub = await (await s.connect()).createChannel();
      const q = await sub.assertQueue('', { exclusive: true });
      assert.match(q.queue, /^amq\.gen-[A-Za-z0-9_-]{22}$/);
      await sub.bindQueue(q.queue, 'logs', '');
      return { sub, queue: q.queue };
    }),
  );
  assert.notEqual(subscribers[0]?.queue, subscribers[1]?.queue);
  const received = subscribers.map(({ sub, queue }) => consumeN(sub, queue, 2));
  ch.publish('logs', '', Buffer.from('info: one'));
  ch.publish('logs', 'ignored', Buffer.from('info: two'));
  for (const r of await Promise.all(received)) assert.deepEqual(bodies(r), ['info: one', 'info: two']);
});

test('4 routing: direct exchange delivers by exact routing key', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('direct_logs', 'direct', { durable: false });
  const errors = await ch.assertQueue('', { exclusive: true });
  const all = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(errors.queue, 'direct_logs', 'error');
  for (const severity of ['info', 'warning', 'error']) await ch.bindQueue(all.queue, 'direct_logs', severity);
  for (const severity of ['info', 'warning', 'error', 'debug']) ch.publish('direct_logs', severity, Buffer.from(severity));
  await roundTrip(ch);
  assert.deepEqual(bodies(await consumeN(ch, errors.queue, 1)), ['error']);
  assert.deepEqual(bodies(await consumeN(ch, all.queue, 3)), ['info', 'warning', 'error']);
  assert.equal((await ch.checkQueue(errors.queue)).messageCount, 0);
});

test('5 topics: * matches one word, # zero or more', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('topic_logs', 'topic', { durable: false });
  const bind = async (...keys: string[]): Promise<string> => {
    const q = await ch.assertQueue('', { exclusive: true });
    for (const key of keys) await ch.bindQueue(q.queue, 'topic_logs', key);
    return q.queue;
  };
  const orange = await bind('*.orange.*');
  const rabbits = await bind('*.*.rabbit', 'lazy.#');
  const keys = ['quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox', 'lazy.brown.fox', 'lazy', 'quick.brown.fox', 'orange'];
  for (const key of keys) ch.publish('topic_logs', key, Buffer.from(key));
  await roundTrip(ch);
  assert.deepEqual(bodies(await consumeN(ch, orange, 3)), ['quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox']);
  assert.deepEqual(bodies(await consumeN(ch, rabbits, 4)), ['quick.orange.rabbit', 'lazy.orange.elephant', 'lazy.brown.fox', 'lazy']);
});

/** The tutorial's RPC server: answers fib(n) on rpc_queue to msg.replyTo with the correlation id. */
async function startFibServer(ch: Channel): Promise<void> {
  const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));
  await ch.assertQueue('rpc_queue', { durable: false });
  await ch.prefetch(1);
  await ch.consume('rpc_queue', (msg) => {
    if (msg === null) return;
    const n = Number(msg.content.toString());
    ch.sendToQueue(msg.properties.replyTo as string, Buffer.from(String(fib(n))), {
      correlationId: msg.properties.correlationId as string,
    });
    ch.ack(msg);
  });
}

/** Sends each request and resolves with the answers matched by correlation id. */
async function callAll(ch: Channel, replyTo: string, requests: number[], replies: Map<string, (m: ConsumeMessage) => void>): Promise<number[]> {
  return withTimeout(
    Promise.all(
      requests.map(
        (n) =>
          new Promise<number>((resolve) => {
            const correlationId = randomUUID();
            replies.set(correlationId, (m) => resolve(Number(m.content.toString())));
            ch.sendToQueue('rpc_queue', Buffer.from(String(n)), { correlationId, replyTo });
          }),
      ),
    ),
    5000,
    'RPC replies',
  );
}

test('6 RPC with direct reply-to', async (t) => {
  const s = await session(t);
  await startFibServer(await (await s.connect()).createChannel());
  const client = await s.channel();
  const replies = new Map<string, (m: ConsumeMessage) => void>();
  await client.consume(
    'amq.rabbitmq.reply-to',
    (msg) => {
      if (msg === null) return;
      assert.match(msg.fields.routingKey, /^amq\.rabbitmq\.reply-to\./);
      replies.get(msg.properties.correlationId as string)?.(msg);
    },
    { noAck: true },
  );
  assert.deepEqual(await callAll(client, 'amq.rabbitmq.reply-to', [10, 20, 1], replies), [55, 6765, 1]);
});

test('6 RPC with a callback queue', async (t) => {
  const s = await session(t);
  await startFibServer(await (await s.connect()).createChannel());
  const client = await s.channel();
  const { queue } = await client.assertQueue('', { exclusive: true });
  const replies = new Map<string, (m: ConsumeMessage) => void>();
  await client.consume(queue, (msg) => msg && replies.get(msg.properties.correlationId as string)?.(msg), { noAck: true });
  assert.deepEqual(await callAll(client, queue, [7, 30], replies), [13, 832040]);
});
