import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { QueueEntry } from '../../../src/broker/front-door.js';
import type { QueueView } from '../../../src/broker/queue-view.js';
import { InFlightTable } from '../../../src/sqs/in-flight.js';
import { sameInConstantTime } from '../../../src/sqs/constant-time.js';

/** Just what the table touches of a queue: its names, ack and reject. */
function fakeQueue(name: string): QueueView & { acked: QueueEntry[]; rejected: QueueEntry[] } {
  const acked: QueueEntry[] = [];
  const rejected: QueueEntry[] = [];
  return { name, vhost: { name: '/' }, acked, rejected, ack: (e: QueueEntry) => acked.push(e), reject: (e: QueueEntry) => rejected.push(e) } as unknown as QueueView & { acked: QueueEntry[]; rejected: QueueEntry[] };
}

const entries = (n: number): QueueEntry[] => Array.from({ length: n }, (_, seq) => ({ seq, redelivered: false, deliveryCount: 1 }) as unknown as QueueEntry);

const code = (error: unknown): string => (error as { code: string }).code;

test('receipt handles of one receive: each finds its own message, live until deleted, stale after', () => {
  const table = new InFlightTable(randomBytes(32));
  const queue = fakeQueue('q');
  const held = table.addAll(queue, entries(3), 30);
  assert.equal(new Set(held.map((m) => m.handle)).size, 3);
  for (const m of held) {
    const found = table.lookup(m.handle, queue);
    assert.equal(found.kind === 'live' && found.message, m);
  }
  table.delete(held[1]!);
  assert.deepEqual(queue.acked, [held[1]!.entry]);
  assert.equal(table.lookup(held[1]!.handle, queue).kind, 'stale', 'a genuine handle of a deleted message');
  table.returnAll();
  assert.equal(queue.rejected.length, 2);
});

test('forged and mangled receipt handles are ReceiptHandleIsInvalid; another table (restart) makes them stale, not live', () => {
  const secret = randomBytes(32);
  const table = new InFlightTable(secret);
  const queue = fakeQueue('q');
  const [first, second] = table.addAll(queue, entries(2), 30);
  const [id, scope, mac] = first!.handle.split('.') as [string, string, string];
  const invalid = [
    'forged',
    `${id}.${scope}`,
    `${id}.${scope}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
    `${Number(id) + 2}.${scope}.${mac}`, // outside the ids of its receive
    `${Number(id) - 1}.${scope}.${mac}`,
    `${first!.handle}.x`,
  ];
  for (const handle of invalid) assert.throws(() => table.lookup(handle, queue), (e) => code(e) === 'ReceiptHandleIsInvalid', handle);
  assert.throws(() => table.lookup(first!.handle, fakeQueue('other')), (e) => code(e) === 'ReceiptHandleIsInvalid', 'another queue');
  // The other id of the same receive, with the same scope, is that message's own handle.
  assert.equal(`${Number(id) + 1}.${scope}.${mac}`, second!.handle);
  const restarted = new InFlightTable(secret);
  assert.equal(restarted.lookup(first!.handle, queue).kind, 'stale');
  table.returnAll();
});

test('the messages of one receive share a visibility timer: deleted and changed ones leave it, the rest come back together', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const table = new InFlightTable(randomBytes(32));
  const queue = fakeQueue('q');
  const held = table.addAll(queue, entries(4), 30);
  table.delete(held[0]!);
  table.setVisibility(held[1]!, 60);
  t.mock.timers.tick(29_999);
  assert.equal(queue.rejected.length, 0, 'nothing before the deadline');
  t.mock.timers.tick(1);
  assert.deepEqual(queue.rejected, [held[2]!.entry, held[3]!.entry], 'the untouched ones, at the receive\'s deadline');
  assert.equal(table.lookup(held[1]!.handle, queue).kind, 'live', 'the changed one keeps its own, later deadline');
  t.mock.timers.tick(30_000);
  assert.deepEqual(queue.rejected, [held[2]!.entry, held[3]!.entry, held[1]!.entry]);
  assert.equal(table.size, 0);
});

test('every message of a receive deleted: its timer is cleared, nothing comes back', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const table = new InFlightTable(randomBytes(32));
  const queue = fakeQueue('q');
  const held = table.addAll(queue, entries(3), 30);
  for (const m of held) table.delete(m);
  t.mock.timers.tick(60_000);
  assert.equal(queue.rejected.length, 0);
  assert.equal(queue.acked.length, 3);
});

test('ApproximateFirstReceiveTimestamp: a message back from an expired visibility keeps its first receive time', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const table = new InFlightTable(randomBytes(32));
  const queue = fakeQueue('q');
  const [entry] = entries(1);
  const [first] = table.addAll(queue, [entry!], 10);
  assert.equal(first!.firstReceivedAt, 1_000_000);
  t.mock.timers.tick(10_000);
  assert.deepEqual(queue.rejected, [entry]);
  entry!.deliveryCount = 2; // the core counts the second hand-out
  const [second] = table.addAll(queue, [entry!], 10);
  assert.equal(second!.receivedAt, 1_010_000);
  assert.equal(second!.firstReceivedAt, 1_000_000);
  // Delivered before but never received through this table (e.g. over AMQP): this receive is its first seen.
  const [other] = entries(1);
  other!.deliveryCount = 3;
  assert.equal(table.addAll(queue, [other!], 10)[0]!.firstReceivedAt, 1_010_000);
  table.returnAll();
});

test('constant-time handle comparison', () => {
  assert.equal(sameInConstantTime('1.abc.def', '1.abc.def'), true);
  assert.equal(sameInConstantTime('1.abc.def', '1.abc.deg'), false);
  assert.equal(sameInConstantTime('1.abc.def', '1.abc.de'), false);
  assert.equal(sameInConstantTime('', ''), true);
});
