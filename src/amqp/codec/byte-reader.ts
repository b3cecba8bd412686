import type { FieldTable } from '../../broker/message.js';
import { syntaxError } from './errors.js';
import { readFieldTableBody } from './field-table.js';
import { REMEMBERED_MAX_BYTES, ShortStringMemo } from './short-strings.js';

const TWO_32 = 4294967296;

/**
 * A bounds-checked cursor over one frame payload (or one encoded table). Every read past `end` throws
 * a 502 FrameDecodeError, so malformed input can never read a neighbouring frame or throw RangeError.
 * The parser reuses one reader for all frames: `reset` re-aims it without allocating.
 *
 * Buffers returned by `longbytes` (and 'x' table values) are views of `buf`, not copies.
 */
export class ByteReader {
  buf: Buffer;
  pos: number;
  end: number;
  private memo: ShortStringMemo | undefined = undefined;

  constructor(buf: Buffer = Buffer.alloc(0), pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  reset(buf: Buffer, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Claims n bytes and returns where they start. */
  take(n: number): number {
    const at = this.pos;
    if (n > this.end - at) throw syntaxError(`truncated: needed ${n} bytes, ${this.end - at} left`);
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.buf[this.take(1)]!;
  }

  i8(): number {
    return (this.u8() << 24) >> 24;
  }

  u16(): number {
    const at = this.take(2);
    const b = this.buf;
    return (b[at]! << 8) | b[at + 1]!;
  }

  i16(): number {
    return (this.u16() << 16) >> 16;
  }

  u32(): number {
    const at = this.take(4);
    const b = this.buf;
    return (b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!));
  }

  i32(): number {
    const at = this.take(4);
    const b = this.buf;
    return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  }

  /** Unsigned 64-bit as a number: exact below 2^53, which covers delivery tags and sizes in practice. */
  u64(): number {
    const hi = this.u32();
    return hi * TWO_32 + this.u32();
  }

  /** Unsigned 64-bit, as a bigint when a number would lose precision. */
  u64Exact(): number | bigint {
    const at = this.pos;
    const n = this.u64();
    return Number.isSafeInteger(n) ? n : this.buf.readBigUInt64BE(at);
  }

  /** Signed 64-bit, as a bigint when a number would lose precision. */
  i64Exact(): number | bigint {
    const at = this.pos;
    const hi = this.i32();
    const n = hi * TWO_32 + this.u32();
    return Number.isSafeInteger(n) ? n : this.buf.readBigInt64BE(at);
  }

  f32(): number {
    return this.buf.readFloatBE(this.take(4));
  }

  f64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  shortstr(): string {
    const len = this.u8();
    if (len === 0) return '';
    const at = this.take(len);
    const memo = this.memo;
    if (memo !== undefined && len <= REMEMBERED_MAX_BYTES) return memo.decode(this.buf, at, len);
    return this.buf.toString('utf8', at, at + len);
  }

  /** Long-lived readers (one per connection) remember recent short strings; see ShortStringMemo. */
  rememberShortStrings(): void {
    this.memo ??= new ShortStringMemo();
  }

  longstr(): string {
    const len = this.u32();
    const at = this.take(len);
    return this.buf.toString('utf8', at, at + len);
  }

  /** A longstr as raw bytes (a view into the payload). */
  longbytes(): Buffer {
    const len = this.u32();
    const at = this.take(len);
    return this.buf.subarray(at, at + len);
  }

  /** A field table: 4-byte length, then key/value pairs filling exactly that length. */
  table(): FieldTable {
    const len = this.u32();
    const at = this.take(len);
    const outerEnd = this.end;
    const after = at + len;
    this.pos = at;
    this.end = after;
    const table = readFieldTableBody(this);
    this.pos = after;
    this.end = outerEnd;
    return table;
  }
}
