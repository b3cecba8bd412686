/** limits.maxMessageBytes: a publish over it closes its channel, never the connection. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectChannelError, session, withTimeout } from './amqp-helpers.js';

const LIMIT = 1_000_000;
const SIZE = 20_000_001;

test('a 20 MB publish against a 1 MB limit: 406 within seconds, and the connection goes on', { timeout: 60_000 }, async (t) => {
  const s = await session(t, { listener: { limits: { maxMessageBytes: LIMIT } } });
  const publisher = await s.channel();
  const bystander = await s.channel();
  await publisher.assertQueue('q');
  await withTimeout(
    expectChannelError(
      publisher,
      () => publisher.sendToQueue('q', Buffer.alloc(SIZE)),
      406,
      `PRECONDITION_FAILED - message size ${SIZE} is larger than configured max size ${LIMIT}`,
    ),
    10_000,
    'the 406 channel.close',
  );
  // amqplib gives the closed channel's number to the next channel at once.
  const next = await withTimeout(s.channel(), 10_000, 'a new channel after the refusal');
  next.sendToQueue('q', Buffer.from('small'));
  assert.equal((await next.checkQueue('q')).messageCount, 1);
  assert.equal((await bystander.checkQueue('q')).messageCount, 1);
});
