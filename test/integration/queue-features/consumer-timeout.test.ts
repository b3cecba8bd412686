import test from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumeMessage } from 'amqplib';
import { roundTrip, session, sleep } from '../amqp/amqp-helpers.js';
import { brokerQueue, waitFor } from './helpers.js';

test('x-consumer-timeout: a late delivery is taken back and redelivered; the late ack is harmless', async (t) => {
  const s = await session(t);
  const slow = await s.channel();
  await slow.assertQueue('q', { arguments: { 'x-consumer-timeout': 80 } });
  slow.sendToQueue('q', Buffer.from('job'));
  const late = await slow.get('q', { noAck: false });
  assert.ok(late);
  const queue = brokerQueue(s, 'q');
  await waitFor(() => queue.counters.timedOut === 1, 'the timeout', 2000);
  assert.equal(queue.readyCount(), 1);
  assert.equal(queue.unackedCount(), 0);

  const fast = await s.channel();
  const again = await fast.get('q', { noAck: false });
  assert.ok(again);
  assert.equal(again.content.toString(), 'job');
  assert.equal(again.fields.redelivered, true);
  // The slow consumer acks its old tag: no channel error, and the new delivery is not settled by it.
  slow.ack(late);
  await roundTrip(slow);
  assert.equal(queue.unackedCount(), 1);
  fast.ack(again);
  await roundTrip(fast);
  assert.equal(queue.unackedCount(), 0);
  assert.equal(queue.counters.acked, 1);
});

test('consumer timeout extension: publish to amq.warren.touch with the delivery tag as routing key', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await ch.assertQueue('q', { arguments: { 'x-consumer-timeout': 150 } });
  ch.sendToQueue('q', Buffer.from('long job'));
  await ch.waitForConfirms();
  const received: ConsumeMessage[] = [];
  await ch.consume('q', (msg) => msg && received.push(msg));
  await waitFor(() => received.length === 1, 'delivery');
  const tag = received[0]!.fields.deliveryTag;
  const queue = brokerQueue(s, 'q');
  // Keep it alive for well past the timeout by touching it every 50 ms.
  for (let i = 0; i < 8; i++) {
    await sleep(50);
    ch.publish('amq.warren.touch', String(tag), Buffer.alloc(0));
    await ch.waitForConfirms();
  }
  assert.equal(queue.counters.timedOut, 0);
  assert.equal(received.length, 1);
  // An unknown tag is nacked to a confirming publisher.
  ch.publish('amq.warren.touch', '999', Buffer.alloc(0));
  await assert.rejects(ch.waitForConfirms());
  ch.ack(received[0]!);
  await roundTrip(ch);
  assert.equal(queue.counters.acked, 1);
});

test('the broker-wide default (limits.consumerTimeoutMs) applies to queues without the argument', async (t) => {
  const s = await session(t, { broker: { limits: { consumerTimeoutMs: 60 } } });
  const ch = await s.channel();
  await ch.assertQueue('q');
  await ch.assertQueue('off', { arguments: { 'x-consumer-timeout': 0 } });
  ch.sendToQueue('q', Buffer.from('a'));
  ch.sendToQueue('off', Buffer.from('b'));
  const received: string[] = [];
  await ch.consume('q', (msg) => msg && received.push(`${msg.content.toString()}:${msg.fields.redelivered}`));
  await ch.consume('off', (msg) => msg && received.push(`${msg.content.toString()}:${msg.fields.redelivered}`));
  // The consumer never acks: 'a' keeps coming back to it; 'b' (timeout off) is delivered once.
  await waitFor(() => received.filter((r) => r === 'a:true').length >= 2, 'redeliveries of a', 3000);
  assert.deepEqual(received.filter((r) => r.startsWith('b')), ['b:false']);
  assert.equal(brokerQueue(s, 'off').counters.timedOut, 0);
});
