/** The AMQP 0-9-1 codec's public API (see CONTRACT.md). */
export {
  FRAME_METHOD,
  FRAME_HEADER,
  FRAME_BODY,
  FRAME_HEARTBEAT,
  FRAME_END,
  FRAME_MIN_SIZE,
  FRAME_OVERHEAD,
  ABSOLUTE_MAX_PAYLOAD,
  FrameParser,
  amqpProtocolHeader,
  isSupportedProtocolHeader,
  type Frame,
  type FrameHandler,
  type FrameParserOptions,
} from './frames.js';
export { FrameWriter, BODY_BY_REFERENCE_BYTES } from './encode.js';
export { ByteWriter } from './byte-writer.js';
export { ByteReader } from './byte-reader.js';
export { encodeFieldTable, decodeFieldTable } from './field-table-buffer.js';
export { MAX_FIELD_NESTING } from './field-table.js';
export { encodeProperties, decodeProperties } from './properties.js';
export { FrameDecodeError, ProtocolHeaderError } from './errors.js';
export {
  MethodId,
  methodNames,
  methodHasContent,
  allMethodIds,
  methodSchemas,
  decodeMethodArgs,
  encodeMethodArgs,
  type Method,
  type MethodArgs,
  type FieldSchema,
  type FieldKind,
} from '../spec/generated.js';
export * from './method-ids.js';
export type * from '../spec/generated.js';
