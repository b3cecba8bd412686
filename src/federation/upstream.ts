/**
 * Federation upstreams and upstream sets: runtime parameters of the components `federation-upstream`
 * and `federation-upstream-set`, with RabbitMQ's keys (docs: "Federation Reference"), validated from JSON.
 */
import { preconditionFailed } from '../broker/errors.js';

export const UPSTREAM_COMPONENT = 'federation-upstream';
export const UPSTREAM_SET_COMPONENT = 'federation-upstream-set';

export interface UpstreamSpec {
  readonly uris: readonly string[];
  readonly prefetch: number;
  /** Seconds between a failure and the next attempt. */
  readonly reconnectDelay: number;
  readonly ackMode: 'on-confirm' | 'on-publish' | 'no-ack';
  /** The upstream exchange (exchange federation); default: the federated exchange's own name. */
  readonly exchange: string | undefined;
  /** The upstream queue (queue federation); default: the federated queue's own name. */
  readonly queue: string | undefined;
  /** How many federation links a message may cross. */
  readonly maxHops: number;
  /** x-expires and x-message-ttl of the queue the link keeps upstream (ms). */
  readonly expires: number | undefined;
  readonly messageTtl: number | undefined;
}

const UPSTREAM_KEYS = new Set([
  'uri', 'prefetch-count', 'reconnect-delay', 'ack-mode', 'trust-user-id', 'exchange', 'queue', 'max-hops', 'expires',
  'message-ttl', 'ha-policy', 'consumer-tag', 'queue-type', 'bind-nowait', 'resource-cleanup-mode',
]);

function failer(what: string, name: string): (detail: string) => never {
  return (detail) => {
    throw preconditionFailed(`Validation failed for ${what} '${name}': ${detail}`);
  };
}

export function parseUpstream(name: string, value: unknown): UpstreamSpec {
  const fail = failer('federation upstream', name);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('the value must be an object');
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).filter((k) => !UPSTREAM_KEYS.has(k));
  if (unknown.length !== 0) fail(`${unknown.map((k) => `'${k}'`).join(', ')} are not recognised federation upstream settings`);
  const rawUris = v['uri'];
  if (rawUris === undefined) fail("'uri' is required");
  const uris = (Array.isArray(rawUris) ? rawUris : [rawUris]).map((uri) => {
    if (typeof uri !== 'string' || !/^amqps?:\/\//i.test(uri)) fail(`${JSON.stringify(uri)} is not an AMQP URI (amqp:// or amqps://)`);
    try {
      new URL(uri);
    } catch {
      fail(`${JSON.stringify(uri)} is not a valid URI`);
    }
    return uri;
  });
  if (uris.length === 0) fail("'uri' must name at least one URI");
  const int = (key: string, fallback: number | undefined, min: number): number | undefined => {
    const n = v[key];
    if (n === undefined) return fallback;
    if (!Number.isSafeInteger(n) || (n as number) < min) fail(`${JSON.stringify(n)} is not a valid value for '${key}' (an integer >= ${min})`);
    return n as number;
  };
  const str = (key: string): string | undefined => {
    const s = v[key];
    if (s !== undefined && typeof s !== 'string') fail(`${JSON.stringify(s)} is not a valid value for '${key}' (a string)`);
    return s as string | undefined;
  };
  const ackMode = str('ack-mode') ?? 'on-confirm';
  if (ackMode !== 'on-confirm' && ackMode !== 'on-publish' && ackMode !== 'no-ack') fail(`${JSON.stringify(ackMode)} is not a valid value for 'ack-mode'`);
  const delay = v['reconnect-delay'] ?? 5;
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) fail(`${JSON.stringify(delay)} is not a valid value for 'reconnect-delay' (a number >= 0)`);
  return {
    uris,
    prefetch: int('prefetch-count', 1000, 1) as number,
    reconnectDelay: delay as number,
    ackMode: ackMode as UpstreamSpec['ackMode'],
    exchange: str('exchange'),
    queue: str('queue'),
    maxHops: int('max-hops', 1, 1) as number,
    expires: int('expires', undefined, 1),
    messageTtl: int('message-ttl', undefined, 0),
  };
}

/** An upstream set: `[{ "upstream": "name", ...overrides }]`. */
export function parseUpstreamSet(name: string, value: unknown): { upstream: string; overrides: Record<string, unknown> }[] {
  const fail = failer('federation upstream set', name);
  if (!Array.isArray(value)) fail('the value must be a list of {"upstream": name} objects');
  return (value as unknown[]).map((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(`entry ${i} must be an object`);
    const { upstream, ...overrides } = entry as Record<string, unknown>;
    if (typeof upstream !== 'string' || upstream === '') fail(`entry ${i} needs 'upstream' (the name of a federation upstream)`);
    const unknown = Object.keys(overrides).filter((k) => !UPSTREAM_KEYS.has(k));
    if (unknown.length !== 0) fail(`${unknown.map((k) => `'${k}'`).join(', ')} are not recognised federation upstream settings`);
    return { upstream: upstream as string, overrides };
  });
}
