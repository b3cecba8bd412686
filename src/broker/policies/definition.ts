/**
 * Policy definitions: the keys RabbitMQ accepts in a policy (rabbit_policies.erl and the plugins'
 * validators) and how each value is checked. Values arrive as JSON (management API, definitions file),
 * so they are validated from `unknown`.
 */
import { preconditionFailed, type BrokerError } from '../errors.js';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** A validated policy definition. Every key is optional; a policy sets at least one. */
export interface PolicyDefinition {
  // queue keys
  'message-ttl'?: number;
  expires?: number;
  'max-length'?: number;
  'max-length-bytes'?: number;
  overflow?: Overflow;
  'dead-letter-exchange'?: string;
  'dead-letter-routing-key'?: string;
  'dead-letter-strategy'?: 'at-most-once' | 'at-least-once';
  'delivery-limit'?: number;
  'consumer-timeout'?: number;
  'queue-mode'?: 'default' | 'lazy';
  'queue-version'?: number;
  'max-age'?: string;
  'queue-leader-locator'?: 'client-local' | 'balanced' | 'random' | 'least-leaders';
  // Warren's dispatch controls (queue/dispatch-limits.ts)
  'dispatch-rate-limit'?: number;
  'dispatch-rate-interval'?: number;
  'max-in-flight'?: number;
  // exchange keys
  'alternate-exchange'?: string;
  // federation (queues and exchanges): the upstream, or the set of upstreams ('all' for every one)
  'federation-upstream'?: string;
  'federation-upstream-set'?: string;
}

export type PolicyKey = keyof PolicyDefinition;

type Check = (value: unknown) => boolean;

const nonNegativeInteger: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const positiveInteger: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 1;
const anyString: Check = (v) => typeof v === 'string';
const oneOf =
  (...allowed: readonly (string | number)[]): Check =>
  (v) =>
    allowed.includes(v as string | number);
/** RabbitMQ's max-age: a positive integer followed by Y, M, D, h, m or s ("7D", "12h"). */
const maxAge: Check = (v) => typeof v === 'string' && /^[1-9][0-9]*[YMDhms]$/.test(v);

/** Per key: the check and the phrase RabbitMQ uses when it fails ("<v> is not a valid message TTL"). */
const validators: Readonly<Record<PolicyKey, readonly [Check, string]>> = {
  'message-ttl': [nonNegativeInteger, 'message TTL (an integer >= 0, in ms)'],
  expires: [positiveInteger, 'queue expiry (an integer >= 1, in ms)'],
  'max-length': [nonNegativeInteger, 'maximum length (an integer >= 0)'],
  'max-length-bytes': [nonNegativeInteger, 'maximum length in bytes (an integer >= 0)'],
  overflow: [oneOf('drop-head', 'reject-publish', 'reject-publish-dlx'), 'overflow value (drop-head, reject-publish or reject-publish-dlx)'],
  'dead-letter-exchange': [anyString, 'dead letter exchange name (a string)'],
  'dead-letter-routing-key': [anyString, 'dead letter routing key (a string)'],
  'dead-letter-strategy': [oneOf('at-most-once', 'at-least-once'), 'dead letter strategy (at-most-once or at-least-once)'],
  'delivery-limit': [nonNegativeInteger, 'delivery limit (an integer >= 0)'],
  'consumer-timeout': [nonNegativeInteger, 'consumer timeout (an integer >= 0, in ms)'],
  'queue-mode': [oneOf('default', 'lazy'), 'queue-mode value (default or lazy)'],
  'queue-version': [oneOf(1, 2), 'queue version (1 or 2)'],
  'max-age': [maxAge, "max age (e.g. '7D', '12h', '30m')"],
  'queue-leader-locator': [oneOf('client-local', 'balanced', 'random', 'least-leaders'), 'queue leader locator value'],
  'dispatch-rate-limit': [positiveInteger, 'dispatch rate limit (an integer >= 1, deliveries per interval)'],
  'dispatch-rate-interval': [positiveInteger, 'dispatch rate interval (an integer >= 1, in ms)'],
  'max-in-flight': [positiveInteger, 'in-flight cap (an integer >= 1)'],
  'alternate-exchange': [anyString, 'alternate exchange name (a string)'],
  'federation-upstream': [anyString, 'federation upstream name (a string)'],
  'federation-upstream-set': [anyString, "federation upstream set name (a string, or 'all')"],
};

/** Keys that make sense for exchanges; every other known key is a queue key. */
export const EXCHANGE_POLICY_KEYS: ReadonlySet<PolicyKey> = new Set<PolicyKey>(['alternate-exchange']);

export function isPolicyKey(key: string): key is PolicyKey {
  return Object.hasOwn(validators, key);
}

function invalid(policyName: string, detail: string): BrokerError {
  return preconditionFailed(`Validation failed for policy '${policyName}': ${detail}`);
}

/**
 * Checks every key and value; throws a precondition-failed BrokerError whose text names the policy, the key and the
 * rule. Unknown keys are refused as RabbitMQ does ("... are not recognised policy settings").
 */
export function validateDefinition(policyName: string, raw: unknown): PolicyDefinition {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid(policyName, 'the definition must be an object of policy keys');
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw invalid(policyName, 'the definition is empty; it must set at least one key');
  const unknown = entries.map(([key]) => key).filter((key) => !isPolicyKey(key));
  if (unknown.length !== 0) {
    throw invalid(policyName, `${unknown.map((k) => `'${k}'`).join(', ')} are not recognised policy settings`);
  }
  const definition: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    const [check, what] = validators[key as PolicyKey];
    if (!check(value)) throw invalid(policyName, `${JSON.stringify(value)} is not a valid ${what} for '${key}'`);
    definition[key] = value;
  }
  return Object.freeze(definition) as PolicyDefinition;
}
