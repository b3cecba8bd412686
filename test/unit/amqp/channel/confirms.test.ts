import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Broker } from '../../../../src/broker/broker.js';
import { PublisherConfirms } from '../../../../src/amqp/channel/confirms.js';

/** A broker stand-in whose durability the test releases by hand. */
function harness() {
  const waiting: (() => void)[] = [];
  const broker = { whenDurable: (cb: () => void) => waiting.push(cb) } as unknown as Broker;
  const sent: string[] = [];
  const confirms = new PublisherConfirms(broker, {
    confirm: (tag, multiple, ack) => sent.push(`${ack ? 'ack' : 'nack'} ${tag}${multiple ? ' multiple' : ''}`),
  });
  const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));
  const releaseDurable = () => waiting.splice(0).forEach((cb) => cb());
  return { confirms, sent, waiting, flushMicrotasks, releaseDurable };
}

test('a burst is acked once with multiple=true after it is durable', async () => {
  const h = harness();
  assert.deepEqual([1, 2, 3].map(() => h.confirms.accept(false)), [1, 2, 3]);
  await h.flushMicrotasks();
  assert.equal(h.waiting.length, 1);
  assert.deepEqual(h.sent, []);
  h.releaseDurable();
  assert.deepEqual(h.sent, ['ack 3 multiple']);
});

test('a single publish is acked without multiple', async () => {
  const h = harness();
  h.confirms.accept(false);
  await h.flushMicrotasks();
  h.releaseDurable();
  assert.deepEqual(h.sent, ['ack 1']);
});

test('refused publishes are nacked in tag order between acks', async () => {
  const h = harness();
  for (const refused of [false, false, true, false, true, true, false]) h.confirms.accept(refused);
  await h.flushMicrotasks();
  h.releaseDurable();
  assert.deepEqual(h.sent, ['ack 2 multiple', 'nack 3', 'ack 4', 'nack 5', 'nack 6', 'ack 7']);
});

test('publishes accepted while waiting get their own wait and are acked after it', async () => {
  const h = harness();
  h.confirms.accept(false);
  await h.flushMicrotasks();
  h.confirms.accept(false);
  h.confirms.accept(false);
  assert.equal(h.waiting.length, 1);
  h.releaseDurable();
  assert.deepEqual(h.sent, ['ack 1']);
  assert.equal(h.waiting.length, 1);
  h.releaseDurable();
  assert.deepEqual(h.sent, ['ack 1', 'ack 3 multiple']);
  assert.equal(h.waiting.length, 0);
});

test('nothing is sent after stop()', async () => {
  const h = harness();
  h.confirms.accept(false);
  await h.flushMicrotasks();
  h.confirms.stop();
  h.releaseDurable();
  assert.deepEqual(h.sent, []);
});
