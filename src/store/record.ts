import { crc32 } from 'node:zlib';
import { slicedCrc32 } from '../util/sliced-crc.js';

/**
 * Record framing shared by segment files and the definitions file (see FORMAT.md for the byte layout).
 * All integers are little-endian.
 */

export const FORMAT_VERSION = 1;
export const FILE_HEADER_SIZE = 16;
export const SEGMENT_MAGIC = 'WARRENLG';
export const DEFINITIONS_MAGIC = 'WARRENDF';

/** crc32 (4) + length (4); the length counts the bytes after this prefix (type byte + payload). */
export const RECORD_PREFIX = 8;
/** Guard against a garbage length making us allocate absurd buffers: nothing legitimate is bigger. */
export const MAX_RECORD_LENGTH = 0x7fff_0000;

export const RecordType = {
  /** A message: index, flags, holder queue ids, header, body. */
  Message: 1,
  /** Another queue holds the message with this index in the same segment (fanout stored once). */
  Enqueue: 2,
  /** A queue no longer holds a message (segment, index). */
  Remove: 3,
  /** A queue delivered a message for the first time (redelivered flag after restart). */
  Deliver: 4,
  /** Definitions file: put (kind, key, JSON). */
  DefinitionPut: 16,
  DefinitionDelete: 17,
  /** Definitions file: queue name <-> id of its message stream. */
  QueueId: 18,
  /** Definitions file: the queue id was dropped while segments up to `segment` existed. */
  QueueDrop: 19,
} as const;

/** Message record payload offsets, relative to the record start. */
export const Msg = {
  index: 9,
  flags: 13,
  queueCount: 15,
  headerLength: 17,
  queues: 21,
} as const;
export const MessageFlag = { delivered: 1 } as const;

/** Reference records (Enqueue/Remove/Deliver) are fixed size. */
export const ENQUEUE_SIZE = RECORD_PREFIX + 1 + 8;
export const REFERENCE_SIZE = RECORD_PREFIX + 1 + 12;

export function messageRecordSize(queueCount: number, headerLength: number, bodyLength: number): number {
  return Msg.queues + 4 * queueCount + headerLength + bodyLength;
}

const crc32InJs = slicedCrc32(0xedb88320);
/**
 * Below this many bytes the CRC is computed in JavaScript: Remove, Deliver and Enqueue records (13-17
 * bytes checked) and small messages cost a fifth of a call into zlib with its subarray (bench/crc.ts).
 */
export const SHORT_CRC_BYTES = 128;

/** zlib's CRC-32 of buf[start, end), the checksum of every record. */
export function recordCrc(buf: Buffer, start: number, end: number): number {
  return end - start < SHORT_CRC_BYTES ? crc32InJs(buf, start, end) : crc32(buf.subarray(start, end));
}

/**
 * Little-endian u32 and u16 stores for the append path, written byte by byte: V8 inlines these, while
 * Buffer's writeUInt32LE stays a call with its range checks (about 2% of a persistent publish's CPU).
 * The caller has reserved the bytes.
 */
export function put32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value;
  buf[at + 1] = value >>> 8;
  buf[at + 2] = value >>> 16;
  buf[at + 3] = value >>> 24;
}

export function put16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value;
  buf[at + 1] = value >>> 8;
}

/** Fills in length and CRC of the record that occupies buf[start, end). */
export function sealRecord(buf: Buffer, start: number, end: number): void {
  put32(buf, start + 4, end - start - RECORD_PREFIX);
  put32(buf, start, recordCrc(buf, start + 4, end));
}

export type RecordCheck = 'ok' | 'truncated' | 'bad';

/** Whether a whole, intact record starts at buf[start] within buf[0, end). */
export function checkRecord(buf: Buffer, start: number, end: number): RecordCheck {
  if (end - start < RECORD_PREFIX + 1) return 'truncated';
  const length = buf.readUInt32LE(start + 4);
  if (length < 1 || length > MAX_RECORD_LENGTH) return 'bad';
  if (start + RECORD_PREFIX + length > end) return 'truncated';
  const stored = buf.readUInt32LE(start);
  return recordCrc(buf, start + 4, start + RECORD_PREFIX + length) === stored ? 'ok' : 'bad';
}

export function recordSize(buf: Buffer, start: number): number {
  return RECORD_PREFIX + buf.readUInt32LE(start + 4);
}

export function writeFileHeader(buf: Buffer, magic: string, number: number): void {
  buf.write(magic, 0, 8, 'latin1');
  buf.writeUInt32LE(FORMAT_VERSION, 8);
  buf.writeUInt32LE(number, 12);
}

export function fileHeader(magic: string, number: number): Buffer {
  const buf = Buffer.alloc(FILE_HEADER_SIZE);
  writeFileHeader(buf, magic, number);
  return buf;
}

/** Null when fine, otherwise why the header is unusable. */
export function fileHeaderProblem(buf: Buffer, magic: string, number?: number): string | null {
  if (buf.length < FILE_HEADER_SIZE) return 'file shorter than its header';
  if (buf.toString('latin1', 0, 8) !== magic) return 'bad magic';
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) return `format version ${version} (this build reads ${FORMAT_VERSION})`;
  if (number !== undefined && buf.readUInt32LE(12) !== number) return 'segment number does not match file name';
  return null;
}
