import { fieldString, type FieldTable } from '../message.js';
import { comparePolicies, Policy, type PolicySpec, type PolicySubject } from './policy.js';
import { isPolicyKey } from './definition.js';

/**
 * A queue or exchange that policies apply to. `applyPolicy` is called when the policy that applies to
 * it changes: once at creation if one matches, then on every set/delete that changes the outcome
 * (with `undefined` when none applies any more). The target combines the policy with its own
 * x-arguments itself (see effective.ts). Queues without the method are skipped.
 */
export interface PolicyTarget {
  readonly kind: 'queue' | 'exchange';
  readonly name: string;
  readonly arguments: FieldTable;
  applyPolicy?(policy: Policy | undefined): void;
}

/** Where the policies find the vhost's queues and exchanges (the VHost itself). */
export interface PolicyTargets {
  readonly queues: ReadonlyMap<string, PolicyTarget>;
  readonly exchanges: ReadonlyMap<string, PolicyTarget>;
}

export type PolicyChange =
  | { readonly kind: 'set'; readonly vhost: string; readonly policy: Policy }
  | { readonly kind: 'deleted'; readonly vhost: string; readonly name: string };

export type PolicyListener = (change: PolicyChange) => void;

/** Marks a target that has never been told about a policy. */
const NEVER = Symbol('never applied');

/**
 * The policies of one vhost (RabbitMQ's `rabbitmqctl set_policy` model): named, each with a name
 * pattern, a target kind, a priority and a definition. For each queue/exchange the matching policy with
 * the highest priority applies; policies never merge with each other.
 */
export class VHostPolicies {
  private readonly byName = new Map<string, Policy>();
  /** Highest priority first: the first match wins. */
  private ordered: Policy[] = [];
  private readonly applied = new WeakMap<PolicyTarget, Policy | undefined | typeof NEVER>();
  private readonly listeners = new Set<PolicyListener>();
  /** Operator policies (RabbitMQ's caps an operator sets over users' policies), highest priority first. */
  private operators: Policy[] = [];
  /** Operator policy -> user policy (or none) -> their combination: the same object while neither changes. */
  private readonly combined = new WeakMap<Policy, Map<Policy | undefined, Policy>>();

  constructor(
    readonly vhost: string,
    private readonly targets: PolicyTargets,
  ) {}

  /** Adds or replaces a policy and re-applies policies to every queue and exchange. 406 if invalid. */
  set(name: string, spec: PolicySpec): Policy {
    const policy = new Policy(this.vhost, name, spec.pattern, spec);
    this.byName.set(name, policy);
    this.reorder();
    this.emit({ kind: 'set', vhost: this.vhost, policy });
    return policy;
  }

  /** Removes a policy (false if there was none) and re-applies. */
  delete(name: string): boolean {
    if (!this.byName.delete(name)) return false;
    this.reorder();
    this.emit({ kind: 'deleted', vhost: this.vhost, name });
    return true;
  }

  get(name: string): Policy | undefined {
    return this.byName.get(name);
  }

  /** Every policy, by name. */
  list(): Policy[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get size(): number {
    return this.byName.size;
  }

  /**
   * The policy that applies to a queue or exchange of that name, if any. For queues an operator policy
   * that matches caps it: each of its keys is the lower of the two values (RabbitMQ's rule; every
   * operator policy key is a limit where lower wins).
   */
  effectiveFor(kind: 'queue' | 'exchange', name: string, queueType?: string): Policy | undefined {
    const subject: PolicySubject = { kind, name, ...(queueType === undefined ? {} : { queueType }) };
    const policy = this.ordered.find((p) => p.matches(subject));
    if (kind !== 'queue') return policy;
    const operator = this.operators.find((p) => p.matches(subject));
    return operator === undefined ? policy : this.combine(operator, policy);
  }

  /**
   * Replaces the operator policies (the broker keeps them as runtime parameters of `operator_policy`).
   * Keys Warren has no use for (max-in-memory-*) are left out. Re-applies to every queue.
   */
  setOperatorPolicies(list: readonly { name: string; spec: PolicySpec }[]): void {
    const operators: Policy[] = [];
    for (const { name, spec } of list) {
      const definition = Object.fromEntries(Object.entries(spec.definition).filter(([key]) => isPolicyKey(key)));
      if (Object.keys(definition).length !== 0) operators.push(new Policy(this.vhost, name, spec.pattern, { ...spec, definition }));
    }
    this.operators = operators.sort(comparePolicies);
    this.reorder();
  }

  private combine(operator: Policy, policy: Policy | undefined): Policy {
    let byPolicy = this.combined.get(operator);
    if (byPolicy === undefined) this.combined.set(operator, (byPolicy = new Map()));
    const known = byPolicy.get(policy);
    if (known !== undefined) return known;
    const definition: Record<string, unknown> = { ...(policy?.definition ?? {}) };
    for (const [key, cap] of Object.entries(operator.definition)) {
      const own = definition[key];
      definition[key] = typeof own === 'number' && typeof cap === 'number' ? Math.min(own, cap) : cap;
    }
    const base = policy ?? operator;
    const merged = new Policy(this.vhost, base.name, base.pattern, { pattern: base.pattern, applyTo: base.applyTo, priority: base.priority, definition });
    byPolicy.set(policy, merged);
    return merged;
  }

  /** The policy for an existing queue/exchange object. */
  policyOf(target: PolicyTarget): Policy | undefined {
    if (this.ordered.length === 0 && this.operators.length === 0) return undefined;
    const queueType = target.kind === 'queue' ? (fieldString(target.arguments['x-queue-type']) ?? 'classic') : undefined;
    return this.effectiveFor(target.kind, target.name, queueType);
  }

  /** A queue or exchange was just created: give it its policy, if one matches. @internal VHost */
  attach(target: PolicyTarget): void {
    const policy = this.policyOf(target);
    if (policy === undefined) return; // never told: the same as "no policy" for reapply
    this.applied.set(target, policy);
    target.applyPolicy?.(policy);
  }

  /** Called on every change (for persistence and the management API's event stream). Returns an unsubscribe. */
  onChange(listener: PolicyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private reorder(): void {
    this.ordered = [...this.byName.values()].sort(comparePolicies);
    this.reapply(this.targets.exchanges.values());
    this.reapply(this.targets.queues.values());
  }

  /** Tells each target whose applicable policy changed (a replaced policy object counts as a change). */
  private reapply(targets: Iterable<PolicyTarget>): void {
    for (const target of targets) {
      const policy = this.policyOf(target);
      const before = this.applied.has(target) ? this.applied.get(target) : NEVER;
      if (before === policy || (before === NEVER && policy === undefined)) continue;
      this.applied.set(target, policy);
      target.applyPolicy?.(policy);
    }
  }

  private emit(change: PolicyChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
