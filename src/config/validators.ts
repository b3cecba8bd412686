import { ConfigError } from './types.js';

/**
 * Small typed validators. `where` names the setting for the message, e.g. "warren.yaml: limits.frameMax",
 * "WARREN_AMQP_PORT" or "--amqp-port". Numbers may come as digit strings (environment, flags).
 */
export type Validator<T> = (value: unknown, where: string) => T;

export function fail(where: string, expectation: string, value: unknown): never {
  throw new ConfigError(`${where} must be ${expectation}, got ${show(value)}`);
}

/** How a bad value is quoted in messages: strings in single quotes, everything else as YAML-ish JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Validator<number> {
  const expectation = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return (value, where) => {
    const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
      fail(where, expectation, value);
    }
    return number;
  };
}

export const port = integer(0, 65535);

/** A share between 0 (exclusive) and 1, e.g. a memory watermark; decimal strings allowed. */
export const fraction: Validator<number> = (value, where) => {
  const number = typeof value === 'string' && /^\s*\d*\.?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0 || number > 1) {
    fail(where, 'a number above 0 and at most 1', value);
  }
  return number;
};

export const string: Validator<string> = (value, where) => {
  if (typeof value !== 'string') fail(where, 'a string', value);
  return value;
};

export const nonEmptyString: Validator<string> = (value, where) => {
  if (typeof value !== 'string' || value === '') fail(where, 'a non-empty string', value);
  return value;
};

export function oneOf<const T extends string>(choices: readonly T[]): Validator<T> {
  return (value, where) => {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      fail(where, `one of ${choices.join(', ')}`, value);
    }
    return value as T;
  };
}

export function list<T>(item: Validator<T>): Validator<T[]> {
  return (value, where) => {
    if (!Array.isArray(value)) fail(where, 'a list', value);
    return value.map((element, index) => item(element, `${where}[${index}]`));
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a key inside `where`: "warren.yaml" + "limits" -> "warren.yaml: limits"; then "... limits.frameMax". */
export function child(where: string, key: string): string {
  return where.includes(': ') ? `${where}.${key}` : `${where}: ${key}`;
}

/** A mapping whose keys must all be known: a typo is an error, never silently ignored. */
export function mapping(value: unknown, where: string, known: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(value)) fail(where, 'a mapping', value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${child(where, key)} is not a known setting (known here: ${known.join(', ')})`);
    }
  }
  return value;
}

/** Reads an optional field of a checked mapping; absent (or YAML null) stays undefined. */
export function optional<T>(object: Record<string, unknown>, key: string, where: string, validate: Validator<T>): T | undefined {
  const value = object[key];
  return value === undefined || value === null ? undefined : validate(value, child(where, key));
}

/** Compiles a RabbitMQ permission pattern to check it; '' is allowed and grants nothing. */
export const regexPattern: Validator<string> = (value, where) => {
  const pattern = string(value, where);
  try {
    new RegExp(pattern);
  } catch {
    fail(where, 'a valid regular expression', value);
  }
  return pattern;
};

/** Reads a field that must be present. */
export function required<T>(object: Record<string, unknown>, key: string, where: string, validate: Validator<T>): T {
  return validate(object[key] ?? undefined, child(where, key));
}

/** A PostgreSQL connection URL (postgres:// or postgresql://); the password is never echoed back. */
export const postgresUrl: Validator<string> = (value, where) => {
  const text = nonEmptyString(value, where);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${where} must be a postgres://user:password@host:port/database URL, got a string that is not a URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`${where} must be a postgres:// or postgresql:// URL, got one starting '${url.protocol}'`);
  }
  return text;
};

/** A cluster node name: letters, digits and -_.@ (it appears in rows, URLs and log lines), up to 64. */
export const nodeName: Validator<string> = (value, where) => {
  const name = nonEmptyString(value, where);
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) fail(where, 'a node name of up to 64 letters, digits and - _ . @', value);
  return name;
};

/** true/false in YAML; "true"/"false" from the environment or a flag. */
export const boolean: Validator<boolean> = (value, where) => {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fail(where, 'true or false', value);
};
