/**
 * The mirror of Reader: Kafka's primitive types into a growable buffer. `flexible` selects the compact
 * forms for `string()`, `bytes()`, `arrayLength()` and `taggedFields()`, as the response's version says.
 * Large byte fields (record batches in Fetch responses) can be appended by reference (`bytesRef`), so a
 * response is a list of chunks written with one writev and stored batches are never copied into it.
 */
const LARGE_REFERENCE = 4096;
const TWO_32 = 4294967296;

export class Writer {
  private buffer: Buffer;
  private length = 0;
  /** Finished chunks (copied parts and referenced large buffers), in order, before `buffer`. */
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor(
    readonly flexible = false,
    initialSize = 256,
  ) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.chunkBytes + this.length;
  }

  private room(n: number): number {
    if (this.length + n > this.buffer.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + n));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  int8(value: number): this {
    const at = this.room(1);
    this.buffer.writeInt8(value, at);
    return this;
  }

  boolean(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    const at = this.room(2);
    this.buffer.writeInt16BE(value, at);
    return this;
  }

  int32(value: number): this {
    const at = this.room(4);
    this.buffer.writeInt32BE(value, at);
    return this;
  }

  uint32(value: number): this {
    const at = this.room(4);
    this.buffer.writeUInt32BE(value, at);
    return this;
  }

  int64(value: bigint): this {
    const at = this.room(8);
    this.buffer.writeBigInt64BE(value, at);
    return this;
  }

  /** int64 from a number (exact within ±2^53). */
  int64Number(value: number): this {
    const at = this.room(8);
    const high = Math.floor(value / TWO_32);
    this.buffer.writeInt32BE(high, at);
    this.buffer.writeUInt32BE(value - high * TWO_32, at + 4);
    return this;
  }

  float64(value: number): this {
    const at = this.room(8);
    this.buffer.writeDoubleBE(value, at);
    return this;
  }

  uuid(value: Buffer): this {
    if (value.length !== 16) throw new RangeError('a UUID is 16 bytes');
    return this.raw(value);
  }

  uvarint(value: number): this {
    let rest = value;
    while (rest >= 0x80) {
      const at = this.room(1);
      this.buffer[at] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    const last = this.room(1);
    this.buffer[last] = rest;
    return this;
  }

  varint(value: number): this {
    return this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** Zigzag varlong from a number (exact within ±2^52 after zigzag). */
  varlong(value: number): this {
    return this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** Bytes copied in. */
  raw(bytes: Buffer): this {
    const at = this.room(bytes.length);
    bytes.copy(this.buffer, at);
    return this;
  }

  /** Bytes appended by reference when large (the caller must not change them until written). */
  rawRef(bytes: Buffer): this {
    if (bytes.length < LARGE_REFERENCE) return this.raw(bytes);
    this.seal();
    this.chunks.push(bytes);
    this.chunkBytes += bytes.length;
    return this;
  }

  private seal(): void {
    if (this.length === 0) return;
    const done = this.buffer.subarray(0, this.length);
    this.chunks.push(done);
    this.chunkBytes += done.length;
    this.buffer = Buffer.allocUnsafe(Math.max(256, this.buffer.length - this.length));
    this.length = 0;
  }

  // ---- classic forms ----

  classicNullableString(value: string | null): this {
    if (value === null) return this.int16(-1);
    const length = Buffer.byteLength(value);
    this.int16(length);
    const at = this.room(length);
    this.buffer.write(value, at, length, 'utf8');
    return this;
  }

  classicNullableBytes(value: Buffer | null): this {
    if (value === null) return this.int32(-1);
    this.int32(value.length);
    return this.rawRef(value);
  }

  // ---- compact forms ----

  compactNullableString(value: string | null): this {
    if (value === null) return this.uvarint(0);
    const length = Buffer.byteLength(value);
    this.uvarint(length + 1);
    const at = this.room(length);
    this.buffer.write(value, at, length, 'utf8');
    return this;
  }

  compactNullableBytes(value: Buffer | null): this {
    if (value === null) return this.uvarint(0);
    this.uvarint(value.length + 1);
    return this.rawRef(value);
  }

  // ---- mode-dependent forms ----

  string(value: string): this {
    return this.nullableString(value);
  }

  nullableString(value: string | null): this {
    return this.flexible ? this.compactNullableString(value) : this.classicNullableString(value);
  }

  bytes(value: Buffer | null): this {
    return this.flexible ? this.compactNullableBytes(value) : this.classicNullableBytes(value);
  }

  /** An array's count (-1: null). */
  arrayLength(count: number): this {
    return this.flexible ? this.uvarint(count + 1) : this.int32(count);
  }

  array<T>(items: readonly T[] | null, element: (writer: this, item: T) => void): this {
    if (items === null) return this.arrayLength(-1);
    this.arrayLength(items.length);
    for (const item of items) element(this, item);
    return this;
  }

  /** Tagged fields of a flexible version: those given (tag -> encoded value), in tag order; none when not flexible. */
  taggedFields(fields?: ReadonlyMap<number, Buffer>): this {
    if (!this.flexible) return this;
    if (fields === undefined || fields.size === 0) return this.uvarint(0);
    this.uvarint(fields.size);
    for (const tag of [...fields.keys()].sort((a, b) => a - b)) {
      const value = fields.get(tag)!;
      this.uvarint(tag).uvarint(value.length).raw(value);
    }
    return this;
  }

  /** Overwrites an int32 written earlier at `position` (counted from the start), e.g. a size or CRC. */
  patchInt32(position: number, value: number): void {
    this.locate(position, 4).writeInt32BE(value, this.locatedAt);
  }

  patchUint32(position: number, value: number): void {
    this.locate(position, 4).writeUInt32BE(value, this.locatedAt);
  }

  private locatedAt = 0;

  private locate(position: number, n: number): Buffer {
    let start = 0;
    for (const chunk of [...this.chunks, this.buffer.subarray(0, this.length)]) {
      if (position >= start && position + n <= start + chunk.length) {
        this.locatedAt = position - start;
        return chunk;
      }
      start += chunk.length;
    }
    throw new RangeError(`cannot patch ${n} bytes at ${position}: outside one chunk`);
  }

  /** Forgets everything written (the buffer is reused). */
  reset(): void {
    this.chunks.length = 0;
    this.chunkBytes = 0;
    this.length = 0;
  }

  /** Everything written, as chunks (for socket writev). */
  toChunks(): Buffer[] {
    return this.length === 0 ? [...this.chunks] : [...this.chunks, this.buffer.subarray(0, this.length)];
  }

  /** Everything written, as one buffer (copies only when there is more than one chunk). */
  toBuffer(): Buffer {
    const chunks = this.toChunks();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}
