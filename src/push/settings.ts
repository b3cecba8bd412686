import { fieldNumber, fieldString, type FieldTable } from '../broker/message.js';

/**
 * A push queue is a queue declared with the argument `x-push-endpoint` (and optional x-push-* tuning).
 * Why queue arguments and not a policy: the endpoint is part of what the queue is (who consumes it),
 * fixed at declare time like x-queue-type, and every AMQP client and definitions file can set it.
 * The signing secret is never an argument (any management user can read arguments): `x-push-secret`
 * names a secret in the server's config (push.secrets).
 */
export interface PushSettings {
  endpoint: URL;
  /** Requests in flight at once. */
  concurrency: number;
  /** Deadline per request, up to 30 minutes (long jobs behind an endpoint, as Cloud Tasks allows). */
  timeoutMs: number;
  maxAttempts: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  maxDoublings: number;
  /** Give up on a message first tried this long ago (0: no limit). */
  maxAgeMs: number;
  /** Name of a secret in the config's push.secrets. */
  secretName: string | undefined;
}

export const MAX_TIMEOUT_MS = 30 * 60 * 1000;

export class PushSettingsError extends Error {}

function positive(args: FieldTable, key: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = args[key];
  if (raw === undefined) return fallback;
  const n = fieldNumber(raw);
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > max) throw new PushSettingsError(`${key} must be an integer from 0 to ${max}`);
  return n;
}

/** The push settings of a queue's arguments, or undefined for an ordinary queue. */
export function pushSettings(args: FieldTable): PushSettings | undefined {
  const endpoint = fieldString(args['x-push-endpoint']);
  if (endpoint === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new PushSettingsError(`x-push-endpoint is not a URL: ${endpoint}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PushSettingsError('x-push-endpoint must be an https:// (or allowed http://) URL');
  return {
    endpoint: url,
    concurrency: Math.max(1, positive(args, 'x-push-concurrency', 10, 10_000)),
    timeoutMs: Math.max(1, positive(args, 'x-push-timeout', 30_000, MAX_TIMEOUT_MS)),
    maxAttempts: Math.max(1, positive(args, 'x-push-max-attempts', 10)),
    minBackoffMs: positive(args, 'x-push-min-backoff', 100),
    maxBackoffMs: positive(args, 'x-push-max-backoff', 60_000),
    maxDoublings: positive(args, 'x-push-max-doublings', 16, 62),
    maxAgeMs: positive(args, 'x-push-max-age', 0),
    secretName: fieldString(args['x-push-secret']),
  };
}

/** Exponential backoff after `attempt` failed attempts (1-based): min * 2^(attempt-1), doubling at most maxDoublings times, capped. */
export function retryDelay(settings: PushSettings, attempt: number): number {
  const doublings = Math.min(Math.max(0, attempt - 1), settings.maxDoublings);
  return Math.min(settings.maxBackoffMs, settings.minBackoffMs * 2 ** doublings);
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; undefined if absent or bad. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
