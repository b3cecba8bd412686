/** basic.*: get, acks in every form, redelivery, prefetch, cancel notifications, content edge cases. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel, ConsumeMessage, GetMessage } from 'amqplib';
import { bodies, consumeN, expectChannelError, rawRpc, roundTrip, session, sleep, withTimeout } from './amqp-helpers.js';

async function fill(ch: Channel, queue: string, count: number): Promise<void> {
  await ch.assertQueue(queue, { durable: false });
  for (let i = 1; i <= count; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`));
  await roundTrip(ch);
}

async function getAll(ch: Channel, queue: string, count: number): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (let i = 0; i < count; i++) {
    const m = await ch.get(queue, { noAck: false });
    assert.ok(m, `message ${i + 1} of ${count}`);
    out.push(m);
  }
  return out;
}

/** Holds every delivery unacked, for tests that settle them by hand. */
async function holdDeliveries(ch: Channel, queue: string, count: number): Promise<ConsumeMessage[]> {
  const held: ConsumeMessage[] = [];
  await ch.consume(queue, (m) => m && held.push(m), { noAck: false });
  await withTimeout(
    (async () => {
      while (held.length < count) await sleep(5);
    })(),
    5000,
    `${count} deliveries`,
  );
  return held;
}

test('basic.get returns messages with message-count, then get-empty', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'g', 3);
  const first = await ch.get('g', { noAck: true });
  assert.ok(first);
  assert.equal(first.content.toString(), 'm1');
  assert.equal(first.fields.messageCount, 2);
  assert.equal(first.fields.deliveryTag, 1);
  const second = await ch.get('g', { noAck: false });
  assert.ok(second);
  assert.equal(second.fields.messageCount, 1);
  assert.equal(second.fields.deliveryTag, 2);
  ch.ack(second);
  await ch.get('g', { noAck: true });
  assert.equal(await ch.get('g'), false);
  assert.equal((await ch.checkQueue('g')).messageCount, 0);
});

test('ack multiple=true settles everything up to the tag', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'q', 5);
  const got = await getAll(ch, 'q', 5);
  ch.ack(got[2] as GetMessage, true); // tags 1..3
  await ch.close();
  const ch2 = await s.channel();
  // 4 and 5 were unacked when the channel closed: back, redelivered, in order.
  const back = await getAll(ch2, 'q', 2);
  assert.deepEqual(bodies(back), ['m4', 'm5']);
  assert.ok(back.every((m) => m.fields.redelivered));
  assert.equal(await ch2.get('q'), false);
});

test('nack and reject with requeue: back in original order with redelivered=true', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'q', 5);
  const got = await getAll(ch, 'q', 5);
  ch.reject(got[3] as GetMessage, true); // m4
  ch.nack(got[1] as GetMessage, true, true); // m1, m2
  ch.reject(got[4] as GetMessage, false); // m5 dropped
  ch.ack(got[2] as GetMessage); // m3
  const again = await getAll(ch, 'q', 3);
  assert.deepEqual(bodies(again), ['m1', 'm2', 'm4']);
  assert.ok(again.every((m) => m.fields.redelivered));
  assert.equal(await ch.get('q'), false);
  ch.ackAll();
  await roundTrip(ch);
  assert.equal((await ch.checkQueue('q')).messageCount, 0);
});

test('nack multiple=false and requeue=false drops only that message', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'q', 3);
  const got = await getAll(ch, 'q', 3);
  ch.nack(got[1] as GetMessage, false, false);
  ch.nackAll(true);
  assert.deepEqual(bodies(await getAll(ch, 'q', 2)), ['m1', 'm3']);
});

test('consumer deliveries: tags increase from 1 per channel; close requeues unacked in order', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'q', 4);
  const held = await holdDeliveries(ch, 'q', 4);
  assert.deepEqual(
    held.map((m) => m.fields.deliveryTag),
    [1, 2, 3, 4],
  );
  ch.ack(held[1] as ConsumeMessage);
  await roundTrip(ch);
  await ch.close();
  const ch2 = await s.channel();
  const back = await consumeN(ch2, 'q', 3, { noAck: false });
  assert.deepEqual(bodies(back), ['m1', 'm3', 'm4']);
  assert.ok(back.every((m) => m.fields.redelivered));
});

test('basic.recover requeues all unacked deliveries', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'q', 2);
  await getAll(ch, 'q', 2);
  await ch.recover();
  const again = await getAll(ch, 'q', 2);
  assert.deepEqual(bodies(again), ['m1', 'm2']);
  assert.ok(again.every((m) => m.fields.redelivered));
  assert.deepEqual(
    again.map((m) => m.fields.deliveryTag),
    [3, 4],
  );
});

