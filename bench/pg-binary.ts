/**
 * COPY ... (FORMAT binary) rows for the write-path bench; the array encoders the store uses are in
 * src/cluster/db/binary-arrays.ts.
 */
import { writeInt32, writeInt8 } from '../src/cluster/db/binary-arrays.js';

export { byteaArray, int4Array, int8Array } from '../src/cluster/db/binary-arrays.js';

export interface MessageRow {
  queueId: number;
  seq: number;
  header: Buffer;
  body: Buffer;
  deliveryCount: number;
}

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** A whole COPY messages FROM STDIN (FORMAT binary) stream: signature, flags, extension, rows, trailer. */
export function copyBinary(rows: readonly MessageRow[]): Buffer {
  let size = COPY_SIGNATURE.length + 8 + 2;
  for (const r of rows) size += 2 + 12 + 12 + 4 + r.header.length + 4 + r.body.length + 8;
  const out = Buffer.allocUnsafe(size);
  let at = COPY_SIGNATURE.copy(out, 0);
  at = writeInt32(out, 0, writeInt32(out, 0, at)); // flags (no OIDs), header extension length
  for (const r of rows) {
    at = out.writeInt16BE(5, at);
    at = writeInt8(out, r.queueId, writeInt32(out, 8, at));
    at = writeInt8(out, r.seq, writeInt32(out, 8, at));
    at = writeInt32(out, r.header.length, at);
    at += r.header.copy(out, at);
    at = writeInt32(out, r.body.length, at);
    at += r.body.copy(out, at);
    at = writeInt32(out, r.deliveryCount, writeInt32(out, 4, at));
  }
  out.writeInt16BE(-1, at);
  return out;
}

