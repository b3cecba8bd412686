/**
 * Expected bytes: our encodings against amqplib's own codec (an independent implementation used only
 * here, as an oracle), plus hand-written vectors from the spec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { TypedValue, type BasicProperties, type FieldTable, type FieldValue } from '../../../src/broker/message.js';
import {
  FrameWriter,
  allMethodIds,
  decodeFieldTable,
  encodeFieldTable,
  methodNames,
  methodSchemas,
  MethodId,
  type Method,
} from '../../../src/amqp/codec/index.js';
import { randomMethod, randomProperties, testSeed, withSeed } from './random.js';
import { parsePieces } from './frames-helper.js';

interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  info(id: number): { name: string; args: Array<{ name: string; type: string }> };
}
interface AmqplibCodec {
  encodeTable(buffer: Buffer, value: Record<string, unknown>, offset: number): number;
}
const require = createRequire(import.meta.url);
const defs = require('amqplib/lib/defs.js') as AmqplibDefs;
const amqplibCodec = require('amqplib/lib/codec.js') as AmqplibCodec;

const TYPE_NAMES: Record<TypedValue['type'], string> = {
  b: 'int8',
  B: 'uint8',
  s: 'int16',
  u: 'uint16',
  i: 'uint32',
  l: 'int64',
  d: 'double',
  f: 'float',
  D: 'decimal',
  T: 'timestamp',
};

/** amqplib cannot write 64-bit values beyond 2^53; keep our values in its range. */
function withinAmqplibRange(value: FieldValue): FieldValue {
  if (value instanceof TypedValue) return typeof value.value === 'bigint' ? new TypedValue(value.type, 12345) : value;
  if (Array.isArray(value)) return value.map(withinAmqplibRange);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return mapTable(value, withinAmqplibRange);
  return value;
}

/** The same value in amqplib's notation ({'!': type, value} for explicit types). */
function toAmqplib(value: FieldValue): unknown {
  if (typeof value === 'number') {
    const isInt32 = Number.isInteger(value) && !Object.is(value, -0) && value >= -(2 ** 31) && value < 2 ** 31;
    return { '!': isInt32 ? 'int32' : 'double', value };
  }
  if (value instanceof TypedValue) {
    const v = value.value;
    const inner = typeof v === 'object' && typeof v !== 'bigint' ? { places: v.scale, digits: v.value } : v;
    return { '!': TYPE_NAMES[value.type], value: inner };
  }
  if (Array.isArray(value)) return value.map(toAmqplib);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return mapTable(value, toAmqplib);
  return value;
}

function mapTable<T>(table: FieldTable, f: (v: FieldValue) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(table)) out[k] = f(v);
  return out;
}

function amqplibFields(method: Method): Record<string, unknown> {
  const info = defs.info(method.id).args;
  const schema = methodSchemas[method.id];
  const args = method.args as unknown as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  schema.forEach((field, i) => {
    const name = info[i]!.name;
    const value = args[field.name];
    if (field.kind === 'longstr') fields[name] = Buffer.from(value as string);
    else if (field.kind === 'table') fields[name] = toAmqplib(value as FieldTable);
    else fields[name] = value;
  });
  return fields;
}

function sanitize(method: Method): Method {
  const args = { ...(method.args as unknown as Record<string, unknown>) };
  for (const field of methodSchemas[method.id]) {
    if (field.kind === 'table') args[field.name] = withinAmqplibRange(args[field.name] as FieldTable);
  }
  return { id: method.id, args } as Method;
}

function ours(write: (w: FrameWriter) => void): Buffer {
  const w = new FrameWriter();
  write(w);
  return w.take();
}

test('every method encodes to the same bytes as amqplib', () => {
  withSeed(testSeed(), (rng) => {
    for (const id of allMethodIds) {
      assert.equal(defs.info(id).args.length, methodSchemas[id].length, methodNames[id]);
      for (let i = 0; i < 20; i++) {
        const method = sanitize(randomMethod(rng, id));
        const channel = i * 997 % 65536;
        const expected = defs.encodeMethod(id, channel, amqplibFields(method));
        assert.deepEqual(ours((w) => w.writeMethod(channel, method)), expected, methodNames[id]);
      }
    }
  });
});

test('content headers encode to the same bytes as amqplib', () => {
  withSeed(testSeed(), (rng) => {
    for (let i = 0; i < 300; i++) {
      const p = randomProperties(rng);
      if (p.headers) p.headers = withinAmqplibRange(p.headers) as FieldTable;
      const fields: Record<string, unknown> = { ...p };
      if (p.headers) fields['headers'] = toAmqplib(p.headers);
      const size = Math.floor(rng() * 2 ** 40);
      const expected = defs.encodeProperties(60, 3, size, fields);
      assert.deepEqual(ours((w) => w.writeContentHeader(3, 60, p, undefined, size)), expected);
    }
  });
});

