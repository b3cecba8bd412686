/**
 * Field-table comparisons with RabbitMQ's rules: integer types of different widths are the same "type
 * class" (an int8 1 equals an int32 1), floats form another class, every other type only equals itself.
 * Used for declare equivalence, binding identity and the headers exchange.
 */
import { preconditionFailed } from './errors.js';
import { TypedValue, fieldNumber, type FieldTable, type FieldValue } from './message.js';

const typedNames: Record<TypedValue['type'], string> = {
  b: 'byte',
  B: 'unsignedbyte',
  s: 'short',
  u: 'unsignedshort',
  i: 'unsignedint',
  l: 'long',
  d: 'double',
  f: 'float',
  D: 'decimal',
  T: 'timestamp',
};

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** RabbitMQ's name for the AMQP type a value is (or would be) encoded as. */
export function fieldTypeName(value: FieldValue): string {
  if (value === null) return 'void';
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'longstr';
    case 'bigint':
      return 'long';
    case 'number':
      if (Number.isInteger(value)) return value >= INT32_MIN && value <= INT32_MAX ? 'signedint' : 'long';
      return 'double';
  }
  if (value instanceof TypedValue) return typedNames[value.type];
  if (Buffer.isBuffer(value)) return 'binary';
  if (Array.isArray(value)) return 'array';
  return 'table';
}

const integerTypes = new Set(['byte', 'unsignedbyte', 'short', 'unsignedshort', 'signedint', 'unsignedint', 'long']);

/** Values of the same class compare by value (rabbit_misc:type_class). */
export function fieldTypeClass(value: FieldValue): string {
  const name = fieldTypeName(value);
  if (integerTypes.has(name)) return 'int';
  if (name === 'float' || name === 'double') return 'float';
  return name;
}

export function fieldValuesEqual(a: FieldValue, b: FieldValue): boolean {
  if (a === b) return true;
  const typeClass = fieldTypeClass(a);
  if (typeClass !== fieldTypeClass(b)) return false;
  switch (typeClass) {
    case 'int':
    case 'float':
    case 'timestamp':
      return fieldNumber(a) === fieldNumber(b);
    case 'decimal': {
      const x = (a as TypedValue).value as { scale: number; value: number };
      const y = (b as TypedValue).value as { scale: number; value: number };
      return x.scale === y.scale && x.value === y.value;
    }
    case 'binary':
      return (a as Buffer).equals(b as Buffer);
    case 'array':
      return arraysEqual(a as FieldValue[], b as FieldValue[]);
    case 'table':
      return fieldTablesEqual(a as FieldTable, b as FieldTable);
    default:
      return false; // strings, booleans and void are equal only when identical (checked above)
  }
}

function arraysEqual(a: FieldValue[], b: FieldValue[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!fieldValuesEqual(a[i]!, b[i]!)) return false;
  return true;
}

export function fieldTablesEqual(a: FieldTable, b: FieldTable): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    const other = b[key];
    if (other === undefined || !fieldValuesEqual(a[key]!, other)) return false;
  }
  return true;
}

/**
 * A canonical string for a table: equal tables (by fieldTablesEqual) give equal keys. Binding identity
 * is (source, destination, routing key, arguments), so this makes bindings Map-addressable.
 */
export function fieldTableKey(table: FieldTable): string {
  const keys = Object.keys(table);
  if (keys.length === 0) return '';
  keys.sort();
  let out = '{';
  for (const key of keys) out += JSON.stringify(key) + ':' + fieldValueKey(table[key]!) + ',';
  return out + '}';
}

function fieldValueKey(value: FieldValue): string {
  const typeClass = fieldTypeClass(value);
  switch (typeClass) {
    case 'int':
    case 'float':
    case 'timestamp':
      return `${typeClass}:${fieldNumber(value)}`;
    case 'decimal': {
      const v = (value as TypedValue).value as { scale: number; value: number };
      return `decimal:${v.scale}:${v.value}`;
    }
    case 'binary':
      return `binary:${(value as Buffer).toString('base64')}`;
    case 'array':
      return `[${(value as FieldValue[]).map(fieldValueKey).join(',')}]`;
    case 'table':
      return fieldTableKey(value as FieldTable) || '{}';
    case 'longstr':
      return JSON.stringify(value);
    default:
      return `${typeClass}:${String(value)}`;
  }
}

/** A value as RabbitMQ prints it inside reply texts. */
function displayValue(value: FieldValue): string {
  if (typeof value === 'string') return value;
  if (value instanceof TypedValue) {
    const v = value.value;
    return typeof v === 'object' ? String(fieldNumber(value)) : String(v);
  }
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** "none", or "the value '2000' of type 'signedint'" (rabbit_misc's reply text shape). */
export function describeArgument(value: FieldValue | undefined): string {
  if (value === undefined) return 'none';
  return `the value '${displayValue(value)}' of type '${fieldTypeName(value)}'`;
}

/** 406 "inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'". */
export function assertFieldEquivalent(
  field: string,
  resource: string,
  current: string | boolean,
  received: string | boolean,
): void {
  if (current === received) return;
  throw preconditionFailed(
    `inequivalent arg '${field}' for ${resource}: received '${String(received)}' but current is '${String(current)}'`,
  );
}

/**
 * Compares only the listed x-arguments, as RabbitMQ does: arguments it does not know are not part of
 * a queue's or exchange's identity. `defaults` supplies the value an absent key stands for.
 */
export function assertArgumentsEquivalent(
  resource: string,
  current: FieldTable,
  received: FieldTable,
  keys: readonly string[],
  defaults: Readonly<Record<string, FieldValue>> = {},
): void {
  for (const key of keys) {
    const was = current[key] ?? defaults[key];
    const now = received[key] ?? defaults[key];
    if (was === undefined && now === undefined) continue;
    if (was !== undefined && now !== undefined) {
      if (fieldValuesEqual(was, now)) continue;
      throw preconditionFailed(
        `inequivalent arg '${key}' for ${resource}: received '${displayValue(now)}' but current is '${displayValue(was)}'`,
      );
    }
    throw preconditionFailed(
      `inequivalent arg '${key}' for ${resource}: received ${describeArgument(now)} but current is ${describeArgument(was)}`,
    );
  }
}
