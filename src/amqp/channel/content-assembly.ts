import { ChannelError, ChannelReplyCode, ConnectionError, ConnectionReplyCode } from '../errors.js';
import type { BasicProperties } from '../../broker/message.js';
import { BodySlab, SLAB_COPY_MAX_BYTES } from './body-slab.js';

const BASIC_CLASS_ID = 60;

const enum Phase {
  Idle,
  AwaitingHeader,
  AwaitingBody,
}

/**
 * Gathers one published message: basic.publish, then a content header, then body frames until
 * body-size bytes (none when it is 0). Anything else in between is UNEXPECTED_FRAME (spec 4.2.6);
 * the texts follow RabbitMQ's. One assembler per channel, reused for every publish.
 *
 * A body over the size limit is refused from its header but skipped, not kept: the 406 is thrown at
 * its last body frame. RabbitMQ too closes the channel only after the whole message (rabbit_channel
 * checks the size of the assembled content), and the order matters to clients: one that gets the
 * channel.close while its own body frames are still on the way queues its close-ok behind them, and
 * amqplib reuses the channel number at once, so its next channel.open would reach a channel still
 * waiting for that close-ok, be ignored (spec 2.3.5.2), and never be answered.
 */
export class ContentAssembler {
  private phase = Phase.Idle;
  exchange = '';
  routingKey = '';
  mandatory = false;
  properties: BasicProperties = {};
  encodedProperties: Buffer | undefined = undefined;
  private bodySize = 0;
  private received = 0;
  /** The first body frame, kept without copying in case it is the whole body (the usual case). */
  private firstChunk: Buffer | undefined = undefined;
  private assembled: Buffer | undefined = undefined;
  /** Set while the body of a refused message goes by; thrown at its end. */
  private refusal: ChannelError | undefined = undefined;
  private readonly slab = new BodySlab();

  constructor(private readonly maxMessageBytes: number) {}

  get inProgress(): boolean {
    return this.phase !== Phase.Idle;
  }

  start(exchange: string, routingKey: string, mandatory: boolean): void {
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.mandatory = mandatory;
    this.phase = Phase.AwaitingHeader;
  }

  /** A method frame arrived: only legal between messages. */
  assertIdle(): void {
    if (this.phase === Phase.AwaitingHeader) {
      this.reset();
      throw unexpected(`expected content header for class ${BASIC_CLASS_ID}, got non content header frame instead`);
    }
    if (this.phase === Phase.AwaitingBody) {
      this.reset();
      throw unexpected('expected content body, got non content body frame instead');
    }
  }

  /** Returns true when the message is complete (body-size 0). */
  onHeader(classId: number, bodySize: number, properties: BasicProperties, encodedProperties: Buffer): boolean {
    if (this.phase !== Phase.AwaitingHeader) {
      const was = this.phase;
      this.reset();
      throw unexpected(
        was === Phase.Idle
          ? 'expected method frame, got non method frame instead'
          : 'expected content body, got non content body frame instead',
      );
    }
    if (classId !== BASIC_CLASS_ID) {
      this.reset();
      throw unexpected(`expected content header for class ${BASIC_CLASS_ID}, got one for class ${classId} instead`);
    }
    this.bodySize = bodySize;
    this.received = 0;
    if (bodySize > this.maxMessageBytes) {
      this.refusal = new ChannelError(
        ChannelReplyCode.PreconditionFailed,
        `message size ${bodySize} is larger than configured max size ${this.maxMessageBytes}`,
      );
      this.phase = Phase.AwaitingBody;
      return false;
    }
    this.properties = properties;
    this.encodedProperties = encodedProperties;
    if (bodySize === 0) return true;
    this.phase = Phase.AwaitingBody;
    return false;
  }

  /** Returns true when the body is complete. */
  onBody(payload: Buffer): boolean {
    if (this.phase !== Phase.AwaitingBody) {
      const was = this.phase;
      this.reset();
      throw unexpected(
        was === Phase.Idle
          ? 'expected method frame, got non method frame instead'
          : `expected content header for class ${BASIC_CLASS_ID}, got non content header frame instead`,
      );
    }
    const end = this.received + payload.length;
    if (end > this.bodySize) {
      this.reset();
      throw unexpected(`content body is larger than the ${this.bodySize} bytes announced in its header`);
    }
    if (this.refusal !== undefined) return this.skip(end);
    if (this.received === 0 && end === this.bodySize) {
      this.firstChunk = end <= SLAB_COPY_MAX_BYTES ? this.slab.copy(payload) : payload;
    } else {
      if (this.assembled === undefined) this.assembled = Buffer.allocUnsafe(this.bodySize);
      payload.copy(this.assembled, this.received);
    }
    this.received = end;
    return end === this.bodySize;
  }

  /** A body frame of a refused message: counted, not kept; the refusal comes with the last one. */
  private skip(end: number): false {
    this.received = end;
    if (end < this.bodySize) return false;
    const refusal = this.refusal!;
    this.reset();
    throw refusal;
  }

  /** The finished body; the assembler is ready for the next publish. */
  takeBody(): Buffer {
    const body = this.bodySize === 0 ? EMPTY_BODY : (this.firstChunk ?? (this.assembled as Buffer));
    this.reset();
    return body;
  }

  private reset(): void {
    this.phase = Phase.Idle;
    this.firstChunk = undefined;
    this.assembled = undefined;
    this.refusal = undefined;
    this.bodySize = 0;
    this.received = 0;
  }
}

const EMPTY_BODY = Buffer.alloc(0);

function unexpected(message: string): ConnectionError {
  return new ConnectionError(ConnectionReplyCode.UnexpectedFrame, message);
}
