import test from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumeMessage } from 'amqplib';
import { expectChannelError, session } from '../amqp/amqp-helpers.js';
import { sleep } from '../../helpers/wait.js';
import { brokerQueue, waitFor } from './helpers.js';

const bad: readonly [args: Record<string, unknown>, text: string][] = [
  [{ 'x-max-in-flight': 0 }, "invalid arg 'x-max-in-flight' for queue 'q' in vhost '/': {value_zero,0}"],
  [{ 'x-max-in-flight': -3 }, "invalid arg 'x-max-in-flight' for queue 'q' in vhost '/': {value_negative,-3}"],
  [{ 'x-max-in-flight': 'many' }, "invalid arg 'x-max-in-flight' for queue 'q' in vhost '/': {unacceptable_type,longstr}"],
  [{ 'x-dispatch-rate-limit': 2.5 }, "invalid arg 'x-dispatch-rate-limit' for queue 'q' in vhost '/': {unacceptable_type,double}"],
  [{ 'x-dispatch-rate-limit': 10, 'x-dispatch-rate-interval': 0 }, "invalid arg 'x-dispatch-rate-interval' for queue 'q' in vhost '/': {value_zero,0}"],
  [{ 'x-dispatch-rate-interval': 1000 }, "invalid arg 'x-dispatch-rate-interval' for queue 'q' in vhost '/': rate_interval_but_no_rate_limit"],
];

test('x-max-in-flight and x-dispatch-rate-*: bad values are refused with 406 and nothing is declared', async (t) => {
  const s = await session(t);
  for (const [args, text] of bad) {
    const ch = await s.channel();
    await expectChannelError(ch, () => ch.assertQueue('q', { arguments: args }), 406, `PRECONDITION_FAILED - ${text}`);
  }
  const ch = await s.channel();
  await expectChannelError(ch, () => ch.checkQueue('q'), 404, "NOT_FOUND - no queue 'q' in vhost '/'");
});

test('x-max-in-flight caps unacked deliveries across all consumers of the queue; an ack lets one more out', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('capped', { arguments: { 'x-max-in-flight': 3 } });
  for (let i = 0; i < 20; i++) ch.sendToQueue('capped', Buffer.from(String(i)));
  // Two consumers on two connections, each with room for 100.
  const held: { ch: typeof ch; message: ConsumeMessage }[] = [];
  for (let c = 0; c < 2; c++) {
    const consumerChannel = await (await s.connect()).createChannel();
    await consumerChannel.prefetch(100);
    await consumerChannel.consume('capped', (message) => message !== null && held.push({ ch: consumerChannel, message }));
  }
  await waitFor(() => held.length === 3, 'three deliveries');
  await sleep(200);
  assert.equal(held.length, 3, 'no fourth delivery while three are unacked');
  assert.equal(brokerQueue(s, 'capped').unackedCount(), 3);
  const first = held[0]!;
  first.ch.ack(first.message);
  await waitFor(() => held.length === 4, 'one more after an ack');
  await sleep(150);
  assert.equal(held.length, 4);
  // A nack with requeue frees a slot too (and the message comes back).
  const second = held[1]!;
  second.ch.nack(second.message, false, true);
  await waitFor(() => held.length === 5, 'one more after a requeue');
  for (const { ch: c, message } of held.slice(2)) c.ack(message);
  await waitFor(() => held.length === 8, 'three more after three acks');
});

test('x-dispatch-rate-limit: a token bucket of 5 per 500 ms holds 20 deliveries back for at least 1.5 s', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('rated', { arguments: { 'x-dispatch-rate-limit': 5, 'x-dispatch-rate-interval': 500 } });
  for (let i = 0; i < 20; i++) ch.sendToQueue('rated', Buffer.from(String(i)));
  const times: number[] = [];
  const start = Date.now();
  const consumer = await (await s.connect()).createChannel();
  await consumer.consume('rated', (message) => message !== null && times.push(Date.now() - start), { noAck: true });
  await sleep(250);
  // The bucket starts full (5); at most one more token can have come back in 250 ms (an upper bound on
  // what was delivered, which a slow machine only lowers).
  assert.ok(times.length <= 7, `${times.length} deliveries in the first 250 ms`);
  assert.ok(times.length >= 1);
  await waitFor(() => times.length === 20, 'all 20 deliveries', 10_000);
  // 15 tokens beyond the first 5 take 15 * 100 ms to come back.
  assert.ok(times[19]! >= 1400, `the last delivery came after ${times[19]} ms`);
  // In order, none lost or doubled.
  assert.equal(times.length, 20);
});

test('policy keys max-in-flight and dispatch-rate-limit apply live; the lower of argument and policy wins', async (t) => {
  const s = await session(t);
  const vhost = s.broker.broker.getVhost('/')!;
  const ch = await s.channel();
  await ch.assertQueue('pq', { arguments: { 'x-max-in-flight': 5 } });
  for (let i = 0; i < 10; i++) ch.sendToQueue('pq', Buffer.from(String(i)));
  vhost.policies.set('cap', { pattern: '^pq$', applyTo: 'queues', priority: 0, definition: { 'max-in-flight': 2, 'dispatch-rate-limit': 100 } });
  assert.deepEqual(brokerQueue(s, 'pq').dispatchLimits, { rateLimit: 100, rateIntervalMs: 1000, maxInFlight: 2 });
  const held: ConsumeMessage[] = [];
  const consumer = await (await s.connect()).createChannel();
  await consumer.consume('pq', (message) => message !== null && held.push(message));
  await waitFor(() => held.length === 2, 'two deliveries');
  await sleep(150);
  assert.equal(held.length, 2);
  // The policy goes: the argument's 5 applies again, and dispatch resumes by itself.
  vhost.policies.delete('cap');
  await waitFor(() => held.length === 5, 'five deliveries under the argument alone');
  assert.deepEqual(brokerQueue(s, 'pq').dispatchLimits, { rateLimit: undefined, rateIntervalMs: 1000, maxInFlight: 5 });
  // A bad policy value is refused like the other keys.
  assert.throws(() => vhost.policies.set('bad', { pattern: '^pq$', applyTo: 'queues', priority: 0, definition: { 'max-in-flight': 0 } }), /not a valid in-flight cap/);
});
