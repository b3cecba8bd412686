import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfirmTracker } from '../../../src/perf/confirm-tracker.js';

describe('ConfirmTracker', () => {
  it('settles multiple acks up to a tag, skipping tags already settled singly', () => {
    const t = new ConfirmTracker(16);
    t.published(10);
    assert.equal(t.settle(3, false, true), 1);
    assert.equal(t.settle(5, true, true), 4); // 1, 2, 4, 5
    assert.equal(t.outstanding, 5);
    assert.equal(t.settle(7, false, false), 1);
    assert.equal(t.settle(10, true, true), 4); // 6, 8, 9, 10
    assert.equal(t.outstanding, 0);
    assert.equal(t.acked, 9);
    assert.equal(t.nacked, 1);
  });

  it('ignores duplicate and unknown tags', () => {
    const t = new ConfirmTracker(16);
    t.published(2);
    assert.equal(t.settle(1, false, true), 1);
    assert.equal(t.settle(1, false, true), 0);
    assert.equal(t.settle(99, false, true), 0);
    assert.equal(t.settle(99, true, true), 1);
    assert.equal(t.outstanding, 0);
  });

  it('grows past its initial capacity without losing outstanding tags', () => {
    const t = new ConfirmTracker(16);
    t.published(10);
    t.settle(4, true, true);
    t.published(100); // 106 outstanding > 16 slots
    assert.equal(t.outstanding, 106);
    assert.equal(t.settle(50, false, true), 1);
    assert.equal(t.settle(110, true, true), 105);
    assert.equal(t.outstanding, 0);
  });
});
