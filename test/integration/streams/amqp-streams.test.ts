/** Stream queues (x-queue-type: stream) over AMQP 0-9-1 with amqplib, with RabbitMQ 3.10's rules and texts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp, { type Channel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { startServer, tempDataDir, type RunningServer } from '../durability/helpers.js';
import { waitFor } from '../../helpers/wait.js';

const STREAM = { durable: true, arguments: { 'x-queue-type': 'stream' } };

async function withServer(fn: (server: RunningServer) => Promise<void>): Promise<void> {
  const data = await tempDataDir();
  const server = await startServer(data.dir);
  try {
    await fn(server);
  } finally {
    await server.server.stop();
    await data.cleanup();
  }
}

async function publishConfirmed(ch: ConfirmChannel, queue: string, bodies: string[], headers?: (i: number) => Record<string, unknown> | undefined): Promise<void> {
  bodies.forEach((b, i) => ch.sendToQueue(queue, Buffer.from(b), { headers: headers?.(i) }));
  await ch.waitForConfirms();
}

/** Consumes with `args` until `count` messages arrived; returns them (acked) and cancels. */
async function consumeN(ch: Channel, queue: string, count: number, args: Record<string, unknown>): Promise<ConsumeMessage[]> {
  const got: ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume(queue, (m) => {
    if (m === null) return;
    got.push(m);
    ch.ack(m);
  }, { arguments: args });
  await waitFor(() => got.length >= count, `${count} deliveries`);
  await ch.cancel(consumerTag);
  return got;
}

