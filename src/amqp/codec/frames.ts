/**
 * AMQP 0-9-1 framing (spec 4.2.3): type octet, channel short, payload size long, payload, 0xCE.
 */
import type { BasicProperties } from '../../broker/message.js';
import { decodeMethodArgs, type Method } from '../spec/generated.js';
import { ByteReader } from './byte-reader.js';
import { FrameDecodeError, ProtocolHeaderError, frameError, notImplemented, syntaxError, unexpectedFrame } from './errors.js';
import { PropertiesDecoder } from './properties.js';

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
export const FRAME_MIN_SIZE = 4096;
/** Type octet + channel + size before the payload, frame-end after it. */
export const FRAME_OVERHEAD = 8;
const FRAME_HEADER_SIZE = 7;
/** Class id + weight + body size at the start of a content header payload. */
const CONTENT_HEADER_PREFIX = 12;
const CLASS_BASIC = 60;
/**
 * Ceiling on a payload when frameMax is 0 ("no limit" in the spec): never allocate what a peer merely
 * claims beyond RabbitMQ's own maximum message size.
 */
export const ABSOLUTE_MAX_PAYLOAD = 128 * 1024 * 1024;

export type Frame =
  | { type: 1; channel: number; method: Method }
  | {
      type: 2;
      channel: number;
      classId: number;
      bodySize: number;
      properties: BasicProperties;
      /** The flags and values as received: a view of the input, see FrameParser. */
      encodedProperties: Buffer;
    }
  | { type: 3; channel: number; payload: Buffer }
  | { type: 8; channel: number };

export interface FrameHandler {
  onFrame(frame: Frame): void;
  /**
   * The 8 bytes that open the connection, whatever they are. When `supported` is false (not AMQP 0-9-1)
   * the parser ignores all further input: answer with amqpProtocolHeader() and close (spec 4.2.2).
   * Without this handler an unsupported header throws ProtocolHeaderError.
   */
  onProtocolHeader?(header: Buffer, supported: boolean): void;
}

export interface FrameParserOptions {
  /** Largest frame accepted, as negotiated (0: no limit but ABSOLUTE_MAX_PAYLOAD). */
  frameMax: number;
  /** Default true: the server reads the protocol header first. False for parsing a server's output. */
  expectProtocolHeader?: boolean;
}

const PROTOCOL_HEADER_0_9_1 = [0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1];
/** "AMQP" 1 1 0 9: AMQP 0-9, which RabbitMQ serves as 0-9-1. */
const PROTOCOL_HEADER_0_9 = [0x41, 0x4d, 0x51, 0x50, 1, 1, 0, 9];

/** "AMQP\0\0\x09\x01": what a client sends first, and what a server answers when refusing a version. */
export function amqpProtocolHeader(): Buffer {
  return Buffer.from(PROTOCOL_HEADER_0_9_1);
}

export function isSupportedProtocolHeader(header: Buffer): boolean {
  const same = (expected: number[]): boolean => header.length === 8 && expected.every((b, i) => header[i] === b);
  return same(PROTOCOL_HEADER_0_9_1) || same(PROTOCOL_HEADER_0_9);
}

/**
 * Push parser: feed it socket chunks split anywhere; it calls onFrame once per complete frame.
 *
 * Buffers in frames (body payloads, encodedProperties, longstr bytes, 'x' table values) are views of
 * the pushed chunk when the frame arrived whole, or of a buffer allocated for that one frame when it
 * was split. Neither is ever written again by the parser, so consumers may keep them (message bodies
 * live in queues) as long as the caller never reuses a pushed chunk — Node socket chunks are fresh.
 *
 * `push` throws only FrameDecodeError (a ConnectionError with 501, 502, 505 or 540) for bad input;
 * exceptions thrown by the handler propagate unchanged. Either way the unread rest of the chunk is kept
 * and parsed by the next push, unless the error was fatal (501): framing is lost, and all further input
 * is ignored. A frame is consumed before its handler runs, so it is never delivered twice.
 */
export class FrameParser {
  frameMax: number;
  expectProtocolHeader: boolean;
  private readonly handler: FrameHandler;
  private readonly reader = new ByteReader();
  /** Content properties, decoded once per distinct block (see PropertiesDecoder). */
  private readonly properties = new PropertiesDecoder(this.reader);
  /** Set after a fatal error or a refused protocol header: input is ignored from then on. */
  private stopped = false;
  /** Protocol or frame header bytes received so far, when one is split across chunks. */
  private readonly scratch = Buffer.alloc(8);
  private scratchFill = 0;
  /** A frame split across chunks: payload + frame-end octet, filled up to `partialFill`. */
  private partial: Buffer | undefined;
  private partialFill = 0;
  private partialType = 0;
  private partialChannel = 0;
  /** Input not yet parsed because a handler or a non-fatal error interrupted push(). */
  private leftover: Buffer | undefined;
  /** Where parsing of the current chunk resumes after the frame being dispatched. */
  private resumeAt = 0;

