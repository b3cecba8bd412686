import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionOf } from '../../../src/broker/stream/super-stream.js';
import { murmur3 } from '../../../src/util/murmur3.js';

test('super streams hash with MurmurHash3 x86 32-bit (reference vectors, seed 0) and spread keys over partitions', () => {
  const vectors: Array<[string, number]> = [['', 0], ['a', 0x3c2569b2], ['abc', 0xb3dd93fa], ['hello', 0x248bfa47], ['The quick brown fox jumps over the lazy dog', 0x2e4ff723]];
  for (const [text, hash] of vectors) assert.equal(murmur3(Buffer.from(text), 0), hash, text);
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[partitionOf(`key-${i}`, 3)]!++;
  assert.ok(counts.every((n) => n > 800), `spread: ${counts.join(', ')}`);
});
