/** The per-connection shortcuts for repeated input: property blocks, short strings, and the confirm encoder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecodeError, FrameWriter, MethodId, encodeProperties, type Frame } from '../../../src/amqp/codec/index.js';
import { PropertiesDecoder } from '../../../src/amqp/codec/properties.js';
import { ShortStringMemo } from '../../../src/amqp/codec/short-strings.js';
import { collectingParser } from './frames-helper.js';
import { randomBytes, randomProperties, testSeed, withSeed } from './random.js';

/** Decodes `block` placed at an offset inside a larger buffer, as it sits in a socket chunk. */
function decodeAt(decoder: PropertiesDecoder, block: Buffer, offset = 5): void {
  const buf = Buffer.alloc(offset + block.length + 3, 0xee);
  block.copy(buf, offset);
  decoder.decode(buf, offset, offset + block.length);
}

test('a repeated property block hands out the same frozen object and bytes', () => {
  const decoder = new PropertiesDecoder();
  const block = encodeProperties({ contentType: 'text/plain', deliveryMode: 2, headers: { a: 1 } });
  decodeAt(decoder, block);
  const first = decoder.properties;
  const firstBytes = decoder.encoded;
  assert.equal(Object.isFrozen(first), false, 'not shared yet, so not frozen');
  decodeAt(decoder, block, 17);
  assert.equal(decoder.properties, first);
  assert.equal(decoder.encoded, firstBytes);
  assert.ok(Object.isFrozen(first));
  assert.ok(Object.isFrozen(first.headers));
  assert.deepEqual(Buffer.from(decoder.encoded), block);
  assert.throws(() => {
    (first as { deliveryMode?: number }).deliveryMode = 1;
  }, TypeError);
});

test('a block differing in any byte is decoded afresh, with the same result as a lone decode', () => {
  withSeed(testSeed(), (rng) => {
    const decoder = new PropertiesDecoder();
    let previous: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 500; i++) {
      const block = i % 3 === 0 && previous.length > 0 ? previous : encodeProperties(randomProperties(rng));
      decodeAt(decoder, block, i % 7);
      assert.deepEqual(Buffer.from(decoder.encoded), block);
      const fresh = new PropertiesDecoder();
      decodeAt(fresh, block);
      assert.deepEqual({ ...decoder.properties }, { ...fresh.properties });
      previous = block;
    }
  });
});

test('malformed properties fail even right after a valid block of the same length', () => {
  const decoder = new PropertiesDecoder();
  const good = encodeProperties({ deliveryMode: 2 });
  decodeAt(decoder, good);
  const bad = Buffer.from(good);
  bad[1] = 0x02; // flag bit 1: not a basic property
  assert.throws(() => decodeAt(decoder, bad), FrameDecodeError);
  decodeAt(decoder, good);
  assert.equal(decoder.properties.deliveryMode, 2);
});

test('content header frames with repeated properties share one properties object', () => {
  const w = new FrameWriter();
  const props = { contentType: 'application/json', headers: {} };
  for (let i = 0; i < 3; i++) w.writeContent(1, publish('rk'), props, undefined, Buffer.from('x'), 4096);
  w.writeContent(1, publish('rk'), { contentType: 'text/plain' }, undefined, Buffer.from('y'), 4096);
  const { parser, frames } = collectingParser();
  parser.push(Buffer.from(w.take()));
  const headers = frames.filter((f): f is Extract<Frame, { type: 2 }> => f.type === 2);
  assert.equal(headers.length, 4);
  assert.equal(headers[1]!.properties, headers[0]!.properties);
  assert.equal(headers[2]!.properties, headers[0]!.properties);
  assert.notEqual(headers[3]!.properties, headers[0]!.properties);
  assert.equal(headers[3]!.properties.contentType, 'text/plain');
  assert.deepEqual(headers[0]!.properties.headers, {});
});

