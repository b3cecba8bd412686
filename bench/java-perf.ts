/**
 * The PerfTest-style scenarios on RabbitMQ's own Java client (bench/java/JavaPerf.java, compiled here
 * with javac against Debian's librabbitmq-client-java) against Warren, RabbitMQ and the null broker
 * (bench/null-broker.ts: the client's ceiling on this machine), alternating brokers, for some rounds.
 * Run by `npm run bench` after the warren perf table, or alone:
 *
 *   node dist/bench/java-perf.js [--rabbitmq amqp://guest:guest@127.0.0.1:5672] [--rounds 2] [--duration 10]
 *                                [--scenario transient,persistent] [--json out.json] [--baseline DIR]
 *
 * --baseline: another build of Warren (a checkout built by bench/baseline.sh) runs beside this one as
 * "Warren (baseline)", for before/after figures in one run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { cpuSeconds, externalBroker, startWarren, type BrokerUnderTest } from './harness/brokers.js';

const JARS = ['/usr/share/java/amqp-client.jar', '/usr/share/java/slf4j-api.jar', '/usr/share/java/slf4j-nop.jar'];
const SOURCE = new URL('../../bench/java/JavaPerf.java', import.meta.url).pathname;
const NULL_BROKER = new URL('./null-broker.js', import.meta.url).pathname;
export const NULL_BROKER_NAME = 'null broker';

export const JAVA_SCENARIOS = [
  { name: 'transient', title: 'transient 100 B, acks, prefetch 1000 (msg/s delivered)' },
  { name: 'persistent', title: 'persistent 100 B, durable queue, confirms (window 1000), acks (msg/s)' },
  { name: 'fanout', title: 'fanout to 10 queues, 100 B, acks (deliveries/s)' },
  { name: 'noack', title: 'no-ack 16 B (msg/s delivered)' },
  { name: 'latency', title: 'latency at 5,000 msg/s, 100 B, confirms (p99 ms)' },
] as const;

type JavaScenarioName = (typeof JAVA_SCENARIOS)[number]['name'];

export interface JavaOutcome {
  receivedPerSecond: number;
  sentPerSecond: number;
  latencyMs?: { p50: number; p99: number; max: number };
  brokerCpuS: number | undefined;
}

/** Why the Java benchmark cannot run here, or undefined when javac, java and the jars are present. */
export function javaMissing(): string | undefined {
  const missing = ['/usr/bin/javac', '/usr/bin/java', ...JARS].filter((f) => !existsSync(f));
  return missing.length === 0 ? undefined : `missing ${missing.join(', ')} (apt-get install librabbitmq-client-java libslf4j-java default-jdk-headless)`;
}

function compile(): string {
  const classes = mkdtempSync(join(tmpdir(), 'warren-javaperf-'));
  execFileSync('/usr/bin/javac', ['-cp', JARS.join(':'), '-d', classes, SOURCE], { stdio: 'inherit' });
  return classes;
}

function runClient(classes: string, url: string, scenario: JavaScenarioName, durationS: number): Promise<Omit<JavaOutcome, 'brokerCpuS'>> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/java', ['-cp', [...JARS, classes].join(':'), 'JavaPerf', url, scenario, String(durationS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (durationS + 60) * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`JavaPerf ${scenario} exited ${code}: ${err.trim().slice(-500)}`));
      resolve(JSON.parse(line) as Omit<JavaOutcome, 'brokerCpuS'>);
    });
  });
}

