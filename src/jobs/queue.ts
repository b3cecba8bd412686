import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AmqpLink } from './amqp-link.js';
import { amqpPriority } from './backoff.js';
import { resolveConnection, type Connection, type ResolvedConnection } from './connection.js';
import { Job, type JobHost } from './job.js';
import { nextSlot, schedulerKey, slotJobId, type SchedulerRecord } from './schedulers.js';
import { readQueueLimits, updateQueueLimits } from './limits.js';
import { jobPublishSpec } from './publish-spec.js';
import { StateClient } from './state-client.js';
import { declareTopology } from './topology.js';
import { GROUP_HEADER, JOB_STATES, names, type JobRecord, type JobsOptions, type JobState, type JobWire, type RepeatOptions } from './types.js';

export interface QueueOptions {
  connection?: Connection;
  /** Options merged under every add's options (BullMQ's defaultJobOptions). */
  defaultJobOptions?: JobsOptions;
}

/** Publishes a job's message: the routing every Queue, Worker and Job uses. */
export async function publishJob(link: AmqpLink, queue: string, wire: JobWire, delay: number): Promise<void> {
  const n = names(queue);
  const grouped = wire.opts.group !== undefined;
  const headers: Record<string, unknown> = {};
  if (grouped) headers[GROUP_HEADER] = wire.opts.group!.id;
  if (delay > 0) headers['x-delay'] = delay;
  const body = Buffer.from(JSON.stringify(wire));
  const options = { messageId: wire.id, contentType: 'application/json', headers, ...(grouped ? {} : { priority: amqpPriority(wire.opts.priority) }) };
  if (delay > 0) await link.publish(n.delayed, grouped ? 'group' : 'job', body, options);
  else await link.publish('', grouped ? n.groups : n.queue, body, options);
}

/** Publishes an event for QueueEvents (not confirmed: events are hints, state is in records; batched per tick). */
export function publishEvent(link: AmqpLink, queue: string, event: Record<string, unknown>): void {
  link.publishHint(names(queue).events, event);
}

/** Tells the queue's Workers to pause or resume (a separate exchange: workers do not hear every job event). */
function publishControl(link: AmqpLink, queue: string, event: 'paused' | 'resumed'): void {
  link.publishHint(names(queue).control, { event });
}

/** BullMQ's Queue on a Warren broker: adding jobs, reading their state, pausing, cleaning, schedulers. */
export class Queue<DataType = any, ResultType = any, NameType extends string = string> extends EventEmitter implements JobHost {
  readonly state: StateClient;
  readonly meta: StateClient;
  readonly opts: QueueOptions;
  private readonly link: AmqpLink;
  private readonly target: ResolvedConnection;
  private readonly readyPromise: Promise<void>;

  /** 'error' is only emitted to listeners (an EventEmitter throws an unheard 'error'). */
  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  constructor(
    readonly name: string,
    opts: QueueOptions = {},
  ) {
    super();
    this.opts = opts;
    this.target = resolveConnection(opts.connection);
    const n = names(name);
    this.state = new StateClient(this.target, n.table);
    this.meta = new StateClient(this.target, n.meta);
    this.link = new AmqpLink(this.target, `warren/jobs queue ${name}`);
    this.link.on('disconnected', (error) => this.emitError(error ?? new Error('connection lost')));
    this.readyPromise = this.link.addSetup((channel, connection) => declareTopology(channel, connection, name));
    this.readyPromise.catch(() => undefined);
  }

  waitUntilReady(): Promise<void> {
    return this.readyPromise;
  }

  enqueue(wire: JobWire, delay: number): Promise<void> {
    return publishJob(this.link, this.name, wire, delay);
  }

  /** Resolves once the job's record is durable and the broker confirmed its message. */
  async add(name: NameType, data: DataType, opts: JobsOptions = {}): Promise<Job<DataType, ResultType, NameType>> {
    await this.readyPromise;
    const options: JobsOptions = { ...this.opts.defaultJobOptions, ...opts };
    const job = new Job<DataType, ResultType, NameType>(this, name, data, options, options.jobId ?? randomUUID(), Date.now());
    const delay = Math.max(0, options.delay ?? 0);
    const record = job.toRecord();
    if (delay > 0) record.delayUntil = job.timestamp + delay;
    record.addToken = randomUUID();
    // One operation: the record is created and, only if it was, the broker publishes the job's message;
    // the answer comes once both are durable (fsync), so add resolves on the broker's confirmation.
    const publish = jobPublishSpec(this.name, job.toWire(), delay);
    const created = await this.state.run<JobRecord>({ op: 'put', key: job.id, tag: delay > 0 ? 'delayed' : 'waiting', value: record, ifAbsent: true, publish });
    // jobId: adding an id that exists is a no-op returning the existing job (BullMQ's rule). A record
    // with this add's own token is ours (a retried request that had already been applied, and published).
    const ours = created.current?.value.addToken === record.addToken;
    if (!created.ok && !ours) return created.current === undefined ? job : (Job.fromRecord(this, created.current) as Job<DataType, ResultType, NameType>);
    publishEvent(this.link, this.name, { event: delay > 0 ? 'delayed' : 'waiting', jobId: job.id, ...(delay > 0 ? { delay: job.timestamp + delay } : {}) });
    return job;
  }

