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
/** Version, codec id and publishedAt come before the names. */
const NAMES_AT = 1 + 1 + 8;

export class MessageHeaderCodec {
  /** The last message encoded: a fanout appends the same message to many queues, encoded once. */
  private lastMessage: Message | undefined;
  private lastHeader: Buffer | undefined;
  /**
   * The last header's exchange and routing key as bytes (with their length bytes): a publisher usually
   * repeats them, and copying beats measuring and encoding two strings per message.
   */
  private lastExchange = '';
  private lastRoutingKey = '';
  private lastNames: Buffer = Buffer.from([0, 0]);

  constructor(private readonly properties: PropertiesCodec) {}

  encode(message: Message): Buffer {
    if (message === this.lastMessage) return this.lastHeader!;
    const wire = this.properties.acceptsWireBytes ? message.encodedProperties : undefined;
    const props = wire ?? this.properties.encode(message.properties);
    const names = this.namesOf(message.exchange, message.routingKey);
    const header = Buffer.allocUnsafe(NAMES_AT + names.length + props.length);
    header[0] = HEADER_VERSION;
    header[1] = this.properties.id;
    header.writeDoubleLE(message.publishedAt, 2);
    names.copy(header, NAMES_AT);
    props.copy(header, NAMES_AT + names.length);
    this.lastMessage = message;
    this.lastHeader = header;
    return header;
  }

  /** u8 exchange length, exchange, u8 routing key length, routing key. */
  private namesOf(exchange: string, routingKey: string): Buffer {
    if (exchange === this.lastExchange && routingKey === this.lastRoutingKey) return this.lastNames;
    const exchangeBytes = Buffer.byteLength(exchange);
    const keyBytes = Buffer.byteLength(routingKey);
    const names = Buffer.allocUnsafe(2 + exchangeBytes + keyBytes);
    names[0] = exchangeBytes;
    names.write(exchange, 1, 'utf8');
    names[1 + exchangeBytes] = keyBytes;
    names.write(routingKey, 2 + exchangeBytes, 'utf8');
    this.lastExchange = exchange;
    this.lastRoutingKey = routingKey;
    this.lastNames = names;
    return names;
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
