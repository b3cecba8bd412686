/**
 * Queue-level dispatch controls (Warren extensions; RabbitMQ has neither):
 *
 * - `x-dispatch-rate-limit` / `x-dispatch-rate-interval` (policy keys `dispatch-rate-limit`,
 *   `dispatch-rate-interval`): at most `limit` deliveries per `interval` ms (default 1000) from the
 *   queue to all its consumers together, as a token bucket holding at most `limit` tokens and refilled
 *   continuously (`limit` per interval). BullMQ's Worker `limiter: { max, duration }`, but kept by the
 *   broker, so it holds for every worker and every protocol at once.
 * - `x-max-in-flight` (policy key `max-in-flight`): at most this many deliveries unacked at once across
 *   all consumers of the queue (a global concurrency cap; per-consumer prefetch still applies too).
 *
 * When both an argument and a policy set a value the lower wins (RabbitMQ's rule for numeric limits).
 * The dispatch loop asks `allows()` before each delivery and reports it with `took()`; a queue held by
 * the rate limit resumes by itself on a timer, one held by the cap when a delivery is settled (the
 * doors call resumeDispatch after settlements). Deliveries to no-ack consumers count against the rate
 * but not against the cap (they are settled when sent).
 */
import { fieldTypeName } from '../arguments.js';
import { fieldNumber, type FieldTable } from '../message.js';
import { preconditionFailed } from '../errors.js';
import type { PolicyDefinition } from '../policies/definition.js';

export interface DispatchLimitSettings {
  readonly rateLimit: number | undefined;
  readonly rateIntervalMs: number;
  readonly maxInFlight: number | undefined;
}

export const DEFAULT_RATE_INTERVAL_MS = 1000;
/** The integer field types queue-arguments.ts accepts for its limits. */
const INTEGER_TYPES = new Set(['byte', 'unsignedbyte', 'short', 'unsignedshort', 'signedint', 'unsignedint', 'long']);

function positiveArgument(args: FieldTable, key: string, resource: string): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  const type = fieldTypeName(value);
  const n = INTEGER_TYPES.has(type) ? fieldNumber(value) : undefined;
  const term = n === undefined ? `{unacceptable_type,${type}}` : n < 0 ? `{value_negative,${n}}` : n === 0 ? '{value_zero,0}' : undefined;
  if (term !== undefined) throw preconditionFailed(`invalid arg '${key}' for ${resource}: ${term}`);
  return n;
}

/** Validates the declare arguments (406 PRECONDITION_FAILED with RabbitMQ's "invalid arg" text). */
export function parseDispatchLimitArguments(args: FieldTable, resource: string): DispatchLimitSettings {
  const rateLimit = positiveArgument(args, 'x-dispatch-rate-limit', resource);
  const interval = positiveArgument(args, 'x-dispatch-rate-interval', resource);
  if (interval !== undefined && rateLimit === undefined) {
    throw preconditionFailed(`invalid arg 'x-dispatch-rate-interval' for ${resource}: rate_interval_but_no_rate_limit`);
  }
  return { rateLimit, rateIntervalMs: interval ?? DEFAULT_RATE_INTERVAL_MS, maxInFlight: positiveArgument(args, 'x-max-in-flight', resource) };
}

function lowerOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** The arguments (already validated at declare) merged with the policy's keys. */
export function resolveDispatchLimits(args: FieldTable, policy: PolicyDefinition | undefined): DispatchLimitSettings {
  const own = fieldNumber(args['x-dispatch-rate-limit']);
  const ownInterval = fieldNumber(args['x-dispatch-rate-interval']);
  const rateLimit = lowerOf(own, policy?.['dispatch-rate-limit']);
  // The interval goes with the limit that won (a policy's limit is per the policy's interval).
  const fromPolicy = rateLimit !== undefined && rateLimit !== own;
  const rateIntervalMs = (fromPolicy ? policy?.['dispatch-rate-interval'] : ownInterval) ?? DEFAULT_RATE_INTERVAL_MS;
  return { rateLimit, rateIntervalMs, maxInFlight: lowerOf(fieldNumber(args['x-max-in-flight']), policy?.['max-in-flight']) };
}

/** The running limits of one queue (undefined on a queue without any: the dispatch loop skips them). */
export class DispatchLimits {
  private tokens: number;
  private refilledAt: number;
  private wakeUp: NodeJS.Timeout | undefined;

  private constructor(
    readonly settings: DispatchLimitSettings,
    private readonly resume: () => void,
    private readonly now: () => number,
  ) {
    this.tokens = settings.rateLimit ?? 0;
    this.refilledAt = now();
  }

  static of(settings: DispatchLimitSettings, resume: () => void, now: () => number = Date.now): DispatchLimits | undefined {
    if (settings.rateLimit === undefined && settings.maxInFlight === undefined) return undefined;
    return new DispatchLimits(settings, resume, now);
  }

  /** Whether one more delivery may go out now, with `unacked` deliveries outstanding. */
  allows(unacked: number): boolean {
    const { maxInFlight, rateLimit } = this.settings;
    if (maxInFlight !== undefined && unacked >= maxInFlight) return false;
    if (rateLimit === undefined) return true;
    this.refill();
    if (this.tokens >= 1) return true;
    this.armWakeUp(rateLimit);
    return false;
  }

  /** One delivery went out. */
  took(): void {
    if (this.settings.rateLimit !== undefined) this.tokens -= 1;
  }

  stop(): void {
    if (this.wakeUp !== undefined) clearTimeout(this.wakeUp);
    this.wakeUp = undefined;
  }

  /** Tokens available now (for the management API). */
  available(): number | undefined {
    if (this.settings.rateLimit === undefined) return undefined;
    this.refill();
    return Math.floor(this.tokens);
  }

  private refill(): void {
    const rateLimit = this.settings.rateLimit!;
    const now = this.now();
    const elapsed = now - this.refilledAt;
    if (elapsed <= 0) return;
    this.tokens = Math.min(rateLimit, this.tokens + (elapsed * rateLimit) / this.settings.rateIntervalMs);
    this.refilledAt = now;
  }

  private armWakeUp(rateLimit: number): void {
    if (this.wakeUp !== undefined) return;
    const ms = Math.max(1, Math.ceil(((1 - this.tokens) * this.settings.rateIntervalMs) / rateLimit));
    this.wakeUp = setTimeout(() => {
      this.wakeUp = undefined;
      this.resume();
    }, ms);
    this.wakeUp.unref();
  }
}
