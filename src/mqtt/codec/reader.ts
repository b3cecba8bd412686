import { malformed } from './reason-codes.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads MQTT's data types (1.5 / 3.1.1 section 1.5) from one packet's bytes; throws on anything short or invalid. */
export class Reader {
  offset = 0;

  constructor(private readonly bytes: Buffer, private readonly end: number = bytes.length) {}

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.end) throw malformed('packet shorter than its contents');
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.bytes.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** Variable Byte Integer (1.5.5): at most four bytes. */
  varint(): number {
    let value = 0;
    for (let i = 0, multiplier = 1; i < 4; i++, multiplier *= 128) {
      const byte = this.u8();
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return value;
    }
    throw malformed('variable byte integer longer than 4 bytes');
  }

  binary(): Buffer {
    const length = this.u16();
    this.need(length);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** UTF-8 Encoded String (1.5.4): well-formed UTF-8 without U+0000. */
  string(): string {
    const raw = this.binary();
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      throw malformed('string is not valid UTF-8');
    }
    if (text.includes('\u0000')) throw malformed('string contains U+0000');
    return text;
  }

  /**
   * string(), answered from `last` when its bytes are those of the previous call (a publisher mostly
   * repeats one topic): no decoding, and the same string object, which later compares by reference.
   */
  repeatedString(last: LastString): string {
    const start = this.offset + 2;
    const length = this.u16();
    this.need(length);
    const known = last.bytes;
    if (length === known.length && length <= LastString.MAX_BYTES) {
      let i = 0;
      while (i < length && this.bytes[start + i] === known[i]) i++;
      if (i === length) {
        this.offset += length;
        return last.text;
      }
    }
    this.offset = start - 2;
    const text = this.string();
    if (length <= LastString.MAX_BYTES) {
      last.bytes = Buffer.from(this.bytes.subarray(start, start + length));
      last.text = text;
    }
    return text;
  }

  /** The rest of the packet, not copied. */
  rest(): Buffer {
    const out = this.bytes.subarray(this.offset, this.end);
    this.offset = this.end;
    return out;
  }

  /** A sub-reader over the next `length` bytes (a property block). */
  slice(length: number): Reader {
    this.need(length);
    const sub = new Reader(this.bytes, this.offset + length);
    sub.offset = this.offset;
    this.offset += length;
    return sub;
  }
}

/** Never written (it has no bytes): shared by every parser's LastString until its first topic. */
const NO_BYTES: Buffer = Buffer.alloc(0);

/** The last string a Reader decoded through `repeatedString` (its own copy of the bytes). */
export class LastString {
  /** Longer strings are decoded every time: comparing them would cost about as much. */
  static readonly MAX_BYTES = 128;
  bytes: Buffer = NO_BYTES;
  text = '';
}

/** Bytes of a Variable Byte Integer. */
export function varintLength(value: number): number {
  return value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : 4;
}

/** Largest value four varint bytes can hold (1.5.5). */
export const MAX_VARINT = 268_435_455;
