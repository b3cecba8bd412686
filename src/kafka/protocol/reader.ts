/**
 * Kafka's primitive types (https://kafka.apache.org/protocol#protocol_types), read from a Buffer.
 * Big-endian fixed-width integers, zigzag varints (record batches), unsigned varints (flexible
 * versions' lengths and tagged fields), and the classic (int16/int32 length) and compact
 * (unsigned varint length + 1) strings, bytes and arrays.
 *
 * A Reader is made for one request body: `flexible` says whether the request's version is a flexible
 * one (KIP-482), and then `string()`, `bytes()`, `array()` and `taggedFields()` read the compact
 * forms; the `classic*`/`compact*` methods read one form whatever the mode. Every read past the end,
 * negative length or malformed varint throws a KafkaDecodeError: the connection answers it, the
 * process never sees it.
 */
export class KafkaDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaDecodeError';
  }
}

const TWO_32 = 4294967296;

export class Reader {
  /** Next byte to read. */
  offset: number;

  constructor(
    readonly buffer: Buffer,
    /** The request's version is flexible: the mode-dependent methods read compact forms. */
    readonly flexible = false,
    start = 0,
    /** One past the last byte this reader may read (default: the buffer's end). */
    readonly end = buffer.length,
  ) {
    this.offset = start;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): number {
    const at = this.offset;
    if (n < 0 || at + n > this.end) throw new KafkaDecodeError(`read of ${n} bytes at ${at} runs past the end (${this.end})`);
    this.offset = at + n;
    return at;
  }

  int8(): number {
    return this.buffer.readInt8(this.need(1));
  }

  boolean(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    return this.buffer.readInt16BE(this.need(2));
  }

  uint16(): number {
    return this.buffer.readUInt16BE(this.need(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.need(4));
  }

  uint32(): number {
    return this.buffer.readUInt32BE(this.need(4));
  }

  /** int64 as a bigint (offsets, producer ids: exact). */
  int64(): bigint {
    return this.buffer.readBigInt64BE(this.need(8));
  }

  /**
   * int64 as a number, exact within ±2^53 (timestamps, offsets Warren assigns); beyond that it is
   * rounded, which callers that only compare with -1/-2 or clamp may accept.
   */
  int64Number(): number {
    const at = this.need(8);
    return this.buffer.readInt32BE(at) * TWO_32 + this.buffer.readUInt32BE(at + 4);
  }

  float64(): number {
    return this.buffer.readDoubleBE(this.need(8));
  }

  uuid(): Buffer {
    const at = this.need(16);
    return this.buffer.subarray(at, at + 16);
  }

  /** Unsigned LEB128 varint, at most 5 bytes (32 bits). */
  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const byte = this.buffer[this.need(1)]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) throw new KafkaDecodeError('unsigned varint exceeds 32 bits');
        return value;
      }
      shift += 7;
    }
    throw new KafkaDecodeError('unsigned varint longer than 5 bytes');
  }

  /** Zigzag varint (protobuf's sint32), as in record fields. */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** Zigzag varlong (sint64) as a number; exact within ±2^53, which every record delta fits in practice. */
  varlong(): number {
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      const byte = this.buffer[this.need(1)]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      shift += 7;
    }
    throw new KafkaDecodeError('varlong longer than 10 bytes');
  }

  /** `n` bytes as a view into the buffer (no copy). */
  raw(n: number): Buffer {
    const at = this.need(n);
    return this.buffer.subarray(at, at + n);
  }

  // ---- classic forms: int16 length strings, int32 length bytes and arrays ----

  classicNullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) throw new KafkaDecodeError(`negative string length ${length}`);
    const at = this.need(length);
    return this.buffer.toString('utf8', at, at + length);
  }

  classicString(): string {
    const value = this.classicNullableString();
    if (value === null) throw new KafkaDecodeError('null where a string is required');
    return value;
  }

  classicNullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) throw new KafkaDecodeError(`negative bytes length ${length}`);
    return this.raw(length);
  }

  /** An int32 count; -1 is a null array. Each element must take at least one byte, so a lying count fails fast. */
  classicArrayLength(): number {
    const count = this.int32();
    if (count === -1) return -1;
    if (count < 0 || count > this.remaining) throw new KafkaDecodeError(`array count ${count} with ${this.remaining} bytes left`);
    return count;
  }

  // ---- compact forms (flexible versions): unsigned varint of length + 1, 0 = null ----

  compactNullableString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    const at = this.need(n - 1);
    return this.buffer.toString('utf8', at, at + n - 1);
  }

  compactString(): string {
    const value = this.compactNullableString();
    if (value === null) throw new KafkaDecodeError('null where a string is required');
    return value;
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.raw(n - 1);
  }

  compactArrayLength(): number {
    const n = this.uvarint();
    if (n === 0) return -1;
    if (n - 1 > this.remaining) throw new KafkaDecodeError(`array count ${n - 1} with ${this.remaining} bytes left`);
    return n - 1;
  }

  // ---- mode-dependent forms (classic or compact as the request's version says) ----

  string(): string {
    return this.flexible ? this.compactString() : this.classicString();
  }

  nullableString(): string | null {
    return this.flexible ? this.compactNullableString() : this.classicNullableString();
  }

  /** BYTES / NULLABLE_BYTES as a view into the buffer. */
  bytes(): Buffer | null {
    return this.flexible ? this.compactNullableBytes() : this.classicNullableBytes();
  }

  /** The element count, -1 for a null array. */
  arrayLength(): number {
    return this.flexible ? this.compactArrayLength() : this.classicArrayLength();
  }

  /** An array of elements read by `element`; a null array reads as empty. */
  array<T>(element: (reader: Reader) => T): T[] {
    const count = this.arrayLength();
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(element(this));
    return out;
  }

  /**
   * A flexible version's tagged fields (KIP-482): returned by tag, unknown ones skipped by their size.
   * In a non-flexible reader there are none, and nothing is read.
   */
  taggedFields(): Map<number, Buffer> {
    const fields = new Map<number, Buffer>();
    if (!this.flexible) return fields;
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      const size = this.uvarint();
      fields.set(tag, this.raw(size));
    }
    return fields;
  }
}
