import test from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumeMessage } from 'amqplib';
import { roundTrip, session } from '../amqp/amqp-helpers.js';
import { waitFor } from './helpers.js';

test('single active consumer: one consumer gets everything; on cancel the next takes over', async (t) => {
  const s = await session(t);
  const setup = await s.channel();
  await setup.assertQueue('q', { arguments: { 'x-single-active-consumer': true } });
  const got: Record<string, string[]> = { first: [], second: [], third: [] };
  const channels = [];
  for (const name of ['first', 'second', 'third']) {
    const ch = await s.channel();
    await ch.prefetch(1);
    await ch.consume(
      'q',
      (msg: ConsumeMessage | null) => {
        if (msg === null) return;
        got[name]!.push(msg.content.toString());
        ch.ack(msg);
      },
      { consumerTag: name },
    );
    channels.push(ch);
  }
  for (let i = 0; i < 5; i++) setup.sendToQueue('q', Buffer.from(`a${i}`));
  await waitFor(() => got['first']!.length === 5, 'first consumer');
  assert.deepEqual(got['second'], []);
  assert.deepEqual(got['third'], []);

  await channels[0]!.cancel('first');
  for (let i = 0; i < 3; i++) setup.sendToQueue('q', Buffer.from(`b${i}`));
  await waitFor(() => got['second']!.length === 3, 'second consumer took over');
  assert.deepEqual(got['third'], []);

  await channels[1]!.close(); // a closed channel hands over too
  setup.sendToQueue('q', Buffer.from('c0'));
  await waitFor(() => got['third']!.length === 1, 'third consumer took over');
  assert.deepEqual(got['first'], ['a0', 'a1', 'a2', 'a3', 'a4']);
});

test('single active consumer: unacked messages of a failed active consumer go to the next one, in order', async (t) => {
  const s = await session(t);
  const setup = await s.channel();
  await setup.assertQueue('q', { arguments: { 'x-single-active-consumer': true } });
  for (let i = 0; i < 4; i++) setup.sendToQueue('q', Buffer.from(`m${i}`));
  await roundTrip(setup);
  const failing = await s.channel();
  await failing.prefetch(2);
  let held = 0;
  await failing.consume('q', () => void held++);
  await waitFor(() => held === 2, 'two held');
  const next = await s.channel();
  const received: string[] = [];
  await next.consume('q', (msg) => msg && received.push(msg.content.toString()), { noAck: true });
  await roundTrip(next);
  assert.deepEqual(received, [], 'waiting while the active consumer lives');
  await failing.close();
  await waitFor(() => received.length === 4, 'takeover');
  assert.deepEqual(received, ['m0', 'm1', 'm2', 'm3']);
});

test('single active consumer with priorities: the highest-priority waiting consumer takes over', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-single-active-consumer': true } });
  const got: string[] = [];
  const listen = (tag: string, priority: number) =>
    ch.consume('q', (msg) => msg && got.push(`${tag}:${msg.content.toString()}`), { noAck: true, consumerTag: tag, priority });
  await listen('active', 0);
  await listen('low', 1);
  await listen('high', 5);
  ch.sendToQueue('q', Buffer.from('1'));
  await waitFor(() => got.length === 1, 'first');
  await ch.cancel('active');
  ch.sendToQueue('q', Buffer.from('2'));
  await waitFor(() => got.length === 2, 'second');
  assert.deepEqual(got, ['active:1', 'high:2']);
});
