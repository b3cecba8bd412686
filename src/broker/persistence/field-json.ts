import { TypedValue, type FieldTable, type FieldValue } from '../message.js';

/**
 * Field tables (queue and exchange arguments, binding arguments) as JSON for the definitions journal.
 * Plain JSON cannot hold what AMQP tables can (byte arrays, 64-bit integers, typed numbers), so those
 * become one-key tagged objects. A table key can never start with '\u0000', so the tags cannot clash
 * with a real nested table.
 */
const BYTES = '\u0000bytes';
const BIGINT = '\u0000bigint';
const TYPED = '\u0000typed';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function fieldTableToJson(table: FieldTable): Json {
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(table)) out[key] = valueToJson(table[key]!);
  return out;
}

function valueToJson(value: FieldValue): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [TYPED]: ['d', String(value)] };
  if (typeof value === 'bigint') return { [BIGINT]: value.toString() };
  if (Buffer.isBuffer(value)) return { [BYTES]: value.toString('base64') };
  if (value instanceof TypedValue) return { [TYPED]: [value.type, typedPayload(value.value)] };
  if (Array.isArray(value)) return value.map(valueToJson);
  return fieldTableToJson(value);
}

function typedPayload(value: TypedValue['value']): Json {
  if (typeof value === 'bigint') return { [BIGINT]: value.toString() };
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  return { scale: value.scale, value: value.value };
}

export function fieldTableFromJson(json: unknown): FieldTable {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return {};
  const out: FieldTable = {};
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) out[key] = valueFromJson(value);
  return out;
}

function valueFromJson(json: unknown): FieldValue {
  if (json === null || typeof json === 'boolean' || typeof json === 'string' || typeof json === 'number') return json;
  if (Array.isArray(json)) return json.map(valueFromJson);
  const object = json as Record<string, unknown>;
  if (typeof object[BYTES] === 'string') return Buffer.from(object[BYTES], 'base64');
  if (typeof object[BIGINT] === 'string') return BigInt(object[BIGINT]);
  const typed = object[TYPED];
  if (Array.isArray(typed)) return typedFromJson(typed);
  return fieldTableFromJson(object);
}

function typedFromJson([type, payload]: unknown[]): FieldValue {
  const tag = type as TypedValue['type'];
  if (typeof payload === 'string') {
    // A non-finite number ('Infinity', 'NaN'): plain for 'd' (how valueToJson wrote it), typed otherwise.
    const number = Number(payload);
    return tag === 'd' ? number : new TypedValue(tag, number);
  }
  if (typeof payload === 'number') return new TypedValue(tag, payload);
  const object = payload as Record<string, unknown>;
  if (typeof object[BIGINT] === 'string') return new TypedValue(tag, BigInt(object[BIGINT]));
  return new TypedValue(tag, { scale: Number(object['scale']), value: Number(object['value']) });
}