  constructor(handler: FrameHandler, options: FrameParserOptions) {
    this.reader.rememberShortStrings();
    this.handler = handler;
    this.frameMax = options.frameMax;
    this.expectProtocolHeader = options.expectProtocolHeader ?? true;
  }

  /** True once input is being ignored (fatal frame error or refused protocol header). */
  get stoppedReading(): boolean {
    return this.stopped;
  }

  push(input: Buffer): void {
    if (this.stopped) return;
    let chunk = input;
    if (this.leftover !== undefined) {
      chunk = Buffer.concat([this.leftover, input]);
      this.leftover = undefined;
    }
    this.resumeAt = 0;
    try {
      this.parse(chunk);
    } catch (err) {
      if (err instanceof FrameDecodeError && err.fatal) {
        this.stopped = true;
      } else if (this.resumeAt < chunk.length) {
        this.leftover = chunk.subarray(this.resumeAt);
      }
      throw err;
    }
  }

  private parse(chunk: Buffer): void {
    let off = 0;
    if (this.expectProtocolHeader) {
      off = this.readProtocolHeader(chunk);
      if (this.expectProtocolHeader || this.stopped) return;
    }
    if (this.scratchFill > 0) {
      off = this.completeHeader(chunk, off);
      if (off < 0) return;
    }
    if (this.partial !== undefined) {
      off = this.completePartial(chunk, off);
      if (off < 0) return;
    }
    this.parseWholeFrames(chunk, off);
  }

  /** Collects the 8-byte protocol header; returns the offset after the bytes consumed. */
  private readProtocolHeader(chunk: Buffer): number {
    const n = Math.min(8 - this.scratchFill, chunk.length);
    chunk.copy(this.scratch, this.scratchFill, 0, n);
    this.scratchFill += n;
    this.resumeAt = n;
    if (this.scratchFill < 8) return n;
    this.scratchFill = 0;
    this.expectProtocolHeader = false;
    const header = Buffer.from(this.scratch);
    const supported = isSupportedProtocolHeader(header);
    if (!supported) this.stopped = true;
    if (this.handler.onProtocolHeader) this.handler.onProtocolHeader(header, supported);
    else if (!supported) throw new ProtocolHeaderError(header);
    return n;
  }

  /** Frames lying whole in `chunk` are decoded in place; a split tail is started as a partial. */
  private parseWholeFrames(chunk: Buffer, from: number): void {
    const len = chunk.length;
    let off = from;
    while (off < len) {
      if (len - off < FRAME_HEADER_SIZE) {
        chunk.copy(this.scratch, 0, off, len);
        this.scratchFill = len - off;
        this.resumeAt = len;
        return;
      }
      const type = chunk[off]!;
      const channel = (chunk[off + 1]! << 8) | chunk[off + 2]!;
      const size = chunk.readUInt32BE(off + 3);
      this.checkHeader(type, size);
      const payloadAt = off + FRAME_HEADER_SIZE;
      const endAt = payloadAt + size;
      if (endAt >= len) {
        this.startPartial(type, channel, size, chunk, payloadAt);
        return;
      }
      off = endAt + 1;
      this.resumeAt = off;
      if (chunk[endAt] !== FRAME_END) throw frameError(`bad frame end octet 0x${chunk[endAt]!.toString(16)}`);
      this.dispatch(type, channel, chunk, payloadAt, endAt);
    }
  }

  /** Completes a split 7-byte frame header; returns the next offset, or -1 if the chunk ran out. */
  private completeHeader(chunk: Buffer, from: number): number {
    const n = Math.min(FRAME_HEADER_SIZE - this.scratchFill, chunk.length - from);
    chunk.copy(this.scratch, this.scratchFill, from, from + n);
    this.scratchFill += n;
    const off = from + n;
    this.resumeAt = off;
    if (this.scratchFill < FRAME_HEADER_SIZE) return -1;
    this.scratchFill = 0;
    const s = this.scratch;
    const type = s[0]!;
    const channel = (s[1]! << 8) | s[2]!;
    const size = s.readUInt32BE(3);
    this.checkHeader(type, size);
    const endAt = off + size;
    if (endAt < chunk.length) {
      // The rest of the frame is in this chunk: decode it in place.
      this.resumeAt = endAt + 1;
      if (chunk[endAt] !== FRAME_END) throw frameError(`bad frame end octet 0x${chunk[endAt]!.toString(16)}`);
      this.dispatch(type, channel, chunk, off, endAt);
      return endAt + 1;
    }
    this.startPartial(type, channel, size, chunk, off);
    return -1;
  }