function publish(routingKey: string) {
  return {
    id: MethodId.BasicPublish,
    args: { reserved1: 0, exchange: 'amq.direct', routingKey, mandatory: false, immediate: false },
  } as const;
}

test('remembered short strings come back right when they alternate, change or carry UTF-8', () => {
  const memo = new ShortStringMemo();
  const words = ['orders', 'amq.direct', 'orders', 'amq.direct', 'ordert', 'ørders', 'o', 'orders', 'x'.repeat(48)];
  for (const word of [...words, ...words.reverse()]) {
    const bytes = Buffer.from(`--${word}--`);
    const length = Buffer.byteLength(word);
    assert.equal(memo.decode(bytes, 2, length), word);
  }
});

test('basic.publish arguments decode the same with the parser remembering strings', () => {
  const w = new FrameWriter();
  const keys = ['a', 'b', 'a', 'a', 'c', 'b', 'é', ''];
  for (const key of keys) w.writeMethod(1, publish(key));
  const { parser, frames } = collectingParser();
  parser.push(Buffer.from(w.take()));
  const decoded = frames.map((f) => (f.type === 1 && f.method.id === MethodId.BasicPublish ? f.method.args.routingKey : '?'));
  assert.deepEqual(decoded, keys);
});

test('writeConfirm writes what writeMethod writes for basic.ack and basic.nack', () => {
  for (const [tag, multiple] of [
    [1, false],
    [2 ** 40 + 7, true],
  ] as const) {
    const fast = new FrameWriter();
    const generic = new FrameWriter();
    fast.writeConfirm(3, tag, multiple, true);
    generic.writeMethod(3, { id: MethodId.BasicAck, args: { deliveryTag: tag, multiple } });
    fast.writeConfirm(3, tag, multiple, false);
    generic.writeMethod(3, { id: MethodId.BasicNack, args: { deliveryTag: tag, multiple, requeue: false } });
    assert.deepEqual(fast.take(), generic.take());
  }
});

test('the one-piece deliver path writes what the generic path writes, strings repeating or not, across slabs', () => {
  withSeed(testSeed(), (rng) => {
    const tags = ['amq.ctag-AAAAAAAAAAAAAAAAAAAAAA', 'amq.ctag-BBBBBBBBBBBBBBBBBBBBBB', 'ctag-é', 'x'.repeat(300)];
    const keys = ['', 'orders', 'orders.eu', 'ключ', 'k'.repeat(260)];
    const fast = new FrameWriter();
    const generic = new FrameWriter();
    const fastOut: Buffer[] = [];
    const genericOut: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      // Runs of the same strings (the memo's case) broken up now and then.
      const pick = <T>(list: T[]): T => list[Math.floor(i / 7 + rng() * 1.3) % list.length]!;
      const properties = randomProperties(rng);
      const encoded = encodeProperties(properties);
      const body = randomBytes(rng, i % 50 === 0 ? 5000 : 200);
      const args = {
        consumerTag: pick(tags),
        deliveryTag: i % 11 === 0 ? 2 ** 40 + i : i + 1,
        redelivered: i % 3 === 0,
        exchange: pick(keys),
        routingKey: pick(keys.slice().reverse()),
      };
      const frameMax = i % 13 === 0 ? 4096 : 131072;
      fast.writeDeliver(2, args.consumerTag, args.deliveryTag, args.redelivered, args.exchange, args.routingKey, properties, encoded, body, frameMax);
      generic.writeContent(2, { id: MethodId.BasicDeliver, args }, properties, encoded, body, frameMax);
      if (i % 97 === 0) {
        fastOut.push(...fast.takeChunks().map((c) => Buffer.from(c)));
        genericOut.push(Buffer.from(generic.take()));
      }
    }
    fastOut.push(...fast.takeChunks());
    genericOut.push(generic.take());
    assert.deepEqual(Buffer.concat(fastOut), Buffer.concat(genericOut));
  });
});
