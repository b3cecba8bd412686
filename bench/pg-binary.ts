/**
 * PostgreSQL's binary formats for the write-path bench: one-dimensional arrays as bind parameters
 * (array_recv) and COPY ... (FORMAT binary) rows. node-postgres sends a Buffer parameter with format
 * code 1 (binary), so a Buffer made here reaches array_recv as it is; the server takes the type from
 * the statement's cast ($1::bytea[]).
 */

const OID = { int4: 23, int8: 20, bytea: 17 } as const;

/** int8[] in array_recv's format: ndim, has-nulls flag, element oid, (length, lower bound), elements. */
export function int8Array(values: readonly number[]): Buffer {
  const out = arrayHeader(OID.int8, values.length, values.length * 12);
  let at = 20;
  for (const v of values) at = writeInt8(out, v, writeInt32(out, 8, at));
  return out;
}

export function int4Array(values: readonly number[]): Buffer {
  const out = arrayHeader(OID.int4, values.length, values.length * 8);
  let at = 20;
  for (const v of values) at = writeInt32(out, v, writeInt32(out, 4, at));
  return out;
}

export function byteaArray(values: readonly Buffer[]): Buffer {
  let size = 0;
  for (const v of values) size += 4 + v.length;
  const out = arrayHeader(OID.bytea, values.length, size);
  let at = 20;
  for (const v of values) {
    at = writeInt32(out, v.length, at);
    at += v.copy(out, at);
  }
  return out;
}

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

function arrayHeader(elementOid: number, length: number, payload: number): Buffer {
  const out = Buffer.allocUnsafe(20 + payload);
  writeInt32(out, 1, 0); // dimensions
  writeInt32(out, 0, 4); // no NULLs
  writeInt32(out, elementOid, 8);
  writeInt32(out, length, 12);
  writeInt32(out, 1, 16); // lower bound
  return out;
}

function writeInt32(out: Buffer, value: number, at: number): number {
  return out.writeInt32BE(value, at);
}

/** A non-negative safe integer as a big-endian int8, without going through BigInt. */
function writeInt8(out: Buffer, value: number, at: number): number {
  out.writeUInt32BE(Math.floor(value / 2 ** 32), at);
  return out.writeUInt32BE(value >>> 0, at + 4);
}
