import test from 'node:test';
import assert from 'node:assert/strict';
import { roundTrip, session, sleep } from '../amqp/amqp-helpers.js';
import { brokerQueue, drain } from './helpers.js';

const id = (value: string) => ({ headers: { 'x-deduplication-header': value } });

test('x-message-deduplication: duplicates are dropped but still confirmed with basic.ack', async (t) => {
  const s = await session(t);
  const ch = await s.confirmChannel();
  await ch.assertQueue('q', { arguments: { 'x-message-deduplication': true } });
  const confirms = await Promise.all(
    [['a', 'first'], ['a', 'dup'], ['b', 'other'], [undefined, 'no-id'], [undefined, 'no-id-again']].map(
      ([key, body]) =>
        new Promise<string>((resolve) =>
          ch.sendToQueue('q', Buffer.from(body!), key === undefined ? {} : id(key), (err) => resolve(err ? 'nack' : 'ack')),
        ),
    ),
  );
  assert.deepEqual(confirms, ['ack', 'ack', 'ack', 'ack', 'ack']);
  assert.equal(brokerQueue(s, 'q').counters.duplicates, 1);
  assert.deepEqual(await drain(ch, 'q'), ['first', 'other', 'no-id', 'no-id-again']);
  // Without a window, an id counts only while its message is in the queue.
  ch.sendToQueue('q', Buffer.from('a-again'), id('a'));
  await ch.waitForConfirms();
  assert.deepEqual(await drain(ch, 'q'), ['a-again']);
});

test('deduplication ids last while the message is unacked; a requeue does not forget them', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-message-deduplication': true } });
  ch.sendToQueue('q', Buffer.from('one'), id('k'));
  const held = await ch.get('q', { noAck: false });
  assert.ok(held);
  ch.sendToQueue('q', Buffer.from('dup-while-unacked'), id('k'));
  ch.nack(held, false, true);
  ch.sendToQueue('q', Buffer.from('dup-after-requeue'), id('k'));
  await roundTrip(ch);
  assert.deepEqual(await drain(ch, 'q'), ['one']);
});

test('x-cache-ttl and x-cache-size: a window of remembered ids, queued or not', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  // A window long enough that a loaded machine's round trips stay inside it (100 ms was not, in CI).
  await ch.assertQueue('timed', { arguments: { 'x-message-deduplication': true, 'x-cache-ttl': 1500 } });
  ch.sendToQueue('timed', Buffer.from('1'), id('x'));
  await roundTrip(ch);
  assert.deepEqual(await drain(ch, 'timed'), ['1']);
  ch.sendToQueue('timed', Buffer.from('2'), id('x')); // consumed, but still within the window
  await roundTrip(ch);
  assert.deepEqual(await drain(ch, 'timed'), []);
  await sleep(1600);
  ch.sendToQueue('timed', Buffer.from('3'), id('x'));
  await roundTrip(ch);
  assert.deepEqual(await drain(ch, 'timed'), ['3']);

  await ch.assertQueue('sized', { arguments: { 'x-message-deduplication': true, 'x-cache-size': 2 } });
  for (const key of ['a', 'b', 'c', 'a', 'c']) ch.sendToQueue('sized', Buffer.from(key), id(key));
  await roundTrip(ch);
  // 'a' was pushed out of the two-entry cache by 'c'; 'c' is still remembered.
  assert.deepEqual(await drain(ch, 'sized'), ['a', 'b', 'c', 'a']);
});
