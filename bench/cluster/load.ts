/**
 * Load for bench/cluster.ts with `warren perf`'s own clients (src/perf worker processes), but with a
 * publisher and a consumer of one queue allowed on different brokers (a publisher on a non-owner
 * node, the consumer on the owner) and queues declared by the caller (x-queue-type: quorum), which
 * `runPerf` does not do: it declares its own queues on one URL. One worker process per client, as
 * `runPerf` runs one per role.
 */
import { LatencyHistogram, type LatencySummary } from '../../src/perf/histogram.js';
import { withDefaults, type PerfOptions } from '../../src/perf/options.js';
import { addCounters, ratesOf, zeroCounters, type PerfResult } from '../../src/perf/runner.js';
import { WorkerHandle } from '../../src/perf/worker-pool.js';
import type { Counters, WorkerSpec } from '../../src/perf/worker-protocol.js';

/** One queue's clients: a publisher (through publishUrl) and a consumer (on consumeUrl), either optional. */
export interface Flow {
  queue: string;
  publishUrl?: string;
  consumeUrl?: string;
}

export interface LoadSettings {
  durationS: number;
  size: number;
  persistent: boolean;
  /** Unconfirmed messages allowed per publisher (0: no confirms). */
  confirm: number;
  prefetch: number;
}

/** What `runPerf` reports, for flows it cannot run. */
export interface LoadResult extends Omit<PerfResult, 'options'> {
  /** Confirmed msg/s in each second of the run. */
  confirmedPerSecond: number[];
}

/** Connects every client (consumers subscribed first), runs them for `durationS` from one 'go', collects. */
export async function runFlows(flows: readonly Flow[], settings: LoadSettings, progress: (line: string) => void): Promise<LoadResult> {
  const base: Partial<PerfOptions> = {
    publishers: 1,
    consumers: 1,
    size: settings.size,
    persistent: settings.persistent,
    confirm: settings.confirm,
    prefetch: settings.prefetch,
    durationS: settings.durationS,
    // Workers report every 500 ms, so that the coordinator's once-a-second progress lines see fresh counters.
    reportIntervalS: 0.5,
    workers: 'process',
  };
  const consumerSpecs: WorkerSpec[] = [];
  const publisherSpecs: WorkerSpec[] = [];
  for (const flow of flows) {
    if (flow.consumeUrl !== undefined) {
      consumerSpecs.push({ role: 'consumer', options: withDefaults({ ...base, url: flow.consumeUrl }), queues: [flow.queue] });
    }
    if (flow.publishUrl !== undefined) {
      publisherSpecs.push({ role: 'publisher', options: withDefaults({ ...base, url: flow.publishUrl }), targets: [{ exchange: '', routingKey: flow.queue }] });
    }
  }
  const workers: WorkerHandle[] = [];
  const ticks = new Map<WorkerHandle, Counters>();
  const finals = new Map<WorkerHandle, { counters: Counters; latency: LatencyHistogram; cpuMicros: number }>();
  const errors: string[] = [];
  let wakeOnError: (() => void) | undefined;
  const cpuAtStart = process.cpuUsage();

  const spawnReady = async (spec: WorkerSpec): Promise<void> => {
    const worker = WorkerHandle.spawn(spec, 'process');
    workers.push(worker);
    let started = false;
    await new Promise<void>((resolve, reject) => {
      worker.onMessage((message) => {
        switch (message.kind) {
          case 'ready':
            started = true;
            return resolve();
          case 'tick':
            ticks.set(worker, message.counters);
            return;
          case 'final': {
            const latency = new LatencyHistogram();
            latency.merge(message.latency);
            finals.set(worker, { counters: message.counters, latency, cpuMicros: message.cpuMicros });
            return;
          }
          case 'error':
            if (!started) return reject(new Error(`${spec.role} on ${spec.options.url}: ${message.message}`));
            errors.push(`${spec.role}: ${message.message}`);
            wakeOnError?.();
            return;
          default:
            return;
        }
      });
      worker.send({ kind: 'start', spec });
    });
  };

  try {
    for (const spec of consumerSpecs) await spawnReady(spec);
    for (const spec of publisherSpecs) await spawnReady(spec);
    const startedAt = performance.now();
    for (const w of workers) w.send({ kind: 'go' });
    const confirmedPerSecond: number[] = [];
    await new Promise<void>((resolve) => {
      let last = zeroCounters();
      let lastAt = startedAt;
      const sum = (): Counters => {
        const c = zeroCounters();
        for (const t of ticks.values()) addCounters(c, t);
        return c;
      };
      const timer = setInterval(() => {
        const now = performance.now();
        const c = sum();
        const s = (now - lastAt) / 1000;
        const rate = (a: number, b: number): number => Math.round((a - b) / s);
        confirmedPerSecond.push(rate(c.confirmed, last.confirmed));
        progress(
          `${Math.round((now - startedAt) / 1000)}s: published ${rate(c.published, last.published)}, confirmed ${rate(c.confirmed, last.confirmed)}, ` +
            `nacked ${rate(c.nacked, last.nacked)}, consumed ${rate(c.consumed, last.consumed)} msg/s`,
        );
        last = c;
        lastAt = now;
      }, 1000);
      const finish = (): void => {
        clearInterval(timer);
        clearTimeout(deadline);
        wakeOnError = undefined;
        resolve();
      };
      const deadline = setTimeout(finish, settings.durationS * 1000);
      wakeOnError = finish;
    });
    const elapsedS = (performance.now() - startedAt) / 1000;
    for (const w of workers) w.send({ kind: 'stop' });
    await Promise.all(workers.map((w) => w.waitForExit()));
    const totals = zeroCounters();
    const latency = new LatencyHistogram();
    let cpuMicros = 0;
    for (const w of workers) {
      const final = finals.get(w);
      if (final === undefined) {
        errors.push(`${w.spec.role} worker ended without a final report`);
        continue;
      }
      addCounters(totals, final.counters);
      latency.merge(final.latency.snapshot());
      cpuMicros += final.cpuMicros;
    }
    const coordinator = process.cpuUsage(cpuAtStart);
    return {
      elapsedS,
      totals,
      ...ratesOf(totals, elapsedS),
      latency: latency.summary(),
      clientCpuS: (cpuMicros + coordinator.user + coordinator.system) / 1e6,
      confirmedPerSecond,
      errors,
    };
  } finally {
    for (const w of workers) w.forceStop();
  }
}
