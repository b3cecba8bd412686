/** Policies seen through amqplib: set on the broker core, observed by clients. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Queue } from '../../../src/broker/queue/queue.js';
import { roundTrip, session } from '../amqp/amqp-helpers.js';

/** Queue-side policy keys work once the queue implements the hook (policies/README.md). */
const queueSideLanded = typeof (Queue.prototype as { applyPolicy?: unknown }).applyPolicy === 'function';

test('a policy alternate-exchange catches unroutable messages; the higher priority wins; delete re-applies', async (t) => {
  const s = await session(t);
  const policies = s.broker.broker.getVhost('/')!.policies;
  const ch = await s.channel();
  for (const ae of ['ae-low', 'ae-high']) {
    await ch.assertExchange(ae, 'fanout', { durable: false });
    await ch.assertQueue(`${ae}-q`, { durable: false });
    await ch.bindQueue(`${ae}-q`, ae, '');
  }
  await ch.assertExchange('orders', 'direct', { durable: false });
  const count = async (q: string) => (await ch.checkQueue(q)).messageCount;

  policies.set('low', { pattern: '^orders$', applyTo: 'exchanges', priority: 1, definition: { 'alternate-exchange': 'ae-low' } });
  ch.publish('orders', 'nobody', Buffer.from('1'));
  await roundTrip(ch);
  assert.deepEqual([await count('ae-low-q'), await count('ae-high-q')], [1, 0]);

  policies.set('high', { pattern: '^ord', applyTo: 'all', priority: 10, definition: { 'alternate-exchange': 'ae-high' } });
  ch.publish('orders', 'nobody', Buffer.from('2'));
  await roundTrip(ch);
  assert.deepEqual([await count('ae-low-q'), await count('ae-high-q')], [1, 1]);

  policies.delete('high');
  ch.publish('orders', 'nobody', Buffer.from('3'));
  await roundTrip(ch);
  assert.deepEqual([await count('ae-low-q'), await count('ae-high-q')], [2, 1], 'back to the lower-priority policy');

  policies.delete('low');
  ch.publish('orders', 'nobody', Buffer.from('4'));
  await roundTrip(ch);
  assert.deepEqual([await count('ae-low-q'), await count('ae-high-q')], [2, 1], 'no policy: dropped');
});

test('an exchange declared with its own alternate-exchange ignores the policy one', async (t) => {
  const s = await session(t);
  s.broker.broker.getVhost('/')!.policies.set('ae', { pattern: '.*', applyTo: 'exchanges', definition: { 'alternate-exchange': 'ae-policy' } });
  const ch = await s.channel();
  for (const ae of ['ae-policy', 'ae-own']) {
    await ch.assertExchange(ae, 'fanout', { durable: false });
    await ch.assertQueue(`${ae}-q`, { durable: false });
    await ch.bindQueue(`${ae}-q`, ae, '');
  }
  await ch.assertExchange('mine', 'topic', { durable: false, alternateExchange: 'ae-own' });
  await ch.assertExchange('theirs', 'topic', { durable: false });
  ch.publish('mine', 'x', Buffer.from('m'));
  ch.publish('theirs', 'x', Buffer.from('t'));
  await roundTrip(ch);
  assert.equal((await ch.checkQueue('ae-own-q')).messageCount, 1);
  assert.equal((await ch.checkQueue('ae-policy-q')).messageCount, 1);
});

test('queue policies: max-length (lower value wins) and message-ttl apply to existing queues', { skip: !queueSideLanded && 'queue side has no applyPolicy yet' }, async (t) => {
  const s = await session(t);
  const policies = s.broker.broker.getVhost('/')!.policies;
  const ch = await s.channel();
  await ch.assertQueue('capped', { durable: false, arguments: { 'x-max-length': 5 } });
  await ch.assertQueue('ttl', { durable: false });
  policies.set('limits', { pattern: '^capped$', applyTo: 'queues', definition: { 'max-length': 3 } });
  policies.set('ttl', { pattern: '^ttl$', applyTo: 'queues', definition: { 'message-ttl': 50 } });
  for (let i = 0; i < 10; i++) ch.sendToQueue('capped', Buffer.from(String(i)));
  ch.sendToQueue('ttl', Buffer.from('expires'));
  await roundTrip(ch);
  assert.equal((await ch.checkQueue('capped')).messageCount, 3, 'policy 3 beats argument 5');
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(await ch.get('ttl', { noAck: true }), false, 'expired by the policy TTL');
  policies.delete('limits');
  for (let i = 0; i < 10; i++) ch.sendToQueue('capped', Buffer.from(String(i)));
  await roundTrip(ch);
  assert.equal((await ch.checkQueue('capped')).messageCount, 5, 'back to the argument once the policy is gone');
});
