import type { Agent } from 'node:http';
import type { ResolvedConnection } from './connection.js';
import { httpCall, keepAliveAgent } from './http-call.js';
import type { StateClient } from './state-client.js';
import { names } from './types.js';

/** BullMQ's limiter: at most `max` jobs started per `duration` ms, across all workers. */
export interface RateLimiterOptions {
  max: number;
  duration: number;
}

/** A job queue's broker-side limits, kept as a meta record (key `limits`). */
export interface QueueLimits {
  rate?: RateLimiterOptions;
  /** Jobs active at once across all workers (BullMQ's global concurrency). */
  concurrency?: number;
}

const LIMITS_KEY = 'limits';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The policy that carries a job queue's limits (one per job queue, both of its AMQP queues). */
export function limitsPolicyName(queue: string): string {
  return `${names(queue).queue}.limits`;
}

/**
 * Sets (or with `undefined` values clears) a job queue's limits. They are broker features, not worker
 * code: a policy with `dispatch-rate-limit`/`dispatch-rate-interval` (a token bucket in the queue's
 * dispatch loop) and `max-in-flight` (deliveries unacked at once across all consumers), so they hold
 * for every worker in every process, and for plain AMQP consumers of the job queue too. The plain and
 * the grouped queue each get the limit (a job queue with both kinds of jobs may run twice the rate).
 * The policy has priority 100; it shadows an operator's lower-priority policy on these two queues.
 */
export async function updateQueueLimits(target: ResolvedConnection, meta: StateClient, queue: string, change: QueueLimits & { clear?: ('rate' | 'concurrency')[] }): Promise<QueueLimits> {
  const current = ((await meta.get<QueueLimits>(LIMITS_KEY))?.value ?? {}) as QueueLimits;
  const next: QueueLimits = { ...current };
  if (change.rate !== undefined) next.rate = checkRate(change.rate);
  if (change.concurrency !== undefined) next.concurrency = checkPositive(change.concurrency, 'concurrency');
  for (const key of change.clear ?? []) delete next[key];
  if (next.rate === undefined && next.concurrency === undefined) await meta.run({ op: 'delete', key: LIMITS_KEY });
  else await meta.run({ op: 'put', key: LIMITS_KEY, tag: 'limits', value: next });
  await writePolicy(target, queue, next);
  return next;
}

export async function readQueueLimits(meta: StateClient): Promise<QueueLimits> {
  return ((await meta.get<QueueLimits>(LIMITS_KEY))?.value ?? {}) as QueueLimits;
}

function checkPositive(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} must be an integer >= 1`);
  return n;
}

function checkRate(rate: RateLimiterOptions): RateLimiterOptions {
  return { max: checkPositive(rate.max, 'limiter.max'), duration: checkPositive(rate.duration, 'limiter.duration') };
}

async function writePolicy(target: ResolvedConnection, queue: string, limits: QueueLimits): Promise<void> {
  const agent: Agent = keepAliveAgent(target.managementUrl);
  try {
    const url = new URL(`${target.managementUrl}/api/policies/${encodeURIComponent(target.vhost)}/${encodeURIComponent(limitsPolicyName(queue))}`);
    const headers = { authorization: target.authorization, 'content-type': 'application/json' };
    const definition: Record<string, number> = {};
    if (limits.rate !== undefined) {
      definition['dispatch-rate-limit'] = limits.rate.max;
      definition['dispatch-rate-interval'] = limits.rate.duration;
    }
    if (limits.concurrency !== undefined) definition['max-in-flight'] = limits.concurrency;
    const n = names(queue);
    const answer =
      Object.keys(definition).length === 0
        ? await httpCall(agent, url, 'DELETE', headers, undefined, 10_000)
        : await httpCall(agent, url, 'PUT', headers, Buffer.from(JSON.stringify({ pattern: `^(${escapeRegExp(n.queue)}|${escapeRegExp(n.groups)})$`, definition, priority: 100, 'apply-to': 'queues' })), 10_000);
    if (answer.status >= 300 && !(answer.status === 404 && Object.keys(definition).length === 0)) {
      throw new Error(`setting the limits of job queue ${queue}: HTTP ${answer.status} ${answer.text}`);
    }
  } finally {
    agent.destroy();
  }
}
