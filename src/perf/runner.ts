import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { withDefaults, type PerfOptions } from './options.js';
import { planWorkers, Topology } from './topology.js';
import { WorkerHandle } from './worker-pool.js';
import type { Counters, FromWorker } from './worker-protocol.js';

export interface PerfResult {
  options: PerfOptions;
  /** Seconds from 'go' to 'stop'. */
  elapsedS: number;
  totals: Counters;
  /** Messages per second over the whole run. */
  publishRate: number;
  confirmRate: number;
  consumeRate: number;
  /** End-to-end, microseconds. */
  latency: LatencySummary;
  /** CPU seconds the load generator used (all workers and the coordinator). */
  clientCpuS: number;
  errors: string[];
}

export interface PerfHooks {
  /** One line per report interval ("3s: published 51234 msg/s, ..."). */
  progress?(line: string): void;
  /** After the clients stopped and before queues are deleted (bench reads broker memory here). */
  beforeCleanup?(result: PerfResult): Promise<void>;
}

/** Runs one load test: declare, spawn workers, publish/consume, collect, clean up. */
export async function runPerf(partial: Partial<PerfOptions>, hooks: PerfHooks = {}): Promise<PerfResult> {
  const options = withDefaults(partial);
  const cpuAtStart = process.cpuUsage();
  const topology = await Topology.declare(options);
  const run = new PerfRun(options, hooks);
  let result: PerfResult;
  try {
    result = await run.execute();
    const cpu = process.cpuUsage(cpuAtStart);
    // Threads share this process: its own CPU reading already includes theirs.
    const coordinatorS = (cpu.user + cpu.system) / 1e6;
    result.clientCpuS = options.workers === 'thread' ? coordinatorS : result.clientCpuS + coordinatorS;
    await hooks.beforeCleanup?.(result);
  } finally {
    run.killAll();
    await topology.deleteAll();
  }
  return result;
}

