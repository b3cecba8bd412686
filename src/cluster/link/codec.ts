/**
 * The node-to-node link's framing: an 8-byte magic once per connection (so a link can share the AMQP
 * port: the listener tells them apart by it), then frames of u32 length (of what follows), u8 type,
 * payload. Payload fields are written with `FrameBuilder` and read back with `FrameReader`, in the order
 * each frame type's handler defines (link/frames.ts). Bounded: a frame over MAX_FRAME_BYTES is an error.
 */
export const LINK_MAGIC = Buffer.from('WARRENL1', 'latin1');
/** A forwarded message may be as large as the largest AMQP message (512 MiB) plus its header. */
export const MAX_FRAME_BYTES = 513 * 1024 * 1024;

export class LinkProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkProtocolError';
  }
}

/** Builds one frame. Reused per frame type is fine: `finish` copies nothing, it hands out the buffer. */
export class FrameBuilder {
  private buffer: Buffer;
  private at = 5;

  constructor(type: number, sizeHint = 64) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, sizeHint + 5));
    this.buffer[4] = type;
  }

  u8(value: number): this {
    this.room(1);
    this.buffer[this.at++] = value;
    return this;
  }

  u32(value: number): this {
    this.room(4);
    this.buffer.writeUInt32BE(value, this.at);
    this.at += 4;
    return this;
  }

  /** Integers up to 2^53 (sequence numbers, ids). */
  f64(value: number): this {
    this.room(8);
    this.buffer.writeDoubleBE(value, this.at);
    this.at += 8;
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  string(value: string): this {
    return this.bytes(Buffer.from(value, 'utf8'));
  }

  bytes(value: Buffer): this {
    this.u32(value.length);
    this.room(value.length);
    value.copy(this.buffer, this.at);
    this.at += value.length;
    return this;
  }

  /** The frame, length prefix filled in. */
  finish(): Buffer {
    this.buffer.writeUInt32BE(this.at - 4, 0);
    return this.buffer.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + n));
    this.buffer.copy(bigger, 0, 0, this.at);
    this.buffer = bigger;
  }
}

/** Reads one frame's payload; every read checks bounds and throws LinkProtocolError past the end. */
export class FrameReader {
  private at = 0;

  constructor(private readonly payload: Buffer) {}

  u8(): number {
    this.need(1);
    return this.payload[this.at++]!;
  }

  u32(): number {
    this.need(4);
    const value = this.payload.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.payload.readDoubleBE(this.at);
    this.at += 8;
    return value;
  }

  bool(): boolean {
    return this.u8() !== 0;
  }

  string(): string {
    return this.bytes().toString('utf8');
  }

  /** A view into the frame (no copy); callers that keep it beyond the frame must copy. */
  bytes(): Buffer {
    const length = this.u32();
    this.need(length);
    const value = this.payload.subarray(this.at, this.at + length);
    this.at += length;
    return value;
  }

  private need(n: number): void {
    if (this.at + n > this.payload.length) throw new LinkProtocolError('link frame ends early');
  }
}

/**
 * Splits a byte stream into frames: feed socket chunks, get (type, payload) calls. The magic is checked
 * first (`expectMagic`); a bad magic or an oversized frame throws LinkProtocolError and the link closes.
 */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private magicLeft: boolean;

  constructor(
    private readonly onFrame: (type: number, payload: Buffer) => void,
    expectMagic: boolean,
  ) {
    this.magicLeft = expectMagic;
  }

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    if (this.magicLeft) {
      if (this.pending.length < LINK_MAGIC.length) return;
      if (!this.pending.subarray(0, LINK_MAGIC.length).equals(LINK_MAGIC)) throw new LinkProtocolError('not a Warren node link');
      this.magicLeft = false;
      at = LINK_MAGIC.length;
    }
    while (this.pending.length - at >= 5) {
      const length = this.pending.readUInt32BE(at);
      if (length < 1 || length > MAX_FRAME_BYTES) throw new LinkProtocolError(`link frame of ${length} bytes`);
      if (this.pending.length - at < 4 + length) break;
      const type = this.pending[at + 4]!;
      const payload = this.pending.subarray(at + 5, at + 4 + length);
      at += 4 + length;
      this.onFrame(type, payload);
    }
    this.pending = at === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(at);
  }
}
