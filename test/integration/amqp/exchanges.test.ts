/** exchange.* methods through the channel layer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consumeN, defs, roundTrip, session } from './amqp-helpers.js';

test('declare, passive check, delete (idempotent)', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('x', 'topic', { durable: false });
  await ch.checkExchange('x');
  await ch.assertExchange('x', 'topic', { durable: false });
  await ch.deleteExchange('x');
  await ch.deleteExchange('x');
  assert.equal(s.broker.broker.getVhost('/')?.exchanges.has('x'), false);
});

test('exchange-to-exchange bindings route onward; unbind stops it', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('front', 'fanout');
  await ch.assertExchange('back', 'direct');
  await ch.bindExchange('back', 'front', '');
  await ch.assertQueue('q');
  await ch.bindQueue('q', 'back', 'k');
  ch.publish('front', 'k', Buffer.from('through'));
  await ch.unbindExchange('back', 'front', '');
  ch.publish('front', 'k', Buffer.from('stopped'));
  await roundTrip(ch);
  assert.equal((await ch.checkQueue('q')).messageCount, 1);
  assert.equal((await consumeN(ch, 'q', 1))[0]?.content.toString(), 'through');
});

test('headers exchange matches on message headers', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertExchange('h', 'headers');
  await ch.assertQueue('q');
  await ch.bindQueue('q', 'h', '', { 'x-match': 'all', kind: 'a', n: 1 });
  ch.publish('h', '', Buffer.from('match'), { headers: { kind: 'a', n: 1, extra: true } });
  ch.publish('h', '', Buffer.from('no'), { headers: { kind: 'a' } });
  await roundTrip(ch);
  const [m] = await consumeN(ch, 'q', 1);
  assert.equal(m?.content.toString(), 'match');
  assert.equal((await ch.checkQueue('q')).messageCount, 0);
});

test('no-wait declares and binds get no reply but take effect', async (t) => {
  const s = await session(t);
  const conn = await s.connect();
  const ch = await conn.createChannel();
  // amqplib has no no-wait API; send the methods raw, then a normal round trip behind them.
  const send = (ch as unknown as { sendImmediately(m: number, f: object): void }).sendImmediately.bind(ch);
  send(defs.ExchangeDeclare as number, { exchange: 'nw', type: 'fanout', passive: false, durable: false, autoDelete: false, internal: false, nowait: true, arguments: {} });
  send(defs.QueueDeclare as number, { queue: 'nwq', passive: false, durable: false, exclusive: false, autoDelete: false, nowait: true, arguments: {} });
  send(defs.QueueBind as number, { queue: 'nwq', exchange: 'nw', routingKey: '', nowait: true, arguments: {} });
  await ch.checkQueue('nwq');
  ch.publish('nw', '', Buffer.from('x'));
  await roundTrip(ch);
  assert.equal((await ch.checkQueue('nwq')).messageCount, 1);
});
