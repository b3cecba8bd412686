import { ConnectionError, ConnectionReplyCode } from '../amqp/errors.js';

/** Frame-end octet, spec 0-9-1 section 4.2.3. */
const FRAME_END = 0xce;
/** type(1) + channel(2) + size(4). */
const FRAME_HEADER_SIZE = 7;

export interface RawFrameHandler {
  /** One complete frame; its payload is buf[offset, offset + size). The buffer is only valid during the call. */
  onRawFrame(type: number, channel: number, buf: Buffer, offset: number, size: number): void;
}

/**
 * Splits a socket byte stream into frames without decoding them, so the client can take the hot frames
 * (basic.deliver, content header and body, basic.ack) apart in place and hand only the rare ones to the
 * full codec. A frame split over two reads is kept as a slice and joined with the next read.
 */
export class FrameReader {
  private pending: Buffer | undefined;

  constructor(
    private readonly handler: RawFrameHandler,
    public frameMax: number,
  ) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let offset = 0;
    const length = buf.length;
    while (length - offset >= FRAME_HEADER_SIZE) {
      const size = buf.readUInt32BE(offset + 3);
      if (size + FRAME_HEADER_SIZE + 1 > this.frameMax) {
        throw new ConnectionError(ConnectionReplyCode.FrameError, `frame of ${size} bytes exceeds frame-max ${this.frameMax}`);
      }
      const end = offset + FRAME_HEADER_SIZE + size + 1;
      if (end > length) break;
      if (buf[end - 1] !== FRAME_END) {
        throw new ConnectionError(ConnectionReplyCode.FrameError, `bad frame-end octet ${buf[end - 1]}`);
      }
      this.handler.onRawFrame(buf[offset]!, buf.readUInt16BE(offset + 1), buf, offset + FRAME_HEADER_SIZE, size);
      offset = end;
    }
    if (offset < length) this.pending = buf.subarray(offset);
  }
}
