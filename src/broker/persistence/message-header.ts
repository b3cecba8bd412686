import { Message, type BasicProperties } from '../message.js';
import { fieldTableFromJson, fieldTableToJson } from './field-json.js';

/**
 * Properties as bytes. The server injects the AMQP content-header encoding (src/amqp/codec), so a
 * message published over AMQP is stored with the very bytes it arrived with and nothing is encoded per
 * message; the core itself stays free of protocol imports and falls back to JSON.
 */
export interface PropertiesCodec {
  /** Identifies the encoding in stored headers; a store written with one codec is read with the same. */
  readonly id: number;
  /** Whether Message.encodedProperties (AMQP wire bytes) may be stored as they are. */
  readonly acceptsWireBytes: boolean;
  encode(properties: BasicProperties): Buffer;
  decode(bytes: Buffer): BasicProperties;
}

export const AMQP_PROPERTIES_CODEC_ID = 1;
export const JSON_PROPERTIES_CODEC_ID = 2;

/** The core's own fallback: JSON, with field tables through field-json. */
export const JSON_PROPERTIES_CODEC: PropertiesCodec = {
  id: JSON_PROPERTIES_CODEC_ID,
  acceptsWireBytes: false,
  encode(properties) {
    const plain: Record<string, unknown> = { ...properties };
    if (properties.headers !== undefined) plain['headers'] = fieldTableToJson(properties.headers);
    return Buffer.from(JSON.stringify(plain));
  },
  decode(bytes) {
    const plain = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (plain['headers'] !== undefined) plain['headers'] = fieldTableFromJson(plain['headers']);
    return plain as BasicProperties;
  },
};

/**
 * The opaque `header` the store keeps next to each body (documented in ARCHITECTURE.md, "On-disk
 * format"): u8 header version (1), u8 properties codec id, f64 LE publishedAt, u8 exchange length,
 * exchange (utf8), u8 routing key length, routing key (utf8), then the encoded properties (rest).
 * Exchange names and routing keys are AMQP shortstrs, so one length byte suffices.
 */
const HEADER_VERSION = 1;
const FIXED_BYTES = 1 + 1 + 8 + 1 + 1;

export class MessageHeaderCodec {
  /** The last message encoded: a fanout appends the same message to many queues, encoded once. */
  private lastMessage: Message | undefined;
  private lastHeader: Buffer | undefined;

  constructor(private readonly properties: PropertiesCodec) {}

  encode(message: Message): Buffer {
    if (message === this.lastMessage) return this.lastHeader!;
    const wire = this.properties.acceptsWireBytes ? message.encodedProperties : undefined;
    const props = wire ?? this.properties.encode(message.properties);
    const exchangeBytes = Buffer.byteLength(message.exchange);
    const keyBytes = Buffer.byteLength(message.routingKey);
    const header = Buffer.allocUnsafe(FIXED_BYTES + exchangeBytes + keyBytes + props.length);
    let at = header.writeUInt8(HEADER_VERSION, 0);
    at = header.writeUInt8(this.properties.id, at);
    at = header.writeDoubleLE(message.publishedAt, at);
    at = header.writeUInt8(exchangeBytes, at);
    at += header.write(message.exchange, at, 'utf8');
    at = header.writeUInt8(keyBytes, at);
    at += header.write(message.routingKey, at, 'utf8');
    props.copy(header, at);
    this.lastMessage = message;
    this.lastHeader = header;
    return header;
  }

  decode(header: Buffer, body: Buffer): Message {
    const version = header.readUInt8(0);
    if (version !== HEADER_VERSION) throw new Error(`stored message header version ${version} is not supported`);
    const codecId = header.readUInt8(1);
    if (codecId !== this.properties.id && codecId !== JSON_PROPERTIES_CODEC_ID) {
      throw new Error(`stored message properties use codec ${codecId}, this broker reads ${this.properties.id}`);
    }
    const publishedAt = header.readDoubleLE(2);
    let at = 10;
    const exchangeEnd = at + 1 + header.readUInt8(at);
    const exchange = header.toString('utf8', at + 1, exchangeEnd);
    at = exchangeEnd;
    const keyEnd = at + 1 + header.readUInt8(at);
    const routingKey = header.toString('utf8', at + 1, keyEnd);
    const props = header.subarray(keyEnd);
    const codec = codecId === JSON_PROPERTIES_CODEC_ID ? JSON_PROPERTIES_CODEC : this.properties;
    const wire = codec.acceptsWireBytes ? props : undefined;
    return new Message(exchange, routingKey, codec.decode(props), body, wire, publishedAt);
  }
}
