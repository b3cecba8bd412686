import test from 'node:test';
import assert from 'node:assert/strict';
import { roundTrip, session } from '../amqp/amqp-helpers.js';
import { brokerQueue, deathsOf, drain, getOne, waitFor } from './helpers.js';

test('x-max-length drop-head keeps the newest messages', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-max-length': 3 } });
  for (let i = 1; i <= 6; i++) ch.sendToQueue('q', Buffer.from(`m${i}`));
  await roundTrip(ch);
  assert.equal(brokerQueue(s, 'q').counters.overflowDropped, 3);
  assert.deepEqual(await drain(ch, 'q'), ['m4', 'm5', 'm6']);
});

test('x-max-length-bytes counts body bytes of ready messages', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-max-length-bytes': 10 } });
  ch.sendToQueue('q', Buffer.from('aaaa'));
  ch.sendToQueue('q', Buffer.from('bbbb'));
  ch.sendToQueue('q', Buffer.from('cccc'));
  await roundTrip(ch);
  assert.equal(brokerQueue(s, 'q').readyBytes(), 8);
  assert.deepEqual(await drain(ch, 'q'), ['bbbb', 'cccc']);
});

test('reject-publish: a confirming publisher gets basic.nack, the queue keeps the oldest', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await ch.assertQueue('q', { arguments: { 'x-max-length': 2, 'x-overflow': 'reject-publish' } });
  const outcomes = await Promise.all(
    ['m1', 'm2', 'm3'].map(
      (body) =>
        new Promise<string>((resolve) => ch.sendToQueue('q', Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack'))),
    ),
  );
  assert.deepEqual(outcomes, ['ack', 'ack', 'nack']);
  // Without confirms the refused message is dropped silently.
  const plain = await s.channel();
  plain.sendToQueue('q', Buffer.from('m4'));
  await roundTrip(plain);
  assert.deepEqual(await drain(plain, 'q'), ['m1', 'm2']);
  assert.equal(brokerQueue(s, 'q').counters.refused, 2);
});

test('reject-publish-dlx dead-letters the refused message', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await ch.assertQueue('dlq');
  await ch.assertQueue('q', {
    arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' },
  });
  ch.sendToQueue('q', Buffer.from('kept'));
  ch.sendToQueue('q', Buffer.from('refused'));
  await assert.rejects(ch.waitForConfirms());
  const dead = await getOne(ch, 'dlq');
  assert.equal(dead.content.toString(), 'refused');
  assert.equal(deathsOf(dead)[0]!['reason'], 'maxlen');
  assert.deepEqual(await drain(ch, 'q'), ['kept']);
});

test('TTL, max-length and DLX together: overflow and expiry both dead-letter, in order', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('dlq');
  await ch.assertQueue('q', {
    arguments: { 'x-message-ttl': 50, 'x-max-length': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' },
  });
  for (let i = 1; i <= 4; i++) ch.sendToQueue('q', Buffer.from(`m${i}`));
  await roundTrip(ch);
  const queue = brokerQueue(s, 'q');
  assert.equal(queue.readyCount(), 2);
  await waitFor(() => queue.readyCount() === 0, 'expiry of the rest', 1000);
  const dlq = brokerQueue(s, 'dlq');
  await waitFor(() => dlq.readyCount() === 4, 'four dead letters');
  const dead = [];
  for (let i = 0; i < 4; i++) dead.push(await getOne(ch, 'dlq'));
  assert.deepEqual(
    dead.map((m) => [m.content.toString(), deathsOf(m)[0]!['reason']]),
    [
      ['m1', 'maxlen'],
      ['m2', 'maxlen'],
      ['m3', 'expired'],
      ['m4', 'expired'],
    ],
  );
  // The dead letters carry no TTL into the DLQ (the queue TTL is not a message property).
  assert.equal(dead[2]!.properties.expiration, undefined);
});
