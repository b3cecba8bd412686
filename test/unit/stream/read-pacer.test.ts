import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadPacer } from '../../../src/broker/stream/read-pacer.js';

const nextTurn = (pacer: ReadPacer): Promise<number> => new Promise((resolve) => pacer.defer(resolve));

test('a paced turn gives a slice while writers are active and the whole credit once they are gone', async () => {
  const pacer = new ReadPacer(7);
  assert.equal(pacer.writersActive, false);
  assert.equal(await nextTurn(pacer), Number.POSITIVE_INFINITY);
  pacer.noteWrites(3);
  assert.equal(pacer.writersActive, true);
  assert.equal(await nextTurn(pacer), 7);
  // Within the writers' window the slice stays, although nothing new was written.
  assert.equal(await nextTurn(pacer), 7);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(pacer.writersActive, false);
  assert.equal(await nextTurn(pacer), Number.POSITIVE_INFINITY);
});

test('every reader waiting for a turn gets it, once', async () => {
  const pacer = new ReadPacer(5);
  const budgets: number[] = [];
  const resume = (budget: number): void => void budgets.push(budget);
  pacer.noteWrites();
  pacer.defer(resume);
  pacer.defer(resume);
  pacer.defer((budget) => budgets.push(budget));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(budgets, [5, 5]);
});
