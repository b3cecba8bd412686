/** Policies: per-vhost, pattern-matched settings for queues and exchanges (see README.md here). */
export {
  EXCHANGE_POLICY_KEYS,
  isPolicyKey,
  validateDefinition,
  type Overflow,
  type PolicyDefinition,
  type PolicyKey,
} from './definition.js';
export { comparePolicies, Policy, type PolicyApplyTo, type PolicySpec, type PolicySubject } from './policy.js';
export {
  resolveExchangeSettings,
  resolveQueueSettings,
  type EffectiveExchangeSettings,
  type EffectiveQueueSettings,
} from './effective.js';
export {
  VHostPolicies,
  type PolicyChange,
  type PolicyListener,
  type PolicyTarget,
  type PolicyTargets,
} from './vhost-policies.js';
