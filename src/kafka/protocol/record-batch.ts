/**
 * Record batches, message format v2 (magic 2, KIP-98; https://kafka.apache.org/documentation/#recordbatch):
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | records count int32 | records
 *
 * The CRC-32C covers attributes to the end. Attributes: bits 0-2 compression (0 none, 1 gzip,
 * 2 snappy, 3 lz4, 4 zstd), bit 3 timestamp type, bit 4 transactional, bit 5 control batch. A record:
 * length varint | attributes int8 | timestampDelta varlong | offsetDelta varint | key (varint length,
 * -1 = null) | value | headers (varint count; key varint length + utf8, value varint length, -1 = null).
 */
import { crc32c } from './crc32c.js';
import { KafkaDecodeError, Reader } from './reader.js';
import { Writer } from './writer.js';

export const BATCH_HEADER_BYTES = 61;
/** Offset of the CRC in a batch, and of the first byte it covers. */
const CRC_AT = 17;
const CRC_FROM = 21;

export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

export interface KafkaRecord {
  /** Absolute within the batch: baseOffset + offsetDelta as the producer numbered them. */
  readonly offsetDelta: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

export interface BatchHeader {
  readonly baseOffset: bigint;
  /** Bytes of the whole batch (batchLength + 12). */
  readonly size: number;
  readonly magic: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly count: number;
}

export const Compression = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;

export function compressionOf(attributes: number): number {
  return attributes & 0x07;
}

export function isControlBatch(attributes: number): boolean {
  return (attributes & 0x20) !== 0;
}

export function isTransactional(attributes: number): boolean {
  return (attributes & 0x10) !== 0;
}

/** The record set's batches as views into `records` (no copy); a torn last batch is an error. */
export function splitBatches(records: Buffer): Buffer[] {
  const batches: Buffer[] = [];
  let at = 0;
  while (at < records.length) {
    if (records.length - at < 17) throw new KafkaDecodeError(`record set ends inside a batch header at ${at}`);
    const length = records.readInt32BE(at + 8);
    const magic = records.readInt8(at + 16);
    if (length < BATCH_HEADER_BYTES - 12 && magic === 2) throw new KafkaDecodeError(`batch length ${length} is shorter than a batch header`);
    if (length < 0 || at + 12 + length > records.length) throw new KafkaDecodeError(`batch of ${length} bytes runs past the record set`);
    batches.push(records.subarray(at, at + 12 + length));
    at += 12 + length;
  }
  return batches;
}

/** The header of a magic-2 batch (callers check `magic` first: older formats differ after it). */
export function readBatchHeader(batch: Buffer): BatchHeader {
  if (batch.length < BATCH_HEADER_BYTES) throw new KafkaDecodeError(`a batch of ${batch.length} bytes is shorter than its header`);
  const r = new Reader(batch);
  const baseOffset = r.int64();
  const size = r.int32() + 12;
  r.int32(); // partitionLeaderEpoch
  const magic = r.int8();
  r.uint32(); // crc
  return {
    baseOffset,
    size,
    magic,
    attributes: r.int16(),
    lastOffsetDelta: r.int32(),
    baseTimestamp: r.int64Number(),
    maxTimestamp: r.int64Number(),
    producerId: r.int64(),
    producerEpoch: r.int16(),
    baseSequence: r.int32(),
    count: r.int32(),
  };
}

export function batchCrcValid(batch: Buffer): boolean {
  return batch.readUInt32BE(CRC_AT) === crc32c(batch, CRC_FROM);
}

/**
 * The records of a batch whose payload (after the 61-byte header) is `payload`: the batch's own bytes,
 * or what decompressing them gave. Values and keys are views into `payload`.
 */
export function decodeRecords(header: BatchHeader, payload: Buffer): KafkaRecord[] {
  const r = new Reader(payload);
  const records: KafkaRecord[] = [];
  for (let i = 0; i < header.count; i++) {
    const length = r.varint();
    if (length < 0 || length > r.remaining) throw new KafkaDecodeError(`record length ${length} with ${r.remaining} bytes left`);
    const end = r.offset + length;
    const inner = new Reader(payload, false, r.offset, end);
    inner.int8(); // attributes: unused in v2
    const timestamp = header.baseTimestamp + inner.varlong();
    const offsetDelta = inner.varint();
    const key = varintBytes(inner);
    const value = varintBytes(inner);
    const headerCount = inner.varint();
    if (headerCount < 0 || headerCount > inner.remaining) throw new KafkaDecodeError(`header count ${headerCount}`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const keyBytes = varintBytes(inner);
      if (keyBytes === null) throw new KafkaDecodeError('a record header key is null');
      headers.push({ key: keyBytes.toString('utf8'), value: varintBytes(inner) });
    }
    r.offset = end;
    records.push({ offsetDelta, timestamp, key, value, headers });
  }
  return records;
}

function varintBytes(r: Reader): Buffer | null {
  const length = r.varint();
  if (length === -1) return null;
  if (length < 0) throw new KafkaDecodeError(`negative length ${length}`);
  return r.raw(length);
}

/** Rewrites a stored batch's baseOffset (the log assigns offsets; the CRC does not cover it). */
export function setBaseOffset(batch: Buffer, baseOffset: number): void {
  batch.writeBigInt64BE(BigInt(baseOffset), 0);
}

export interface OutgoingRecord {
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

/** An uncompressed magic-2 batch of records numbered from `baseOffset` (Fetch responses). */
export function encodeBatch(baseOffset: number, records: readonly OutgoingRecord[]): Buffer {
  let baseTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (const record of records) {
    if (record.timestamp < baseTimestamp) baseTimestamp = record.timestamp;
    if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
  }
  if (records.length === 0) baseTimestamp = maxTimestamp = -1;
  const w = new Writer(false, 64 + records.length * 32);
  w.int64Number(baseOffset).int32(0).int32(0).int8(2).uint32(0).int16(0).int32(records.length - 1);
  w.int64Number(baseTimestamp).int64Number(maxTimestamp).int64Number(-1).int16(-1).int32(-1).int32(records.length);
  const body = new Writer(false, 64);
  records.forEach((record, index) => {
    body.int8(0).varlong(record.timestamp - baseTimestamp).varint(index);
    writeVarintBytes(body, record.key);
    writeVarintBytes(body, record.value);
    body.varint(record.headers.length);
    for (const header of record.headers) {
      writeVarintBytes(body, Buffer.from(header.key, 'utf8'));
      writeVarintBytes(body, header.value);
    }
    const encoded = body.toBuffer();
    w.varint(encoded.length).raw(encoded);
    body.reset();
  });
  const batch = w.toBuffer();
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeUInt32BE(crc32c(batch, CRC_FROM), CRC_AT);
  return batch;
}

function writeVarintBytes(w: Writer, bytes: Buffer | null): void {
  if (bytes === null) {
    w.varint(-1);
    return;
  }
  w.varint(bytes.length).raw(bytes);
}
