import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodySlab, SLAB_COPY_MAX_BYTES } from '../../../src/amqp/channel/body-slab.js';

test('copies stay intact across slab refills, and do not share bytes with their source', () => {
  const slab = new BodySlab();
  const kept: Array<{ copy: Buffer; original: Buffer }> = [];
  for (let i = 0; i < 5000; i++) {
    const original = Buffer.alloc(i % (SLAB_COPY_MAX_BYTES + 1), i & 0xff);
    const copy = slab.copy(original);
    kept.push({ copy, original: Buffer.from(original) });
    original.fill(0xee); // the socket chunk is reused or freed: the copy must not change
  }
  for (const { copy, original } of kept) assert.ok(copy.equals(original));
});
