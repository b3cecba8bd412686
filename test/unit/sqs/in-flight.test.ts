import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { QueueEntry } from '../../../src/broker/front-door.js';
import type { QueueView } from '../../../src/broker/queue-view.js';
import { InFlightTable } from '../../../src/sqs/in-flight.js';

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
