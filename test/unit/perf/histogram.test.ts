import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyHistogram } from '../../../src/perf/histogram.js';

describe('LatencyHistogram', () => {
  it('is exact below 1024 µs', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    assert.equal(h.percentile(50), 50);
    assert.equal(h.percentile(99), 99);
    assert.equal(h.summary().max, 100);
    assert.equal(h.summary().mean, 50.5);
  });

  it('stays within 1.6 % above 1024 µs and never reports below the true value', () => {
    for (const v of [1500, 12_345, 987_654, 45_000_000]) {
      const h = new LatencyHistogram();
      h.record(v);
      h.record(v * 10); // the max clamps percentiles; keep it out of the way
      const p = h.percentile(50);
      assert.ok(p >= v && p <= v * 1.016, `${v} -> ${p}`);
    }
  });

  it('weights repeated samples and merges snapshots like one histogram', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(10, 90);
    b.record(5000, 10);
    a.merge(b.snapshot());
    assert.equal(a.count, 100);
    assert.equal(a.percentile(90), 10);
    assert.ok(a.percentile(91) >= 5000);
    assert.equal(a.summary().max, 5000);
  });

  it('reports zeros when empty and after reset', () => {
    const h = new LatencyHistogram();
    assert.deepEqual(h.summary(), { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
    h.record(7);
    h.reset();
    assert.equal(h.summary().count, 0);
  });
});