class PerfRun {
  private readonly workers: WorkerHandle[];
  private readonly ticks = new Map<WorkerHandle, Counters>();
  private readonly finals = new Map<WorkerHandle, { counters: Counters; latency: LatencyHistogram; cpuMicros: number }>();
  private readonly interval = new LatencyHistogram();
  private readonly errors: string[] = [];
  private publishersDone = 0;
  private startedAt = 0;
  private lastLine = { at: 0, counters: zeroCounters() };
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: PerfOptions,
    private readonly hooks: PerfHooks,
  ) {
    this.workers = planWorkers(options).map((spec) => WorkerHandle.spawn(spec, options.workers));
  }

  async execute(): Promise<PerfResult> {
    await this.startAll();
    this.startedAt = performance.now();
    this.lastLine.at = this.startedAt;
    for (const w of this.workers) w.send({ kind: 'go' });
    await this.waitForEnd();
    const elapsedS = (performance.now() - this.startedAt) / 1000;
    await this.stopAll();
    return this.summarize(elapsedS);
  }

  killAll(): void {
    for (const w of this.workers) w.forceStop();
  }

  private async startAll(): Promise<void> {
    const ready = this.workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.onMessage((message) => {
            if (message.kind === 'ready') resolve();
            else if (message.kind === 'error') reject(new Error(`worker (${w.spec.role}) failed to start: ${message.message}`));
            else this.onMessage(w, message);
          });
          w.send({ kind: 'start', spec: w.spec });
        }),
    );
    await Promise.all(ready);
    for (const w of this.workers) w.onMessage((message) => this.onMessage(w, message));
  }

  private onMessage(worker: WorkerHandle, message: FromWorker): void {
    switch (message.kind) {
      case 'tick':
        this.ticks.set(worker, message.counters);
        this.interval.merge(message.interval);
        return;
      case 'done':
        this.publishersDone++;
        return this.wake?.();
      case 'final':
        this.finals.set(worker, {
          counters: message.counters,
          latency: mergedOf(message.latency),
          cpuMicros: message.cpuMicros,
        });
        return this.wake?.();
      case 'error':
        // A lost connection makes the rest of the run meaningless: end it now.
        this.errors.push(`${worker.spec.role}: ${message.message}`);
        return this.wake?.();
      default:
        return;
    }
  }

  /**
   * Until the duration is over, or every publisher reached its message limit (and consumers caught up),
   * or a worker lost its connection.
   */
  private waitForEnd(): Promise<void> {
    const o = this.options;
    const publisherWorkers = this.workers.filter((w) => w.spec.role === 'publisher').length;
    return new Promise<void>((resolve) => {
      const finishedByCount = (): boolean =>
        this.errors.length > 0 ||
        (o.messagesPerPublisher > 0 && this.publishersDone >= publisherWorkers && this.consumersCaughtUp());
      const reportEveryMs = o.reportIntervalS > 0 ? o.reportIntervalS * 1000 : 1000;
      const timer = setInterval(() => {
        if (o.reportIntervalS > 0) this.report();
        if (finishedByCount()) finish();
      }, Math.min(reportEveryMs, 250));
      const deadline = o.durationS > 0 ? setTimeout(() => finish(), o.durationS * 1000) : undefined;
      const finish = (): void => {
        clearInterval(timer);
        if (deadline !== undefined) clearTimeout(deadline);
        this.wake = undefined;
        resolve();
      };
      this.wake = () => {
        if (finishedByCount()) finish();
      };
    });
  }

  private consumersCaughtUp(): boolean {
    const o = this.options;
    if (o.consumers === 0) return true;
    const c = this.currentCounters();
    const copies = o.fanout ? o.queues : 1;
    // Publishers report progress once per tick: a finished one's last tick may predate its last messages,
    // so with a message limit the count to wait for is the limit, not the ticks' sum.
    const published = o.messagesPerPublisher > 0 ? Math.max(c.published, o.messagesPerPublisher * o.publishers) : c.published;
    return c.consumed >= published * copies;
  }

  private report(): void {
    const now = performance.now();
    const secondsSinceLast = (now - this.lastLine.at) / 1000;
    if (secondsSinceLast < this.options.reportIntervalS) return;
    const c = this.currentCounters();
    const prev = this.lastLine.counters;
    const rate = (a: number, b: number): string => Math.round((a - b) / secondsSinceLast).toString();
    const l = this.interval.summary();
    const elapsed = Math.round((now - this.startedAt) / 1000);
    let line = `${elapsed}s: published ${rate(c.published, prev.published)} msg/s`;
    if (this.options.confirm > 0) line += `, confirmed ${rate(c.confirmed, prev.confirmed)} msg/s`;
    if (this.options.consumers > 0) {
      line += `, consumed ${rate(c.consumed, prev.consumed)} msg/s`;
      line += `, latency p50 ${ms(l.p50)} p99 ${ms(l.p99)} max ${ms(l.max)} ms`;
    }
    this.hooks.progress?.(line);
    this.interval.reset();
    this.lastLine = { at: now, counters: c };
  }

  private currentCounters(): Counters {
    const sum = zeroCounters();
    for (const c of this.ticks.values()) addCounters(sum, c);
    return sum;
  }

  private async stopAll(): Promise<void> {
    for (const w of this.workers) w.send({ kind: 'stop' });
    await Promise.all(this.workers.map((w) => w.waitForExit()));
  }

  private summarize(elapsedS: number): PerfResult {
    const totals = zeroCounters();
    const latency = new LatencyHistogram();
    let cpuMicros = 0;
    for (const w of this.workers) {
      const final = this.finals.get(w);
      if (final === undefined) {
        this.errors.push(`${w.spec.role} worker ended without a final report`);
        continue;
      }
      addCounters(totals, final.counters);
      latency.merge(final.latency.snapshot());
      cpuMicros += final.cpuMicros;
    }
    return {
      options: this.options,
      elapsedS,
      totals,
      ...ratesOf(totals, elapsedS),
      latency: latency.summary(),
      clientCpuS: cpuMicros / 1e6,
      errors: this.errors,
    };
  }
}

function mergedOf(snapshot: Parameters<LatencyHistogram['merge']>[0]): LatencyHistogram {
  const h = new LatencyHistogram();
  h.merge(snapshot);
  return h;
}

/** A run's totals as messages per second. */
export function ratesOf(totals: Counters, elapsedS: number): Pick<PerfResult, 'publishRate' | 'confirmRate' | 'consumeRate'> {
  return { publishRate: totals.published / elapsedS, confirmRate: totals.confirmed / elapsedS, consumeRate: totals.consumed / elapsedS };
}

export function zeroCounters(): Counters {
  return { published: 0, confirmed: 0, nacked: 0, consumed: 0 };
}

export function addCounters(into: Counters, c: Counters): void {
  into.published += c.published;
  into.confirmed += c.confirmed;
  into.nacked += c.nacked;
  into.consumed += c.consumed;
}

function ms(micros: number): string {
  return (micros / 1000).toFixed(micros < 10_000 ? 2 : 0);
}
