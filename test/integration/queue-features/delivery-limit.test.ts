import test from 'node:test';
import assert from 'node:assert/strict';
import { roundTrip, session } from '../amqp/amqp-helpers.js';
import { brokerQueue } from './helpers.js';

test('x-delivery-limit: redeliveries carry x-delivery-count; past the limit the message is dropped', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q', { arguments: { 'x-delivery-limit': 2 } });
  ch.sendToQueue('q', Buffer.from('flaky'), { headers: { keep: 'me' } });
  const counts: unknown[] = [];
  for (;;) {
    const msg = await ch.get('q', { noAck: false });
    if (msg === false) break;
    counts.push(msg.properties.headers?.['x-delivery-count']);
    assert.equal(msg.properties.headers?.['keep'], 'me');
    ch.nack(msg, false, true);
    await roundTrip(ch);
  }
  // Delivered, returned twice (allowed), the third return is over the limit.
  assert.deepEqual(counts, [undefined, 1, 2]);
  const queue = brokerQueue(s, 'q');
  assert.equal(queue.counters.deliveryLimited, 1);
  assert.equal(queue.readyCount() + queue.unackedCount(), 0);
});

test('a closed channel counts as a return towards the delivery limit', async (t) => {
  const s = await session(t);
  const setup = await s.channel();
  await setup.assertQueue('q', { arguments: { 'x-delivery-limit': 0 } });
  setup.sendToQueue('q', Buffer.from('x'));
  await roundTrip(setup);
  const ch = await s.channel();
  assert.ok(await ch.get('q', { noAck: false }));
  await ch.close();
  await roundTrip(setup);
  assert.equal(brokerQueue(s, 'q').counters.deliveryLimited, 1);
  assert.equal(await setup.get('q'), false);
});
