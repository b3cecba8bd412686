/** BullMQ's job options, as far as warren/jobs implements them (names and meanings as BullMQ's). */
export interface BackoffOptions {
  type: 'fixed' | 'exponential' | string;
  /** Milliseconds: the fixed delay, or the first delay of the exponential series. */
  delay?: number;
  /** 0..1: the delay is drawn between delay * (1 - jitter) and delay. */
  jitter?: number;
}

export interface KeepJobs {
  /** Keep at most this many finished jobs of that state. */
  count?: number;
  /** Seconds (BullMQ's unit): remove finished jobs older than this. */
  age?: number;
}

export interface RepeatOptions {
  /** Milliseconds between runs. */
  every?: number;
  /** A cron pattern (cron-parser syntax, optional seconds field). */
  pattern?: string;
  /** IANA time zone for `pattern` (default UTC). */
  tz?: string;
  /** Do not fire before this time. */
  startDate?: number | string | Date;
  /** Do not fire after this time. */
  endDate?: number | string | Date;
  /** Stop after this many runs. */
  limit?: number;
  /** Fire the first slot immediately (BullMQ's `immediately`). */
  immediately?: boolean;
}

export interface GroupOptions {
  /** Jobs with the same group id run one at a time, in order (the core's message groups). */
  id: string;
}

export interface JobsOptions {
  jobId?: string;
  delay?: number;
  /** 1 is the highest; jobs without a priority go first (BullMQ's rule). Mapped onto 0..9 AMQP priorities. */
  priority?: number;
  attempts?: number;
  backoff?: number | BackoffOptions;
  removeOnComplete?: boolean | number | KeepJobs;
  removeOnFail?: boolean | number | KeepJobs;
  /** Milliseconds: the processor's AbortSignal fires after this and the attempt fails. */
  timeout?: number;
  group?: GroupOptions;
  /** Set on jobs made by a job scheduler. */
  repeat?: { key: string; slot: number; count: number };
  /** Set by FlowProducer on a job with children (Warren's own: its worker collects their results). */
  hasChildren?: boolean;
  /** A flow child's parent (set by FlowProducer): that job waits for this one's result. */
  parent?: ParentRef;
  /** Flows (BullMQ's option): this child failing for good fails its parent (and so on up). */
  failParentOnFailure?: boolean;
  /** Flows: this child failing for good counts as done for its parent; the reason is kept (getIgnoredChildrenFailures). */
  ignoreDependencyOnFailure?: boolean;
  /** Flows: this child failing for good is removed from its parent's dependencies. */
  removeDependencyOnFailure?: boolean;
  /**
   * Flows: this child failing for good starts its parent at once, whatever its other children are
   * doing; the reason is kept as for ignoreDependencyOnFailure (getFailedChildrenValues).
   */
  continueParentOnFailure?: boolean;
}

/**
 * A flow parent's dependencies as BullMQ's getDependencies names them, keyed `queue:id`: processed
 * (return values), unprocessed, failed (blocking: failParentOnFailure or the default policy) and ignored
 * (ignoreDependencyOnFailure or continueParentOnFailure; the reasons).
 */
export interface DependencySnapshot {
  processed: Record<string, unknown>;
  unprocessed: string[];
  failed: string[];
  ignored: Record<string, string>;
}

/** A flow parent: its id and queue name (BullMQ's `parent: { id, queue }`, queue without a prefix). */
export interface ParentRef {
  id: string;
  queue: string;
}

/** 'waiting-children': a flow parent whose children are not all done (not counted unless asked for). */
export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'waiting-children';
export const JOB_STATES: readonly JobState[] = ['waiting', 'active', 'delayed', 'completed', 'failed'];

/** What the broker keeps for a job (a record in table jobs.<queue>, tag = its state). */
export interface JobRecord {
  name: string;
  data: unknown;
  opts: JobsOptions;
  timestamp: number;
  attemptsMade: number;
  progress: number | object;
  returnvalue?: unknown;
  failedReason?: string;
  stacktrace?: string[];
  processedOn?: number;
  finishedOn?: number;
  /** When a delayed job is due. */
  delayUntil?: number;
  /** Set by the add that created the record: tells a retried create from a duplicate job id. */
  addToken?: string;
  /**
   * A flow parent that left waiting-children: its dependencies as they were then, written in the same
   * batch that moved it and cleared its dependency table (so the record holds them from then on).
   */
  dependencies?: DependencySnapshot;
}

/** The message body of a job (the same fields a record starts with). */
export interface JobWire {
  id: string;
  name: string;
  data: unknown;
  opts: JobsOptions;
  timestamp: number;
  attemptsMade: number;
}

/** Topology names of a job queue. */
export function names(queue: string) {
  return {
    queue: `jobs.${queue}`,
    groups: `jobs.${queue}.groups`,
    delayed: `jobs.${queue}.delayed`,
    events: `jobs.${queue}.events`,
    control: `jobs.${queue}.control`,
    table: `jobs.${queue}`,
    meta: `jobs.${queue}.meta`,
  };
}

/**
 * The record table of a flow parent's dependencies while it waits for children: one record per child,
 * the tag its fate (`pending`, `processed` with the return value, `failed`, `ignored` with the reason).
 */
export function dependencyTable(parent: ParentRef): string {
  return `jobs.${parent.queue}.deps.${parent.id}`;
}

/** A child's key in its parent's dependencies and children values (BullMQ: `bull:<queue>:<id>`). */
export function childKey(queue: string, id: string): string {
  return `${queue}:${id}`;
}

/** The queue and id of a child key (flow queue names have no ':', as in BullMQ). */
export function parseChildKey(key: string): ParentRef {
  const colon = key.indexOf(':');
  return { queue: key.slice(0, colon), id: key.slice(colon + 1) };
}

export const GROUP_HEADER = 'x-job-group';
export const MAX_PRIORITY = 10;
export const DEFAULT_LOCK_DURATION_MS = 30_000;
/** Finished jobs are never kept without bound (the Redis-memory wall of BullMQ): these are the defaults. */
export const DEFAULT_KEEP_COMPLETED = 1_000;
export const DEFAULT_KEEP_FAILED = 10_000;
