import { invalidParameter, missingParameter } from './errors.js';
import type { Params } from './protocol/request.js';

/** Readers of call members that accept both protocols' forms (JSON numbers and booleans, query strings). */
export function optionalString(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`Value for parameter ${name} is invalid: expected a string.`);
  return value;
}

export function requiredString(params: Params, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined) throw missingParameter(name);
  return value;
}

export function optionalInteger(params: Params, name: string, min: number, max: number, reason?: string): number | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalidParameter(`Value ${String(value).slice(0, 100)} for parameter ${name} is invalid. Reason: ${reason ?? `Must be between ${min} and ${max}, if provided.`}`);
  }
  return n;
}

export function stringList(params: Params, name: string): string[] | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalidParameter(`Value for parameter ${name} is invalid: expected a list of strings.`);
  return value as string[];
}

export function stringMap(params: Params, name: string): Record<string, string> | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalidParameter(`Value for parameter ${name} is invalid: expected a map of strings.`);
  }
  return value as Record<string, string>;
}

export function entryList(params: Params, name = 'Entries'): Params[] {
  const value = params[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
    throw invalidParameter(`Value for parameter ${name} is invalid: expected a list of entries.`);
  }
  return value as Params[];
}
