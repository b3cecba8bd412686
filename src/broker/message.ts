/**
 * The message model the whole broker shares. It follows AMQP 0-9-1's basic properties because every
 * front door maps onto them (SQS attributes become headers), but nothing here knows about frames.
 */

/**
 * A field-table value whose wire type is not the one Warren would pick for its JavaScript value.
 * Decoding wraps such values so that re-encoding gives back the very same bytes (an int8 stays an int8).
 * Tags are the AMQP 0-9-1 / RabbitMQ field type letters.
 */
export class TypedValue {
  constructor(
    readonly type: 'b' | 'B' | 's' | 'u' | 'i' | 'l' | 'f' | 'd' | 'D' | 'T',
    /** number for integers and floats (bigint for 'l' beyond 2^53), {scale, value} for 'D', seconds for 'T'.
     * 'd' is wrapped only when the double holds a whole number, which would otherwise re-encode as 'I'. */
    readonly value: number | bigint | { scale: number; value: number },
  ) {}
}

/**
 * Plain JavaScript values encode as: boolean 't', string 'S', integer within int32 'I', other safe
 * integer 'l', other number 'd', bigint 'l', Buffer 'x', array 'A', table 'F', null 'V'.
 */
export type FieldValue =
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | null
  | TypedValue
  | FieldValue[]
  | FieldTable;

export interface FieldTable {
  [key: string]: FieldValue;
}

/** Whether a field value is a nested table (not an array, byte array, typed value or null). */
export function isFieldTable(value: FieldValue | undefined): value is FieldTable {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !Buffer.isBuffer(value) &&
    !(value instanceof TypedValue)
  );
}

/** Numeric view of a field value, whatever integer or float type it came as. */
export function fieldNumber(value: FieldValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof TypedValue) {
    const v = value.value;
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    return v.value / 10 ** v.scale;
  }
  return undefined;
}

/** String view of a field value ('S' long strings, or a byte array holding text). */
export function fieldString(value: FieldValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

/** The 14 basic-class content properties, by their spec names in camelCase. */
export interface BasicProperties {
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
  headers?: FieldTable | undefined;
  /** 1 transient, 2 persistent */
  deliveryMode?: number | undefined;
  priority?: number | undefined;
  correlationId?: string | undefined;
  replyTo?: string | undefined;
  /** milliseconds, as a decimal string (the spec's type) */
  expiration?: string | undefined;
  messageId?: string | undefined;
  /** seconds since the epoch */
  timestamp?: number | undefined;
  type?: string | undefined;
  userId?: string | undefined;
  appId?: string | undefined;
  clusterId?: string | undefined;
}

/**
 * Where publishedAt is counted from: a message keeps the offset, which for the next 24 days fits a small
 * integer (no HeapNumber of 16 bytes per message). A constant, so no state is shared between brokers.
 */
const PUBLISHED_EPOCH = Date.now();

/**
 * One published message. Routed to many queues, it is shared by all of them: the body is never copied.
 * `properties` must be treated as immutable; to change them (dead-lettering adds x-death) make a new
 * Message with `withProperties`.
 *
 * The body is kept as the bytes it lies in (usually the socket chunk it arrived in) with its offset and
 * size, not as a Buffer view: a view is an object of about 100 bytes, more than a small message itself,
 * and millions of messages may wait in queues. `body` makes a view when asked (cheap, short-lived).
 */
export class Message {
  private readonly bodyBytes: ArrayBufferLike;
  private readonly bodyOffset: number;
  readonly bodySize: number;
  private readonly publishedOffset: number;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly properties: BasicProperties,
    body: Buffer,
    /**
     * The properties exactly as they came off the wire (flags and values, without the content header's
     * class id and sizes). A front door may reuse them to send the message on unchanged, which keeps
     * every header byte-identical and saves re-encoding. Undefined when the properties were made here.
     */
    readonly encodedProperties?: Buffer,
    /** Date.now() when the broker accepted the message. */
    publishedAt: number = Date.now(),
  ) {
    this.bodyBytes = body.buffer;
    this.bodyOffset = body.byteOffset;
    this.bodySize = body.length;
    this.publishedOffset = publishedAt - PUBLISHED_EPOCH;
  }

  /** The body (a fresh view of the same bytes on every call: do not modify it). */
  get body(): Buffer {
    return Buffer.from(this.bodyBytes, this.bodyOffset, this.bodySize);
  }

  /** Date.now() when the broker accepted the message. */
  get publishedAt(): number {
    return this.publishedOffset + PUBLISHED_EPOCH;
  }

  get persistent(): boolean {
    return this.properties.deliveryMode === 2;
  }

  /** A copy with other properties (and so no reusable encoded form). */
  withProperties(properties: BasicProperties, exchange = this.exchange, routingKey = this.routingKey): Message {
    return new Message(exchange, routingKey, properties, this.body, undefined, this.publishedAt);
  }
}
