/**
 * Compressed record batches (attributes bits 0-2), read with well-kept pure-JS codecs so nothing
 * native has to build: gzip is node:zlib's; snappy is `snappyjs` (raw blocks, and the xerial framing
 * the Java client writes: magic 82 'SNAPPY' 00, two int32 versions, then int32-length blocks); lz4
 * is `lz4js` (LZ4 frames, what Kafka's magic-2 batches use); zstd is `fzstd` (Node 20's zlib has no
 * zstd). Only decompression is needed: Fetch sends batches uncompressed. Output is capped at
 * MAX_DECOMPRESSED_BYTES, so a small batch cannot make the broker allocate without bound.
 */
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { decompress as lz4Decompress } from 'lz4js';
import { uncompress as snappyUncompress } from 'snappyjs';
import { Compression } from './protocol/record-batch.js';

export type Decompressor = (data: Buffer) => Buffer;

export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function snappy(data: Buffer): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return asBuffer(snappyUncompress(data, MAX_DECOMPRESSED_BYTES));
  const blocks: Buffer[] = [];
  let total = 0;
  let at = 16;
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error('snappy block length cut short');
    const length = data.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > data.length) throw new Error(`snappy block of ${length} bytes runs past the data`);
    const block = asBuffer(snappyUncompress(data.subarray(at, at + length), MAX_DECOMPRESSED_BYTES - total));
    total += block.length;
    blocks.push(block);
    at += length;
  }
  return Buffer.concat(blocks, total);
}

function capped(result: Buffer): Buffer {
  if (result.length > MAX_DECOMPRESSED_BYTES) throw new Error(`decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes`);
  return result;
}

const DECOMPRESSORS = new Map<number, Decompressor>([
  [Compression.Gzip, (data) => gunzipSync(data, { maxOutputLength: MAX_DECOMPRESSED_BYTES })],
  [Compression.Snappy, snappy],
  [Compression.Lz4, (data) => capped(asBuffer(lz4Decompress(data)))],
  [Compression.Zstd, (data) => capped(asBuffer(zstdDecompress(data)))],
]);

/** undefined: the codec is not available. */
export function decompressorFor(codec: number): Decompressor | undefined {
  return DECOMPRESSORS.get(codec);
}
