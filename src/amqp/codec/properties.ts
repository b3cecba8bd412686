/**
 * Basic-class content properties (spec 4.2.6.1): a 16-bit flag word, one bit per property from bit 15
 * down, then the values of the properties present, in order. Bit 0 means "another flag word follows";
 * basic has 14 properties, so we never write one, and we accept one only if it flags nothing.
 */
import type { BasicProperties } from '../../broker/message.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { syntaxError } from './errors.js';

const CONTENT_TYPE = 1 << 15;
const CONTENT_ENCODING = 1 << 14;
const HEADERS = 1 << 13;
const DELIVERY_MODE = 1 << 12;
const PRIORITY = 1 << 11;
const CORRELATION_ID = 1 << 10;
const REPLY_TO = 1 << 9;
const EXPIRATION = 1 << 8;
const MESSAGE_ID = 1 << 7;
const TIMESTAMP = 1 << 6;
const TYPE = 1 << 5;
const USER_ID = 1 << 4;
const APP_ID = 1 << 3;
const CLUSTER_ID = 1 << 2;
/** Bit 1 would be a 15th property; basic has none. */
const UNDEFINED_PROPERTY = 1 << 1;
const CONTINUATION = 1;

function readFlags(r: ByteReader): number {
  const flags = r.u16();
  if (flags & UNDEFINED_PROPERTY) throw syntaxError('property flag 1 is not a basic property');
  let more = flags & CONTINUATION;
  while (more) {
    const next = r.u16();
    if (next & ~CONTINUATION) throw syntaxError('property flags beyond the 14 basic properties');
    more = next & CONTINUATION;
  }
  return flags;
}

/**
 * Reads flags and values from `r.pos` to `r.end`, which must be consumed exactly.
 * The result always has all 14 keys (absent ones undefined): one object shape for every message.
 */
export function readProperties(r: ByteReader): BasicProperties {
  const f = readFlags(r);
  const p: BasicProperties = {
    contentType: f & CONTENT_TYPE ? r.shortstr() : undefined,
    contentEncoding: f & CONTENT_ENCODING ? r.shortstr() : undefined,
    headers: f & HEADERS ? r.table() : undefined,
    deliveryMode: f & DELIVERY_MODE ? r.u8() : undefined,
    priority: f & PRIORITY ? r.u8() : undefined,
    correlationId: f & CORRELATION_ID ? r.shortstr() : undefined,
    replyTo: f & REPLY_TO ? r.shortstr() : undefined,
    expiration: f & EXPIRATION ? r.shortstr() : undefined,
    messageId: f & MESSAGE_ID ? r.shortstr() : undefined,
    timestamp: f & TIMESTAMP ? r.u64() : undefined,
    type: f & TYPE ? r.shortstr() : undefined,
    userId: f & USER_ID ? r.shortstr() : undefined,
    appId: f & APP_ID ? r.shortstr() : undefined,
    clusterId: f & CLUSTER_ID ? r.shortstr() : undefined,
  };
  if (r.pos !== r.end) throw syntaxError(`${r.end - r.pos} bytes after the content properties`);
  return p;
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

function flagsOf(p: BasicProperties): number {
  return (
    (present(p.contentType) ? CONTENT_TYPE : 0) |
    (present(p.contentEncoding) ? CONTENT_ENCODING : 0) |
    (present(p.headers) ? HEADERS : 0) |
    (present(p.deliveryMode) ? DELIVERY_MODE : 0) |
    (present(p.priority) ? PRIORITY : 0) |
    (present(p.correlationId) ? CORRELATION_ID : 0) |
    (present(p.replyTo) ? REPLY_TO : 0) |
    (present(p.expiration) ? EXPIRATION : 0) |
    (present(p.messageId) ? MESSAGE_ID : 0) |
    (present(p.timestamp) ? TIMESTAMP : 0) |
    (present(p.type) ? TYPE : 0) |
    (present(p.userId) ? USER_ID : 0) |
    (present(p.appId) ? APP_ID : 0) |
    (present(p.clusterId) ? CLUSTER_ID : 0)
  );
}

/** Writes flags and values straight into `w` (undefined and null mean absent). */
export function writeProperties(w: ByteWriter, p: BasicProperties): void {
  const f = flagsOf(p);
  w.u16(f);
  if (f === 0) return;
  if (f & CONTENT_TYPE) w.shortstr(p.contentType!);
  if (f & CONTENT_ENCODING) w.shortstr(p.contentEncoding!);
  if (f & HEADERS) w.table(p.headers!);
  if (f & DELIVERY_MODE) w.u8(p.deliveryMode!);
  if (f & PRIORITY) w.u8(p.priority!);
  if (f & CORRELATION_ID) w.shortstr(p.correlationId!);
  if (f & REPLY_TO) w.shortstr(p.replyTo!);
  if (f & EXPIRATION) w.shortstr(p.expiration!);
  if (f & MESSAGE_ID) w.shortstr(p.messageId!);
  if (f & TIMESTAMP) w.u64(p.timestamp!);
  if (f & TYPE) w.shortstr(p.type!);
  if (f & USER_ID) w.shortstr(p.userId!);
  if (f & APP_ID) w.shortstr(p.appId!);
  if (f & CLUSTER_ID) w.shortstr(p.clusterId!);
}

/** Flags + values, exactly as in a content header after class id, weight and body size. */
export function encodeProperties(p: BasicProperties): Buffer {
  const w = new ByteWriter(64);
  writeProperties(w, p);
  return w.take();
}

/** Inverse of encodeProperties; throws FrameDecodeError 502 on malformed input. */
export function decodeProperties(buf: Buffer): BasicProperties {
  return readProperties(new ByteReader(buf));
}

/** Longest property block compared against the previous one; longer blocks are just decoded. */
const REPEAT_MAX_BYTES = 512;

/**
 * Content properties of consecutive messages on one connection, decoded once per distinct value.
 * Publishers mostly send the same properties again and again (the same delivery mode, content type,
 * empty headers table), so when a block is byte for byte the previous one, the previous decoded object
 * and bytes are handed out again: no 14-field object, no strings, no Buffer view per message. A shared
 * object is frozen before its first reuse (Message.properties is immutable by contract: this enforces
 * it). Anything else is decoded and validated in full, so malformed properties still fail at once.
 */
export class PropertiesDecoder {
  /** The last block: a view of the input it came in. */
  encoded: Buffer = EMPTY_BLOCK;
  /** Its decoded form. */
  properties: BasicProperties = {};
  private cachedLength = -1;
  private shared = false;

  /** `reader` may be one the owner uses for other things too (it is re-aimed for every block). */
  constructor(private readonly reader: ByteReader = new ByteReader()) {}

  /** Decodes buf[start, end) into `properties` and `encoded`; throws FrameDecodeError 502. */
  decode(buf: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length === this.cachedLength && sameBytes(buf, start, this.encoded, length)) {
      if (!this.shared) this.share();
      return;
    }
    const r = this.reader;
    r.reset(buf, start, end);
    const properties = readProperties(r);
    this.properties = properties;
    this.encoded = buf.subarray(start, end);
    this.cachedLength = length <= REPEAT_MAX_BYTES ? length : -1;
    this.shared = false;
  }

  private share(): void {
    this.shared = true;
    const headers = this.properties.headers;
    if (headers !== undefined) Object.freeze(headers);
    Object.freeze(this.properties);
  }
}

const EMPTY_BLOCK = Buffer.alloc(0);

function sameBytes(buf: Buffer, start: number, previous: Buffer, length: number): boolean {
  for (let i = 0; i < length; i++) if (buf[start + i] !== previous[i]) return false;
  return true;
}
