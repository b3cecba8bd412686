/** Publisher confirms (confirm.select) end to end with amqplib's ConfirmChannel. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { session, withTimeout } from './amqp-helpers.js';

const publishConfirmed = (
  ch: import('amqplib').ConfirmChannel,
  exchange: string,
  key: string,
  body: string,
  options: import('amqplib').Options.Publish = {},
): Promise<void> =>
  new Promise((resolve, reject) => ch.publish(exchange, key, Buffer.from(body), options, (err) => (err ? reject(err) : resolve())));

test('every publish is acked; a burst is settled', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await ch.assertQueue('c', { durable: true });
  const confirms: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) confirms.push(publishConfirmed(ch, '', 'c', `m${i}`, { persistent: i % 2 === 0 }));
  await withTimeout(Promise.all(confirms), 5000, '500 confirms');
  await ch.waitForConfirms();
  assert.equal((await ch.checkQueue('c')).messageCount, 500);
});

test('unroutable messages are confirmed too; a mandatory one is returned before its ack', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  const events: string[] = [];
  ch.on('return', (m: import('amqplib').ConsumeMessage) => events.push(`return:${m.content.toString()}`));
  const a = publishConfirmed(ch, 'amq.direct', 'nowhere', 'lost', { mandatory: true }).then(() => events.push('ack:lost'));
  const b = publishConfirmed(ch, 'amq.direct', 'nowhere', 'dropped').then(() => events.push('ack:dropped'));
  await withTimeout(Promise.all([a, b]), 2000, 'confirms');
  assert.deepEqual(events, ['return:lost', 'ack:lost', 'ack:dropped']);
});

test('confirm.select twice is fine and numbering continues', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await ch.assertQueue('c');
  await publishConfirmed(ch, '', 'c', 'one');
  await (ch as unknown as { rpc(m: number, f: object, e: number): Promise<unknown> }).rpc(
    0x0055000a,
    { nowait: false },
    0x0055000b,
  );
  await publishConfirmed(ch, '', 'c', 'two');
  assert.equal((await ch.checkQueue('c')).messageCount, 2);
});

test('a publish refused by a queue (x-overflow reject-publish) is nacked', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await ch.assertQueue('bounded', { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
  await publishConfirmed(ch, '', 'bounded', 'fits');
  await assert.rejects(withTimeout(publishConfirmed(ch, '', 'bounded', 'refused'), 2000, 'nack'));
  await publishConfirmed(ch, 'amq.direct', 'nowhere', 'still acked');
});
