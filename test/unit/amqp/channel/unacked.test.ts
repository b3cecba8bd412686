import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueueEntry } from '../../../../src/broker/front-door.js';
import type { Queue } from '../../../../src/broker/queue.js';
import { UnackedLedger, type UnackedVisitor } from '../../../../src/amqp/channel/unacked.js';

const queue = {} as Queue;
const entry = (seq: number) => ({ seq }) as unknown as QueueEntry;

function ledgerWith(tags: number[]): UnackedLedger<string> {
  const ledger = new UnackedLedger<string>();
  for (const tag of tags) ledger.push(tag, entry(tag), queue, `c${tag}`);
  return ledger;
}

function collector(): UnackedVisitor<string> & { tags: number[] } {
  const tags: number[] = [];
  return { tags, visit: (tag) => tags.push(tag) };
}

test('removeOne takes exactly that tag; unknown and repeated tags are refused', () => {
  const ledger = ledgerWith([1, 2, 3, 4]);
  const seen = collector();
  assert.equal(ledger.removeOne(3, seen), true);
  assert.equal(ledger.removeOne(3, seen), false);
  assert.equal(ledger.removeOne(99, seen), false);
  assert.deepEqual(seen.tags, [3]);
  assert.equal(ledger.size, 3);
});

test('removeUpTo takes everything up to the tag in order, and needs the tag itself outstanding', () => {
  const ledger = ledgerWith([1, 2, 3, 4, 5]);
  const seen = collector();
  ledger.removeOne(2, seen);
  assert.equal(ledger.removeUpTo(2, seen), false, 'tag 2 is no longer outstanding');
  assert.equal(ledger.removeUpTo(4, seen), true);
  assert.deepEqual(seen.tags, [2, 1, 3, 4]);
  assert.equal(ledger.size, 1);
  assert.equal(ledger.has(5), true);
});

test('restore puts an entry back at its place by tag', () => {
  const ledger = ledgerWith([1, 2, 3]);
  const seen = collector();
  ledger.removeOne(2, seen);
  ledger.restore(2, entry(2), queue, 'c2');
  const all = collector();
  ledger.removeAll(all);
  assert.deepEqual(all.tags, [1, 2, 3]);
  assert.equal(ledger.size, 0);
});

test('stays correct when acks in order make it compact while entries remain', () => {
  const ledger = ledgerWith(Array.from({ length: 3000 }, (_, i) => i + 1));
  const seen = collector();
  for (let tag = 1; tag <= 2000; tag++) assert.equal(ledger.removeOne(tag, seen), true);
  assert.equal(ledger.size, 1000);
  assert.equal(ledger.has(2000), false);
  assert.equal(ledger.removeOne(2500, seen), true);
  assert.equal(ledger.removeUpTo(2600, seen), true);
  ledger.push(3001, entry(3001), queue, 'c');
  const rest = collector();
  ledger.removeAll(rest);
  assert.deepEqual(rest.tags, [...Array.from({ length: 400 }, (_, i) => 2601 + i), 3001]);
  assert.deepEqual(seen.tags.slice(2000, 2003), [2500, 2001, 2002]);
  assert.equal(seen.tags.length, 2000 + 1 + 599);
});