/** The channel-closing error of `fn` (the connection's close for connection errors). */
async function errorOf(url: string, fn: (ch: Channel) => Promise<unknown>): Promise<string> {
  const conn = await amqp.connect(url);
  let connectionError: string | undefined;
  conn.on('error', (error: Error) => (connectionError = error.message));
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => {
    const settle = (fallback: string) => setTimeout(() => resolve(connectionError ?? fallback), 50);
    ch.on('close', () => settle('channel closed'));
    conn.on('close', () => settle('connection closed'));
  });
  try {
    await fn(ch);
    return await Promise.race([closed, new Promise<string>((resolve) => setTimeout(() => resolve('no error'), 1500))]);
  } catch (error) {
    // A connection error rejects the pending call first ("Channel ended"); its reason follows.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return connectionError ?? (error as Error).message;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

test('streams: declaring one non-durable, exclusive, auto-delete or with x-message-ttl is 406 as in RabbitMQ', () =>
  withServer(async ({ url }) => {
    const declare = (name: string, options: amqp.Options.AssertQueue) => (ch: Channel) => ch.assertQueue(name, options);
    assert.match(await errorOf(url, declare('s1', { durable: false, arguments: STREAM.arguments })), /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - invalid property 'non-durable' for queue 's1' in vhost '\/'"/);
    assert.match(await errorOf(url, declare('s2', { ...STREAM, exclusive: true })), /invalid property 'exclusive-owner' for queue 's2'/);
    assert.match(await errorOf(url, declare('s3', { ...STREAM, autoDelete: true })), /invalid property 'auto-delete' for queue 's3'/);
    assert.match(await errorOf(url, declare('s4', { durable: true, arguments: { ...STREAM.arguments, 'x-message-ttl': 1000 } })), /invalid arg 'x-message-ttl' for queue 's4' in vhost '\/' of queue type rabbit_stream_queue/);
    assert.match(await errorOf(url, declare('s5', { durable: true, arguments: { ...STREAM.arguments, 'x-max-age': '1x' } })), /invalid arg 'x-max-age' for queue 's5' in vhost '\/': invalid_max_age/);
  }));

test('streams: consumers read from first, a number, last and next, independently, each delivery carrying x-stream-offset', () =>
  withServer(async ({ url }) => {
    const conn = await amqp.connect(url);
    try {
      const pub = await conn.createConfirmChannel();
      await pub.assertQueue('events', { ...STREAM, arguments: { ...STREAM.arguments, 'x-max-age': '7D' } });
      await publishConfirmed(pub, 'events', Array.from({ length: 100 }, (_, i) => `e${i}`));
      const ch = await conn.createChannel();
      await ch.prefetch(10);
      const first = await consumeN(ch, 'events', 100, { 'x-stream-offset': 'first' });
      assert.deepEqual(first.map((m) => m.content.toString()), Array.from({ length: 100 }, (_, i) => `e${i}`));
      assert.deepEqual(first.map((m) => Number(m.properties.headers?.['x-stream-offset'])), Array.from({ length: 100 }, (_, i) => i));
      const again = await consumeN(ch, 'events', 100, { 'x-stream-offset': 'first' });
      assert.equal(again.length, 100, 'consuming does not remove anything');
      const fromNumber = await consumeN(ch, 'events', 40, { 'x-stream-offset': 60 });
      assert.equal(fromNumber[0]!.content.toString(), 'e60');
      const last = await consumeN(ch, 'events', 1, { 'x-stream-offset': 'last' });
      assert.ok(Number(last[0]!.properties.headers?.['x-stream-offset']) <= 99, 'last starts at the newest chunk');
      // next (the default) sees only what comes after it subscribed.
      const later: string[] = [];
      const ch2 = await conn.createChannel();
      await ch2.prefetch(5);
      await ch2.consume('events', (m) => {
        if (m === null) return;
        later.push(m.content.toString());
        ch2.ack(m);
      });
      await publishConfirmed(pub, 'events', ['n1', 'n2']);
      await waitFor(() => later.length === 2, 'two new messages');
      assert.deepEqual(later, ['n1', 'n2']);
      const { messageCount } = await pub.checkQueue('events');
      assert.equal(messageCount, 102);
    } finally {
      await conn.close();
    }
  }));

test('streams: a consumer within its prefetch gets no more until it acks; a slow one does not hold up others', () =>
  withServer(async ({ url }) => {
    const conn = await amqp.connect(url);
    try {
      const pub = await conn.createConfirmChannel();
      await pub.assertQueue('credit', STREAM);
      await publishConfirmed(pub, 'credit', Array.from({ length: 50 }, (_, i) => `c${i}`));
      const slow = await conn.createChannel();
      await slow.prefetch(3);
      const held: ConsumeMessage[] = [];
      await slow.consume('credit', (m) => m && held.push(m), { arguments: { 'x-stream-offset': 'first' } });
      await waitFor(() => held.length === 3, 'three deliveries');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(held.length, 3, 'no more than the prefetch without acks');
      const fast = await conn.createChannel();
      await fast.prefetch(10);
      assert.equal((await consumeN(fast, 'credit', 50, { 'x-stream-offset': 'first' })).length, 50);
      slow.ack(held[2]!, true);
      await waitFor(() => held.length === 6, 'three more after the ack');
      assert.equal(held[5]!.content.toString(), 'c5');
    } finally {
      await conn.close();
    }
  }));

test('streams: basic.get, no-ack, no prefetch, nack/reject and purge give RabbitMQ 3.10 errors', () =>
  withServer(async ({ url }) => {
    const setup = await amqp.connect(url);
    const pub = await setup.createConfirmChannel();
    await pub.assertQueue('strict', STREAM);
    await publishConfirmed(pub, 'strict', ['a', 'b']);
    await setup.close();
    assert.match(await errorOf(url, (ch) => ch.get('strict')), /540 \(NOT-IMPLEMENTED\) with message "NOT_IMPLEMENTED - basic.get not supported by stream queues queue 'strict' in vhost '\/'"/);
    assert.match(await errorOf(url, (ch) => ch.consume('strict', () => undefined)), /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - consumer prefetch count is not set for 'queue 'strict' in vhost '\/''"/);
    assert.match(
      await errorOf(url, async (ch) => {
        await ch.prefetch(10);
        await ch.consume('strict', () => undefined, { noAck: true });
      }),
      /540 \(NOT-IMPLEMENTED\) with message "NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue 'strict' in vhost '\/'"/,
    );
    assert.match(
      await errorOf(url, async (ch) => {
        await ch.prefetch(10);
        const first = new Promise<ConsumeMessage>((resolve) => void ch.consume('strict', (m) => m && resolve(m), { arguments: { 'x-stream-offset': 'first' } }));
        ch.nack(await first, false, true);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }),
      /NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue 'strict' in vhost '\/'/,
    );
    assert.match(await errorOf(url, (ch) => ch.purgeQueue('strict')), /NOT_IMPLEMENTED - queue.purge not supported by stream queues queue 'strict'/);
    assert.match(
      await errorOf(url, async (ch) => {
        await ch.prefetch(10);
        await ch.consume('strict', () => undefined, { arguments: { 'x-stream-offset': 'bogus' } });
      }),
      /406 .*invalid x-stream-offset for queue 'strict' in vhost '\/': 'bogus'/,
    );
  }));

test('streams: server-side filtering by x-stream-filter-value, with and without unfiltered messages', () =>
  withServer(async ({ url }) => {
    const conn = await amqp.connect(url);
    try {
      const pub = await conn.createConfirmChannel();
      await pub.assertQueue('filtered', STREAM);
      const colours = ['red', 'blue', undefined];
      await publishConfirmed(pub, 'filtered', Array.from({ length: 30 }, (_, i) => `m${i}`), (i) => {
        const colour = colours[i % 3];
        return colour === undefined ? undefined : { 'x-stream-filter-value': colour };
      });
      const ch = await conn.createChannel();
      await ch.prefetch(50);
      const red = await consumeN(ch, 'filtered', 10, { 'x-stream-offset': 'first', 'x-stream-filter': 'red' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(red.length, 10);
      assert.ok(red.every((m) => m.properties.headers?.['x-stream-filter-value'] === 'red'));
      const some = await consumeN(ch, 'filtered', 20, { 'x-stream-offset': 'first', 'x-stream-filter': ['blue'], 'x-stream-match-unfiltered': true });
      assert.ok(some.every((m) => m.properties.headers?.['x-stream-filter-value'] !== 'red'));
      assert.equal(some.length, 20);
    } finally {
      await conn.close();
    }
  }));

test('streams: confirmed messages survive a restart; retention by x-max-length-bytes drops whole old segments', async () => {
  const data = await tempDataDir();
  try {
    let server = await startServer(data.dir);
    let conn = await amqp.connect(server.url);
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('kept', STREAM);
    await pub.assertQueue('capped', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-length-bytes': 20_000, 'x-stream-max-segment-size-bytes': 5000 } });
    await publishConfirmed(pub, 'kept', Array.from({ length: 500 }, (_, i) => `k${i}`));
    for (let round = 0; round < 20; round++) await publishConfirmed(pub, 'capped', Array.from({ length: 10 }, (_, i) => `${round}-${i}`.padEnd(200, '.')));
    await conn.close();
    await server.server.stop();
    server = await startServer(data.dir);
    conn = await amqp.connect(server.url);
    try {
      const ch = await conn.createChannel();
      await ch.prefetch(100);
      const kept = await consumeN(ch, 'kept', 500, { 'x-stream-offset': 'first' });
      assert.deepEqual(kept.map((m) => m.content.toString()), Array.from({ length: 500 }, (_, i) => `k${i}`));
      const capped = await consumeN(ch, 'capped', 1, { 'x-stream-offset': 'first' });
      const firstKept = Number(capped[0]!.properties.headers?.['x-stream-offset']);
      assert.ok(firstKept > 0, `old segments went: the first kept offset is ${firstKept}`);
      const { messageCount } = await ch.checkQueue('capped');
      assert.equal(messageCount, 200 - firstKept);
      await ch.deleteQueue('capped');
    } finally {
      await conn.close();
      await server.server.stop();
    }
  } finally {
    await data.cleanup();
  }
});

test('streams: a named consumer (x-stream-consumer-name) stores its acked offset and resumes after it, across a restart', async () => {
  const data = await tempDataDir();
  const named = { 'x-stream-offset': 'first', 'x-stream-consumer-name': 'billing' };
  try {
    let server = await startServer(data.dir);
    let conn = await amqp.connect(server.url);
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue('orders', STREAM);
    await publishConfirmed(pub, 'orders', Array.from({ length: 30 }, (_, i) => `o${i}`));
    const ch = await conn.createChannel();
    await ch.prefetch(5);
    // Acks the first 12 only: the rest of its prefetch stays unacked, so the stored offset is exactly 11.
    const firstRun: ConsumeMessage[] = [];
    await ch.consume('orders', (m) => {
      if (m === null) return;
      firstRun.push(m);
      if (firstRun.length <= 12) ch.ack(m);
    }, { arguments: named });
    await waitFor(() => firstRun.length === 17, 'twelve acked and a full prefetch unacked');
    assert.equal(firstRun[11]!.content.toString(), 'o11');
    await conn.close();
    await server.server.stop();
    server = await startServer(data.dir);
    conn = await amqp.connect(server.url);
    try {
      const again = await conn.createChannel();
      await again.prefetch(5);
      const resumed = await consumeN(again, 'orders', 1, { 'x-stream-consumer-name': 'billing' });
      assert.equal(Number(resumed[0]!.properties.headers?.['x-stream-offset']), 12, 'resumes after the last acked offset');
      assert.equal(resumed[0]!.content.toString(), 'o12');
    } finally {
      await conn.close();
      await server.server.stop();
    }
  } finally {
    await data.cleanup();
  }
});

test('streams: the management API and /metrics show a stream\'s segments, offsets and each consumer\'s lag', () =>
  withServer(async ({ url, server }) => {
    const { http } = await server.start();
    const base = `http://127.0.0.1:${http.port}`;
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    const conn = await amqp.connect(url);
    try {
      const pub = await conn.createConfirmChannel();
      await pub.assertQueue('watched', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 2000 } });
      for (let round = 0; round < 10; round++) await publishConfirmed(pub, 'watched', Array.from({ length: 10 }, (_, i) => `w${round}-${i}`.padEnd(50, '.')));
      const ch = await conn.createChannel();
      await ch.prefetch(5);
      const held: ConsumeMessage[] = [];
      await ch.consume('watched', (m) => m && held.push(m), { consumerTag: 'slow', arguments: { 'x-stream-offset': 'first' } });
      await waitFor(() => held.length === 5, 'five deliveries');
      // A named consumer that processed offsets 0..29 and left: its stored offset stays, 70 behind.
      const named = await conn.createChannel();
      await named.prefetch(30);
      const billing: ConsumeMessage[] = [];
      await named.consume('watched', (m) => m && billing.push(m), { arguments: { 'x-stream-consumer-name': 'billing', 'x-stream-offset': 'first' } });
      await waitFor(() => billing.length === 30, 'thirty deliveries to billing');
      for (const m of billing) named.ack(m);
      await waitFor(async () => ((await (await fetch(`${base}/api/queues/%2F/watched`, { headers: auth })).json()) as any).stream.stored_offsets.length === 1, 'the stored offset');
      await named.close();
      const queue = (await (await fetch(`${base}/api/queues/%2F/watched`, { headers: auth })).json()) as Record<string, any>;
      assert.equal(queue['type'], 'stream');
      assert.equal(queue['messages_ready'], 100);
      const stream = queue['stream'];
      assert.ok(stream.segments > 1, `segments: ${stream.segments}`);
      assert.equal(stream.first_offset, 0);
      assert.equal(stream.last_offset, 99);
      assert.deepEqual(stream.consumers.map((c: Record<string, unknown>) => [c['consumer_tag'], c['offset'], c['lag']]), [['slow', 5, 95]]);
      assert.deepEqual(stream.stored_offsets, [{ reference: 'billing', offset: 29, lag: 70 }]);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /warren_stream_last_offset\{vhost="\/",queue="watched"\} 99/);
      assert.match(metrics, /warren_stream_consumer_lag\{vhost="\/",queue="watched",consumer="slow"\} 95/);
      assert.match(metrics, /warren_stream_stored_offset_lag\{vhost="\/",queue="watched",reference="billing"\} 70/);
    } finally {
      await conn.close();
    }
  }));

test('super streams: an x-super-stream exchange routes binding keys directly and other keys by hash, one key to one partition', () =>
  withServer(async ({ url }) => {
    const conn = await amqp.connect(url);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertExchange('invoices', 'x-super-stream', { durable: true });
      for (let i = 0; i < 3; i++) {
        await ch.assertQueue(`invoices-${i}`, STREAM);
        await ch.bindQueue(`invoices-${i}`, 'invoices', String(i), { 'x-stream-partition-order': i });
      }
      for (let i = 0; i < 60; i++) ch.publish('invoices', `customer-${i % 6}`, Buffer.from(`customer-${i % 6}:${i}`));
      ch.publish('invoices', '2', Buffer.from('direct:to-2'));
      await ch.waitForConfirms();
      const reader = await conn.createChannel();
      await reader.prefetch(100);
      const partitionOfKey = new Map<string, number>();
      let total = 0;
      for (let i = 0; i < 3; i++) {
        const { messageCount } = await reader.checkQueue(`invoices-${i}`);
        total += messageCount;
        if (messageCount === 0) continue;
        for (const m of await consumeN(reader, `invoices-${i}`, messageCount, { 'x-stream-offset': 'first' })) {
          const key = m.content.toString().split(':')[0]!;
          assert.equal(partitionOfKey.get(key) ?? i, i, `${key} stays on one partition`);
          partitionOfKey.set(key, i);
        }
      }
      assert.equal(total, 61);
      assert.equal(partitionOfKey.get('direct'), 2, 'a binding key routes to its partition');
      assert.equal(partitionOfKey.size, 7);
      assert.equal(new Set([...partitionOfKey.values()]).size > 1, true, 'keys spread over partitions');
    } finally {
      await conn.close();
    }
  }));

test('streams: a stream with a consumer far behind never holds its publishers (credit flow ignores a stream\'s length)', () =>
  withServer(async ({ url, server }) => {
    const { http } = await server.start();
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    const conn = await amqp.connect(url);
    try {
      const pub = await conn.createConfirmChannel();
      await pub.assertQueue('firehose', STREAM);
      const slow = await conn.createChannel();
      await slow.prefetch(1);
      await slow.consume('firehose', () => undefined, { arguments: { 'x-stream-offset': 'first' } }); // never acks
      for (let round = 0; round < 4; round++) await publishConfirmed(pub, 'firehose', Array.from({ length: 2500 }, (_, i) => `f${round}-${i}`));
      const connections = (await (await fetch(`http://127.0.0.1:${http.port}/api/connections`, { headers: auth })).json()) as Array<Record<string, unknown>>;
      assert.equal(connections.length, 1);
      assert.notEqual(connections[0]!['state'], 'flow', 'the publisher was never held');
    } finally {
      await conn.close();
    }
  }));