  /** Copies the start of a split frame into a buffer of its own (never reused: see class comment). */
  private startPartial(type: number, channel: number, size: number, chunk: Buffer, payloadAt: number): void {
    const partial = Buffer.allocUnsafe(size + 1);
    this.partialFill = chunk.copy(partial, 0, payloadAt);
    this.partial = partial;
    this.partialType = type;
    this.partialChannel = channel;
    this.resumeAt = chunk.length;
  }

  /** Continues a split frame; returns the next offset, or -1 if the chunk ran out first. */
  private completePartial(chunk: Buffer, from: number): number {
    const partial = this.partial!;
    const copied = chunk.copy(partial, this.partialFill, from);
    this.partialFill += copied;
    const off = from + copied;
    this.resumeAt = off;
    if (this.partialFill < partial.length) return -1;
    this.partial = undefined;
    const endAt = partial.length - 1;
    if (partial[endAt] !== FRAME_END) throw frameError(`bad frame end octet 0x${partial[endAt]!.toString(16)}`);
    this.dispatch(this.partialType, this.partialChannel, partial, 0, endAt);
    return off;
  }

  private checkHeader(type: number, size: number): void {
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
      throw frameError(`unknown frame type ${type}`);
    }
    // RabbitMQ lets a payload reach frame_max itself (it allows 8 bytes of slack for off-by-8 clients).
    const limit = this.frameMax > 0 ? Math.min(this.frameMax, ABSOLUTE_MAX_PAYLOAD) : ABSOLUTE_MAX_PAYLOAD;
    if (size > limit) throw frameError(`frame size ${size} exceeds frame_max ${this.frameMax}`);
  }

  /** Decodes the payload buf[start, end) of a complete frame and hands it over. */
  private dispatch(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    switch (type) {
      case FRAME_METHOD:
        this.handler.onFrame({ type: FRAME_METHOD, channel, method: this.decodeMethod(buf, start, end) });
        return;
      case FRAME_HEADER:
        this.dispatchContentHeader(channel, buf, start, end);
        return;
      case FRAME_BODY:
        this.handler.onFrame({ type: FRAME_BODY, channel, payload: buf.subarray(start, end) });
        return;
      default:
        // Only FRAME_HEARTBEAT gets here: checkHeader rejected other types.
        if (end !== start) throw frameError('heartbeat frame with a payload');
        if (channel !== 0) throw unexpectedFrame(`heartbeat frame on channel ${channel}`);
        this.handler.onFrame({ type: FRAME_HEARTBEAT, channel });
    }
  }

  private decodeMethod(buf: Buffer, start: number, end: number): Method {
    if (end - start < 4) throw frameError('method frame shorter than its class and method ids');
    const id = buf.readUInt32BE(start);
    const r = this.reader;
    r.reset(buf, start + 4, end);
    const method = decodeMethodArgs(id, r);
    if (method === undefined) throw notImplemented(`unknown method class ${id >>> 16} method ${id & 0xffff}`);
    if (r.pos !== end) throw syntaxError(`${end - r.pos} bytes after the arguments of method ${id >>> 16}/${id & 0xffff}`);
    return method;
  }

  private dispatchContentHeader(channel: number, buf: Buffer, start: number, end: number): void {
    if (end - start < CONTENT_HEADER_PREFIX + 2) throw frameError('content header frame too short');
    const classId = buf.readUInt16BE(start);
    const weight = buf.readUInt16BE(start + 2);
    // Same as RabbitMQ's command assembler: only basic carries content, and weight must be 0.
    if (classId !== CLASS_BASIC) throw unexpectedFrame(`content header for class ${classId}`);
    if (weight !== 0) throw unexpectedFrame(`content header weight ${weight}`);
    const r = this.reader;
    r.reset(buf, start + 4, end);
    const bodySize = r.u64();
    const decoder = this.properties;
    decoder.decode(buf, start + CONTENT_HEADER_PREFIX, end);
    this.handler.onFrame({
      type: FRAME_HEADER,
      channel,
      classId,
      bodySize,
      properties: decoder.properties,
      encodedProperties: decoder.encoded,
    });
  }
}
