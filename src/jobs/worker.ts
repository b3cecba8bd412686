import { EventEmitter } from 'node:events';
import type { ConsumeMessage } from 'amqplib';
import { AckBatcher } from './ack-batcher.js';
import { AmqpLink, type ConfirmChannel } from './amqp-link.js';
import { backoffDelay, type BackoffStrategy } from './backoff.js';
import { resolveConnection, type Connection } from './connection.js';
import { childFailed, childProcessed } from './flow-deps.js';
import { Job, type JobHost } from './job.js';
import { updateQueueLimits, type RateLimiterOptions } from './limits.js';
import { jobPublishSpec } from './publish-spec.js';
import { publishEvent, publishJob, scheduleSlot } from './queue.js';
import { nextSlot, schedulerKey, type SchedulerRecord } from './schedulers.js';
import { StateClient, type RecordOp } from './state-client.js';
import { declareTopology } from './topology.js';
import {
  DEFAULT_KEEP_COMPLETED,
  DEFAULT_KEEP_FAILED,
  DEFAULT_LOCK_DURATION_MS,
  names,
  type JobRecord,
  type JobWire,
  type KeepJobs,
} from './types.js';

/** BullMQ's processor; `signal` aborts on the job's `timeout` and on a forced close. */
export type Processor<D = any, R = any, N extends string = string> = (job: Job<D, R, N>, token?: string, signal?: AbortSignal) => Promise<R>;

export interface WorkerOptions {
  connection?: Connection;
  /** Jobs run at once by this worker (processor calls in progress). Default 1. */
  concurrency?: number;
  /**
   * Warren's own: deliveries the broker may hand this worker ahead of a free slot (the channel's
   * prefetch). Default eight times `concurrency`, so a slot is refilled at once when a processor returns,
   * while earlier jobs' results are still being written and acked (BullMQ fetches the next job in the
   * same round trip as the result; this is the same overlap). A delivery stays unacked for a take, a
   * durable result and an ack: twice was too few to cover them, four times bound the worker once takes
   * ran ahead of the slots (bench/jobs.ts, BENCHMARKS.md 2026-12-04). Jobs waiting here keep their lock
   * (extended); the next `concurrency` of them are already taken (active in their records).
   */
  prefetch?: number;
  /** Milliseconds a job may run before the broker gives it to another worker, unless extended (the queue's consumer timeout). */
  lockDuration?: number;
  /** Start consuming at construction (default true); otherwise call run(). */
  autorun?: boolean;
  settings?: { backoffStrategy?: BackoffStrategy };
  /**
   * BullMQ's rate limiter, global to the queue (all workers together): at most `max` jobs started per
   * `duration` ms. Kept by the broker (a token bucket in the queue's dispatch loop, set by a policy), so
   * it stays after this worker closes until Queue.removeGlobalRateLimit().
   */
  limiter?: RateLimiterOptions;
  /** BullMQ Pro's group options: at most `concurrency` jobs of one group at once (default 1, strict order). Fixed when the job queue is first declared. */
  group?: { concurrency?: number };
}

/** Thrown by a processor to fail the job without further attempts (BullMQ's name). */
export class UnrecoverableError extends Error {
  constructor(message?: string) {
    super(message);
    this.name = 'UnrecoverableError';
  }
}

const RUNNABLE = ['waiting', 'delayed', 'active'];

/** A delivery waiting for a slot; `taken` once its take started ahead of the slot. */
interface Delivery<D, R, N extends string> {
  channel: ConfirmChannel;
  message: ConsumeMessage;
  lock: NodeJS.Timeout;
  taken: Promise<Job<D, R, N> | undefined> | undefined;
}

function keepOf(option: boolean | number | KeepJobs | undefined, fallback: number): KeepJobs | 'remove' {
  if (option === true) return 'remove';
  if (option === false || option === undefined) return { count: fallback };
  if (typeof option === 'number') return { count: option };
  return option;
}

/**
 * BullMQ's Worker on a Warren broker. Each job is one AMQP delivery: the broker holds it for this
 * worker until it is acked (after the result, the retry or the failure is durable in the job's record)
 * or until the consumer timeout (lockDuration), which the worker extends while the job runs
 * (amq.warren.touch). A worker that dies gives its jobs back at once (its connection closes); one that
 * reconnects consumes again by itself. A job whose record is already finished is acked without running,
 * so a redelivery after a lost ack does not run a completed job twice.
 */
