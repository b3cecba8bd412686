import { currentSnapshot, dependencies, dependencyCounts, DEPENDENCY_TYPES, type Dependencies, type DependenciesOpts, type DependencyCounts, type DependencyType } from './dependencies.js';
import { removeUnprocessedChildren } from './flow-removal.js';
import { jobPublishSpec } from './publish-spec.js';
import type { RecordJson, StateClient } from './state-client.js';
import type { DependencySnapshot, JobRecord, JobsOptions, JobState, JobWire } from './types.js';

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
  /** A flow parent that left waiting-children: its dependencies then (kept in its record; Warren's own). */
  dependencies: DependencySnapshot | undefined = undefined;
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
    job.dependencies = value.dependencies;
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
    if (this.dependencies !== undefined) record.dependencies = this.dependencies;
    return record;
  }

  /** BullMQ's parent of a flow child: `{ id, queue }` (queue without a key prefix). */
  get parent(): { id: string; queue: string } | undefined {
    return this.opts.parent;
  }

  private get asParent(): { id: string; queue: string } {
    return { id: this.id, queue: this.queueName };
  }

  /** A flow parent's children's return values by `queue:id` (BullMQ's keys are `bull:queue:id`). */
  async getChildrenValues<CT = any>(): Promise<Record<string, CT>> {
    return (await currentSnapshot(this.host.state, this.asParent, this.dependencies)).processed as Record<string, CT>;
  }

  /** The reasons of children that failed with ignoreDependencyOnFailure or continueParentOnFailure, by `queue:id`. */
  async getIgnoredChildrenFailures(): Promise<Record<string, string>> {
    return (await currentSnapshot(this.host.state, this.asParent, this.dependencies)).ignored;
  }

  /** BullMQ's older name of getIgnoredChildrenFailures (one set of failures in both, as in BullMQ). */
  getFailedChildrenValues(): Promise<Record<string, string>> {
    return this.getIgnoredChildrenFailures();
  }

  /** BullMQ's getDependencies: all children by fate, or pages (`{ processed: { cursor, count }, ... }`). */
  getDependencies(opts: DependenciesOpts = {}): Promise<Dependencies> {
    return dependencies(this.host.state, this.asParent, this.dependencies, opts);
  }

  /** BullMQ's getDependenciesCount: the types asked for (`{ processed: true }`), all four by default. */
  getDependenciesCount(opts: Partial<Record<DependencyType, boolean>> = {}): Promise<DependencyCounts> {
    const asked = DEPENDENCY_TYPES.filter((type) => opts[type] === true);
    return dependencyCounts(this.host.state, this.asParent, this.dependencies, asked.length > 0 ? asked : DEPENDENCY_TYPES);
  }

  /**
   * BullMQ's removeUnprocessedChildren: removes the children not started yet (waiting, delayed, or
   * waiting for children of their own, with theirs); active and finished children stay.
   */
  async removeUnprocessedChildren(): Promise<void> {
    const snapshot = await removeUnprocessedChildren(this.host.state, this.asParent, this.dependencies);
    if (snapshot === undefined) return;
    // A parent that already left waiting-children: its record's snapshot no longer lists them (only
    // that field changes: this Job may be older than the record).
    this.dependencies = snapshot;
    const current = await this.host.state.get<JobRecord>(this.id);
    if (current !== undefined) await this.host.state.run({ op: 'put', key: this.id, tag: current.tag, value: { ...current.value, dependencies: snapshot }, ifTagIn: [current.tag] });
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
