/**
 * Cost as work grows, Warren beside RabbitMQ: the broker's resident memory over its idle baseline as
 * idle connections, queues, topic bindings and waiting messages grow, the rate of adding them at each
 * step, and the publish rate to a topic exchange as its bindings grow. Writes a markdown table per
 * dimension and an SVG curve of memory per dimension (for BENCHMARKS.md).
 *
 *   node dist/bench/scale.js [--rabbitmq amqp://guest:guest@127.0.0.1:5672] [--only queues,bindings]
 *       [--max-connections 19000] [--max-queues 100000] [--max-bindings 1000000] [--max-messages 10000000]
 *       [--svg-dir bench/results] [--json out.json] [--settle 3]
 *
 * Warren is started afresh for every dimension; RabbitMQ is whatever listens at the URL (its baseline is
 * read again before each dimension, and what the dimension added is deleted after it). Connections ask
 * for no heartbeats, so idle means idle on both. One process may hold 20,000 files here (ulimit -Hn), so
 * 19,000 connections is as far as either broker can go on this machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs } from './harness/usage.js';
import { externalBroker, rssBytes, startWarren, type BrokerUnderTest } from './harness/brokers.js';
import { compact, lineChartSvg } from './harness/plot.js';
import { DIMENSIONS, type Dimension } from './scale/dimensions.js';

interface Step {
  count: number;
  /** Resident memory over the broker's baseline, bytes. */
  addedBytes: number | undefined;
  /** Things added per second on the way from the previous step. */
  addRatePerS: number;
  /** The dimension's probe at this count (publish rate to the topic exchange), if it has one. */
  probe: number | undefined;
}

/** The steps a broker reached, and why it stopped before the last one (a broker may fail part way). */
interface Curve {
  steps: Step[];
  failure?: { count: number | undefined; message: string };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The counts a dimension is measured at, up to its maximum. */
function stepsFor(dimension: Dimension['name'], max: number): number[] {
  const fractions = dimension === 'bindings' ? [0.001, 0.01, 0.1, 0.25, 0.5, 1] : [0.05, 0.1, 0.25, 0.5, 1];
  const steps = fractions.map((f) => Math.max(1, Math.round(max * f)));
  return dimension === 'bindings' ? [1, ...steps.filter((s) => s > 1)] : steps;
}

async function measure(dimension: Dimension, broker: BrokerUnderTest, counts: number[], settleMs: number): Promise<Curve> {
  const steps: Step[] = [];
  let count: number | undefined;
  try {
    await sleep(settleMs);
    const baseline = rssBytes(broker.pid);
    const thing = await dimension.start(broker.url);
    try {
      let previous = 0;
      for (count of counts) {
        const seconds = await thing.growTo(count);
        await sleep(settleMs);
        const rss = rssBytes(broker.pid);
        const probe = thing.probe === undefined ? undefined : await thing.probe(count);
        const step = { count, addedBytes: rss === undefined || baseline === undefined ? undefined : rss - baseline, addRatePerS: (count - previous) / seconds, probe };
        steps.push(step);
        process.stderr.write(`   ${dimension.name} on ${broker.name}: ${count} -> +${compact(step.addedBytes ?? NaN)} B, ` +
          `${Math.round(step.addRatePerS)}/s${probe === undefined ? '' : `, publish ${Math.round(probe)} msg/s`}\n`);
        previous = count;
      }
    } finally {
      await stopWithin(thing, dimension, broker);
    }
    return { steps };
  } catch (error) {
    process.stderr.write(`   ${dimension.name} on ${broker.name} failed: ${(error as Error).message}\n`);
    return { steps, failure: { count, message: (error as Error).message } };
  }
}

/**
 * Teardown (deleting what was added) may take far longer than building it: RabbitMQ 3.10 took more than
 * ten minutes and grew to 16 GB deleting a queue with a million bindings. The curve is kept either way.
 */
const TEARDOWN_LIMIT_MS = 180_000;

async function stopWithin(thing: { stop(): Promise<void> }, dimension: Dimension, broker: BrokerUnderTest): Promise<void> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), TEARDOWN_LIMIT_MS)));
  const outcome = await Promise.race([thing.stop().then(() => 'done' as const, () => 'failed' as const), limit]);
  clearTimeout(timer);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  process.stderr.write(outcome === 'late'
    ? `   ${dimension.name} on ${broker.name}: teardown still running after ${TEARDOWN_LIMIT_MS / 1000} s; left behind\n`
    : `   ${dimension.name} on ${broker.name}: teardown ${outcome} in ${seconds} s\n`);
}

const perThing = (s: Step): number | undefined => (s.addedBytes === undefined ? undefined : s.addedBytes / s.count);
const cell = (v: number | undefined, show: (n: number) => string): string => (v === undefined || !Number.isFinite(v) ? '-' : show(v));
const whole = (n: number): string => Math.round(n).toLocaleString('en-US');

