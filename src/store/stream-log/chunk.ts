import { crc32 } from 'node:zlib';
import type { StreamRecord } from '../store.js';

/**
 * A chunk: the records one turn appended to a stream log, written as one unit (src/store/FORMAT.md,
 * "Stream logs"). Layout, little endian:
 *
 *   0  u32 magic 'WSC1'       4  u32 chunk length (header included)   8  u32 crc32 of bytes 12..length
 *   12 u32 record count       16 f64 first offset                       24 f64 timestamp (ms since the epoch)
 *   32 records: u32 header length, u32 body length, u8 filter value length, filter value (utf8), header, body
 */
export const CHUNK_MAGIC = 0x31435357;
/**
 * A batch chunk ('WSB1'): the same 32-byte header (its count is the batch's offsets), then one batch of
 * records in a door's own format, stored as the door appended it (StreamLog.appendBatch).
 */
export const BATCH_CHUNK_MAGIC = 0x31425357;
export const CHUNK_HEADER_BYTES = 32;
const RECORD_FIXED_BYTES = 9;
const EMPTY = Buffer.alloc(0);

/** A segment file starts with these 8 bytes (format version 1 of stream segments). */
export const SEGMENT_MAGIC = Buffer.from('WSTREAM1', 'latin1');

export interface PendingRecord {
  readonly header: Buffer;
  readonly body: Buffer;
  readonly filter: Buffer | undefined;
}

export function pendingRecord(header: Buffer, body: Buffer, filterValue: string | undefined): PendingRecord {
  const filter = filterValue === undefined ? undefined : Buffer.from(filterValue, 'utf8');
  if (filter !== undefined && filter.length > 255) throw new RangeError('a stream filter value is at most 255 bytes');
  return { header, body, filter };
}

export function recordBytes(record: PendingRecord): number {
  return RECORD_FIXED_BYTES + (record.filter?.length ?? 0) + record.header.length + record.body.length;
}

export function encodeChunk(records: readonly PendingRecord[], firstOffset: number, timestamp: number): Buffer {
  let length = CHUNK_HEADER_BYTES;
  for (const record of records) length += recordBytes(record);
  const chunk = Buffer.allocUnsafe(length);
  chunk.writeUInt32LE(CHUNK_MAGIC, 0);
  chunk.writeUInt32LE(length, 4);
  chunk.writeUInt32LE(records.length, 12);
  chunk.writeDoubleLE(firstOffset, 16);
  chunk.writeDoubleLE(timestamp, 24);
  let at = CHUNK_HEADER_BYTES;
  for (const { header, body, filter } of records) {
    at = chunk.writeUInt32LE(header.length, at);
    at = chunk.writeUInt32LE(body.length, at);
    at = chunk.writeUInt8(filter?.length ?? 0, at);
    if (filter !== undefined) at += filter.copy(chunk, at);
    at += header.copy(chunk, at);
    at += body.copy(chunk, at);
  }
  chunk.writeUInt32LE(crc32(chunk.subarray(12)), 8);
  return chunk;
}

/** Sets a written-at-flush timestamp in an encoded chunk (and its checksum): chunk timestamps stay in order. */
export function stampChunk(chunk: Buffer, timestamp: number): void {
  chunk.writeDoubleLE(timestamp, 24);
  chunk.writeUInt32LE(crc32(chunk.subarray(12)), 8);
}

/** What the index keeps of a chunk, read from its 32-byte header. */
export interface ChunkHeader {
  /** A batch chunk (BATCH_CHUNK_MAGIC) rather than a records chunk. */
  readonly batch: boolean;
  readonly length: number;
  readonly count: number;
  readonly firstOffset: number;
  readonly timestamp: number;
}

/** The header at `at`, or undefined when it is not a plausible chunk header (torn or foreign bytes). */
export function readChunkHeader(buf: Buffer, at = 0): ChunkHeader | undefined {
  if (buf.length - at < CHUNK_HEADER_BYTES) return undefined;
  const magic = buf.readUInt32LE(at);
  if (magic !== CHUNK_MAGIC && magic !== BATCH_CHUNK_MAGIC) return undefined;
  const length = buf.readUInt32LE(at + 4);
  const count = buf.readUInt32LE(at + 12);
  const firstOffset = buf.readDoubleLE(at + 16);
  const timestamp = buf.readDoubleLE(at + 24);
  if (length < CHUNK_HEADER_BYTES || !Number.isSafeInteger(firstOffset) || firstOffset < 0 || !Number.isFinite(timestamp)) return undefined;
  return { batch: magic === BATCH_CHUNK_MAGIC, length, count, firstOffset, timestamp };
}

/** A batch chunk around `batch` (copied: the caller may reuse its buffer). */
export function encodeBatchChunk(batch: Buffer, count: number, firstOffset: number, timestamp: number): Buffer {
  const length = CHUNK_HEADER_BYTES + batch.length;
  const chunk = Buffer.allocUnsafe(length);
  chunk.writeUInt32LE(BATCH_CHUNK_MAGIC, 0);
  chunk.writeUInt32LE(length, 4);
  chunk.writeUInt32LE(count, 12);
  chunk.writeDoubleLE(firstOffset, 16);
  chunk.writeDoubleLE(timestamp, 24);
  batch.copy(chunk, CHUNK_HEADER_BYTES);
  chunk.writeUInt32LE(crc32(chunk.subarray(12)), 8);
  return chunk;
}

export function chunkIntact(chunk: Buffer): boolean {
  return chunk.length >= CHUNK_HEADER_BYTES && crc32(chunk.subarray(12)) === chunk.readUInt32LE(8);
}

/**
 * The records of a whole chunk (checked) from offset `from` on. Records' buffers are views of `chunk`,
 * which the caller must not reuse.
 */
export function decodeChunk(chunk: Buffer, from: number): StreamRecord[] {
  const header = readChunkHeader(chunk);
  if (header === undefined || header.length !== chunk.length || !chunkIntact(chunk)) {
    throw new Error('stream chunk failed its checksum');
  }
  if (header.batch) {
    // One record standing for the whole batch: the reader expands it (StreamRecord.batchCount).
    if (header.firstOffset + header.count <= from) return [];
    return [{ offset: header.firstOffset, timestamp: header.timestamp, filterValue: undefined, header: EMPTY, body: chunk.subarray(CHUNK_HEADER_BYTES), batchCount: header.count }];
  }
  const records: StreamRecord[] = [];
  let at = CHUNK_HEADER_BYTES;
  for (let i = 0; i < header.count; i++) {
    const headerLength = chunk.readUInt32LE(at);
    const bodyLength = chunk.readUInt32LE(at + 4);
    const filterLength = chunk.readUInt8(at + 8);
    at += RECORD_FIXED_BYTES;
    const filterValue = filterLength === 0 ? undefined : chunk.toString('utf8', at, at + filterLength);
    at += filterLength;
    const offset = header.firstOffset + i;
    if (offset >= from) {
      records.push({
        offset,
        timestamp: header.timestamp,
        filterValue,
        header: chunk.subarray(at, at + headerLength),
        body: chunk.subarray(at + headerLength, at + headerLength + bodyLength),
      });
    }
    at += headerLength + bodyLength;
  }
  return records;
}
