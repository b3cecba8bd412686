import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaDecodeError, Reader } from '../../../src/kafka/protocol/reader.js';
import { Writer } from '../../../src/kafka/protocol/writer.js';

test('fixed-width integers round-trip big-endian', () => {
  const w = new Writer();
  w.int8(-5).int16(-300).int32(-70000).uint32(0xfffffffe).int64(-(2n ** 62n)).int64Number(1_700_000_000_123).int64Number(-1).float64(1.5).boolean(true);
  const buffer = w.toBuffer();
  assert.equal(buffer.readInt16BE(1), -300, 'int16 is big-endian');
  const r = new Reader(buffer);
  assert.equal(r.int8(), -5);
  assert.equal(r.int16(), -300);
  assert.equal(r.int32(), -70000);
  assert.equal(r.uint32(), 0xfffffffe);
  assert.equal(r.int64(), -(2n ** 62n));
  assert.equal(r.int64Number(), 1_700_000_000_123);
  assert.equal(r.int64Number(), -1);
  assert.equal(r.float64(), 1.5);
  assert.equal(r.boolean(), true);
  assert.equal(r.remaining, 0);
});

test('varints use zigzag as the Kafka record format does (protobuf sint32/sint64)', () => {
  // Known encodings: 0 -> 00, -1 -> 01, 1 -> 02, -64 -> 7f, 64 -> 80 01, 300 -> d8 04.
  const cases: Array<[number, string]> = [[0, '00'], [-1, '01'], [1, '02'], [-64, '7f'], [64, '8001'], [300, 'd804']];
  for (const [value, hex] of cases) {
    assert.equal(new Writer().varint(value).toBuffer().toString('hex'), hex, `varint ${value}`);
    assert.equal(new Reader(Buffer.from(hex, 'hex')).varint(), value);
  }
  for (const value of [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 1_700_000_000_000, -1_700_000_000_000, 2 ** 50]) {
    assert.equal(new Reader(new Writer().varlong(value).toBuffer()).varlong(), value, `varlong ${value}`);
  }
  assert.equal(new Writer().uvarint(0xffffffff).toBuffer().toString('hex'), 'ffffffff0f');
  assert.equal(new Reader(Buffer.from('ffffffff0f', 'hex')).uvarint(), 0xffffffff);
});

test('classic strings, bytes and arrays: int16/int32 lengths, -1 is null', () => {
  const w = new Writer(false);
  w.string('héllo').nullableString(null).bytes(Buffer.from([1, 2, 3])).bytes(null).array([7, 8], (x, v) => x.int32(v)).array(null, () => undefined);
  const buffer = w.toBuffer();
  assert.equal(buffer.readInt16BE(0), 6, 'utf8 byte length');
  const r = new Reader(buffer, false);
  assert.equal(r.string(), 'héllo');
  assert.equal(r.nullableString(), null);
  assert.deepEqual(r.bytes(), Buffer.from([1, 2, 3]));
  assert.equal(r.bytes(), null);
  assert.deepEqual(r.array((x) => x.int32()), [7, 8]);
  assert.equal(r.arrayLength(), -1);
  assert.equal(r.remaining, 0);
});

test('compact forms in flexible mode: unsigned varint of length + 1, 0 is null; tagged fields', () => {
  const w = new Writer(true);
  w.string('abc').nullableString(null).bytes(Buffer.alloc(2)).array([1], (x, v) => x.int8(v)).taggedFields(new Map([[5, Buffer.from('zz')], [1, Buffer.from('y')]]));
  const buffer = w.toBuffer();
  assert.equal(buffer.toString('hex', 0, 4), '04616263', 'length + 1 then the bytes');
  const r = new Reader(buffer, true);
  assert.equal(r.string(), 'abc');
  assert.equal(r.nullableString(), null);
  assert.deepEqual(r.bytes(), Buffer.alloc(2));
  assert.deepEqual(r.array((x) => x.int8()), [1]);
  const tags = r.taggedFields();
  assert.deepEqual([...tags.keys()], [1, 5], 'written in tag order');
  assert.equal(tags.get(5)?.toString(), 'zz');
  assert.equal(r.remaining, 0);
  // A non-flexible reader/writer has no tagged fields at all.
  assert.equal(new Writer(false).taggedFields().size, 0);
  assert.equal(new Reader(Buffer.alloc(0), false).taggedFields().size, 0);
});

test('reading past the end, negative lengths and lying counts throw KafkaDecodeError', () => {
  assert.throws(() => new Reader(Buffer.alloc(3)).int32(), KafkaDecodeError);
  assert.throws(() => new Reader(Buffer.from([0, 10, 65])).classicString(), KafkaDecodeError);
  assert.throws(() => new Reader(Buffer.from([0xff, 0xfe])).classicString(), KafkaDecodeError, 'length -2');
  assert.throws(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).classicArrayLength(), KafkaDecodeError, 'count larger than the bytes left');
  assert.throws(() => new Reader(Buffer.from('ffffffffff01', 'hex')).uvarint(), KafkaDecodeError, 'over 5 bytes');
  assert.throws(() => new Reader(Buffer.from('0a', 'hex'), true).compactString(), KafkaDecodeError);
  assert.throws(() => new Reader(Buffer.from('ffff', 'hex')).classicString(), KafkaDecodeError, 'null where required');
  const bounded = new Reader(Buffer.alloc(10), false, 2, 4);
  bounded.int16();
  assert.throws(() => bounded.int8(), KafkaDecodeError, 'a reader stops at its end, not the buffer end');
});

test('large byte fields are referenced, not copied, and patching writes into the written bytes', () => {
  const big = Buffer.alloc(10_000, 1);
  const w = new Writer(false);
  w.int32(0).classicNullableBytes(big).int16(7);
  w.patchInt32(0, w.size - 4);
  const chunks = w.toChunks();
  assert.ok(chunks.includes(big), 'the large buffer is one of the chunks');
  const whole = w.toBuffer();
  assert.equal(whole.readInt32BE(0), whole.length - 4);
  assert.equal(whole.readInt32BE(4), 10_000);
  assert.equal(whole.readInt16BE(whole.length - 2), 7);
});

test('the writer grows across its initial size in every kind of write', () => {
  const w = new Writer(true, 8);
  for (let i = 0; i < 300; i++) w.int8(1).int16(2).int32(3).int64Number(4).uvarint(300).string('abc').int64(5n).float64(6);
  const r = new Reader(w.toBuffer(), true);
  for (let i = 0; i < 300; i++) {
    assert.deepEqual([r.int8(), r.int16(), r.int32(), r.int64Number(), r.uvarint(), r.string(), r.int64(), r.float64()], [1, 2, 3, 4, 300, 'abc', 5n, 6]);
  }
});