function table(dimension: Dimension, curves: Map<string, Curve>): string {
  const names = [...curves.keys()];
  const header = ['count', ...names.flatMap((n) => [`${n} MB added`, `${n} B/${dimension.unit}`, `${n} adds/s`])];
  if (dimension.name === 'bindings') header.push(...names.map((n) => `${n} publish msg/s`));
  if (names.length === 2) header.push(`${names[1]} B / ${names[0]} B`);
  const rows = [header, header.map(() => '---')];
  const counts = [...new Set(names.flatMap((n) => curves.get(n)!.steps.map((s) => s.count)))];
  const stepOf = (name: string, count: number): Step | undefined => curves.get(name)?.steps.find((s) => s.count === count);
  for (const count of counts) {
    const line = [whole(count)];
    for (const n of names) {
      const s = stepOf(n, count);
      line.push(cell(s?.addedBytes, (b) => (b / 2 ** 20).toFixed(1)), cell(s && perThing(s), whole), cell(s?.addRatePerS, whole));
    }
    if (dimension.name === 'bindings') for (const n of names) line.push(cell(stepOf(n, count)?.probe, whole));
    if (names.length === 2) {
      const a = stepOf(names[0]!, count);
      const b = stepOf(names[1]!, count);
      const ratio = a && b && perThing(a) !== undefined && perThing(b) !== undefined ? perThing(b)! / perThing(a)! : undefined;
      line.push(cell(ratio, (r) => `${r.toFixed(2)}x`));
    }
    rows.push(line);
  }
  for (const n of names) {
    const failure = curves.get(n)!.failure;
    if (failure === undefined) continue;
    const where = failure.count === undefined ? '' : ` at ${whole(failure.count)}`;
    rows.push([`${n} failed${where}: ${failure.message}`, ...header.slice(1).map(() => '')]);
  }
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function svg(dimension: Dimension, curves: Map<string, Curve>): string {
  return lineChartSvg({
    title: `Memory added by ${dimension.title}`,
    xLabel: `${dimension.unit}s`,
    yLabel: 'resident memory added (MiB)',
    series: [...curves].flatMap(([name, c]) => (c.steps.length === 0 ? [] : [{
      name,
      points: c.steps.filter((s) => s.addedBytes !== undefined).map((s): [number, number] => [s.count, s.addedBytes! / 2 ** 20]),
    }])),
  });
}

async function main(): Promise<void> {
  const { values } = parseBenchArgs(import.meta.url, {
    options: {
      rabbitmq: { type: 'string' },
      only: { type: 'string' },
      'max-connections': { type: 'string', default: '19000' },
      'max-queues': { type: 'string', default: '100000' },
      'max-bindings': { type: 'string', default: '1000000' },
      'max-messages': { type: 'string', default: '10000000' },
      'svg-dir': { type: 'string', default: 'bench/results' },
      json: { type: 'string' },
      settle: { type: 'string', default: '3' },
    },
  });
  const only = values.only?.split(',').filter((s) => s !== '');
  const chosen = DIMENSIONS.filter((d) => only === undefined || only.includes(d.name));
  const maxima: Record<Dimension['name'], number> = {
    connections: Number(values['max-connections']),
    queues: Number(values['max-queues']),
    bindings: Number(values['max-bindings']),
    messages: Number(values['max-messages']),
  };
  const rabbitmqUrl = values.rabbitmq ?? process.env['RABBITMQ_URL'];
  const settleMs = Number(values.settle) * 1000;
  mkdirSync(values['svg-dir'], { recursive: true });
  const print = (lines: string[]): boolean => process.stdout.write(`${lines.join('\n')}\n`);
  print([`Machine: ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`]);
  const json: Record<string, unknown> = {};
  for (const dimension of chosen) {
    const counts = stepsFor(dimension.name, maxima[dimension.name]);
    const curves = new Map<string, Curve>();
    const warren = await startWarren([], undefined, 'Warren', ['--max-connections', '20000']);
    try {
      curves.set('Warren', await measure(dimension, warren, counts, settleMs));
    } finally {
      await warren.stop();
    }
    if (rabbitmqUrl !== undefined) curves.set('RabbitMQ', await measure(dimension, externalBroker('RabbitMQ', rabbitmqUrl), counts, settleMs));
    const file = join(values['svg-dir'], `scale-${dimension.name}.svg`);
    writeFileSync(file, svg(dimension, curves));
    print(['', `### ${dimension.title} (${file}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`, '', table(dimension, curves)]);
    json[dimension.name] = Object.fromEntries(curves);
    if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
  }
}

await main();
