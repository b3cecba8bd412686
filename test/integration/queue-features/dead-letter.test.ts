import test from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, GetMessage } from 'amqplib';
import { session, sleep } from '../amqp/amqp-helpers.js';
import { brokerQueue, deathsOf, drain, getOne, waitFor } from './helpers.js';

async function getAcking(ch: Channel, queue: string): Promise<GetMessage> {
  for (let i = 0; i < 300; i++) {
    const msg = await ch.get(queue, { noAck: false });
    if (msg !== false) return msg;
    await sleep(10);
  }
  throw new Error(`no message in '${queue}'`);
}

test('reject without requeue dead-letters with x-death, x-first-death-* and x-last-death-*', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('dlx', 'direct');
  await ch.assertQueue('dlq');
  await ch.bindQueue('dlq', 'dlx', 'work');
  await ch.assertQueue('work', { arguments: { 'x-dead-letter-exchange': 'dlx' } });
  const before = Math.floor(Date.now() / 1000);
  ch.sendToQueue('work', Buffer.from('m1'), { headers: { app: 'x' }, messageId: 'id-1' });
  ch.nack(await getAcking(ch, 'work'), false, false);

  const dead = await getOne(ch, 'dlq');
  assert.equal(dead.content.toString(), 'm1');
  assert.equal(dead.fields.exchange, 'dlx');
  assert.equal(dead.fields.routingKey, 'work');
  assert.equal(dead.properties.messageId, 'id-1');
  const headers = dead.properties.headers!;
  assert.equal(headers['app'], 'x');
  assert.equal(headers['x-first-death-reason'], 'rejected');
  assert.equal(headers['x-first-death-queue'], 'work');
  assert.equal(headers['x-first-death-exchange'], '');
  assert.equal(headers['x-last-death-reason'], 'rejected');
  const [death, ...others] = deathsOf(dead);
  assert.equal(others.length, 0);
  assert.equal(death!['count'], 1);
  assert.equal(death!['reason'], 'rejected');
  assert.equal(death!['queue'], 'work');
  assert.equal(death!['exchange'], '');
  assert.deepEqual(death!['routing-keys'], ['work']);
  // amqplib decodes a field of type timestamp ('T') as { '!': 'timestamp', value: seconds }.
  const time = death!['time'] as { '!': string; value: number };
  assert.equal(time['!'], 'timestamp');
  assert.ok(time.value >= before && time.value <= before + 5);
  assert.equal(death!['original-expiration'], undefined);
});

test('x-dead-letter-routing-key replaces the routing key; a missing DLX drops silently', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('parking');
  await ch.assertQueue('work', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'parking' } });
  await ch.assertQueue('nowhere', { arguments: { 'x-dead-letter-exchange': 'no-such-exchange' } });
  ch.sendToQueue('work', Buffer.from('a'));
  ch.sendToQueue('nowhere', Buffer.from('b'));
  ch.reject(await getAcking(ch, 'work'), false);
  ch.reject(await getAcking(ch, 'nowhere'), false);
  const dead = await getOne(ch, 'parking');
  assert.equal(dead.fields.routingKey, 'parking');
  assert.deepEqual(deathsOf(dead)[0]!['routing-keys'], ['work']);
  assert.equal(brokerQueue(s, 'nowhere').readyCount(), 0);
  assert.equal(brokerQueue(s, 'nowhere').unackedCount(), 0);
});

test('per-message TTL expiry dead-letters: expiration removed, original-expiration recorded', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('dlq');
  await ch.assertQueue('work', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' } });
  ch.sendToQueue('work', Buffer.from('short'), { expiration: '20' });
  const dead = await getOne(ch, 'dlq');
  assert.equal(dead.properties.expiration, undefined);
  const [death] = deathsOf(dead);
  assert.equal(death!['reason'], 'expired');
  assert.equal(death!['original-expiration'], '20');
  assert.equal(dead.properties.headers!['x-first-death-reason'], 'expired');
});

test('the same queue and reason again: count incremented and the entry moved to the front', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  // Rejected messages come straight back to the same queue (rejections never count as a cycle).
  await ch.assertQueue('retry', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' } });
  ch.sendToQueue('retry', Buffer.from('again'));
  for (let i = 0; i < 3; i++) ch.nack(await getAcking(ch, 'retry'), false, false);
  const msg = await getAcking(ch, 'retry');
  const deaths = deathsOf(msg);
  assert.equal(deaths.length, 1);
  assert.equal(deaths[0]!['count'], 3);
  assert.equal(deaths[0]!['reason'], 'rejected');
  assert.equal(msg.properties.headers!['x-first-death-queue'], 'retry');
  ch.ack(msg);
});

test('an automatic dead-letter cycle is dropped; a cycle with a rejection in it is not', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  // loop: expires back into itself -> dropped at once.
  await ch.assertQueue('loop', {
    arguments: { 'x-message-ttl': 10, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'loop' },
  });
  ch.sendToQueue('loop', Buffer.from('l'));
  const loop = brokerQueue(s, 'loop');
  await waitFor(() => loop.counters.expired === 1, 'expiry in loop');
  await sleep(50);
  assert.equal(loop.readyCount(), 0);
  assert.equal(loop.counters.published, 1, 'the dead letter did not come back');

  // a --expired--> b --rejected--> a --expired--> b: allowed, the client rejected it on the way.
  await ch.assertQueue('a', { arguments: { 'x-message-ttl': 10, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'b' } });
  await ch.assertQueue('b', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'a' } });
  ch.sendToQueue('a', Buffer.from('ab'));
  ch.nack(await getAcking(ch, 'b'), false, false);
  const again = await getAcking(ch, 'b');
  const deaths = deathsOf(again);
  assert.deepEqual(
    deaths.map((d) => [d['queue'], d['reason'], d['count']]),
    [
      ['a', 'expired', 2],
      ['b', 'rejected', 1],
    ],
  );
  // b --rejected--> a would be fine, but an expiry cycle a -> b -> a without rejection is cut:
  ch.ack(again);
  assert.deepEqual(await drain(ch, 'a'), []);
});

test('drop-head overflow and delivery limit dead-letter with reasons maxlen and delivery_limit', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('dlq');
  const dlx = { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' };
  await ch.assertQueue('short', { arguments: { ...dlx, 'x-max-length': 1 } });
  ch.sendToQueue('short', Buffer.from('old'));
  ch.sendToQueue('short', Buffer.from('new'));
  const dropped = await getOne(ch, 'dlq');
  assert.equal(dropped.content.toString(), 'old');
  assert.equal(deathsOf(dropped)[0]!['reason'], 'maxlen');

  await ch.assertQueue('limited', { arguments: { ...dlx, 'x-delivery-limit': 0 } });
  ch.sendToQueue('limited', Buffer.from('once'));
  ch.nack(await getAcking(ch, 'limited'), false, true);
  const limited = await getOne(ch, 'dlq');
  assert.equal(limited.content.toString(), 'once');
  assert.equal(deathsOf(limited)[0]!['reason'], 'delivery_limit');
});
