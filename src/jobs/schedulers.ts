import { CronExpressionParser } from 'cron-parser';
import type { JobsOptions, RepeatOptions } from './types.js';

/** What upsertJobScheduler stores (a record in jobs.<queue>.meta, key `scheduler:<id>`). */
export interface SchedulerRecord {
  id: string;
  repeat: RepeatOptions;
  template: { name: string; data: unknown; opts: JobsOptions };
  /** Bumped on every upsert: a job made under an older version does not schedule the next one. */
  version: number;
  /** The slot (ms since epoch) of the job waiting to fire, and how many fired before it. */
  next?: number;
  count: number;
}

export const schedulerKey = (id: string): string => `scheduler:${id}`;

/** The job id of a scheduler's slot: the same for everyone who computes it, so the slot fires once. */
export const slotJobId = (id: string, slot: number): string => `repeat:${id}:${slot}`;

function toMs(value: number | string | Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : new Date(value).getTime();
}

/**
 * The first slot strictly after `after` (ms), or undefined when the scheduler is over (endDate, limit).
 * `every` slots are multiples of the interval from startDate (or the epoch), so every scheduler
 * instance computes the same slots; cron slots come from cron-parser in the scheduler's time zone,
 * which handles DST changes (a skipped local time fires once at the next valid time, a repeated one once).
 */
export function nextSlot(repeat: RepeatOptions, after: number, count: number): number | undefined {
  if (repeat.limit !== undefined && count >= repeat.limit) return undefined;
  const start = toMs(repeat.startDate);
  const from = start !== undefined && start > after ? start - 1 : after;
  let slot: number;
  if (repeat.every !== undefined) {
    if (!(repeat.every > 0)) throw new RangeError('repeat.every must be a positive number of milliseconds');
    const origin = start ?? 0;
    slot = origin + (Math.floor((from - origin) / repeat.every) + 1) * repeat.every;
  } else if (repeat.pattern !== undefined) {
    const expression = CronExpressionParser.parse(repeat.pattern, { currentDate: new Date(from), tz: repeat.tz ?? 'UTC' });
    slot = expression.next().getTime();
  } else {
    throw new RangeError('a job scheduler needs repeat.every or repeat.pattern');
  }
  const end = toMs(repeat.endDate);
  return end !== undefined && slot > end ? undefined : slot;
}
