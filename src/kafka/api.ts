/**
 * The shape every Kafka API handler has (the seam the core, group and auth APIs share; src/kafka/README.md).
 * One API = one object in the table (apis.ts): its key, the versions it serves, from which version on
 * it is flexible (KIP-482: compact encodings, tagged fields, request header v2 / response header v1),
 * and `handle`, which gets the connection's session and the parsed request and returns the response
 * body's encoder, or undefined for "no response at all" (Produce with acks=0).
 */
import type { Reader } from './protocol/reader.js';
import type { Writer } from './protocol/writer.js';
import type { KafkaSession } from './session.js';

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** Request header v1+: the client's id (nullable). */
  readonly clientId: string | null;
}

export interface KafkaRequest {
  readonly header: RequestHeader;
  /** This version of this API is flexible: `body` and the response writer use compact forms. */
  readonly flexible: boolean;
  /** Positioned at the request body (after the header and its tagged fields), in the request's mode. */
  readonly body: Reader;
}

/** Writes a response body (the connection writes the size and response header first). */
export type ResponseBody = (writer: Writer) => void;

/** undefined: the request gets no response (Produce acks=0). */
export type HandlerResult = ResponseBody | undefined;

export interface KafkaApi {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible version; undefined when no served version is flexible. */
  readonly flexibleFrom: number | undefined;
  handle(session: KafkaSession, request: KafkaRequest): HandlerResult | Promise<HandlerResult>;
}

export function isFlexible(api: KafkaApi, version: number): boolean {
  return api.flexibleFrom !== undefined && version >= api.flexibleFrom;
}
