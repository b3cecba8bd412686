import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BatchedOutput } from '../../../src/mqtt/batched-output.js';

/** An output whose sink records every write (copied, so a later reuse of the memory would show). */
function recorded(): { output: BatchedOutput; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const output = new BatchedOutput((bytes) => writes.push(Buffer.from(bytes)));
  return { output, writes };
}

/** Writes `bytes` through reserve/commit, as the PUBLISH encoder does. */
function put(output: BatchedOutput, bytes: Buffer): void {
  const block = output.reserve(bytes.length);
  bytes.copy(block, output.reservedAt);
  output.commit(bytes.length);
}

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i * 7) & 0xff;
  return out;
}

test('reserved packets and ordinary writes leave in one write per turn, in the order they were made', async () => {
  const { output, writes } = recorded();
  const parts = [pattern(10, 1), pattern(3, 2), pattern(5000, 3), pattern(7, 4), pattern(4, 5)];
  put(output, parts[0]!);
  output.write(parts[1]!); // copied into the block
  output.write(parts[2]!); // longer than the copy limit: its own chunk between two block parts
  put(output, parts[3]!);
  output.write(parts[4]!);
  assert.equal(output.pending, 10 + 3 + 5000 + 7 + 4);
  assert.equal(writes.length, 0, 'nothing is written before the turn ends');
  await nextTurn();
  assert.equal(writes.length, 1);
  assert.deepEqual(writes[0], Buffer.concat(parts));
  assert.equal(output.pending, 0);
});

test('a reserve that does not fit the block starts another; what the first held comes first', async () => {
  const { output, writes } = recorded();
  const expected: Buffer[] = [];
  // 1 KiB blocks at first, doubling: 300-byte packets cross several block boundaries.
  for (let i = 0; i < 40; i++) {
    const packet = pattern(300, i);
    put(output, packet);
    expected.push(packet);
  }
  await nextTurn();
  assert.equal(writes.length, 1);
  assert.deepEqual(writes[0], Buffer.concat(expected));
});

test('a payload larger than any block gets a block of its own size', async () => {
  const { output, writes } = recorded();
  const small = pattern(20, 9);
  const huge = pattern(300 * 1024, 11);
  put(output, small);
  put(output, huge);
  put(output, small);
  await nextTurn();
  assert.deepEqual(writes[0], Buffer.concat([small, huge, small]));
});

test('commit keeps only what was written, not all that was reserved', async () => {
  const { output, writes } = recorded();
  const block = output.reserve(100);
  const at = output.reservedAt;
  block.write('abc', at);
  output.commit(3);
  output.write(Buffer.from('def'));
  await nextTurn();
  assert.equal(writes[0]!.toString(), 'abcdef');
});

test('bytes handed to the sink are not overwritten by later turns sharing the block', async () => {
  const sent: Buffer[] = [];
  // The sink keeps the very buffer it was given, as a socket does until the kernel took it.
  const output = new BatchedOutput((bytes) => sent.push(bytes));
  // 600 + 600 bytes: the second starts a 2 KiB block, whose rest serves the next (busy) turns.
  const turns = [[pattern(600, 1), pattern(600, 2)], [pattern(1100, 3)], [pattern(300, 4)]];
  for (const parts of turns) {
    for (const part of parts) put(output, part);
    await nextTurn();
  }
  assert.deepEqual(sent, turns.map((parts) => Buffer.concat(parts)));
  const [, second, third] = sent;
  // (ok, not equal: a failure would print both ArrayBuffers whole)
  assert.ok(third!.buffer === second!.buffer, 'a busy connection keeps filling the same block');
  assert.equal(third!.byteOffset, second!.byteOffset + second!.length);
});

test('flush writes at once and discard drops what was gathered', async () => {
  const { output, writes } = recorded();
  put(output, Buffer.from('now'));
  output.flush();
  assert.deepEqual(writes.map(String), ['now']);
  put(output, Buffer.from('never'));
  output.discard();
  assert.equal(output.pending, 0);
  await nextTurn();
  assert.deepEqual(writes.map(String), ['now']);
});
