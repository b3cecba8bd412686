import { preconditionFailed } from '../errors.js';
import { validateDefinition, type PolicyDefinition } from './definition.js';

/**
 * What a policy applies to. 'queues' and 'exchanges' as in RabbitMQ; 'all' is both. The per-type queue
 * targets of RabbitMQ 3.12+ are accepted too and compare against the queue's x-queue-type.
 */
export type PolicyApplyTo = 'queues' | 'exchanges' | 'all' | 'classic_queues' | 'quorum_queues' | 'streams';

const APPLY_TO: readonly PolicyApplyTo[] = ['queues', 'exchanges', 'all', 'classic_queues', 'quorum_queues', 'streams'];
const QUEUE_TYPE_TARGETS: Readonly<Record<string, string>> = {
  classic_queues: 'classic',
  quorum_queues: 'quorum',
  streams: 'stream',
};

/** What callers pass to `policies.set` (the management API's JSON maps 1:1, 'apply-to' -> applyTo). */
export interface PolicySpec {
  /** A regular expression matched against queue/exchange names; unanchored, as in RabbitMQ. */
  pattern: string;
  /** Default 'all'. */
  applyTo?: PolicyApplyTo;
  /** Higher wins when several policies match. Default 0. */
  priority?: number;
  definition: Record<string, unknown>;
}

/** The thing a policy is matched against. */
export interface PolicySubject {
  kind: 'queue' | 'exchange';
  name: string;
  /** Queues only: x-queue-type, absent = 'classic'. */
  queueType?: string;
}

/** A validated, immutable policy. Replaced (never mutated) when set again, so identity tells changes. */
export class Policy {
  readonly regex: RegExp;
  readonly applyTo: PolicyApplyTo;
  readonly priority: number;
  readonly definition: Readonly<PolicyDefinition>;

  constructor(
    readonly vhost: string,
    readonly name: string,
    readonly pattern: string,
    spec: PolicySpec,
  ) {
    if (name === '') throw preconditionFailed('Validation failed: a policy needs a name');
    this.regex = compilePattern(name, pattern);
    this.applyTo = spec.applyTo ?? 'all';
    if (!APPLY_TO.includes(this.applyTo)) {
      throw preconditionFailed(
        `Validation failed for policy '${name}': apply-to '${String(this.applyTo)}' is not one of ${APPLY_TO.join(', ')}`,
      );
    }
    this.priority = spec.priority ?? 0;
    if (!Number.isSafeInteger(this.priority)) {
      throw preconditionFailed(`Validation failed for policy '${name}': priority ${String(spec.priority)} is not an integer`);
    }
    this.definition = validateDefinition(name, spec.definition);
    Object.freeze(this);
  }

  matches(subject: PolicySubject): boolean {
    return this.appliesToKind(subject) && this.regex.test(subject.name);
  }

  /** The spec this policy was made from (what `list()` returns and persistence stores). */
  toSpec(): Required<PolicySpec> & { name: string; vhost: string } {
    return {
      vhost: this.vhost,
      name: this.name,
      pattern: this.pattern,
      applyTo: this.applyTo,
      priority: this.priority,
      definition: { ...this.definition },
    };
  }

  private appliesToKind(subject: PolicySubject): boolean {
    if (this.applyTo === 'all') return true;
    if (subject.kind === 'exchange') return this.applyTo === 'exchanges';
    if (this.applyTo === 'queues') return true;
    return QUEUE_TYPE_TARGETS[this.applyTo] === (subject.queueType ?? 'classic');
  }
}

function compilePattern(policyName: string, pattern: string): RegExp {
  if (typeof pattern !== 'string') {
    throw preconditionFailed(`Validation failed for policy '${policyName}': the pattern must be a string`);
  }
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw preconditionFailed(
      `Validation failed for policy '${policyName}': pattern ${JSON.stringify(pattern)} is not a valid regular expression (${(err as Error).message})`,
    );
  }
}

/** Highest priority first; equal priorities: the name that sorts first (RabbitMQ leaves it undefined). */
export function comparePolicies(a: Policy, b: Policy): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
