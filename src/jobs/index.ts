/**
 * warren/jobs: background jobs on a Warren broker with BullMQ's API (see README "Jobs").
 * `import { Queue, Worker, QueueEvents } from 'warren/jobs'`.
 */
export { Queue, type QueueOptions } from './queue.js';
export { Worker, UnrecoverableError, type Processor, type WorkerOptions } from './worker.js';
export { QueueEvents, type QueueEventsOptions } from './queue-events.js';
export { Job } from './job.js';
export { FlowProducer, type FlowJob, type FlowOpts, type JobNode, type NodeOpts } from './flow-producer.js';
export type { Dependencies, DependenciesOpts, DependencyCounts, DependencyOpts } from './dependencies.js';
export type { Connection, ConnectionOptions } from './connection.js';
export type { BackoffStrategy } from './backoff.js';
export type { SchedulerRecord } from './schedulers.js';
export type { BackoffOptions, DependencySnapshot, GroupOptions, JobState, JobsOptions, KeepJobs, ParentRef, RepeatOptions } from './types.js';
export type { QueueLimits, RateLimiterOptions } from './limits.js';
