/** x-consistent-hash through amqplib. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectChannelError, roundTrip, session } from '../amqp/amqp-helpers.js';

const QUEUES = [
  ['ch-q1', '1'],
  ['ch-q2', '1'],
  ['ch-q3', '2'],
  ['ch-q4', '4'],
] as const;

test('weights 1,1,2,4 over 4 queues: shares within tolerance, each key sticks to one queue', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await ch.assertExchange('chx', 'x-consistent-hash', { durable: false });
  for (const [queue, weight] of QUEUES) {
    await ch.assertQueue(queue, { durable: false });
    await ch.bindQueue(queue, 'chx', weight);
  }
  const total = 8000;
  for (let i = 0; i < total; i++) ch.publish('chx', `order-${i}`, Buffer.from('x'));
  // The same key five more times: all five must land together.
  for (let i = 0; i < 5; i++) ch.publish('chx', 'order-42', Buffer.from('again'));
  await ch.waitForConfirms();
  const counts = await Promise.all(QUEUES.map(async ([queue]) => (await ch.checkQueue(queue)).messageCount));
  assert.equal(counts.reduce((a, b) => a + b, 0), total + 5, 'every message to exactly one queue');
  const weights = [1, 1, 2, 4];
  counts.forEach((count, i) => {
    const share = count / (total + 5);
    const expected = weights[i]! / 8;
    assert.ok(Math.abs(share - expected) / expected < 0.2, `${QUEUES[i]![0]}: ${share.toFixed(3)} vs ${expected}`);
  });
  let holder: string | undefined;
  for (const [queue] of QUEUES) {
    for (let m = await ch.get(queue, { noAck: true }); m !== false; m = await ch.get(queue, { noAck: true })) {
      if (m.fields.routingKey !== 'order-42') continue;
      holder ??= queue;
      assert.equal(queue, holder, 'order-42 went to more than one queue');
    }
  }
  assert.ok(holder !== undefined);
});

test('hash-header routes on a header, not the routing key', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('chh', 'x-consistent-hash', { durable: false, arguments: { 'hash-header': 'tenant' } });
  for (const [queue] of QUEUES) {
    await ch.assertQueue(queue, { durable: false });
    await ch.bindQueue(queue, 'chh', '3');
  }
  for (let i = 0; i < 50; i++) ch.publish('chh', `rk-${i}`, Buffer.from('x'), { headers: { tenant: 'acme' } });
  await roundTrip(ch);
  const counts = await Promise.all(QUEUES.map(async ([queue]) => (await ch.checkQueue(queue)).messageCount));
  assert.deepEqual(counts.filter((c) => c !== 0), [50]);
});

test('a non-integer binding key is 406 with the plugin text', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('chx', 'x-consistent-hash', { durable: false });
  await ch.assertQueue('q', { durable: false });
  await expectChannelError(ch, () => ch.bindQueue('q', 'chx', 'heavy'), 406, 'PRECONDITION_FAILED - The binding key must be an integer: <<"heavy">>');
  const ch2 = await s.channel();
  await expectChannelError(
    ch2,
    () => ch2.assertExchange('bad', 'x-consistent-hash', { arguments: { 'hash-header': 'h', 'hash-property': 'message_id' } }),
    406,
    'PRECONDITION_FAILED - hash-header and hash-property are mutually exclusive',
  );
});
