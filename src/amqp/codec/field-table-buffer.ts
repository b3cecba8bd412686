/**
 * Whole field tables to and from a Buffer. Apart from field-table.ts because they make a ByteReader or
 * ByteWriter, whose own table() methods use field-table.ts: one module for both would be an import loop.
 */
import type { FieldTable } from '../../broker/message.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { syntaxError } from './errors.js';
import { writeFieldTable } from './field-table.js';

/** A table in its wire form, 4-byte length prefix included. */
export function encodeFieldTable(table: FieldTable): Buffer {
  const w = new ByteWriter(256);
  writeFieldTable(w, table);
  return w.take();
}

/**
 * Decodes a table in its wire form (4-byte length prefix, then exactly that many bytes).
 * Throws FrameDecodeError 502 on anything malformed. 'x' values are views of `buf`.
 */
export function decodeFieldTable(buf: Buffer): FieldTable {
  const r = new ByteReader(buf);
  const table = r.table();
  if (r.pos !== r.end) throw syntaxError(`${r.end - r.pos} bytes after the field table`);
  return table;
}