export class Worker<D = any, R = any, N extends string = string> extends EventEmitter implements JobHost {
  readonly state: StateClient;
  readonly meta: StateClient;
  readonly opts: WorkerOptions;
  private readonly link: AmqpLink;
  private readonly target: ReturnType<typeof resolveConnection>;
  private readonly active = new Map<string, AbortController>();
  private consumerTags: string[] = [];
  private paused = false;
  private closing: Promise<void> | undefined;
  private running = false;
  private readonly idleWaiters: (() => void)[] = [];
  /**
   * Deliveries waiting for a free slot, with the timer that extends their lock meanwhile. The first
   * `ahead` of them (at most `concurrency`) are being or were taken already (take-ahead, see pump).
   */
  private readonly waiting: Delivery<D, R, N>[] = [];
  private ahead = 0;
  /**
   * Jobs taken ahead are going back to waiting: nothing is taken until that write is answered (a take
   * in another POST could overtake it and leave a running job's record at waiting).
   */
  private returning = false;
  /** Acks per channel, batched per tick (ack-batcher.ts). */
  private readonly acks = new WeakMap<ConfirmChannel, AckBatcher>();
  /** Processor calls in progress (at most `concurrency`). */
  private processing = 0;

  /** 'error' is only emitted to listeners (an EventEmitter throws an unheard 'error'). */
  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  constructor(
    readonly name: string,
    private readonly processor: Processor<D, R, N>,
    opts: WorkerOptions = {},
  ) {
    super();
    this.opts = opts;
    const target = resolveConnection(opts.connection);
    this.target = target;
    this.state = new StateClient(target, names(name).table);
    this.meta = new StateClient(target, names(name).meta);
    this.link = new AmqpLink(target, `warren/jobs worker ${name}`);
    this.link.on('disconnected', (error) => this.emitError(error ?? new Error('connection lost')));
    this.link.on('connected', () => this.emit('ready'));
    if (opts.autorun !== false) void this.run();
  }

  get concurrency(): number {
    return this.opts.concurrency ?? 1;
  }

