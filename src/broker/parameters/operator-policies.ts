/**
 * Operator policies, kept as RabbitMQ keeps them: runtime parameters of the component `operator_policy`
 * whose value is `{ pattern, definition, priority, apply-to }`. Only the keys RabbitMQ allows in an
 * operator policy (rabbit_policies: limits an operator may cap) are accepted.
 */
import { preconditionFailed } from '../errors.js';
import type { ParameterComponent } from './runtime-parameters.js';

export const OPERATOR_POLICY_COMPONENT = 'operator_policy';

const OPERATOR_POLICY_KEYS: ReadonlySet<string> = new Set([
  'expires',
  'message-ttl',
  'max-length',
  'max-length-bytes',
  'max-in-memory-length',
  'max-in-memory-bytes',
  'delivery-limit',
]);

const APPLY_TO: ReadonlySet<string> = new Set(['queues', 'classic_queues', 'quorum_queues', 'streams', 'all']);

export interface OperatorPolicyValue {
  pattern: string;
  definition: Record<string, number>;
  priority: number;
  'apply-to': string;
}

function invalid(name: string, detail: string): Error {
  return preconditionFailed(`Validation failed for operator policy '${name}': ${detail}`);
}

export const operatorPolicyComponent: ParameterComponent = {
  name: OPERATOR_POLICY_COMPONENT,
  validate(_vhost: string, name: string, value: unknown): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(name, 'the value must be an object');
    const v = value as Record<string, unknown>;
    if (typeof v['pattern'] !== 'string') throw invalid(name, "'pattern' must be a string");
    try {
      new RegExp(v['pattern']);
    } catch {
      throw invalid(name, `${JSON.stringify(v['pattern'])} is not a valid regular expression`);
    }
    if (!Number.isSafeInteger(v['priority'])) throw invalid(name, "'priority' must be an integer");
    if (typeof v['apply-to'] !== 'string' || !APPLY_TO.has(v['apply-to'])) throw invalid(name, `'apply-to' must be one of ${[...APPLY_TO].join(', ')}`);
    const definition = v['definition'];
    if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) throw invalid(name, "'definition' must be an object");
    const entries = Object.entries(definition as Record<string, unknown>);
    if (entries.length === 0) throw invalid(name, 'the definition is empty; it must set at least one key');
    const unknown = entries.map(([k]) => k).filter((k) => !OPERATOR_POLICY_KEYS.has(k));
    if (unknown.length !== 0) throw invalid(name, `${unknown.map((k) => `'${k}'`).join(', ')} are not recognised operator policy settings`);
    for (const [k, n] of entries) {
      if (!Number.isSafeInteger(n) || (n as number) < 0) throw invalid(name, `${JSON.stringify(n)} is not a valid value for '${k}' (an integer >= 0)`);
    }
  },
};
