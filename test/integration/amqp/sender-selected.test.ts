/** Sender-selected distribution: the CC and BCC headers, as RabbitMQ routes them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel } from 'amqplib';
import { expectChannelError, roundTrip, session } from './amqp-helpers.js';

/** Every message now in `queue`, taken without ack. */
async function drain(ch: Channel, queue: string): Promise<{ body: string; headers: Record<string, unknown> }[]> {
  const taken = [];
  for (let msg = await ch.get(queue, { noAck: true }); msg !== false; msg = await ch.get(queue, { noAck: true })) {
    taken.push({ body: msg.content.toString(), headers: (msg.properties.headers ?? {}) as Record<string, unknown> });
  }
  return taken;
}

test('CC on the default exchange also reaches the queue it names, and stays in the headers', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('main');
  await ch.assertQueue('copy');
  ch.sendToQueue('main', Buffer.from('hello'), { headers: { CC: ['copy'], note: 'kept' } });
  await roundTrip(ch);
  const expected = [{ body: 'hello', headers: { CC: ['copy'], note: 'kept' } }];
  assert.deepEqual(await drain(ch, 'main'), expected);
  assert.deepEqual(await drain(ch, 'copy'), expected);
});

test('BCC routes on a direct exchange and is removed before delivery', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const recipients = ['to', 'cc', 'bcc'];
  for (const queue of recipients) {
    await ch.assertQueue(queue);
    await ch.bindQueue(queue, 'amq.direct', `k.${queue}`);
  }
  ch.publish('amq.direct', 'k.to', Buffer.from('secret list'), { headers: { CC: ['k.cc'], BCC: ['k.bcc'] } });
  await roundTrip(ch);
  for (const queue of recipients) {
    assert.deepEqual(await drain(ch, queue), [{ body: 'secret list', headers: { CC: ['k.cc'] } }], queue);
  }
});

test('a queue matched by several keys gets one copy', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('logs');
  await ch.bindQueue('logs', 'amq.topic', 'app.*');
  await ch.bindQueue('logs', 'amq.topic', '#');
  ch.publish('amq.topic', 'app.web', Buffer.from('topic'), { headers: { CC: ['app.web', 'app.db'], BCC: ['app.web'] } });
  ch.sendToQueue('logs', Buffer.from('default'), { headers: { CC: ['logs', 'logs'], BCC: ['logs'] } });
  await roundTrip(ch);
  assert.deepEqual((await drain(ch, 'logs')).map((m) => m.body), ['topic', 'default']);
});

test('exchange-to-exchange bindings route the CC keys onward', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.bindExchange('amq.direct', 'amq.topic', 'orders.#');
  await ch.assertQueue('eu');
  await ch.bindQueue('eu', 'amq.direct', 'orders.eu');
  ch.publish('amq.topic', 'orders.us', Buffer.from('copied'), { headers: { CC: ['orders.eu'] } });
  ch.publish('amq.topic', 'orders.us', Buffer.from('not copied'));
  await roundTrip(ch);
  assert.deepEqual((await drain(ch, 'eu')).map((m) => m.body), ['copied']);
});

test('a CC that is not an array closes the channel with 406 as RabbitMQ does', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await expectChannelError(
    ch,
    async () => {
      ch.sendToQueue('anywhere', Buffer.from('x'), { headers: { CC: 'not-a-list' } });
      await roundTrip(ch);
    },
    406,
    'PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"CC",longstr}',
  );
});
