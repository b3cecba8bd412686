import { dependencyCounts, dependencyResults } from './flow-deps.js';
import { jobPublishSpec } from './publish-spec.js';
import type { RecordJson, StateClient } from './state-client.js';
import type { JobRecord, JobsOptions, JobState, JobWire } from './types.js';

/** What a Job needs from its Queue or Worker. */
export interface JobHost {
  readonly name: string;
  readonly state: StateClient;
  /** Publishes the job's message again (retry). */
  enqueue(wire: JobWire, delay: number): Promise<void>;
  /** Called by updateProgress (a Worker publishes the event). */
  progressed?(job: Job, progress: number | object): void;
}

/** BullMQ's Job: the fields and methods of a job, backed by its record in the broker. */
export class Job<DataType = any, ReturnType = any, NameType extends string = string> {
  progress: number | object = 0;
  returnvalue: ReturnType | undefined = undefined;
  failedReason: string | undefined = undefined;
  stacktrace: string[] = [];
  processedOn: number | undefined = undefined;
  finishedOn: number | undefined = undefined;
  delay = 0;
  /** A finished flow parent's children's results and ignored failures (kept in its record). */
  childrenValues: Record<string, unknown> | undefined = undefined;
  ignoredFailures: Record<string, string> | undefined = undefined;
  /** The state tag of the record this job was read from, if any. */
  private stateTag: JobState | undefined;

  constructor(
    private readonly host: JobHost,
    readonly name: NameType,
    readonly data: DataType,
    readonly opts: JobsOptions,
    readonly id: string,
    readonly timestamp: number,
    public attemptsMade = 0,
  ) {
    this.delay = opts.delay ?? 0;
  }

  get queueName(): string {
    return this.host.name;
  }

  static fromRecord(host: JobHost, record: RecordJson<JobRecord>): Job {
    const value = record.value;
    const job = new Job(host, value.name, value.data, value.opts, record.key, value.timestamp, value.attemptsMade);
    job.progress = value.progress;
    job.returnvalue = value.returnvalue;
    job.failedReason = value.failedReason;
    job.stacktrace = value.stacktrace ?? [];
    job.processedOn = value.processedOn;
    job.finishedOn = value.finishedOn;
    job.childrenValues = value.childrenValues;
    job.ignoredFailures = value.ignoredFailures;
    job.stateTag = record.tag as JobState;
    return job;
  }

  static fromWire(host: JobHost, wire: JobWire): Job {
    return new Job(host, wire.name, wire.data, wire.opts, wire.id, wire.timestamp, wire.attemptsMade);
  }

  toWire(): JobWire {
    return { id: this.id, name: this.name, data: this.data, opts: this.opts, timestamp: this.timestamp, attemptsMade: this.attemptsMade };
  }

  toRecord(): JobRecord {
    const record: JobRecord = { name: this.name, data: this.data, opts: this.opts, timestamp: this.timestamp, attemptsMade: this.attemptsMade, progress: this.progress };
    if (this.returnvalue !== undefined) record.returnvalue = this.returnvalue;
    if (this.failedReason !== undefined) record.failedReason = this.failedReason;
    if (this.stacktrace.length > 0) record.stacktrace = this.stacktrace;
    if (this.processedOn !== undefined) record.processedOn = this.processedOn;
    if (this.finishedOn !== undefined) record.finishedOn = this.finishedOn;
    if (this.childrenValues !== undefined) record.childrenValues = this.childrenValues;
    if (this.ignoredFailures !== undefined) record.ignoredFailures = this.ignoredFailures;
    return record;
  }

  /** BullMQ's parent of a flow child: `{ id, queue }` (queue without a key prefix). */
  get parent(): { id: string; queue: string } | undefined {
    return this.opts.parent;
  }

  /** A flow parent's children's return values by `queue:id` (BullMQ's keys are `bull:queue:id`). */
  async getChildrenValues<CT = any>(): Promise<Record<string, CT>> {
    if (this.childrenValues !== undefined) return this.childrenValues as Record<string, CT>;
    return (await dependencyResults(this.host.state, { id: this.id, queue: this.queueName })).childrenValues as Record<string, CT>;
  }

  /** A flow parent's children that failed with ignoreDependencyOnFailure: their reasons by `queue:id`. */
  async getIgnoredChildrenFailures(): Promise<Record<string, string>> {
    if (this.ignoredFailures !== undefined) return this.ignoredFailures;
    return (await dependencyResults(this.host.state, { id: this.id, queue: this.queueName })).ignoredFailures;
  }

  /** BullMQ's getDependenciesCount (of a parent still waiting or running; zeros once it finished). */
  getDependenciesCount(): Promise<{ processed: number; unprocessed: number; ignored: number; failed: number }> {
    return dependencyCounts(this.host.state, { id: this.id, queue: this.queueName });
  }

  /** The state as the broker has it now ('unknown' once removed). */
  async getState(): Promise<JobState | 'unknown'> {
    const record = await this.host.state.get<JobRecord>(this.id);
    this.stateTag = record?.tag as JobState | undefined;
    return this.stateTag ?? 'unknown';
  }

  isCompleted(): Promise<boolean> {
    return this.getState().then((s) => s === 'completed');
  }

  isFailed(): Promise<boolean> {
    return this.getState().then((s) => s === 'failed');
  }

  /** Stores the progress (only while the job is active) and emits 'progress'. */
  async updateProgress(progress: number | object): Promise<void> {
    this.progress = progress;
    await this.host.state.run({ op: 'put', key: this.id, tag: 'active', value: this.toRecord(), ifTagIn: ['active'] });
    this.host.progressed?.(this, progress);
  }

  async updateData(data: DataType): Promise<void> {
    (this as { data: DataType }).data = data;
    const record = await this.host.state.get<JobRecord>(this.id);
    if (record !== undefined) await this.host.state.run({ op: 'put', key: this.id, tag: record.tag, value: { ...record.value, data } });
  }

  /** Moves a failed (or completed) job back to waiting and queues it again, attempts reset. */
  async retry(state: 'failed' | 'completed' = 'failed'): Promise<void> {
    this.attemptsMade = 0;
    this.failedReason = undefined;
    this.stacktrace = [];
    this.returnvalue = undefined;
    this.finishedOn = undefined;
    // The move and the new message in one durable step (the broker publishes only if the move held).
    const publish = jobPublishSpec(this.host.name, this.toWire(), 0);
    const moved = await this.host.state.run({ op: 'put', key: this.id, tag: 'waiting', value: this.toRecord(), ifTagIn: [state], publish });
    if (!moved.ok) throw new Error(`job ${this.id} is not ${state}`);
  }

  /** Removes the job's record; a message still queued for it is dropped when a worker takes it. */
  async remove(): Promise<void> {
    await this.host.state.run({ op: 'delete', key: this.id });
  }
}
