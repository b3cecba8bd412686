import { TypedValue, type BasicProperties, type FieldTable, type FieldValue } from '../broker/message.js';
import { badRequest } from './errors.js';

/** JSON view of a field value: typed numbers become plain numbers, byte arrays text. */
export function fieldToJson(value: FieldValue): unknown {
  if (value instanceof TypedValue) {
    const v = value.value;
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return bigintToJson(v);
    return v.value / 10 ** v.scale;
  }
  if (typeof value === 'bigint') return bigintToJson(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(fieldToJson);
  if (value !== null && typeof value === 'object') return tableToJson(value);
  return value;
}

function bigintToJson(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

export function tableToJson(table: FieldTable): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) json[key] = fieldToJson(value);
  return json;
}

/** JSON values already are field values (numbers, strings, booleans, null, arrays, tables). */
export function jsonToTable(value: unknown, what: string): FieldTable {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${what} must be a JSON object`);
  return value as FieldTable;
}

/** AMQP basic properties under the names the management API uses. */
const PROPERTY_NAMES: readonly (readonly [json: string, key: keyof BasicProperties, kind: 'string' | 'number' | 'table'])[] = [
  ['content_type', 'contentType', 'string'],
  ['content_encoding', 'contentEncoding', 'string'],
  ['headers', 'headers', 'table'],
  ['delivery_mode', 'deliveryMode', 'number'],
  ['priority', 'priority', 'number'],
  ['correlation_id', 'correlationId', 'string'],
  ['reply_to', 'replyTo', 'string'],
  ['expiration', 'expiration', 'string'],
  ['message_id', 'messageId', 'string'],
  ['timestamp', 'timestamp', 'number'],
  ['type', 'type', 'string'],
  ['user_id', 'userId', 'string'],
  ['app_id', 'appId', 'string'],
  ['cluster_id', 'clusterId', 'string'],
];

export function propertiesToJson(properties: BasicProperties): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [name, key] of PROPERTY_NAMES) {
    const value = properties[key];
    if (value === undefined) continue;
    json[name] = key === 'headers' ? tableToJson(value as FieldTable) : value;
  }
  return json;
}

export function jsonToProperties(value: unknown): BasicProperties {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('properties must be a JSON object');
  const json = value as Record<string, unknown>;
  const properties: Record<string, unknown> = {};
  for (const [name, key, kind] of PROPERTY_NAMES) {
    const v = json[name];
    if (v === undefined) continue;
    if (kind === 'table') properties[key] = jsonToTable(v, name);
    else if (kind === 'number') properties[key] = toInteger(v, name);
    else properties[key] = String(v);
  }
  return properties as BasicProperties;
}

function toInteger(value: unknown, name: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw badRequest(`${name} must be a non-negative integer`);
  return n;
}

/** rabbitmqadmin sends booleans as "true"/"false" strings; RabbitMQ accepts both. */
export function parseBool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw badRequest(`${name} must be true or false`);
}

/** Parses a JSON request body into an object; an empty body is an empty object. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('not_json');
  return body as Record<string, unknown>;
}

export function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string') throw badRequest(`[{key_missing,${key}}]`);
  return value;
}

export function optionalString(body: Record<string, unknown>, key: string, fallback: string): string {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw badRequest(`${key} must be a string`);
  return value;
}
