import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadyList } from '../../../src/broker/queue/ready-list.js';

const item = (seq: number) => ({ seq });
const seqs = (list: ReadyList<{ seq: number }>) => [...list].map((i) => i.seq);

test('ReadyList is a FIFO that grows across wrap-around', () => {
  const list = new ReadyList<{ seq: number }>();
  for (let i = 0; i < 10; i++) list.push(item(i));
  for (let i = 0; i < 8; i++) assert.equal(list.shift()!.seq, i);
  for (let i = 10; i < 60; i++) list.push(item(i)); // wraps, then grows
  assert.equal(list.length, 52);
  assert.deepEqual(seqs(list), Array.from({ length: 52 }, (_, i) => i + 8));
  assert.equal(list.clear(), 52);
  assert.equal(list.shift(), undefined);
});

test('ReadyList.insertBySeq keeps seq order for random insertions', () => {
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const list = new ReadyList<{ seq: number }>();
  const inserted: number[] = [];
  for (let round = 0; round < 500; round++) {
    if (next() < 0.25 && list.length > 0) {
      const removed = list.shift()!.seq;
      inserted.splice(inserted.indexOf(removed), 1);
    } else {
      const seq = Math.floor(next() * 1_000_000);
      if (inserted.includes(seq)) continue;
      list.insertBySeq(item(seq));
      inserted.push(seq);
    }
  }
  inserted.sort((a, b) => a - b);
  assert.deepEqual(seqs(list), inserted);
});
