/**
 * Frame encoding into one growable FrameWriter per connection, so a tick's worth of frames goes out in
 * a single socket write.
 */
import type { BasicProperties } from '../../broker/message.js';
import { encodeMethodArgs, MethodId, type Method } from '../spec/generated.js';
import { ByteWriter } from './byte-writer.js';
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, FRAME_OVERHEAD, amqpProtocolHeader } from './frames.js';
import { writeProperties } from './properties.js';
import { RepeatedShortstr } from './repeated-shortstr.js';

export { encodeFieldTable, decodeFieldTable } from './field-table-buffer.js';
export { encodeProperties, decodeProperties } from './properties.js';

/** Bodies at least this large are appended by reference (see ByteWriter.appendRef) instead of copied. */
export const BODY_BY_REFERENCE_BYTES = 64 * 1024;

const TWO_32 = 4294967296;
const CLASS_BASIC = 60;
/** Class id, weight and body size before the properties in a content header payload. */
const CONTENT_HEADER_PREFIX = 12;
/** Room for basic.deliver with three maximal shortstrs plus the header and body frames' fixed parts. */
const DELIVER_FRAMES_MAX = 7 + 4 + 3 * 256 + 9 + 1 + (7 + CONTENT_HEADER_PREFIX + 1) + (7 + 1);
/** Up to this many bytes a JS loop copies faster than a call into TypedArray.prototype.set. */
const SMALL_COPY_BYTES = 32;

export class FrameWriter extends ByteWriter {
  private readonly consumerTags = new RepeatedShortstr();
  private readonly exchanges = new RepeatedShortstr();
  private readonly routingKeys = new RepeatedShortstr();

  writeMethod(channel: number, method: Method): void {
    const frame = this.beginFrame(FRAME_METHOD, channel);
    this.u32(method.id);
    encodeMethodArgs(this, method);
    this.endFrame(frame);
  }

  /**
   * A content-carrying method (basic.deliver/get-ok/return/publish), its content header and its body
   * split into frames of at most frameMax - 8 payload bytes (frameMax 0: one body frame). When
   * `encodedProperties` is given it is copied as is and `properties` is not looked at.
   * A body of BODY_BY_REFERENCE_BYTES or more is not copied: leave it unmodified until written out.
   */
  writeContent(
    channel: number,
    method: Method,
    properties: BasicProperties,
    encodedProperties: Buffer | undefined,
    body: Buffer,
    frameMax: number,
  ): void {
    this.writeMethod(channel, method);
    this.writeContentHeader(channel, method.id >>> 16, properties, encodedProperties, body.length);
    this.writeBody(channel, body, frameMax);
  }

  /**
   * basic.deliver + header + body without building a Method object: the per-message hot path. The
   * usual case (wire properties at hand, a body that fits one frame and is copied) is written in one go
   * with the three frames' room reserved up front; consumer tag, exchange and routing key are copied
   * from their previous occurrence when they repeat.
   */
  writeDeliver(
    channel: number,
    consumerTag: string,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
    properties: BasicProperties,
    encodedProperties: Buffer | undefined,
    body: Buffer,
    frameMax: number,
  ): void {
    const bodySize = body.length;
    if (
      encodedProperties === undefined ||
      bodySize >= BODY_BY_REFERENCE_BYTES ||
      (frameMax > 0 && bodySize > frameMax - FRAME_OVERHEAD)
    ) {
      this.writeDeliverInParts(channel, consumerTag, deliveryTag, redelivered, exchange, routingKey, properties, encodedProperties, body, frameMax);
      return;
    }
    const propertiesSize = encodedProperties.length;
    this.ensureBetweenFrames(DELIVER_FRAMES_MAX + propertiesSize + bodySize);
    const b = this.buf;
    // Method frame: basic.deliver.
    let p = this.pos;
    const methodFrame = p;
    b[p] = FRAME_METHOD;
    b[p + 1] = channel >>> 8;
    b[p + 2] = channel;
    p += 7;
    this.put32(p, MethodId.BasicDeliver);
    p = this.consumerTags.put(b, p + 4, consumerTag);
    const hi = Math.floor(deliveryTag / TWO_32);
    this.put32(p, hi);
    this.put32(p + 4, deliveryTag - hi * TWO_32);
    b[p + 8] = redelivered ? 1 : 0;
    p = this.exchanges.put(b, p + 9, exchange);
    p = this.routingKeys.put(b, p, routingKey);
    this.put32(methodFrame + 3, p - methodFrame - 7);
    b[p++] = FRAME_END;
    // Content header: class, weight 0, body size, the publisher's property bytes.
    b[p] = FRAME_HEADER;
    b[p + 1] = channel >>> 8;
    b[p + 2] = channel;
    this.put32(p + 3, CONTENT_HEADER_PREFIX + propertiesSize);
    b[p + 7] = CLASS_BASIC >>> 8;
    b[p + 8] = CLASS_BASIC & 0xff;
    b[p + 9] = 0;
    b[p + 10] = 0;
    this.put32(p + 11, 0); // body size below 2^32 here: it fits one frame
    this.put32(p + 15, bodySize);
    p += 19;
    if (propertiesSize <= SMALL_COPY_BYTES) {
      for (let i = 0; i < propertiesSize; i++) b[p + i] = encodedProperties[i]!;
    } else {
      b.set(encodedProperties, p);
    }
    p += propertiesSize;
    b[p++] = FRAME_END;
    // Body: none at all when empty (spec 4.2.6).
    if (bodySize > 0) {
      b[p] = FRAME_BODY;
      b[p + 1] = channel >>> 8;
      b[p + 2] = channel;
      this.put32(p + 3, bodySize);
      b.set(body, p + 7);
      p += 7 + bodySize;
      b[p++] = FRAME_END;
    }
    this.pos = p;
  }

