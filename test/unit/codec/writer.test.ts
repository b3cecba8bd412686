/** FrameWriter: batching, slab reuse safety, body splitting, by-reference bodies, the deliver fast path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BODY_BY_REFERENCE_BYTES, FrameWriter, MethodId, encodeProperties, type Method } from '../../../src/amqp/codec/index.js';
import { parsePieces } from './frames-helper.js';
import { randomBytes, randomProperties, testSeed, withSeed } from './random.js';

const deliver = (tag: number): Method => ({
  id: MethodId.BasicDeliver,
  args: { consumerTag: 'ctag-1', deliveryTag: tag, redelivered: tag % 2 === 0, exchange: 'ex', routingKey: 'rk' },
});

test('bytes returned by take() are never overwritten by later writes', () => {
  withSeed(testSeed(), (rng) => {
    const w = new FrameWriter();
    const taken: Array<[Buffer, Buffer]> = [];
    for (let i = 0; i < 300; i++) {
      w.writeContent(1, deliver(i), randomProperties(rng), undefined, randomBytes(rng, 3000), 4096);
      if (i % 3 === 0) {
        const out = w.take();
        taken.push([out, Buffer.from(out)]);
      }
    }
    taken.push([w.take(), Buffer.alloc(0)]);
    for (const [out, copy] of taken.slice(0, -1)) assert.deepEqual(out, copy);
    assert.equal(w.length, 0);
  });
});

test('length counts untaken bytes; take() empties the writer', () => {
  const w = new FrameWriter();
  w.writeHeartbeat();
  w.writeHeartbeat();
  assert.equal(w.length, 16);
  assert.equal(w.take().length, 16);
  assert.equal(w.length, 0);
  assert.equal(w.take().length, 0);
});

test('bodies split into frameMax - 8 byte frames', () => {
  const w = new FrameWriter();
  w.writeContent(2, deliver(1), {}, undefined, Buffer.alloc(10000, 7), 4096);
  const frames = parsePieces([w.take()], 4096);
  const sizes = frames.filter((f) => f.type === 3).map((f) => (f.type === 3 ? f.payload.length : 0));
  assert.deepEqual(sizes, [4088, 4088, 1824]);
});

test('an empty body has no body frames', () => {
  const w = new FrameWriter();
  w.writeContent(2, deliver(1), {}, undefined, Buffer.alloc(0), 4096);
  assert.deepEqual(
    parsePieces([w.take()]).map((f) => f.type),
    [1, 2],
  );
});

test('large bodies are passed by reference, and take() still returns the whole batch', () => {
  const body = Buffer.alloc(BODY_BY_REFERENCE_BYTES * 2 + 5, 1);
  const w = new FrameWriter();
  w.writeContent(1, deliver(9), {}, undefined, body, 131072);
  w.writeHeartbeat();
  const chunks = w.takeChunks();
  assert.ok(chunks.some((c) => c.buffer === body.buffer), 'body shared, not copied');
  const all = Buffer.concat(chunks);
  const frames = parsePieces([all], 131072);
  assert.deepEqual(frames.at(-1), { type: 8, channel: 0 });
  const payload = Buffer.concat(frames.flatMap((f) => (f.type === 3 ? [f.payload] : [])));
  assert.deepEqual(payload, body);

  w.writeContent(1, deliver(10), {}, undefined, body, 131072);
  assert.equal(w.take().length, all.length - 8);
});

test('writeDeliver writes exactly what writeContent writes for basic.deliver', () => {
  withSeed(testSeed(), (rng) => {
    for (let i = 0; i < 100; i++) {
      const properties = randomProperties(rng);
      const body = randomBytes(rng, 300);
      const method = deliver(i * 1_000_003);
      if (method.id !== MethodId.BasicDeliver) throw new Error('unreachable');
      const a = method.args;
      const expected = new FrameWriter();
      expected.writeContent(5, method, properties, undefined, body, 4096);
      const fast = new FrameWriter();
      fast.writeDeliver(5, a.consumerTag, a.deliveryTag, a.redelivered, a.exchange, a.routingKey, properties, undefined, body, 4096);
      assert.deepEqual(fast.take(), expected.take());
    }
  });
});

test('encodedProperties are copied verbatim instead of re-encoding properties', () => {
  const encoded = encodeProperties({ contentType: 'text/plain', headers: { a: 1 } });
  const w = new FrameWriter();
  w.writeContent(1, deliver(1), { contentType: 'ignored' }, encoded, Buffer.from('hi'), 4096);
  const [, header] = parsePieces([w.take()]);
  assert.ok(header && header.type === 2);
  assert.deepEqual(header.encodedProperties, encoded);
  assert.equal(header.properties.contentType, 'text/plain');
});

test('a frameMax too small for any body is refused', () => {
  const w = new FrameWriter();
  assert.throws(() => w.writeBody(1, Buffer.from('x'), 8), RangeError);
});
