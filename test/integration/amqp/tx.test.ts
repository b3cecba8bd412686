/** tx.select / commit / rollback: publishes and acks held until commit. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel } from 'amqplib';
import { bodies, rawRpc, roundTrip, session, withTimeout } from './amqp-helpers.js';

const select = (ch: Channel) => rawRpc(ch, 'TxSelect', {}, 'TxSelectOk');
const commit = (ch: Channel) => rawRpc(ch, 'TxCommit', {}, 'TxCommitOk');
const rollback = (ch: Channel) => rawRpc(ch, 'TxRollback', {}, 'TxRollbackOk');

test('published messages appear only on commit', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const observer = await s.channel();
  await ch.assertQueue('t');
  await select(ch);
  for (const b of ['a', 'b', 'c']) ch.sendToQueue('t', Buffer.from(b));
  await roundTrip(ch);
  assert.equal((await observer.checkQueue('t')).messageCount, 0);
  await commit(ch);
  assert.equal((await observer.checkQueue('t')).messageCount, 3);
  const got = [await observer.get('t', { noAck: true }), await observer.get('t', { noAck: true }), await observer.get('t', { noAck: true })];
  assert.deepEqual(bodies(got.map((m) => (m ? m : { content: Buffer.from('missing') }))), ['a', 'b', 'c']);
});

test('rollback discards publishes; the channel stays transactional', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('t');
  await select(ch);
  ch.sendToQueue('t', Buffer.from('discarded'));
  await rollback(ch);
  ch.sendToQueue('t', Buffer.from('kept'));
  await roundTrip(ch);
  assert.equal((await ch.checkQueue('t')).messageCount, 0);
  await commit(ch);
  const m = await ch.get('t', { noAck: true });
  assert.ok(m);
  assert.equal(m.content.toString(), 'kept');
  assert.equal(await ch.get('t'), false);
});

test('acks wait for commit; rolled-back acks leave the messages unacked', async (t) => {
  const s = await session(t);
  const setup = await s.channel();
  await setup.assertQueue('t');
  for (const b of ['1', '2', '3']) setup.sendToQueue('t', Buffer.from(b));
  await roundTrip(setup);

  const ch = await s.channel();
  await select(ch);
  const got = [await ch.get('t'), await ch.get('t'), await ch.get('t')];
  const [m1, m2, m3] = got;
  assert.ok(m1 && m2 && m3);
  ch.ack(m1);
  await rollback(ch);
  ch.ack(m2, true); // m1 is outstanding again, so multiple covers 1 and 2
  await commit(ch);
  await ch.close();
  // m3 was never acked: closing the channel requeued it, and only it.
  const again = await setup.get('t', { noAck: true });
  assert.ok(again);
  assert.equal(again.content.toString(), '3');
  assert.equal(again.fields.redelivered, true);
  assert.equal(await setup.get('t'), false);
});

test('uncommitted acks are undone when the channel closes', async (t) => {
  const s = await session(t);
  const setup = await s.channel();
  await setup.assertQueue('t');
  setup.sendToQueue('t', Buffer.from('x'));
  await roundTrip(setup);
  const ch = await s.channel();
  await select(ch);
  const m = await ch.get('t');
  assert.ok(m);
  ch.ack(m);
  await roundTrip(ch);
  await ch.close();
  assert.equal((await setup.checkQueue('t')).messageCount, 1);
});

test('mandatory messages that cannot be routed come back at commit', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await select(ch);
  let returned = false;
  const gotReturn = new Promise<void>((resolve) =>
    ch.on('return', () => {
      returned = true;
      resolve();
    }),
  );
  ch.publish('amq.direct', 'nowhere', Buffer.from('x'), { mandatory: true });
  await roundTrip(ch);
  assert.equal(returned, false);
  await commit(ch);
  await withTimeout(gotReturn, 2000, 'basic.return');
});

test('methods sent right behind tx.commit are answered after commit-ok', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('t');
  await select(ch);
  ch.sendToQueue('t', Buffer.from('x'));
  // Pipelined: amqplib queues the second RPC and matches replies in order.
  const [, declared] = await Promise.all([commit(ch), ch.checkQueue('t')]);
  assert.equal(declared.messageCount, 1);
});