  addBulk(jobs: { name: NameType; data: DataType; opts?: JobsOptions }[]): Promise<Job<DataType, ResultType, NameType>[]> {
    return Promise.all(jobs.map((job) => this.add(job.name, job.data, job.opts)));
  }

  async getJob(id: string): Promise<Job<DataType, ResultType, NameType> | undefined> {
    const record = await this.state.get<JobRecord>(id);
    return record === undefined ? undefined : (Job.fromRecord(this, record) as Job<DataType, ResultType, NameType>);
  }

  async getJobState(id: string): Promise<JobState | 'unknown'> {
    return ((await this.state.get(id))?.tag as JobState | undefined) ?? 'unknown';
  }

  /** Counts per state (all five when none are named), from the broker's record counts. */
  async getJobCounts(...types: JobState[]): Promise<Record<string, number>> {
    const { counts } = await this.state.list(undefined, 0, 0, false);
    const wanted = types.length === 0 ? JOB_STATES : types;
    return Object.fromEntries(wanted.map((type) => [type, counts[type] ?? 0]));
  }

  async getJobCountByTypes(...types: JobState[]): Promise<number> {
    const counts = await this.getJobCounts(...types);
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /** Jobs in the given states, `start`..`end` inclusive (BullMQ's paging), newest first unless `asc`. */
  async getJobs(types: JobState | JobState[] = [...JOB_STATES], start = 0, end = -1, asc = false): Promise<Job<DataType, ResultType, NameType>[]> {
    const list = Array.isArray(types) ? types : [types];
    const limit = end < 0 ? 10_000 : end - start + 1;
    const jobs: Job<DataType, ResultType, NameType>[] = [];
    for (const type of list) {
      const { items } = await this.state.list<JobRecord>(type, list.length === 1 ? start : 0, list.length === 1 ? limit : start + limit, asc);
      for (const item of items) jobs.push(Job.fromRecord(this, item) as Job<DataType, ResultType, NameType>);
    }
    return list.length === 1 ? jobs : jobs.slice(start, start + limit);
  }

  getWaiting(start = 0, end = -1) {
    return this.getJobs('waiting', start, end, true);
  }
  getActive(start = 0, end = -1) {
    return this.getJobs('active', start, end, true);
  }
  getDelayed(start = 0, end = -1) {
    return this.getJobs('delayed', start, end, true);
  }
  getCompleted(start = 0, end = -1) {
    return this.getJobs('completed', start, end, false);
  }
  getFailed(start = 0, end = -1) {
    return this.getJobs('failed', start, end, false);
  }

  /** Durable: the flag is a record; workers stop taking jobs now (event) and on every (re)start. */
  async pause(): Promise<void> {
    await this.readyPromise;
    await this.meta.run({ op: 'put', key: 'paused', tag: 'flag', value: true });
    publishControl(this.link, this.name, 'paused');
    publishEvent(this.link, this.name, { event: 'paused' });
  }

  async resume(): Promise<void> {
    await this.readyPromise;
    await this.meta.run({ op: 'delete', key: 'paused' });
    publishControl(this.link, this.name, 'resumed');
    publishEvent(this.link, this.name, { event: 'resumed' });
  }

  async isPaused(): Promise<boolean> {
    return (await this.meta.get('paused')) !== undefined;
  }

  /** Removes waiting (and, with `delayed`, delayed) jobs: the queues are purged, the records dropped. */
  async drain(delayed = false): Promise<void> {
    const channel = await this.link.ready();
    const n = names(this.name);
    await channel.purgeQueue(n.queue);
    await channel.purgeQueue(n.groups);
    await this.state.run({ op: 'trim', tag: 'waiting', keep: 0 });
    // Delayed messages stay in the delayed exchange; without their records workers drop them.
    if (delayed) await this.state.run({ op: 'trim', tag: 'delayed', keep: 0 });
  }

  /** Removes up to `limit` jobs of `type` finished (or added) more than `grace` ms ago; returns their ids. */
  async clean(grace: number, limit: number, type: 'completed' | 'failed' | 'waiting' | 'delayed' | 'wait' = 'completed'): Promise<string[]> {
    const tag = type === 'wait' ? 'waiting' : type;
    const result = await this.state.run({ op: 'trim', tag, maxAgeMs: grace, limit });
    return result.removed ?? [];
  }

  /** Removes the queue's job records, meta records and topology. */
  async obliterate(): Promise<void> {
    const channel = await this.link.ready();
    const n = names(this.name);
    await channel.deleteQueue(n.queue);
    await channel.deleteQueue(n.groups);
    await channel.deleteExchange(n.delayed);
    await this.state.drop();
    await this.meta.drop();
  }

  /**
   * BullMQ 6's job schedulers. The scheduler is a record; its next slot is a delayed job whose id is
   * derived from the slot, so however many Queues and Workers compute it, the broker keeps one. The
   * worker that takes a slot's job adds the next slot's job (see Worker), so a dead scheduler process
   * changes nothing: the pending job is a durable message.
   */
  async upsertJobScheduler(id: string, repeat: RepeatOptions, template: { name?: NameType; data?: DataType; opts?: JobsOptions } = {}): Promise<Job | undefined> {
    await this.readyPromise;
    const previous = (await this.meta.get<SchedulerRecord>(schedulerKey(id)))?.value;
    const now = Date.now();
    const slot = repeat.immediately === true && previous === undefined ? now : nextSlot(repeat, now, 0);
    const record: SchedulerRecord = {
      id,
      repeat,
      template: { name: template.name ?? id, data: template.data ?? {}, opts: template.opts ?? {} },
      version: (previous?.version ?? 0) + 1,
      count: 0,
      ...(slot === undefined ? {} : { next: slot }),
    };
    await this.meta.run({ op: 'put', key: schedulerKey(id), tag: 'scheduler', value: record });
    if (previous?.next !== undefined && previous.next !== slot) await this.state.run({ op: 'delete', key: slotJobId(id, previous.next) });
    if (slot === undefined) return undefined;
    return scheduleSlot(this, record, slot, now);
  }

  async removeJobScheduler(id: string): Promise<boolean> {
    const previous = (await this.meta.get<SchedulerRecord>(schedulerKey(id)))?.value;
    if (previous === undefined) return false;
    await this.meta.run({ op: 'delete', key: schedulerKey(id) });
    if (previous.next !== undefined) await this.state.run({ op: 'delete', key: slotJobId(id, previous.next) });
    return true;
  }

  async getJobScheduler(id: string): Promise<SchedulerRecord | undefined> {
    return (await this.meta.get<SchedulerRecord>(schedulerKey(id)))?.value;
  }

  async getJobSchedulers(): Promise<SchedulerRecord[]> {
    const { items } = await this.meta.list<SchedulerRecord>('scheduler', 0, 10_000, true);
    return items.map((item) => item.value);
  }

  /** BullMQ's global concurrency: jobs active at once across all workers (the broker's max-in-flight). */
  async setGlobalConcurrency(concurrency: number): Promise<void> {
    await this.readyPromise;
    await updateQueueLimits(this.target, this.meta, this.name, { concurrency });
  }

  async removeGlobalConcurrency(): Promise<void> {
    await updateQueueLimits(this.target, this.meta, this.name, { clear: ['concurrency'] });
  }

  async getGlobalConcurrency(): Promise<number | null> {
    return (await readQueueLimits(this.meta)).concurrency ?? null;
  }

  /** BullMQ's global rate limit: at most `max` jobs started per `duration` ms (the broker's token bucket). */
  async setGlobalRateLimit(max: number, duration: number): Promise<void> {
    await this.readyPromise;
    await updateQueueLimits(this.target, this.meta, this.name, { rate: { max, duration } });
  }

  async removeGlobalRateLimit(): Promise<void> {
    await updateQueueLimits(this.target, this.meta, this.name, { clear: ['rate'] });
  }

  async getGlobalRateLimit(): Promise<{ max: number; duration: number } | null> {
    return (await readQueueLimits(this.meta)).rate ?? null;
  }

  async close(): Promise<void> {
    await this.readyPromise.catch(() => undefined);
    this.state.close();
    this.meta.close();
    await this.link.close();
  }
}

/** Adds the job of one scheduler slot (idempotent by its id). */
export function scheduleSlot(host: Queue | { add: Queue['add'] }, record: SchedulerRecord, slot: number, now: number): Promise<Job> {
  const opts: JobsOptions = {
    ...record.template.opts,
    jobId: slotJobId(record.id, slot),
    delay: Math.max(0, slot - now),
    repeat: { key: record.id, slot, count: record.count },
  };
  return host.add(record.template.name, record.template.data, opts);
}
