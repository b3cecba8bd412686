/**
 * Builds Kafka RecordBatch v2 blobs (https://kafka.apache.org/documentation/#recordbatch) for the null
 * endpoint's Fetch answers: uncompressed records of one size, no keys or headers, CRC-32C over
 * attributes..end. baseOffset and partitionLeaderEpoch lie outside the CRC, so one template serves
 * every offset by rewriting its first 8 bytes.
 */
import { Writer } from '../../src/kafka/protocol/writer.js';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as RecordBatch v2 uses. */
export function crc32c(data: Buffer, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A batch of `count` records of `recordBytes` each, base offset 0 (rewrite bytes 0..7 to move it). */
export function recordBatchTemplate(count: number, recordBytes: number, timestamp = Date.now()): Buffer {
  const value = Buffer.alloc(recordBytes, 0x61);
  const records = new Writer();
  for (let i = 0; i < count; i++) {
    const body = new Writer();
    body.int8(0).varlong(0).varint(i).varint(-1).varint(value.length).raw(value).varint(0);
    const bytes = body.toBuffer();
    records.varint(bytes.length).raw(bytes);
  }
  const recordBytesAll = records.toBuffer();
  const w = new Writer();
  w.int64Number(0); // baseOffset
  w.int32(0); // batchLength, patched
  w.int32(-1); // partitionLeaderEpoch
  w.int8(2); // magic
  w.int32(0); // crc, patched
  w.int16(0); // attributes: no compression, CreateTime, not transactional
  w.int32(count - 1); // lastOffsetDelta
  w.int64Number(timestamp).int64Number(timestamp);
  w.int64Number(-1).int16(-1).int32(-1); // producer id, epoch, base sequence: none
  w.int32(count);
  w.raw(recordBytesAll);
  const batch = w.toBuffer();
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeUInt32BE(crc32c(batch, 21), 17);
  return batch;
}
