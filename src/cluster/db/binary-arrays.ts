/**
 * PostgreSQL's binary array format (array_recv) for bind parameters: node-postgres sends a Buffer
 * parameter with format code 1 (binary), so an array encoded here reaches the server as it is, and the
 * statement's cast ($1::bytea[]) gives its type. A JS array would instead go as a text literal, every
 * bytea element hex-encoded: twice the bytes and more CPU (bench/pg-write-path.md).
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

function arrayHeader(elementOid: number, length: number, payload: number): Buffer {
  const out = Buffer.allocUnsafe(20 + payload);
  writeInt32(out, 1, 0); // dimensions
  writeInt32(out, 0, 4); // no NULLs
  writeInt32(out, elementOid, 8);
  writeInt32(out, length, 12);
  writeInt32(out, 1, 16); // lower bound
  return out;
}

export function writeInt32(out: Buffer, value: number, at: number): number {
  return out.writeInt32BE(value, at);
}

/** A non-negative safe integer as a big-endian int8, without going through BigInt. */
export function writeInt8(out: Buffer, value: number, at: number): number {
  out.writeUInt32BE(Math.floor(value / 2 ** 32), at);
  return out.writeUInt32BE(value >>> 0, at + 4);
}
