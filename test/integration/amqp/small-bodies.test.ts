/**
 * Small bodies are copied out of the socket chunk into a per-channel slab (channel/body-slab.ts): every
 * body must come back byte for byte, across slab refills and beside bodies too big to be copied.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consumeN, session } from './amqp-helpers.js';

/** Body i: a size that walks over the 512-byte copy limit, bytes that say which message they belong to. */
function bodyOf(i: number): Buffer {
  const size = (i * 37) % 700;
  const body = Buffer.alloc(size);
  for (let j = 0; j < size; j++) body[j] = (i + j * 7) & 0xff;
  return body;
}

test('3,000 bodies of 0-699 bytes, waiting and then consumed, come back intact (amqplib)', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('bodies');
  for (let i = 0; i < 3000; i++) ch.sendToQueue('bodies', bodyOf(i), { messageId: String(i) });
  const received = await consumeN(ch, 'bodies', 3000, { timeoutMs: 20_000 });
  for (const message of received) {
    const i = Number(message.properties.messageId);
    assert.ok(message.content.equals(bodyOf(i)), `body of message ${i}`);
  }
});
