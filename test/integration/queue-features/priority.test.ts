import test from 'node:test';
import assert from 'node:assert/strict';
import { bodies, consumeN, roundTrip, session } from '../amqp/amqp-helpers.js';
import { brokerQueue, drain } from './helpers.js';

test('x-max-priority: higher first, FIFO within a priority, above max counts as max', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-max-priority': 5 } });
  const sends: [string, number | undefined][] = [
    ['p0-a', undefined],
    ['p3-a', 3],
    ['p9-a', 9],
    ['p5-a', 5],
    ['p3-b', 3],
    ['p0-b', 0],
    ['p9-b', 200],
  ];
  for (const [body, priority] of sends) ch.sendToQueue('q', Buffer.from(body), priority === undefined ? {} : { priority });
  await roundTrip(ch);
  // 9 and 200 count as 5: same level as p5-a, in arrival order.
  assert.deepEqual(await drain(ch, 'q'), ['p9-a', 'p5-a', 'p9-b', 'p3-a', 'p3-b', 'p0-a', 'p0-b']);
});

test('requeue keeps the per-priority order', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-max-priority': 10 } });
  for (const [body, priority] of [['low-1', 1], ['high-1', 8], ['high-2', 8], ['low-2', 1]] as const) {
    ch.sendToQueue('q', Buffer.from(body), { priority });
  }
  await roundTrip(ch);
  const taken = [];
  for (let i = 0; i < 3; i++) taken.push((await ch.get('q', { noAck: false })) || assert.fail('empty'));
  assert.deepEqual(bodies(taken), ['high-1', 'high-2', 'low-1']);
  // Return them out of order; they go back to their places.
  ch.nack(taken[1]!, false, true);
  ch.nack(taken[2]!, false, true);
  ch.nack(taken[0]!, false, true);
  await roundTrip(ch);
  const again = await consumeN(ch, 'q', 4);
  assert.deepEqual(bodies(again), ['high-1', 'high-2', 'low-1', 'low-2']);
  assert.deepEqual(again.map((m) => m.fields.redelivered), [true, true, true, false]);
});

test('browse lists a priority queue in delivery order without changing it', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-max-priority': 2 } });
  for (const [body, priority] of [['a', 0], ['b', 2], ['c', 1], ['d', 2]] as const) {
    ch.sendToQueue('q', Buffer.from(body), { priority });
  }
  await roundTrip(ch);
  const queue = brokerQueue(s, 'q');
  const listed = async (offset: number, count: number): Promise<string[]> =>
    (await queue.browse(offset, count)).map((e) => e.message.body.toString());
  assert.deepEqual(await listed(0, 10), ['b', 'd', 'c', 'a']);
  assert.deepEqual(await listed(1, 2), ['d', 'c']);
  assert.deepEqual(await listed(3, 5), ['a']);
  assert.equal(queue.counters.delivered, 0);
  assert.deepEqual(await drain(ch, 'q'), ['b', 'd', 'c', 'a']);
});
