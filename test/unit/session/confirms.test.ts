import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DurabilityBarrier } from '../../../src/session/durability.js';
import { PublisherConfirms } from '../../../src/session/confirms.js';

/** A barrier whose durability the test releases by hand. */
function manualBarrier(): DurabilityBarrier & { waiting: (() => void)[]; release(): void } {
  const waiting: (() => void)[] = [];
  return { waiting, whenDurable: (cb) => void waiting.push(cb), release: () => waiting.splice(0).forEach((cb) => cb()) };
}

function harness() {
  const barrier = manualBarrier();
  const waiting = barrier.waiting;
  const broker = barrier;
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

test('publishes accepted while a batch waits get their own wait at once and are acked after it', async () => {
  const h = harness();
  h.confirms.accept(false);
  await h.flushMicrotasks();
  h.confirms.accept(false);
  h.confirms.accept(false);
  await h.flushMicrotasks();
  assert.equal(h.waiting.length, 2, 'the second batch does not wait for the first to be settled');
  const [first, second] = h.waiting.splice(0);
  second!();
  assert.deepEqual(h.sent, [], 'a later batch durable first is held back');
  first!();
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

test('a publish that joined another barrier is acked only when both are durable', async () => {
  const h = harness();
  const remote = manualBarrier();
  h.confirms.accept(false);
  h.confirms.join(remote);
  h.confirms.accept(false);
  await h.flushMicrotasks();
  h.releaseDurable();
  assert.deepEqual(h.sent, [], 'the local store alone is not enough');
  remote.release();
  assert.deepEqual(h.sent, ['ack 2 multiple']);
  // The next batch touched only the local store: the remote barrier is not waited for again.
  h.confirms.accept(false);
  await h.flushMicrotasks();
  h.releaseDurable();
  assert.deepEqual(h.sent, ['ack 2 multiple', 'ack 3']);
  assert.equal(remote.waiting.length, 0);
});
