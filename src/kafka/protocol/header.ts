/**
 * Request and response headers (https://kafka.apache.org/protocol#protocol_messages).
 * Request header v1: api_key, api_version, correlation_id, client_id (a classic nullable string even
 * in v2); v2 (flexible versions) adds tagged fields. Response header v0: correlation_id; v1 (flexible)
 * adds tagged fields, except for ApiVersions, whose response header is always v0 (KIP-511).
 */
import type { RequestHeader } from '../api.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** The fixed start of every request: enough to find the API and to answer (or refuse) it. */
export function readRequestStart(frame: Buffer): { apiKey: number; apiVersion: number; correlationId: number } | undefined {
  if (frame.length < 8) return undefined;
  return { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) };
}

/** Reads the whole header; the returned reader is positioned at the body, in the body's mode. */
export function readRequestHeader(frame: Buffer, flexible: boolean): { header: RequestHeader; body: Reader } {
  const reader = new Reader(frame, false);
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.classicNullableString();
  const body = new Reader(frame, flexible, reader.offset);
  if (flexible) body.taggedFields(); // request header v2's tagged fields
  return { header: { apiKey, apiVersion, correlationId, clientId }, body };
}

/**
 * A writer with the size prefix (patched by `finishResponse`) and the response header written; the
 * body follows in the given mode.
 */
export function startResponse(correlationId: number, flexibleBody: boolean, flexibleHeader: boolean): Writer {
  const writer = new Writer(flexibleBody);
  writer.int32(0).int32(correlationId);
  if (flexibleHeader) writer.uvarint(0); // response header v1: no tagged fields
  return writer;
}

export function finishResponse(writer: Writer): Buffer[] {
  writer.patchInt32(0, writer.size - 4);
  return writer.toChunks();
}
