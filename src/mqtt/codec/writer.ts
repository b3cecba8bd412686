import { writeVarint } from './direct.js';
import { MAX_VARINT } from './reader.js';

/** Builds one packet's bytes; grows as needed. */
export class Writer {
  private buffer: Buffer;
  length = 0;

  constructor(size = 64) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + n));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buffer[this.length++] = v;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buffer.writeUInt16BE(v, this.length);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buffer.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }

  varint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > MAX_VARINT) throw new RangeError(`variable byte integer out of range: ${v}`);
    this.ensure(4);
    this.length = writeVarint(this.buffer, this.length, v);
    return this;
  }

  bytes(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buffer, this.length);
    this.length += b.length;
    return this;
  }

  binary(b: Buffer): this {
    if (b.length > 0xffff) throw new RangeError('binary data longer than 65535 bytes');
    return this.u16(b.length).bytes(b);
  }

  string(s: string): this {
    return this.binary(Buffer.from(s, 'utf8'));
  }

  /** The bytes written so far (a view, not a copy). */
  toBuffer(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
