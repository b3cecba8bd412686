/**
 * Field tables and arrays with RabbitMQ's type letters (https://www.rabbitmq.com/amqp-0-9-1-errata.html):
 *   t bool, b int8, B uint8, s int16, u uint16, I int32, i uint32, l int64, f float, d double,
 *   D decimal, S longstr, x byte array, A array, T timestamp, F table, V void.
 *
 * Decoding follows src/broker/message.ts: t S I d x A F V become plain JS values, every other type is
 * wrapped in a TypedValue so encoding it again gives back the same bytes. A 'd' holding a whole number
 * is wrapped too, since a plain whole number would re-encode as 'I'/'l'.
 */
import { TypedValue, type FieldTable, type FieldValue } from '../../broker/message.js';
// Types only: ByteReader.table and ByteWriter.table call into this module.
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { syntaxError } from './errors.js';

/** Nesting limit for tables/arrays: deep enough for any real header, far from the JS stack limit. */
export const MAX_FIELD_NESTING = 64;

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Reads key/value pairs until the reader's end (the caller has set `end` to the table's end). */
export function readFieldTableBody(r: ByteReader, depth = 0): FieldTable {
  if (depth > MAX_FIELD_NESTING) throw syntaxError('field table nested too deeply');
  const table: FieldTable = {};
  while (r.pos < r.end) {
    const key = r.shortstr();
    const value = readFieldValue(r, depth);
    if (key === '__proto__') {
      // A plain assignment would replace the object's prototype instead of adding a key.
      Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      table[key] = value;
    }
  }
  return table;
}

function readNested<T>(r: ByteReader, depth: number, body: (r: ByteReader, depth: number) => T): T {
  const len = r.u32();
  const at = r.take(len);
  const outerEnd = r.end;
  r.pos = at;
  r.end = at + len;
  const value = body(r, depth + 1);
  r.pos = at + len;
  r.end = outerEnd;
  return value;
}

function readArrayBody(r: ByteReader, depth: number): FieldValue[] {
  if (depth > MAX_FIELD_NESTING) throw syntaxError('field array nested too deeply');
  const values: FieldValue[] = [];
  while (r.pos < r.end) values.push(readFieldValue(r, depth));
  return values;
}

export function readFieldValue(r: ByteReader, depth: number): FieldValue {
  const tag = r.u8();
  switch (tag) {
    case 0x74: // t
      return r.u8() !== 0;
    case 0x53: // S
      return r.longstr();
    case 0x49: // I
      return r.i32();
    case 0x64: {
      // d
      const value = r.f64();
      return wouldEncodeAsDouble(value) ? value : new TypedValue('d', value);
    }
    case 0x78: // x
      return r.longbytes();
    case 0x41: // A
      return readNested(r, depth, readArrayBody);
    case 0x46: // F
      return readNested(r, depth, readFieldTableBody);
    case 0x56: // V
      return null;
    case 0x62: // b
      return new TypedValue('b', r.i8());
    case 0x42: // B
      return new TypedValue('B', r.u8());
    case 0x73: // s
      return new TypedValue('s', r.i16());
    case 0x75: // u
      return new TypedValue('u', r.u16());
    case 0x69: // i
      return new TypedValue('i', r.u32());
    case 0x6c: // l
    case 0x4c: // L: py-amqp (so kombu and Celery) sends it for big ints; RabbitMQ reads it as signed 64-bit too
      return new TypedValue('l', r.i64Exact());
    case 0x66: // f
      return new TypedValue('f', r.f32());
    case 0x44: {
      // D: scale octet, then an unsigned 32-bit value (as RabbitMQ and amqplib read it)
      const scale = r.u8();
      return new TypedValue('D', { scale, value: r.u32() });
    }
    case 0x54: // T
      return new TypedValue('T', r.u64Exact());
    default:
      throw syntaxError(`unknown field type 0x${tag.toString(16)}`);
  }
}

/** Writes a table with its 4-byte length prefix. Keys whose value is undefined are skipped. */
export function writeFieldTable(w: ByteWriter, table: FieldTable): void {
  const lengthAt = w.reserveLength();
  for (const key in table) {
    if (!Object.prototype.hasOwnProperty.call(table, key)) continue;
    const value = table[key];
    if (value === undefined) continue;
    w.shortstr(key);
    writeFieldValue(w, value);
  }
  w.patchLength(lengthAt);
}

function writeFieldArray(w: ByteWriter, values: readonly FieldValue[]): void {
  const lengthAt = w.reserveLength();
  for (const value of values) writeFieldValue(w, value === undefined ? null : value);
  w.patchLength(lengthAt);
}

export function writeFieldValue(w: ByteWriter, value: FieldValue): void {
  switch (typeof value) {
    case 'string':
      w.u8(0x53);
      w.longstr(value);
      return;
    case 'boolean':
      w.u8(0x74);
      w.u8(value ? 1 : 0);
      return;
    case 'number':
      writeNumber(w, value);
      return;
    case 'bigint':
      writeBigInt(w, value);
      return;
    default:
      writeObjectValue(w, value);
  }
}

/** Whether a plain number goes out as 'd'; a decoded double that would not is kept in a TypedValue. */
function wouldEncodeAsDouble(n: number): boolean {
  return !Number.isSafeInteger(n) || Object.is(n, -0);
}

/** Integer within int32 'I', other safe integer 'l', any other number 'd' (message.ts rules). */
function writeNumber(w: ByteWriter, n: number): void {
  if (!wouldEncodeAsDouble(n)) {
    if (n >= INT32_MIN && n <= INT32_MAX) {
      w.u8(0x49);
      w.i32(n);
      return;
    }
    w.u8(0x6c);
    w.i64(n);
    return;
  }
  w.u8(0x64);
  w.f64(n);
}

function writeBigInt(w: ByteWriter, n: bigint): void {
  if (n < INT64_MIN || n > INT64_MAX) throw new RangeError(`bigint ${n} does not fit a signed 64-bit field`);
  w.u8(0x6c);
  w.i64(n);
}

function writeObjectValue(w: ByteWriter, value: Buffer | null | TypedValue | FieldValue[] | FieldTable): void {
  if (value === null) {
    w.u8(0x56);
  } else if (value instanceof TypedValue) {
    writeTypedValue(w, value);
  } else if (value instanceof Uint8Array) {
    w.u8(0x78);
    w.longbytes(value);
  } else if (Array.isArray(value)) {
    w.u8(0x41);
    writeFieldArray(w, value);
  } else {
    w.u8(0x46);
    writeFieldTable(w, value);
  }
}

function typedNumber(v: TypedValue): number {
  const value = v.value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`TypedValue '${v.type}' needs a number`);
}

function writeTypedValue(w: ByteWriter, v: TypedValue): void {
  w.u8(v.type.charCodeAt(0));
  switch (v.type) {
    case 'b':
    case 'B':
      w.u8(typedNumber(v));
      return;
    case 's':
    case 'u':
      w.u16(typedNumber(v));
      return;
    case 'i':
      w.u32(typedNumber(v));
      return;
    case 'f':
      w.f32(typedNumber(v));
      return;
    case 'd':
      w.f64(typedNumber(v));
      return;
    case 'l':
    case 'T': {
      const value = v.value;
      if (typeof value === 'object') throw new TypeError(`TypedValue '${v.type}' needs a number or bigint`);
      if (v.type === 'l') w.i64(value);
      else w.u64(value);
      return;
    }
    case 'D': {
      const value = v.value;
      if (typeof value !== 'object') throw new TypeError("TypedValue 'D' needs {scale, value}");
      w.u8(value.scale);
      w.u32(value.value);
      return;
    }
  }
}
