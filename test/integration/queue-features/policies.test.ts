import test from 'node:test';
import assert from 'node:assert/strict';
import { roundTrip, session } from '../amqp/amqp-helpers.js';
import { brokerQueue, deathsOf, drain, getOne, waitFor } from './helpers.js';

test('a policy sets max-length and dead-lettering on existing queues; the x-argument keeps precedence', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const vhost = s.broker.broker.getVhost('/')!;
  await ch.assertQueue('dlq');
  await ch.assertQueue('jobs.a');
  await ch.assertQueue('jobs.b', { arguments: { 'x-max-length': 1 } });
  for (let i = 1; i <= 4; i++) {
    ch.sendToQueue('jobs.a', Buffer.from(`a${i}`));
    ch.sendToQueue('jobs.b', Buffer.from(`b${i}`));
  }
  await roundTrip(ch);
  vhost.policies.set('limit', {
    pattern: '^jobs\\.',
    applyTo: 'queues',
    priority: 0,
    definition: { 'max-length': 2, 'dead-letter-exchange': '', 'dead-letter-routing-key': 'dlq' },
  });
  // Enforced at once on the existing backlog: the lower limit wins.
  assert.equal(brokerQueue(s, 'jobs.a').readyCount(), 2);
  assert.equal(brokerQueue(s, 'jobs.b').readyCount(), 1);
  const dead = await getOne(ch, 'dlq');
  assert.equal(deathsOf(dead)[0]!['reason'], 'maxlen');
  vhost.policies.delete('limit');
  for (let i = 5; i <= 6; i++) ch.sendToQueue('jobs.a', Buffer.from(`a${i}`));
  await roundTrip(ch);
  assert.deepEqual(await drain(ch, 'jobs.a'), ['a3', 'a4', 'a5', 'a6']);
});

test('a policy message-ttl applies to messages enqueued after it is set', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const vhost = s.broker.broker.getVhost('/')!;
  await ch.assertQueue('q');
  ch.sendToQueue('q', Buffer.from('before'));
  await roundTrip(ch);
  vhost.policies.set('ttl', { pattern: '^q$', applyTo: 'queues', priority: 0, definition: { 'message-ttl': 20 } });
  ch.sendToQueue('q', Buffer.from('after'));
  await roundTrip(ch);
  const queue = brokerQueue(s, 'q');
  await waitFor(() => queue.counters.expired === 1, 'expiry by policy');
  assert.deepEqual(await drain(ch, 'q'), ['before']);
});