test('prefetch per consumer limits deliveries in flight', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'q', 10);
  await ch.prefetch(3);
  const held = await holdDeliveries(ch, 'q', 3);
  await sleep(50);
  assert.equal(held.length, 3);
  ch.ack(held[0] as ConsumeMessage);
  ch.ack(held[1] as ConsumeMessage);
  await withTimeout(
    (async () => {
      while (held.length < 5) await sleep(5);
    })(),
    2000,
    'two more deliveries',
  );
  await sleep(50);
  assert.equal(held.length, 5);
  assert.deepEqual(bodies(held), ['m1', 'm2', 'm3', 'm4', 'm5']);
});

test('prefetch set after a consumer starts applies only to later consumers', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'a', 4);
  await fill(ch, 'b', 4);
  await ch.prefetch(1);
  const fromA = await holdDeliveries(ch, 'a', 1);
  await ch.prefetch(2);
  const fromB = await holdDeliveries(ch, 'b', 2);
  await sleep(50);
  assert.equal(fromA.length, 1);
  assert.equal(fromB.length, 2);
});

test('global prefetch is shared by all consumers of the channel', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'a', 5);
  await fill(ch, 'b', 5);
  await ch.prefetch(3, true);
  const held: ConsumeMessage[] = [];
  await ch.consume('a', (m) => m && held.push(m));
  await ch.consume('b', (m) => m && held.push(m));
  await sleep(100);
  assert.equal(held.length, 3);
  ch.ack(held[0] as ConsumeMessage);
  await sleep(100);
  assert.equal(held.length, 4);
});

test('no-ack consumers are not limited by prefetch', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'q', 20);
  await ch.prefetch(2);
  assert.equal((await consumeN(ch, 'q', 20, { noAck: true })).length, 20);
});

test('queue deletion cancels its consumers with basic.cancel (consumer_cancel_notify)', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('doomed');
  let cancelled!: () => void;
  const gotCancel = new Promise<void>((resolve) => (cancelled = resolve));
  await ch.consume('doomed', (m) => m === null && cancelled());
  const other = await (await s.connect()).createChannel();
  await other.deleteQueue('doomed');
  await withTimeout(gotCancel, 2000, 'basic.cancel from the server');
  // The channel is still usable.
  await ch.assertQueue('alive');
});

test('basic.cancel stops deliveries; unacked messages stay unacked until acked', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await fill(ch, 'q', 3);
  await ch.prefetch(1);
  const held: ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume('q', (m) => m && held.push(m));
  await withTimeout((async () => { while (held.length < 1) await sleep(5); })(), 2000, 'a delivery');
  await ch.cancel(consumerTag);
  assert.equal((await ch.checkQueue('q')).messageCount, 2);
  ch.ack(held[0] as ConsumeMessage);
  await roundTrip(ch);
  assert.equal(held.length, 1);
  assert.equal((await ch.checkQueue('q')).messageCount, 2);
});

test('server-generated consumer tags look like RabbitMQ\'s', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q');
  const { consumerTag } = await ch.consume('q', () => undefined);
  assert.match(consumerTag, /^amq\.ctag-[A-Za-z0-9_-]{22}$/);
});

test('exclusive consumer: a second consumer is refused with 403', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('ex');
  await ch.consume('ex', () => undefined, { exclusive: true });
  const other = await s.channel();
  await expectChannelError(other, () => other.consume('ex', () => undefined), 403, "ACCESS_REFUSED - queue 'ex' in vhost '/' in exclusive use");
});

test('consumer priorities: the higher x-priority consumer is served first', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('p');
  const got: string[] = [];
  await ch.consume('p', (m) => m && got.push('low'), { noAck: true, priority: 1 });
  await ch.consume('p', (m) => m && got.push('high'), { noAck: true, priority: 10 });
  for (let i = 0; i < 5; i++) ch.sendToQueue('p', Buffer.from('x'));
  await withTimeout((async () => { while (got.length < 5) await sleep(5); })(), 2000, 'deliveries');
  assert.deepEqual(got, ['high', 'high', 'high', 'high', 'high']);
});

test('mandatory unroutable messages come back with basic.return 312 NO_ROUTE', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const returned = new Promise<{ code: number; text: string; body: string; key: string }>((resolve) =>
    ch.once('return', (m: ConsumeMessage & { fields: { replyCode: number; replyText: string } }) =>
      resolve({ code: m.fields.replyCode, text: m.fields.replyText, body: m.content.toString(), key: m.fields.routingKey }),
    ),
  );
  ch.publish('amq.direct', 'nobody', Buffer.from('lost'), { mandatory: true, headers: { a: 1 } });
  const r = await withTimeout(returned, 2000, 'basic.return');
  assert.deepEqual(r, { code: 312, text: 'NO_ROUTE', body: 'lost', key: 'nobody' });
  // Non-mandatory unroutable messages are dropped silently.
  let extra = false;
  ch.on('return', () => (extra = true));
  ch.publish('amq.direct', 'nobody', Buffer.from('dropped'));
  await roundTrip(ch);
  assert.equal(extra, false);
});