test('field tables encode to the same bytes as amqplib', () => {
  withSeed(testSeed(), (rng) => {
    for (let i = 0; i < 300; i++) {
      const props = randomProperties(rng);
      const table = withinAmqplibRange(props.headers ?? { k: 'v' }) as FieldTable;
      const scratch = Buffer.alloc(1 << 20);
      const n = amqplibCodec.encodeTable(scratch, toAmqplib(table) as Record<string, unknown>, 0);
      assert.deepEqual(encodeFieldTable(table), scratch.subarray(0, n));
    }
  });
});

test('hand-written vectors', () => {
  assert.deepEqual(ours((w) => w.writeHeartbeat()), Buffer.from('08000000000000ce', 'hex'));
  // basic.publish ch 1, exchange "", routing key "q", mandatory: bits share one octet, mandatory = bit 0.
  const publish: Method = {
    id: MethodId.BasicPublish,
    args: { reserved1: 0, exchange: '', routingKey: 'q', mandatory: true, immediate: false },
  };
  assert.deepEqual(ours((w) => w.writeMethod(1, publish)), Buffer.from('0100010000000a003c00280000000171' + '01ce', 'hex'));
  // queue.declare "a", durable + auto-delete = bits 1 and 3 of one octet, then an empty table.
  const declare: Method = {
    id: MethodId.QueueDeclare,
    args: { reserved1: 0, queue: 'a', passive: false, durable: true, exclusive: false, autoDelete: true, noWait: false, arguments: {} },
  };
  assert.deepEqual(
    ours((w) => w.writeMethod(5, declare)),
    Buffer.from('0100050000000d' + '0032000a' + '0000' + '0161' + '0a' + '00000000' + 'ce', 'hex'),
  );
  // {a: 1} -> 'I', {b: 'x'} -> 'S', {c: true} -> 't'
  assert.deepEqual(encodeFieldTable({ a: 1 }), Buffer.from('00000007' + '0161' + '49' + '00000001', 'hex'));
  assert.deepEqual(
    encodeFieldTable({ b: 'x', c: true }),
    Buffer.from('0000000c' + '0162' + '53' + '00000001' + '78' + '0163' + '74' + '01', 'hex'),
  );
  // A content header with delivery-mode 2 only: flag bit 12 = 0x1000.
  const header = ours((w) => w.writeContentHeader(1, 60, { deliveryMode: 2 }, undefined, 5));
  assert.deepEqual(header, Buffer.from('0200010000000f' + '003c' + '0000' + '0000000000000005' + '1000' + '02' + 'ce', 'hex'));
});

test('native values encode per the message.ts rules', () => {
  const cases: Array<[FieldValue, string]> = [
    [2 ** 31 - 1, '497fffffff'],
    [-(2 ** 31), '4980000000'],
    [2 ** 31, '6c0000000080000000'],
    [-(2 ** 40), '6cffffff0000000000'],
    [1.5, '643ff8000000000000'],
    [2 ** 53, '644340000000000000'],
    [-0, '648000000000000000'],
    [5n, '6c0000000000000005'],
    [Buffer.from([1, 2]), '78000000020102'],
    [null, '56'],
    [[true, 'a'], '41000000087401530000000161'],
    [{}, '4600000000'],
  ];
  for (const [value, hex] of cases) {
    const table = encodeFieldTable({ k: value });
    assert.equal(table.subarray(4 + 2).toString('hex'), hex, String(value));
  }
});

test('amqplib-encoded frames decode to the values they were made from', () => {
  withSeed(testSeed(), (rng) => {
    const props: BasicProperties = randomProperties(rng);
    props.headers = undefined;
    const bytes = defs.encodeProperties(60, 9, 42, { ...props });
    const [frame] = parsePieces([bytes]);
    assert.ok(frame && frame.type === 2);
    assert.deepEqual(frame.properties, props);
    assert.equal(frame.bodySize, 42);
    const table = { n: { '!': 'int8', value: -3 }, s: 'str', nested: { x: [1.5] } };
    const scratch = Buffer.alloc(1024);
    const n = amqplibCodec.encodeTable(scratch, table, 0);
    assert.deepEqual(decodeFieldTable(scratch.subarray(0, n)), { n: new TypedValue('b', -3), s: 'str', nested: { x: [1.5] } });
  });
});