  /** Starts consuming (again after every reconnect). */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.link
      .addSetup(async (channel, connection) => {
        await declareTopology(channel, connection, this.name, this.opts.lockDuration ?? DEFAULT_LOCK_DURATION_MS, this.opts.group?.concurrency ?? 1);
        if (this.opts.limiter !== undefined) await updateQueueLimits(this.target, this.meta, this.name, { rate: this.opts.limiter });
        await this.listenForControl(channel);
        this.consumerTags = [];
        this.paused = (await this.meta.get('paused')) !== undefined;
        if (!this.paused) await this.consume(channel);
      })
      .catch((error: Error) => {
        if (this.closing === undefined) this.emitError(error);
      });
  }

  waitUntilReady(): Promise<unknown> {
    return this.link.ready();
  }

  isRunning(): boolean {
    return this.running && this.closing === undefined;
  }

  isPaused(): boolean {
    return this.paused;
  }

  enqueue(wire: JobWire, delay: number): Promise<void> {
    return publishJob(this.link, this.name, wire, delay);
  }

  progressed(job: Job, progress: number | object): void {
    this.emit('progress', job, progress);
    publishEvent(this.link, this.name, { event: 'progress', jobId: job.id, data: progress });
  }

  /** Stops taking jobs; waits for the active ones unless `force` (then their signals abort and the broker requeues them). */
  close(force = false): Promise<void> {
    this.closing ??= (async () => {
      const channel = this.link.current;
      for (const tag of this.consumerTags) await channel?.cancel(tag).catch(() => undefined);
      // Deliveries not started stay unacked: the broker gives them back when the connection closes.
      await this.giveBackAhead();
      for (const entry of this.waiting.splice(0)) clearInterval(entry.lock);
      if (force) for (const controller of this.active.values()) controller.abort(new Error('worker closed'));
      else while (this.active.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      // Acks of the last jobs wait for the end of the tick: send them before the connection goes.
      const current = this.link.current;
      if (current !== undefined) this.acks.get(current)?.flushNow();
      this.state.close();
      this.meta.close();
      await this.link.close();
      this.emit('closed');
    })();
    return this.closing;
  }

  private async consume(channel: ConfirmChannel): Promise<void> {
    // Per-channel prefetch (global): covers both the plain and the grouped queue.
    await channel.prefetch(this.opts.prefetch ?? this.concurrency * 8, true);
    const n = names(this.name);
    for (const queue of [n.queue, n.groups]) {
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (message === null) return;
        this.acksOf(channel).delivered(message);
        this.waiting.push({ channel, message, lock: this.keepLock(channel, message), taken: undefined });
        this.pump();
      });
      this.consumerTags.push(consumerTag);
    }
  }

  /** Pause/resume from the Queue, as events on the queue's fanout exchange. */
  private async listenForControl(channel: ConfirmChannel): Promise<void> {
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, names(this.name).control, '');
    await channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(message.content.toString());
        } catch {
          return;
        }
        for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
          const event = (item as { event?: unknown }).event;
          if (event === 'paused' && !this.paused) void this.pauseConsuming(channel);
          if (event === 'resumed' && this.paused) void this.resumeConsuming(channel);
        }
      },
      { noAck: true },
    );
  }

  private async pauseConsuming(channel: ConfirmChannel): Promise<void> {
    this.paused = true;
    const tags = this.consumerTags;
    this.consumerTags = [];
    for (const tag of tags) await channel.cancel(tag).catch(() => undefined);
    // Paused jobs are waiting, not active: those taken ahead go back (their deliveries stay here).
    await this.giveBackAhead();
    this.emit('paused');
  }

  /**
   * Starts waiting deliveries while slots are free (not while paused or closing), then takes ahead the
   * next `concurrency` of them: a slot freed by a processor starts a job already marked active, instead
   * of holding the slot for the take's round trip (which bound a worker to `concurrency` jobs per round
   * trip, in waves). The jobs taken ahead are active in their records while they wait for a slot.
   */
  private pump(): void {
    if (this.returning) return;
    this.startWaiting();
    this.takeAhead();
  }

  private startWaiting(): void {
    while (this.processing < this.concurrency && !this.paused && this.closing === undefined) {
      const next = this.waiting.shift();
      if (next === undefined) return;
      if (this.ahead > 0) this.ahead--;
      // A delivery of a closed channel went back to the queue with it.
      if (this.link.isClosed(next.channel)) {
        clearInterval(next.lock);
        continue;
      }
      this.processing++;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.processing--;
        this.pump();
      };
      void this.handle(next, release)
        .catch((error: Error) => this.emitError(error))
        .finally(() => {
          clearInterval(next.lock);
          release();
        });
    }
  }

  private takeAhead(): void {
    while (this.ahead < Math.min(this.concurrency, this.waiting.length) && !this.paused && this.closing === undefined) {
      const entry = this.waiting[this.ahead++]!;
      if (this.link.isClosed(entry.channel) || entry.taken !== undefined) continue;
      entry.taken = this.take(entry.channel, entry.message).catch((error: Error) => {
        this.emitError(error);
        return undefined; // left unacked: the broker gives it back
      });
    }
  }

  /** Jobs taken ahead that will not run now (a pause, a close): back to waiting (on a close, before their deliveries go back). */
  private async giveBackAhead(): Promise<void> {
    const front = this.waiting.slice(0, this.ahead);
    this.ahead = 0;
    this.returning = true;
    try {
      const jobs = await Promise.all(front.map((entry) => entry.taken));
      await Promise.all(
        front.map((entry, i) => {
          const job = jobs[i];
          if (job === undefined) return undefined; // settled (or left unacked): not to be taken again
          entry.taken = undefined;
          // A closed channel's delivery went back to the queue: another worker may be running it now.
          if (this.link.isClosed(entry.channel)) return undefined;
          job.processedOn = undefined;
          // Transient like the take it undoes: the journal still has the record as it was before the take.
          return this.state.run({ op: 'put', key: job.id, tag: 'waiting', value: job.toRecord(), ifTagIn: ['active'], transient: true }, { durable: false }).catch(() => undefined);
        }),
      );
    } finally {
      this.returning = false;
      this.pump();
    }
  }

  private async resumeConsuming(channel: ConfirmChannel): Promise<void> {
    this.paused = false;
    this.pump();
    if (this.closing === undefined) await this.consume(channel).catch(() => undefined);
    this.emit('resumed');
  }

  private acksOf(channel: ConfirmChannel): AckBatcher {
    let acks = this.acks.get(channel);
    if (acks === undefined) this.acks.set(channel, (acks = new AckBatcher(channel)));
    return acks;
  }

  private settle(channel: ConfirmChannel, message: ConsumeMessage): void {
    // A delivery of a closed channel was already given back by the broker: nothing to ack.
    if (this.link.isClosed(channel)) return;
    this.acksOf(channel).ack(message);
  }

  /** Marks the delivery's job active in its record; undefined when it must not run here (then it is settled, or left unacked for the broker to give back). */
  private async take(channel: ConfirmChannel, message: ConsumeMessage): Promise<Job<D, R, N> | undefined> {
    let wire: JobWire;
    try {
      wire = JSON.parse(message.content.toString()) as JobWire;
    } catch {
      this.emitError(new Error('a message that is not a job was dropped from the job queue'));
      return void this.settle(channel, message);
    }
    const job = Job.fromWire(this, wire) as Job<D, R, N>;
    job.processedOn = Date.now();
    // A flow parent's record holds its children's results (since it left waiting-children): every
    // write of this run keeps them, and getChildrenValues needs no round trip.
    if (job.opts.hasChildren === true) {
      const stored = await this.state.get<JobRecord>(job.id).catch(() => null);
      if (stored === null) return undefined; // state unreachable: leave the delivery unacked, the broker gives it back
      job.dependencies = stored?.value.dependencies;
    }
    // Kept in the broker's memory only (transient) and answered at once: active is true only while this
    // worker holds the delivery, and a broker restart gives the delivery back, so the journal keeps the
    // state from before (waiting, or delayed) that a worker takes again. Only the changed field is sent
    // (merge): the broker neither parses the record again nor writes it to the journal.
    const take: RecordOp = { op: 'put', key: job.id, tag: 'active', value: { processedOn: job.processedOn }, merge: true, transient: true, ifTagIn: RUNNABLE };
    const taken = await this.state.run(take, { durable: false }).catch(() => undefined);
    if (taken === undefined) return undefined; // state unreachable: leave the delivery unacked, the broker gives it back
    if (!taken.ok) return void this.settle(channel, message); // removed, or already finished
    return job;
  }

  /** One job: take it (record to active) unless taken ahead, run it, write the result or the retry, then ack. `release` frees the slot once the processor returned. */
  private async handle(delivery: Delivery<D, R, N>, release: () => void): Promise<void> {
    const { channel, message } = delivery;
    const job = await (delivery.taken ?? this.take(channel, message));
    if (job === undefined) return;
    job.processedOn = Date.now(); // it may have waited for this slot since its take
    publishEvent(this.link, this.name, { event: 'active', jobId: job.id });
    this.emit('active', job);
    if (job.opts.repeat !== undefined) await this.scheduleNext(job).catch((error: Error) => this.emitError(error));

    const controller = new AbortController();
    this.active.set(job.id, controller);
    const timeout = job.opts.timeout === undefined ? undefined : setTimeout(() => controller.abort(new Error(`job timed out after ${job.opts.timeout} ms`)), job.opts.timeout);
    let outcome: { ok: true; result: R } | { ok: false; error: Error };
    try {
      outcome = { ok: true, result: await this.runProcessor(job, controller.signal) };
    } catch (error) {
      outcome = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    } finally {
      clearTimeout(timeout);
    }
    release();
    try {
      if (outcome.ok) await this.completed(job, outcome.result);
      // A forced close: the job goes back to the queue with the connection, not to failed.
      else if (this.closing !== undefined && controller.signal.aborted) return void this.finish(job.id);
      else await this.failed(job, outcome.error);
    } catch (error) {
      // The result could not be written (state unreachable): no ack, the broker gives the job back.
      this.emitError(error as Error);
      return void this.finish(job.id);
    }
    this.finish(job.id);
    this.settle(channel, message);
  }

  private finish(id: string): void {
    this.active.delete(id);
    if (this.active.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private runProcessor(job: Job<D, R, N>, signal: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')), { once: true });
      Promise.resolve()
        .then(() => this.processor(job, job.id, signal))
        .then(resolve, reject);
    });
  }

  /** Extends the delivery's consumer timeout while the job runs (half the lock duration apart). */
  private keepLock(channel: ConfirmChannel, message: ConsumeMessage): NodeJS.Timeout {
    const every = Math.max(50, Math.floor((this.opts.lockDuration ?? DEFAULT_LOCK_DURATION_MS) / 2));
    return setInterval(() => {
      try {
        channel.publish('amq.warren.touch', String(message.fields.deliveryTag), Buffer.alloc(0), {}, () => undefined);
      } catch {
        // channel gone: the job was given back; the record keeps it from finishing twice
      }
    }, every);
  }

  private async completed(job: Job<D, R, N>, result: R): Promise<void> {
    job.returnvalue = result;
    job.finishedOn = Date.now();
    // A flow: the parent hears of this child first (see flow-deps.ts for why before the result).
    await childProcessed(this.state, this.name, job.id, job.opts, result);
    const keep = keepOf(job.opts.removeOnComplete, DEFAULT_KEEP_COMPLETED);
    if (keep === 'remove') await this.state.run({ op: 'delete', key: job.id });
    else {
      // The result and the retention trim go in the same batch (one round trip, one group commit).
      // Only the fields a completion sets (merge): the rest of the record (data, options, a previous
      // attempt's failedReason, as BullMQ keeps them) stays as the broker has it.
      const result: Partial<JobRecord> = { processedOn: job.processedOn!, finishedOn: job.finishedOn };
      if (job.returnvalue !== undefined) result.returnvalue = job.returnvalue;
      const done: RecordOp = { op: 'put', key: job.id, tag: 'completed', value: result, merge: true, ifTagIn: ['active'] };
      const [stored] = await Promise.all([this.state.run(done), this.trim('completed', keep)]);
      if (!stored.ok) return; // removed while it ran
    }
    publishEvent(this.link, this.name, { event: 'completed', jobId: job.id, returnvalue: result });
    this.emit('completed', job, result);
  }

  private async failed(job: Job<D, R, N>, error: Error): Promise<void> {
    job.attemptsMade++;
    job.failedReason = error.message;
    job.stacktrace = [...job.stacktrace, error.stack ?? String(error)].slice(-10);
    const attempts = job.opts.attempts ?? 1;
    const delay = job.attemptsMade < attempts && !(error instanceof UnrecoverableError) ? backoffDelay(job.opts.backoff, job.attemptsMade, error, job, this.opts.settings?.backoffStrategy) : -1;
    if (delay >= 0) {
      const record = job.toRecord();
      if (delay > 0) record.delayUntil = Date.now() + delay;
      // The move back and the retry's message in one durable step; the delivery is acked after it.
      const publish = jobPublishSpec(this.name, job.toWire(), delay);
      await this.state.run({ op: 'put', key: job.id, tag: delay > 0 ? 'delayed' : 'waiting', value: record, ifTagIn: ['active'], publish });
      this.emit('failed', job, error, 'retry');
      return;
    }
    job.finishedOn = Date.now();
    await childFailed(this.state, this.name, job.id, job.opts, error.message);
    const keep = keepOf(job.opts.removeOnFail, DEFAULT_KEEP_FAILED);
    if (keep === 'remove') await this.state.run({ op: 'delete', key: job.id });
    else {
      const [stored] = await Promise.all([this.state.run({ op: 'put', key: job.id, tag: 'failed', value: job.toRecord(), ifTagIn: ['active'] }), this.trim('failed', keep)]);
      if (!stored.ok) return;
    }
    publishEvent(this.link, this.name, { event: 'failed', jobId: job.id, failedReason: error.message, attemptsMade: job.attemptsMade });
    this.emit('failed', job, error, 'failed');
  }

  private async trim(tag: string, keep: KeepJobs): Promise<void> {
    await this.state.run({ op: 'trim', tag, ...(keep.count === undefined ? {} : { keep: keep.count }), ...(keep.age === undefined ? {} : { maxAgeMs: keep.age * 1000 }) });
  }

  /** A scheduler's slot is running: add the next slot's job (idempotent), then record it. */
  private async scheduleNext(job: Job<D, R, N>): Promise<void> {
    const repeat = job.opts.repeat!;
    const stored = await this.meta.get<SchedulerRecord>(schedulerKey(repeat.key));
    const record = stored?.value;
    if (record === undefined || record.next !== repeat.slot) return; // removed or replaced
    const now = Date.now();
    const slot = nextSlot(record.repeat, Math.max(now, repeat.slot), record.count + 1);
    const next: SchedulerRecord = { ...record, count: record.count + 1 };
    if (slot !== undefined) next.next = slot;
    else delete next.next;
    if (slot !== undefined) await scheduleSlot({ add: (name, data, opts) => this.addJob(name, data, opts) }, next, slot, now);
    await this.meta.run({ op: 'put', key: schedulerKey(repeat.key), tag: 'scheduler', value: next, ifTagIn: ['scheduler'] });
  }

  /** Queue.add's path, for the scheduler's next slot (record and message in one durable step). */
  private async addJob(name: string, data: unknown, opts: JobWire['opts'] = {}): Promise<Job> {
    const job = new Job(this, name, data, opts, opts.jobId!, Date.now());
    const delay = Math.max(0, opts.delay ?? 0);
    const record = job.toRecord();
    if (delay > 0) record.delayUntil = job.timestamp + delay;
    const publish = jobPublishSpec(this.name, job.toWire(), delay);
    await this.state.run({ op: 'put', key: job.id, tag: delay > 0 ? 'delayed' : 'waiting', value: record, ifAbsent: true, publish });
    return job;
  }
}
