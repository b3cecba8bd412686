import type { BackoffOptions } from './types.js';

/** BullMQ's custom backoff: (attemptsMade, type, error, job) => delay in ms (or -1: do not retry). */
export type BackoffStrategy = (attemptsMade: number, type: string, error: Error, job: unknown) => number;

/** The delay before the next attempt, after `attemptsMade` failed ones (1 after the first failure). */
export function backoffDelay(
  backoff: number | BackoffOptions | undefined,
  attemptsMade: number,
  error: Error,
  job: unknown,
  custom: BackoffStrategy | undefined,
  random: () => number = Math.random,
): number {
  if (backoff === undefined) return 0;
  const options: BackoffOptions = typeof backoff === 'number' ? { type: 'fixed', delay: backoff } : backoff;
  const base = options.delay ?? 0;
  let delay: number;
  switch (options.type) {
    case 'fixed':
      delay = base;
      break;
    case 'exponential':
      delay = base * 2 ** Math.max(0, attemptsMade - 1);
      break;
    default:
      if (custom === undefined) throw new Error(`unknown backoff type '${options.type}' and no settings.backoffStrategy`);
      return custom(attemptsMade, options.type, error, job);
  }
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0));
  return Math.round(delay * (1 - jitter * random()));
}

/** BullMQ's priority (1 highest, none before all) onto AMQP's 0..9 (9 highest). */
export function amqpPriority(priority: number | undefined): number {
  if (priority === undefined || priority <= 0) return 9;
  return Math.max(0, 9 - Math.min(priority, 9));
}