test('headers round-trip every field-table type amqplib can send', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('h');
  const headers = {
    str: 'text',
    int: 42,
    negative: -7,
    big: 2 ** 40,
    float: 3.25,
    bool: true,
    no: false,
    nothing: null,
    bytes: Buffer.from([0, 1, 2, 255]),
    list: [1, 'two', true, null, [3]],
    nested: { a: 1, b: { c: 'deep' } },
    octet: { '!': 'byte', value: -5 },
    ubyte: { '!': 'unsignedbyte', value: 250 },
    short: { '!': 'short', value: -300 },
    ushort: { '!': 'unsignedshort', value: 60000 },
    long: { '!': 'int', value: -70000 },
    ulong: { '!': 'unsignedint', value: 4_000_000_000 },
    longlong: { '!': 'long', value: 1234567890123 },
    f32: { '!': 'float', value: 1.5 },
    f64: { '!': 'double', value: 2.5 },
    dec: { '!': 'decimal', value: { places: 2, digits: 12345 } },
    ts: { '!': 'timestamp', value: 1_700_000_000 },
  };
  ch.sendToQueue('h', Buffer.from('x'), {
    headers,
    contentType: 'text/plain',
    contentEncoding: 'utf8',
    deliveryMode: 2,
    priority: 3,
    correlationId: 'c1',
    replyTo: 'r',
    expiration: '60000',
    messageId: 'id1',
    timestamp: 1_700_000_000,
    type: 't',
    userId: 'guest',
    appId: 'app',
  });
  const [m] = await consumeN(ch, 'h', 1);
  assert.ok(m);
  const p = m.properties;
  assert.deepEqual(
    [p.contentType, p.contentEncoding, p.deliveryMode, p.priority, p.correlationId, p.replyTo, p.expiration, p.messageId, p.timestamp, p.type, p.userId, p.appId],
    ['text/plain', 'utf8', 2, 3, 'c1', 'r', '60000', 'id1', 1_700_000_000, 't', 'guest', 'app'],
  );
  const h = p.headers as Record<string, unknown>;
  assert.equal(h.str, 'text');
  assert.equal(h.int, 42);
  assert.equal(h.negative, -7);
  assert.equal(h.big, 2 ** 40);
  assert.equal(h.float, 3.25);
  assert.equal(h.bool, true);
  assert.equal(h.no, false);
  assert.equal(h.nothing, null);
  assert.deepEqual(h.bytes, Buffer.from([0, 1, 2, 255]));
  assert.deepEqual(h.list, [1, 'two', true, null, [3]]);
  assert.deepEqual(h.nested, { a: 1, b: { c: 'deep' } });
  assert.equal(h.octet, -5);
  assert.equal(h.ubyte, 250);
  assert.equal(h.short, -300);
  assert.equal(h.ushort, 60000);
  assert.equal(h.long, -70000);
  assert.equal(h.ulong, 4_000_000_000);
  assert.equal(h.longlong, 1234567890123);
  assert.equal(h.f32, 1.5);
  assert.equal(h.f64, 2.5);
  assert.deepEqual(h.dec, { '!': 'decimal', value: { places: 2, digits: 12345 } });
  assert.deepEqual(h.ts, { '!': 'timestamp', value: 1_700_000_000 });
});

test('a body of several MiB crosses many body frames intact; an empty body has none', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('big');
  const big = Buffer.alloc(5 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  ch.sendToQueue('big', big);
  ch.sendToQueue('big', Buffer.alloc(0));
  ch.sendToQueue('big', Buffer.from('after'));
  const got = await consumeN(ch, 'big', 3, { timeoutMs: 15000 });
  assert.equal(got[0]?.content.length, big.length);
  assert.ok(got[0]?.content.equals(big));
  assert.equal(got[1]?.content.length, 0);
  assert.equal(got[2]?.content.toString(), 'after');
});

test('channel.flow active=false pauses deliveries, active=true resumes them', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('f');
  const got: string[] = [];
  await ch.consume('f', (m) => m && got.push(m.content.toString()), { noAck: true });
  assert.deepEqual(await rawRpc(ch, 'ChannelFlow', { active: false }, 'ChannelFlowOk'), { active: false });
  const publisher = await (await s.connect()).createChannel();
  publisher.sendToQueue('f', Buffer.from('held'));
  await roundTrip(publisher);
  await sleep(50);
  assert.deepEqual(got, []);
  await rawRpc(ch, 'ChannelFlow', { active: true }, 'ChannelFlowOk');
  await withTimeout((async () => { while (got.length < 1) await sleep(5); })(), 2000, 'delivery after flow on');
  assert.deepEqual(got, ['held']);
});
