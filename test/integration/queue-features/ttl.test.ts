import test from 'node:test';
import assert from 'node:assert/strict';
import { consumeN, roundTrip, session, sleep } from '../amqp/amqp-helpers.js';
import { brokerQueue, drain, waitFor } from './helpers.js';

test('x-message-ttl: ready messages expire promptly with no consumer and no basic.get', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-message-ttl': 300 } });
  for (let i = 0; i < 5; i++) ch.sendToQueue('q', Buffer.from(`m${i}`));
  await roundTrip(ch);
  const queue = brokerQueue(s, 'q');
  assert.equal(queue.readyCount(), 5);
  await waitFor(() => queue.readyCount() === 0, 'expiry', 2000);
  assert.equal(queue.counters.expired, 5);
  assert.equal(queue.readyBytes(), 0);
});

test('per-message expiration leaves from the middle of the queue, not only at the head', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q');
  ch.sendToQueue('q', Buffer.from('keep-1'));
  ch.sendToQueue('q', Buffer.from('short'), { expiration: '20' });
  ch.sendToQueue('q', Buffer.from('keep-2'), { expiration: '60000' });
  await roundTrip(ch);
  const queue = brokerQueue(s, 'q');
  await waitFor(() => queue.counters.expired === 1, 'expiry of the middle message', 1000);
  assert.equal(queue.readyCount(), 2);
  assert.deepEqual(await drain(ch, 'q'), ['keep-1', 'keep-2']);
});

test('the lower of queue TTL and message TTL applies', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-message-ttl': 400 } });
  ch.sendToQueue('q', Buffer.from('message-ttl-longer'), { expiration: '100000' });
  ch.sendToQueue('q', Buffer.from('message-ttl-shorter'), { expiration: '5' });
  await roundTrip(ch);
  const queue = brokerQueue(s, 'q');
  await waitFor(() => queue.counters.expired === 1, 'the short one');
  assert.deepEqual(
    (await queue.browse(0, 10)).map((e) => e.message.body.toString()),
    ['message-ttl-longer'],
  );
  await waitFor(() => queue.counters.expired === 2, 'queue TTL on the long one', 2000);
});

test('TTL 0: delivered when a consumer can take it at once, otherwise expired at once', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-message-ttl': 0 } });
  ch.sendToQueue('q', Buffer.from('nobody-there'));
  await roundTrip(ch);
  const queue = brokerQueue(s, 'q');
  assert.equal(queue.readyCount(), 0);
  assert.equal(queue.counters.expired, 1);
  const consumer = await s.channel();
  const got = consumeN(consumer, 'q', 1);
  await sleep(20);
  ch.sendToQueue('q', Buffer.from('taken'));
  const [msg] = await got;
  assert.equal(msg!.content.toString(), 'taken');
  assert.equal(queue.counters.expired, 1);
});

test('requeued messages keep their original expiry', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-message-ttl': 80 } });
  ch.sendToQueue('q', Buffer.from('x'));
  const msg = await ch.get('q', { noAck: false });
  assert.ok(msg);
  await sleep(100);
  ch.nack(msg, false, true);
  await roundTrip(ch);
  const queue = brokerQueue(s, 'q');
  await waitFor(() => queue.counters.expired === 1, 'the requeued, already expired message');
  assert.equal(await ch.get('q'), false);
});

test('x-expires deletes an unused queue; consumers, basic.get and redeclares keep it alive', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const vhost = s.broker.broker.getVhost('/')!;
  // The kept-alive queues are touched every 150 ms against an expiry of 1 s: a loaded machine's late
  // timers stay far inside it, while the idle queue (100 ms) is long gone by the end.
  await ch.assertQueue('idle', { arguments: { 'x-expires': 100 } });
  await ch.assertQueue('used', { arguments: { 'x-expires': 1000 } });
  await ch.assertQueue('consumed', { arguments: { 'x-expires': 1000 } });
  const { consumerTag } = await ch.consume('consumed', () => undefined);
  for (let i = 0; i < 10; i++) {
    await sleep(150);
    if (i % 2 === 0) await ch.get('used');
    else await ch.assertQueue('used', { arguments: { 'x-expires': 1000 } });
  }
  assert.equal(vhost.getQueue('idle'), undefined, 'idle queue expired');
  assert.ok(vhost.getQueue('used'), 'used queue still there');
  assert.ok(vhost.getQueue('consumed'), 'consumed queue still there');
  await ch.cancel(consumerTag);
  await waitFor(() => vhost.getQueue('consumed') === undefined && vhost.getQueue('used') === undefined, 'expiry once unused');
});
