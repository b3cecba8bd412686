/** x-delayed-message through amqplib. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel, ConsumeMessage } from 'amqplib';
import { bodies, consumeN, expectChannelError, expectConnectionError, roundTrip, session, sleep } from '../amqp/amqp-helpers.js';

async function delayedExchange(ch: Channel, name: string, type: string, args: Record<string, unknown> = {}): Promise<void> {
  await ch.assertExchange(name, 'x-delayed-message', { durable: false, arguments: { 'x-delayed-type': type, ...args } });
}

// Lateness against the due time is a benchmark figure (bench/delayed.ts), not asserted here: a loaded CI
// machine can delay any timer. The test checks order, that nothing comes early, and the header.
test('messages arrive in due order, none before its due time, with x-delay negated', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await delayedExchange(ch, 'dx', 'direct');
  await ch.assertQueue('q', { durable: false });
  await ch.bindQueue('q', 'dx', 'k');
  const arrivals: { body: string; at: number; headers: Record<string, unknown> }[] = [];
  await ch.consume('q', (m: ConsumeMessage | null) => {
    if (m !== null) arrivals.push({ body: m.content.toString(), at: Date.now(), headers: m.properties.headers ?? {} });
  }, { noAck: true });
  // 200 ms apart: the broker counts each delay from when it reads that publish, and on a loaded machine
  // one run had d300 before d250 (so, we think, the burst's publishes were read 50 ms or more apart).
  const delays = [1200, 400, 800, 600, 0, 1000];
  const start = Date.now();
  for (const d of delays) ch.publish('dx', 'k', Buffer.from(`d${d}`), { headers: { 'x-delay': d } });
  ch.publish('dx', 'k', Buffer.from('no-header'));
  while (arrivals.length < delays.length + 1 && Date.now() - start < 10_000) await sleep(5);
  assert.deepEqual(arrivals.map((a) => a.body), ['d0', 'no-header', 'd400', 'd600', 'd800', 'd1000', 'd1200']);
  for (const a of arrivals.slice(2)) {
    const due = Number(a.body.slice(1));
    const lateness = a.at - start - due;
    assert.ok(lateness >= -5, `${a.body} came ${-lateness} ms early`);
    assert.equal(a.headers['x-delay'], -due);
  }
});

test('every x-delayed-type routes as its type once due', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const cases: [type: string, bindingKey: string, bindArgs: Record<string, unknown>, routingKey: string, headers: Record<string, unknown>][] = [
    ['direct', 'exact', {}, 'exact', {}],
    ['fanout', '', {}, 'anything', {}],
    ['topic', 'logs.*.error', {}, 'logs.app.error', {}],
    ['headers', '', { 'x-match': 'any', level: 'error' }, '', { level: 'error' }],
  ];
  for (const [type, bindingKey, bindArgs, routingKey, headers] of cases) {
    await delayedExchange(ch, `d-${type}`, type);
    await ch.assertQueue(`q-${type}`, { durable: false });
    await ch.bindQueue(`q-${type}`, `d-${type}`, bindingKey, bindArgs);
  }
  for (const [type, , , routingKey, headers] of cases) {
    ch.publish(`d-${type}`, routingKey, Buffer.from(type), { headers: { ...headers, 'x-delay': 150 } });
    ch.publish(`d-${type}`, 'not.matching', Buffer.from('miss'), { headers: { level: 'debug', 'x-delay': 150 } });
  }
  await roundTrip(ch);
  for (const [type] of cases) assert.equal((await ch.checkQueue(`q-${type}`)).messageCount, 0, `${type} held`);
  for (const [type] of cases) {
    const got = bodies(await consumeN(ch, `q-${type}`, type === 'fanout' ? 2 : 1, { timeoutMs: 2000 }));
    assert.deepEqual(got, type === 'fanout' ? ['fanout', 'miss'] : [type]);
  }
  await sleep(30);
  for (const [type] of cases) assert.equal((await ch.checkQueue(`q-${type}`)).messageCount, 0, `${type}: nothing else`);
});

test('a mandatory delayed publish is confirmed and not returned (it is delivered later)', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await delayedExchange(ch, 'dx', 'fanout');
  await ch.assertQueue('q', { durable: false });
  await ch.bindQueue('q', 'dx', '');
  const returned: string[] = [];
  ch.on('return', (m: ConsumeMessage) => returned.push(m.content.toString()));
  ch.publish('dx', '', Buffer.from('later'), { mandatory: true, headers: { 'x-delay': 50 } });
  await ch.waitForConfirms();
  assert.equal((await ch.checkQueue('q')).messageCount, 0);
  assert.deepEqual(bodies(await consumeN(ch, 'q', 1, { timeoutMs: 2000 })), ['later']);
  assert.deepEqual(returned, []);
});

test('declare errors: missing x-delayed-type is 406, an unknown one closes the connection with 503', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await expectChannelError(
    ch,
    () => ch.assertExchange('d', 'x-delayed-message', { durable: false }),
    406,
    "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type",
  );
  const conn = await s.connect();
  const ch2 = await conn.createChannel();
  ch2.on('error', () => undefined);
  await expectConnectionError(
    conn,
    () => ch2.assertExchange('d', 'x-delayed-message', { arguments: { 'x-delayed-type': 'bogus' } }),
    503,
    "COMMAND_INVALID - invalid exchange type 'bogus'",
  );
});
