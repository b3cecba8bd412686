import type { FieldTable } from '../../broker/message.js';
import { writeFieldTable } from './field-table.js';
import { putShortstr } from './repeated-shortstr.js';

const TWO_32 = 4294967296;
const MIN_SLAB = 4096;
const MAX_SLAB = 256 * 1024;

/**
 * Append-only output with big-endian primitives, written straight into a slab buffer.
 *
 * Bytes handed out by `take()` are never written again: later writes go after them in the same slab
 * or into a fresh slab, so the caller may pass them to socket.write() and forget about them. Idle
 * writers keep a small slab; busy ones grow theirs (up to 256 KiB) so one slab serves many batches.
 *
 * Large payloads can be appended by reference (`appendRef`) instead of copied; then `takeChunks()`
 * returns them as separate buffers for writev, and `take()` concatenates.
 *
 * Offsets from `reserveLength`/`mark` are relative to the untaken region, so they survive a slab
 * switch; they are invalidated by `appendRef` and `take`.
 */
export class ByteWriter {
  buf: Buffer;
  pos = 0;
  /** First byte of `buf` not yet taken. */
  protected start = 0;
  private slabSize: number;
  /** Sealed output (slab pieces and by-reference payloads) waiting for take(). */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor(initialSize = MIN_SLAB) {
    this.slabSize = Math.max(16, initialSize);
    this.buf = Buffer.allocUnsafe(this.slabSize);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /**
   * Like ensure, for a caller between frames (no mark outstanding): when the slab is short, the bytes
   * written so far are sealed where they are (handed out as one more chunk, see takeChunks) and a fresh
   * slab is started, so nothing is copied.
   */
  protected ensureBetweenFrames(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.seal();
    this.slabSize = Math.min(MAX_SLAB, this.slabSize * 2);
    this.buf = Buffer.allocUnsafe(Math.max(this.slabSize, n));
    this.start = 0;
    this.pos = 0;
  }

  /** Moves the untaken bytes to a new, larger slab; the old one stays with whoever took from it. */
  private grow(n: number): void {
    const pending = this.pos - this.start;
    this.slabSize = Math.min(MAX_SLAB, this.slabSize * 2);
    const next = Buffer.allocUnsafe(Math.max(this.slabSize, (pending + n) * 2));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = pending;
  }

  /** Position relative to the untaken region (stable across slab switches). */
  mark(): number {
    return this.pos - this.start;
  }

  /** Absolute index in `buf` of a mark. */
  at(mark: number): number {
    return this.start + mark;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.put32(this.pos, v);
    this.pos += 4;
  }

  i32(v: number): void {
    this.u32(v);
  }

  /** Writes a 32-bit value at an absolute index (for lengths patched after the fact). */
  put32(p: number, v: number): void {
    const b = this.buf;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
  }

  /** Unsigned 64-bit from a non-negative integer below 2^53, or a bigint. */
  u64(v: number | bigint): void {
    if (typeof v === 'bigint') {
      this.ensure(8);
      this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.pos);
      this.pos += 8;
      return;
    }
    const hi = Math.floor(v / TWO_32);
    this.u32(hi);
    this.u32(v - hi * TWO_32);
  }

  /** Signed 64-bit from a safe integer or a bigint. */
  i64(v: number | bigint): void {
    if (typeof v === 'bigint') {
      this.ensure(8);
      this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.pos);
      this.pos += 8;
      return;
    }
    const hi = Math.floor(v / TWO_32);
    this.u32(hi);
    this.u32(v - hi * TWO_32);
  }

  f32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeFloatBE(v, this.pos);
  }

  f64(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  /**
   * Length octet + UTF-8. A string over 255 bytes is cut at the last whole character that fits (a
   * shortstr cannot say more; long reply texts are the realistic case).
   */
  shortstr(s: string): void {
    this.ensure(256);
    this.pos = putShortstr(this.buf, this.pos, s);
  }

  /** 4-byte length + UTF-8. */
  longstr(s: string): void {
    // At most 3 bytes per UTF-16 unit, so reserving that avoids measuring the string first.
    this.ensure(4 + s.length * 3);
    const at = this.pos;
    const written = this.buf.write(s, at + 4, 'utf8');
    this.put32(at, written);
    this.pos = at + 4 + written;
  }

  longbytes(v: Uint8Array): void {
    this.u32(v.length);
    this.bytes(v);
  }

  /** Raw bytes, copied. */
  bytes(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  table(t: FieldTable): void {
    writeFieldTable(this, t);
  }

  /** Writes a 4-byte placeholder and returns its mark, for `patchLength`. */
  reserveLength(): number {
    this.ensure(4);
    const mark = this.pos - this.start;
    this.pos += 4;
    return mark;
  }

  /** Fills a reserved length with the number of bytes written after it. */
  patchLength(mark: number): void {
    const p = this.start + mark;
    this.put32(p, this.pos - p - 4);
  }

  /** Appends `v` without copying: the caller must not modify it until the batch has been written out. */
  appendRef(v: Buffer): void {
    this.seal();
    this.chunks.push(v);
    this.chunkBytes += v.length;
  }

  private seal(): void {
    if (this.pos === this.start) return;
    const piece = this.buf.subarray(this.start, this.pos);
    this.chunks.push(piece);
    this.chunkBytes += piece.length;
    this.start = this.pos;
  }

  /** Everything written since the last take, as one Buffer; the writer is then empty. */
  take(): Buffer {
    if (this.chunks.length === 0) {
      const out = this.buf.subarray(this.start, this.pos);
      this.start = this.pos;
      return out;
    }
    const parts = this.takeChunks();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Everything written since the last take, as buffers for writev (no concatenation). */
  takeChunks(): Buffer[] {
    this.seal();
    const out = this.chunks;
    this.chunks = [];
    this.chunkBytes = 0;
    return out;
  }
}
