/**
 * Compressed record batches (attributes bits 0-2): the codecs Warren can read. gzip is node:zlib's.
 * A batch in a codec not listed here is refused with UNSUPPORTED_COMPRESSION_TYPE.
 */
import { gunzipSync } from 'node:zlib';
import { Compression } from './protocol/record-batch.js';

export type Decompressor = (data: Buffer) => Buffer;

const DECOMPRESSORS = new Map<number, Decompressor>([[Compression.Gzip, (data) => gunzipSync(data)]]);

/** undefined: the codec is not available. */
export function decompressorFor(codec: number): Decompressor | undefined {
  return DECOMPRESSORS.get(codec);
}