/** The null broker as a child process, so it has its own event loop like the brokers it stands beside. */
export async function startNullBroker(): Promise<BrokerUnderTest> {
  const child = spawn(process.execPath, [NULL_BROKER, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
      if (match !== null) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`null broker exited ${code}`)));
  });
  return {
    name: NULL_BROKER_NAME,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    pid: child.pid,
    ensureAlive: async () => undefined,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface JavaRow {
  scenario: JavaScenarioName;
  title: string;
  /** Broker name -> one outcome (or error) per round. */
  rounds: Map<string, Array<JavaOutcome | Error>>;
}

/** Every scenario on every broker, `rounds` times, alternating which broker goes first. */
export async function runJavaScenarios(
  brokers: BrokerUnderTest[],
  options: { rounds: number; durationS: number; scenarios?: readonly JavaScenarioName[]; progress(line: string): void },
): Promise<JavaRow[]> {
  const classes = compile();
  const rows: JavaRow[] = [];
  try {
    const chosen = JAVA_SCENARIOS.filter((s) => options.scenarios === undefined || options.scenarios.includes(s.name));
    for (const scenario of chosen) rows.push({ scenario: scenario.name, title: scenario.title, rounds: new Map(brokers.map((b) => [b.name, []])) });
    let turn = 0;
    for (let round = 0; round < options.rounds; round++) {
      for (const row of rows) {
        const order = turn++ % 2 === 0 ? brokers : [...brokers].reverse();
        for (const broker of order) {
          await broker.ensureAlive();
          const before = cpuSeconds(broker.pid);
          try {
            const outcome = await runClient(classes, broker.url, row.scenario, options.durationS);
            const after = cpuSeconds(broker.pid);
            const brokerCpuS = before === undefined || after === undefined ? undefined : after - before;
            row.rounds.get(broker.name)!.push({ ...outcome, brokerCpuS });
            options.progress(`${row.scenario} round ${round + 1} on ${broker.name}: ${summary(row.scenario, outcome)}`);
          } catch (error) {
            row.rounds.get(broker.name)!.push(error as Error);
            options.progress(`${row.scenario} round ${round + 1} on ${broker.name}: failed: ${(error as Error).message}`);
          }
        }
      }
    }
  } finally {
    rmSync(classes, { recursive: true, force: true });
  }
  return rows;
}

const isLatency = (s: JavaScenarioName): boolean => s === 'latency';

/** The figure a scenario is judged by: delivered rate, or p99 latency in ms. */
function figure(scenario: JavaScenarioName, o: Omit<JavaOutcome, 'brokerCpuS'>): number | undefined {
  return isLatency(scenario) ? o.latencyMs?.p99 : o.receivedPerSecond;
}

function summary(scenario: JavaScenarioName, o: Omit<JavaOutcome, 'brokerCpuS'>): string {
  return isLatency(scenario)
    ? `p50 ${o.latencyMs?.p50.toFixed(2)} ms, p99 ${o.latencyMs?.p99.toFixed(2)} ms`
    : `${Math.round(o.receivedPerSecond)} delivered/s (${Math.round(o.sentPerSecond)} published/s)`;
}

const thousands = (v: number): string => `${(v / 1000).toFixed(1)}k`;
const fixed = (digits: number) => (v: number): string => v.toFixed(digits);
const percent = (v: number): string => `${Math.round(v)}%`;

/** "lo-hi" over the rounds (one value when they agree), or "failed" when no round produced one. */
function range(values: number[], show: (v: number) => string): string {
  if (values.length === 0) return 'failed';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? show(lo) : `${show(lo)}${lo < 0 ? ' to ' : '-'}${show(hi)}`;
}

/**
 * Per scenario: each broker's range over the rounds, then Warren / RabbitMQ and Warren / ceiling as
 * ranges of the per-round ratios (a ratio > 1 means Warren is better; for latency, the difference from
 * the null broker's p99 in ms instead of a ratio to the ceiling).
 */
export function javaTable(rows: JavaRow[], warren: string, rabbitmq: string | undefined): string {
  const names = [...(rows[0]?.rounds.keys() ?? [])];
  const header = ['Scenario (RabbitMQ Java client)', ...names];
  if (rabbitmq !== undefined) header.push(`${warren} / ${rabbitmq}`);
  header.push(`${warren} / ceiling`, `broker CPU s (${warren})`);
  const lines = [header, header.map(() => '---')];
  for (const row of rows) {
    const figures = (name: string): number[] =>
      (row.rounds.get(name) ?? []).flatMap((o) => (o instanceof Error ? [] : [figure(row.scenario, o)].filter((v): v is number => v !== undefined)));
    const latency = isLatency(row.scenario);
    const line = [row.title, ...names.map((n) => range(figures(n), latency ? fixed(2) : thousands))];
    const perRound = (other: string, compare: (w: number, o: number) => number): number[] => {
      const w = figures(warren);
      const o = figures(other);
      return w.slice(0, o.length).map((v, i) => compare(v, o[i]!));
    };
    const better = (w: number, o: number): number => (latency ? o / w : w / o);
    if (rabbitmq !== undefined) line.push(`${range(perRound(rabbitmq, better), fixed(2))}x`);
    line.push(latency ? `${range(perRound(NULL_BROKER_NAME, (w, o) => w - o), fixed(2))} ms over` : range(perRound(NULL_BROKER_NAME, (w, o) => (100 * w) / o), percent));
    const cpu = (row.rounds.get(warren) ?? []).flatMap((o) => (o instanceof Error || o.brokerCpuS === undefined ? [] : [o.brokerCpuS]));
    line.push(range(cpu, fixed(1)));
    lines.push(line);
  }
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** The rows as plain JSON (errors as their messages). */
export function javaJson(rows: JavaRow[]): unknown[] {
  return rows.map((r) => ({
    scenario: r.scenario,
    rounds: Object.fromEntries([...r.rounds].map(([k, v]) => [k, v.map((o) => (o instanceof Error ? { error: o.message } : o))])),
  }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rabbitmq: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      duration: { type: 'string', default: '10' },
      scenario: { type: 'string', multiple: true },
      json: { type: 'string' },
      baseline: { type: 'string' },
    },
  });
  const why = javaMissing();
  if (why !== undefined) throw new Error(`the Java benchmark cannot run: ${why}`);
  const scenarios = (values.scenario ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '') as JavaScenarioName[];
  const unknown = scenarios.filter((s) => !JAVA_SCENARIOS.some((k) => k.name === s));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${JAVA_SCENARIOS.map((s) => s.name).join(', ')}`);
  const brokers: BrokerUnderTest[] = [await startWarren(), await startNullBroker()];
  if (values.baseline !== undefined) {
    brokers.splice(1, 0, await startWarren([], join(values.baseline, 'dist/src/cli/main.js'), 'Warren (baseline)'));
  }
  const rabbitmqUrl = values.rabbitmq ?? process.env['RABBITMQ_URL'];
  if (rabbitmqUrl !== undefined) brokers.splice(1, 0, externalBroker('RabbitMQ', rabbitmqUrl));
  try {
    const rows = await runJavaScenarios(brokers, {
      rounds: Number(values.rounds),
      durationS: Number(values.duration),
      ...(scenarios.length > 0 ? { scenarios } : {}),
      progress: (line) => process.stderr.write(`   ${line}\n`),
    });
    process.stdout.write(`\n${javaTable(rows, 'Warren', rabbitmqUrl === undefined ? undefined : 'RabbitMQ')}\n`);
    if (values.json !== undefined) {
      writeFileSync(values.json, `${JSON.stringify(javaJson(rows), null, 2)}\n`);
    }
  } finally {
    for (const b of brokers) await b.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
