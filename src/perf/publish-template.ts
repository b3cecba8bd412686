/** The 8-byte send timestamp at the start of every body (ns of process.hrtime, shared by all processes). */
export const STAMP_BYTES = 8;
const TWO_32 = 2 ** 32;

/**
 * One message's publish frames (basic.publish + content header + body), encoded once by the codec and
 * then copied: the publisher's per-message cost is a memcpy and two 32-bit stores of the timestamp.
 */
export class PublishTemplate {
  /** Offset of the body's first byte inside one message's frames, or -1 if the body is too short to stamp. */
  readonly stampOffset: number;
  readonly messageBytes: number;
  /** How many messages one socket write carries at most. */
  readonly perBatch: number;
  private readonly prefilled: Buffer;

  constructor(message: Buffer, batchBytes = 64 * 1024) {
    this.messageBytes = message.length;
    this.stampOffset = findStampOffset(message);
    this.perBatch = Math.max(1, Math.floor(batchBytes / message.length));
    this.prefilled = Buffer.allocUnsafe(this.perBatch * message.length);
    for (let i = 0; i < this.perBatch; i++) message.copy(this.prefilled, i * message.length);
  }

  /**
   * A new buffer holding `count` (<= perBatch) messages, all stamped with `stampNs`: they leave in one
   * write, so they share one send time. A fresh buffer per write because the socket may hold it a while.
   */
  batch(count: number, stampNs: number): Buffer {
    const bytes = count * this.messageBytes;
    const out = Buffer.allocUnsafe(bytes);
    this.prefilled.copy(out, 0, 0, bytes);
    if (this.stampOffset >= 0) {
      const hi = Math.floor(stampNs / TWO_32);
      const lo = stampNs % TWO_32;
      for (let o = this.stampOffset; o < bytes; o += this.messageBytes) {
        out.writeUInt32BE(hi, o);
        out.writeUInt32BE(lo, o + 4);
      }
    }
    return out;
  }
}

/** Reads the timestamp a publisher put at the start of a body; `offset` is the body's first byte. */
export function readStamp(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

/** Walks the frames of one encoded message to the payload of its first body frame. */
function findStampOffset(message: Buffer): number {
  let offset = 0;
  while (offset + 7 <= message.length) {
    const type = message[offset]!;
    const size = message.readUInt32BE(offset + 3);
    if (type === 3) return size >= STAMP_BYTES ? offset + 7 : -1;
    offset += 7 + size + 1;
  }
  return -1;
}
