/**
 * The benchmark scenarios of the issue, each runnable against any broker URL. A scenario returns
 * named metrics; the table puts Warren's and RabbitMQ's side by side.
 */
import { runDeclareStorm } from '../../src/perf/declare-storm.js';
import type { PerfOptions } from '../../src/perf/options.js';
import { runPerf, type PerfResult } from '../../src/perf/runner.js';
import { cpuSeconds, rssBytes, type BrokerUnderTest } from './brokers.js';

export interface Metric {
  label: string;
  value: number;
  unit: string;
  higherIsBetter: boolean;
  /** Shown in the table; the target ratio (Warren's advantage) for this metric, if the issue sets one. */
  target?: number;
}

export interface ScenarioOutcome {
  metrics: Metric[];
  clientCpuS: number;
  brokerCpuS: number | undefined;
  elapsedS: number;
  errors: string[];
}

export interface ScenarioContext {
  durationS: number;
  progress(line: string): void;
}

export interface Scenario {
  name: string;
  title: string;
  run(broker: BrokerUnderTest, ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

const MEMORY_MESSAGES = 200_000;
const DECLARE_COUNT = 1000;

/** Runs `body` and adds the broker's CPU seconds spent meanwhile. */
async function measured(
  broker: BrokerUnderTest,
  body: () => Promise<Omit<ScenarioOutcome, 'brokerCpuS'>>,
): Promise<ScenarioOutcome> {
  const before = cpuSeconds(broker.pid);
  const outcome = await body();
  const after = cpuSeconds(broker.pid);
  return { ...outcome, brokerCpuS: before === undefined || after === undefined ? undefined : after - before };
}

function perfOutcome(result: PerfResult, metrics: Metric[]): Omit<ScenarioOutcome, 'brokerCpuS'> {
  return { metrics, clientCpuS: result.clientCpuS, elapsedS: result.elapsedS, errors: result.errors };
}

function perfScenario(
  name: string,
  title: string,
  options: Partial<PerfOptions>,
  metricsOf: (r: PerfResult) => Metric[],
): Scenario {
  return {
    name,
    title,
    run: (broker, ctx) =>
      measured(broker, async () => {
        const result = await runPerf(
          { ...options, url: broker.url, durationS: ctx.durationS, queuePrefix: `bench-${name}-${process.pid}` },
          { progress: ctx.progress },
        );
        return perfOutcome(result, metricsOf(result));
      }),
  };
}

const rate = (label: string, value: number, target?: number): Metric => ({
  label,
  value,
  unit: 'msg/s',
  higherIsBetter: true,
  ...(target === undefined ? {} : { target }),
});
const millis = (label: string, micros: number, target?: number): Metric => ({
  label,
  value: micros / 1000,
  unit: 'ms',
  higherIsBetter: false,
  ...(target === undefined ? {} : { target }),
});

export const scenarios: Scenario[] = [
  {
    name: 'memory',
    title: `5. RSS with ${MEMORY_MESSAGES / 1000}k queued 100-byte messages, no consumers`,
    run: (broker, ctx) =>
      measured(broker, async () => {
        const baseline = rssBytes(broker.pid);
        let loaded: number | undefined;
        const result = await runPerf(
          {
            url: broker.url,
            publishers: 1,
            consumers: 0,
            confirm: 1000,
            messagesPerPublisher: MEMORY_MESSAGES,
            durationS: Math.max(60, ctx.durationS * 6),
            queuePrefix: `bench-memory-${process.pid}`,
          },
          {
            progress: ctx.progress,
            beforeCleanup: async () => {
              loaded = rssBytes(broker.pid);
            },
          },
        );
        const metrics: Metric[] = [];
        const mb = (bytes: number): number => bytes / 1024 / 1024;
        if (loaded !== undefined) metrics.push({ label: 'RSS loaded', value: mb(loaded), unit: 'MiB', higherIsBetter: false, target: 1 });
        if (loaded !== undefined && baseline !== undefined) {
          metrics.push({ label: 'RSS growth', value: mb(loaded - baseline), unit: 'MiB', higherIsBetter: false });
        }
        metrics.push(rate('confirmed', result.confirmRate));
        return perfOutcome(result, metrics);
      }),
  },
  {
    name: 'declare',
    title: `3. ${DECLARE_COUNT} queue declares, one at a time on one channel`,
    run: (broker) =>
      measured(broker, async () => {
        const cpu = process.cpuUsage();
        const started = performance.now();
        const r = await runDeclareStorm({
          url: broker.url,
          count: DECLARE_COUNT,
          pipelined: false,
          durable: false,
          queuePrefix: `bench-declare-${process.pid}`,
        });
        const used = process.cpuUsage(cpu);
        return {
          metrics: [
            { label: 'declare time', value: r.declareS * 1000, unit: 'ms', higherIsBetter: false, target: 5 },
            { label: 'delete time', value: r.deleteS * 1000, unit: 'ms', higherIsBetter: false },
          ],
          clientCpuS: (used.user + used.system) / 1e6,
          elapsedS: (performance.now() - started) / 1000,
          errors: [],
        };
      }),
  },
  perfScenario(
    'throughput',
    '1. Transient 100 B, 1 publisher, 1 consumer, manual ack, prefetch 1000',
    { publishers: 1, consumers: 1, size: 100, prefetch: 1000 },
    (r) => [rate('consumed', r.consumeRate, 2), rate('published', r.publishRate), millis('latency p99', r.latency.p99)],
  ),
  perfScenario(
    'throughput-confirm',
    '1b. As 1, but publisher confirms (1000 outstanding): the rate both can sustain',
    { publishers: 1, consumers: 1, size: 100, prefetch: 1000, confirm: 1000 },
    (r) => [rate('consumed', r.consumeRate), rate('confirmed', r.confirmRate), millis('latency p99', r.latency.p99)],
  ),
  perfScenario(
    'fanout',
    '2. Fanout to 10 queues, a consumer on each (deliveries summed)',
    { publishers: 1, consumers: 10, queues: 10, fanout: true, size: 100, prefetch: 1000 },
    (r) => [rate('consumed', r.consumeRate, 2), rate('published', r.publishRate)],
  ),
  perfScenario(
    'latency',
    '4. Fixed rate 5,000 msg/s, end-to-end latency',
    { publishers: 1, consumers: 1, size: 100, prefetch: 1000, rate: 5000 },
    (r) => [
      millis('p50', r.latency.p50),
      millis('p95', r.latency.p95),
      millis('p99', r.latency.p99, 1),
      rate('consumed', r.consumeRate),
    ],
  ),
  perfScenario(
    'persistent',
    '6. Persistent 100 B to a durable queue, confirms (1000 outstanding), 1 acking consumer',
    { publishers: 1, consumers: 1, size: 100, prefetch: 1000, persistent: true, confirm: 1000 },
    (r) => [rate('confirmed', r.confirmRate), rate('consumed', r.consumeRate), millis('latency p99', r.latency.p99)],
  ),
];
