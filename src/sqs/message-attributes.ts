import { invalidParameter, sqsError } from './errors.js';

/** One message attribute, decoded (BinaryValue as bytes). */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Buffer;
}

const MAX_ATTRIBUTES = 10;
const NAME = /^[A-Za-z0-9_\-.]{1,256}$/;
const RESERVED_PREFIXES = ['aws.', 'amazon.'];
/** String, Number or Binary, optionally with a custom type after a dot (SQS developer guide, "Message attributes"). */
const DATA_TYPE = /^(String|Number|Binary)(\.[A-Za-z0-9_\-.]{1,255})?$/;

/**
 * Validates MessageAttributes (or MessageSystemAttributes) of a send: at most 10, names of allowed
 * characters not starting with AWS's reserved prefixes or a dot, no '..', a known data type, exactly
 * the value member that type needs, numbers that parse. Errors as SQS words them.
 */
export function readMessageAttributes(raw: unknown, member = 'MessageAttributes'): Record<string, MessageAttributeValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParameter(`${member} must be a map.`);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_ATTRIBUTES) {
    throw invalidParameter(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
  }
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of entries) out[name] = readOne(name, value);
  return out;
}

function readOne(name: string, raw: unknown): MessageAttributeValue {
  const lower = name.toLowerCase();
  if (!NAME.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..') || RESERVED_PREFIXES.some((p) => lower.startsWith(p))) {
    throw invalidParameter(`Message attribute name '${name}' is invalid.`);
  }
  if (typeof raw !== 'object' || raw === null) throw invalidParameter(`The message attribute '${name}' must contain a non-empty value of type '${'String'}'.`);
  const value = raw as Record<string, unknown>;
  const dataType = value['DataType'];
  if (typeof dataType !== 'string' || dataType === '') throw invalidParameter(`The message attribute '${name}' must contain a non-empty message attribute type.`);
  const match = DATA_TYPE.exec(dataType);
  if (match === null) throw invalidParameter(`The type of message attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
  if (value['StringListValues'] !== undefined || value['BinaryListValues'] !== undefined) {
    throw sqsError('UnsupportedOperation', `Message attribute list values in SendMessage operation are not supported.`);
  }
  const base = match[1]!;
  if (base === 'Binary') {
    const binary = value['BinaryValue'];
    if (typeof binary !== 'string' || binary === '' || !isBase64(binary)) {
      throw invalidParameter(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
    }
    return { DataType: dataType, BinaryValue: Buffer.from(binary, 'base64') };
  }
  const text = value['StringValue'];
  if (typeof text !== 'string' || text === '') {
    throw invalidParameter(`The message attribute '${name}' with type '${base}' must use field 'String'.`);
  }
  if (base === 'Number' && !isSqsNumber(text)) {
    throw invalidParameter(`Can't cast the value of message (user) attribute '${name}' to a number.`);
  }
  return { DataType: dataType, StringValue: text };
}

function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0;
}

/** SQS numbers: up to 38 significant digits, magnitude 10^-128 to 10^126. */
function isSqsNumber(text: string): boolean {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return false;
  return Number.isFinite(Number(text));
}

/** Bytes an attribute counts toward MaximumMessageSize: name, type and value. */
export function attributeBytes(attributes: Readonly<Record<string, MessageAttributeValue>>): number {
  let n = 0;
  for (const [name, a] of Object.entries(attributes)) {
    n += Buffer.byteLength(name) + Buffer.byteLength(a.DataType) + (a.BinaryValue?.length ?? Buffer.byteLength(a.StringValue ?? ''));
  }
  return n;
}

/** In JSON/XML output: BinaryValue back as base64. */
export function attributesForOutput(attributes: Readonly<Record<string, MessageAttributeValue>>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [name, a] of Object.entries(attributes)) {
    out[name] =
      a.BinaryValue !== undefined
        ? { BinaryValue: a.BinaryValue.toString('base64'), DataType: a.DataType }
        : { StringValue: a.StringValue ?? '', DataType: a.DataType };
  }
  return out;
}