  private writeDeliverInParts(
    channel: number,
    consumerTag: string,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
    properties: BasicProperties,
    encodedProperties: Buffer | undefined,
    body: Buffer,
    frameMax: number,
  ): void {
    const frame = this.beginFrame(FRAME_METHOD, channel);
    this.u32(MethodId.BasicDeliver);
    this.shortstr(consumerTag);
    this.u64(deliveryTag);
    this.u8(redelivered ? 1 : 0);
    this.shortstr(exchange);
    this.shortstr(routingKey);
    this.endFrame(frame);
    this.writeContentHeader(channel, MethodId.BasicDeliver >>> 16, properties, encodedProperties, body.length);
    this.writeBody(channel, body, frameMax);
  }

  /**
   * basic.ack / basic.nack (requeue false) without building a Method object: publisher confirms, one
   * per batch of publishes.
   */
  writeConfirm(channel: number, deliveryTag: number, multiple: boolean, ack: boolean): void {
    const frame = this.beginFrame(FRAME_METHOD, channel);
    this.u32(ack ? MethodId.BasicAck : MethodId.BasicNack);
    this.u64(deliveryTag);
    // basic.ack has one bit (multiple); basic.nack packs multiple and requeue (false) into one octet.
    this.u8(multiple ? 1 : 0);
    this.endFrame(frame);
  }

  writeContentHeader(
    channel: number,
    classId: number,
    properties: BasicProperties,
    encodedProperties: Buffer | undefined,
    bodySize: number,
  ): void {
    const frame = this.beginFrame(FRAME_HEADER, channel);
    this.u16(classId);
    this.u16(0); // weight, unused
    this.u64(bodySize);
    if (encodedProperties !== undefined) this.bytes(encodedProperties);
    else writeProperties(this, properties);
    this.endFrame(frame);
  }

  /** Body frames; none at all for an empty body (spec 4.2.6: zero-size content has no body frames). */
  writeBody(channel: number, body: Buffer, frameMax: number): void {
    const total = body.length;
    const maxPayload = frameMax > 0 ? frameMax - FRAME_OVERHEAD : total;
    if (maxPayload < 1 && total > 0) throw new RangeError(`frameMax ${frameMax} leaves no room for a body`);
    const byReference = total >= BODY_BY_REFERENCE_BYTES;
    for (let offset = 0; offset < total; offset += maxPayload) {
      const size = Math.min(maxPayload, total - offset);
      this.ensure(FRAME_OVERHEAD + (byReference ? 0 : size));
      this.frameHeader(FRAME_BODY, channel, size);
      if (byReference) this.appendRef(body.subarray(offset, offset + size));
      else this.bytes(body.subarray(offset, offset + size));
      this.u8(FRAME_END);
    }
  }

  writeHeartbeat(): void {
    this.frameHeader(FRAME_HEARTBEAT, 0, 0);
    this.u8(FRAME_END);
  }

  /** "AMQP\0\0\x09\x01": for refusing a client's protocol version (spec 4.2.2). */
  writeProtocolHeader(): void {
    this.bytes(amqpProtocolHeader());
  }

  private frameHeader(type: number, channel: number, size: number): void {
    this.ensure(7);
    const b = this.buf;
    const p = this.pos;
    b[p] = type;
    b[p + 1] = channel >>> 8;
    b[p + 2] = channel;
    this.put32(p + 3, size);
    this.pos = p + 7;
  }

  /** Starts a frame whose size is patched by endFrame; returns its mark. */
  private beginFrame(type: number, channel: number): number {
    const mark = this.mark();
    this.frameHeader(type, channel, 0);
    return mark;
  }

  private endFrame(mark: number): void {
    this.u8(FRAME_END);
    const p = this.at(mark);
    this.put32(p + 3, this.pos - p - FRAME_OVERHEAD);
  }
}
