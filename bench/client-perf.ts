/**
 * The PerfTest-style scenarios on RabbitMQ's own clients against Warren, RabbitMQ and the null broker
 * (bench/null-broker.ts: each client's ceiling on this machine), alternating brokers, for some rounds:
 * the Java client (bench/java/JavaPerf.java, compiled here with javac against Debian's
 * librabbitmq-client-java), amqplib (bench/clients/amqplib-perf.ts) and pika (bench/clients/pika_perf.py,
 * Debian's python3-pika). Run by `npm run bench` after the warren perf table, or alone:
 *
 *   node dist/bench/client-perf.js [--client java,amqplib,pika] [--rabbitmq amqp://guest:guest@127.0.0.1:5672]
 *                                  [--rounds 2] [--duration 10] [--scenario transient,persistent]
 *                                  [--json out.json] [--baseline DIR]
 *
 * --baseline: another build of Warren (a checkout built by bench/baseline.sh) runs beside this one as
 * "Warren (baseline)", for before/after figures in one run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseBenchArgs } from './harness/usage.js';
import { cpuSeconds, externalBroker, startWarren, type BrokerUnderTest } from './harness/brokers.js';
import type { ClientResult } from './clients/scenarios.js';

const JARS = ['/usr/share/java/amqp-client.jar', '/usr/share/java/slf4j-api.jar', '/usr/share/java/slf4j-nop.jar'];
const JAVA_SOURCE = new URL('../../bench/java/JavaPerf.java', import.meta.url).pathname;
const AMQPLIB_CLIENT = new URL('./clients/amqplib-perf.js', import.meta.url).pathname;
const PIKA_CLIENT = new URL('../../bench/clients/pika_perf.py', import.meta.url).pathname;
const SYSTEM_PYTHON = '/usr/bin/python3';
const NULL_BROKER = new URL('./null-broker.js', import.meta.url).pathname;
export const NULL_BROKER_NAME = 'null broker';

export const CLIENT_SCENARIO_TITLES = [
  { name: 'transient', title: 'transient 100 B, acks, prefetch 1000 (msg/s delivered)' },
  { name: 'persistent', title: 'persistent 100 B, durable queue, confirms (window 1000), acks (msg/s)' },
  { name: 'fanout', title: 'fanout to 10 queues, 100 B, acks (deliveries/s)' },
  { name: 'noack', title: 'no-ack 16 B (msg/s delivered)' },
  { name: 'latency', title: 'latency at 5,000 msg/s, 100 B, confirms (p99 ms)' },
] as const;

type ScenarioName = (typeof CLIENT_SCENARIO_TITLES)[number]['name'];

/** What the client printed, and the broker's CPU seconds over the run. */
export type ClientOutcome = ClientResult & { brokerCpuS: number | undefined };

/** A load client: why it cannot run here (or undefined), and how to start it once prepared. */
export interface PerfClient {
  name: 'java' | 'amqplib' | 'pika';
  title: string;
  missing(): string | undefined;
  /** Builds what the client needs (the Java classes); returns its command line and a cleanup. */
  prepare(): { command(url: string, scenario: ScenarioName, seconds: number): [string, string[]]; cleanup(): void };
}

const JAVA: PerfClient = {
  name: 'java',
  title: "RabbitMQ's Java client",
  missing() {
    const missing = ['/usr/bin/javac', '/usr/bin/java', ...JARS].filter((f) => !existsSync(f));
    return missing.length === 0 ? undefined : `missing ${missing.join(', ')} (apt-get install librabbitmq-client-java libslf4j-java default-jdk-headless)`;
  },
  prepare() {
    const classes = mkdtempSync(join(tmpdir(), 'warren-javaperf-'));
    execFileSync('/usr/bin/javac', ['-cp', JARS.join(':'), '-d', classes, JAVA_SOURCE], { stdio: 'inherit' });
    return {
      command: (url, scenario, seconds) => ['/usr/bin/java', ['-cp', [...JARS, classes].join(':'), 'JavaPerf', url, scenario, String(seconds)]],
      cleanup: () => rmSync(classes, { recursive: true, force: true }),
    };
  },
};

const AMQPLIB: PerfClient = {
  name: 'amqplib',
  title: 'amqplib',
  missing: () => undefined,
  prepare: () => ({ command: (url, scenario, seconds) => [process.execPath, [AMQPLIB_CLIENT, url, scenario, String(seconds)]], cleanup: () => undefined }),
};

const PIKA: PerfClient = {
  name: 'pika',
  title: 'pika (SelectConnection)',
  missing() {
    try {
      execFileSync(SYSTEM_PYTHON, ['-c', 'import pika'], { stdio: 'ignore' });
      return undefined;
    } catch {
      return 'python3-pika is not installed (apt-get install python3-pika)';
    }
  },
  prepare: () => ({ command: (url, scenario, seconds) => [SYSTEM_PYTHON, [PIKA_CLIENT, url, scenario, String(seconds)]], cleanup: () => undefined }),
};

export const PERF_CLIENTS: readonly PerfClient[] = [JAVA, AMQPLIB, PIKA];

/** Why the Java benchmark cannot run here, or undefined when javac, java and the jars are present. */
export const javaMissing = (): string | undefined => JAVA.missing();

function runClient(command: [string, string[]], scenario: ScenarioName, durationS: number): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (durationS + 60) * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`${command[0]} ${scenario} exited ${code}: ${err.trim().slice(-500)}`));
      resolve(JSON.parse(line) as ClientResult);
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

export interface ClientRow {
  scenario: ScenarioName;
  title: string;
  /** Broker name -> one outcome (or error) per round. */
  rounds: Map<string, Array<ClientOutcome | Error>>;
}

/** Every scenario on every broker with one client, `rounds` times, alternating which broker goes first. */
export async function runClientScenarios(
  client: PerfClient,
  brokers: BrokerUnderTest[],
  options: { rounds: number; durationS: number; scenarios?: readonly ScenarioName[]; progress(line: string): void },
): Promise<ClientRow[]> {
  const prepared = client.prepare();
  const rows: ClientRow[] = [];
  try {
    const chosen = CLIENT_SCENARIO_TITLES.filter((s) => options.scenarios === undefined || options.scenarios.includes(s.name));
    for (const scenario of chosen) rows.push({ scenario: scenario.name, title: scenario.title, rounds: new Map(brokers.map((b) => [b.name, []])) });
    let turn = 0;
    for (let round = 0; round < options.rounds; round++) {
      for (const row of rows) {
        const order = turn++ % 2 === 0 ? brokers : [...brokers].reverse();
        for (const broker of order) {
          await broker.ensureAlive();
          const before = cpuSeconds(broker.pid);
          try {
            const outcome = await runClient(prepared.command(broker.url, row.scenario, options.durationS), row.scenario, options.durationS);
            const after = cpuSeconds(broker.pid);
            const brokerCpuS = before === undefined || after === undefined ? undefined : after - before;
            row.rounds.get(broker.name)!.push({ ...outcome, brokerCpuS });
            options.progress(`${client.name} ${row.scenario} round ${round + 1} on ${broker.name}: ${summary(row.scenario, outcome)}`);
          } catch (error) {
            row.rounds.get(broker.name)!.push(error as Error);
            options.progress(`${client.name} ${row.scenario} round ${round + 1} on ${broker.name}: failed: ${(error as Error).message}`);
          }
        }
      }
    }
  } finally {
    prepared.cleanup();
  }
  return rows;
}

const isLatency = (s: ScenarioName): boolean => s === 'latency';

/** The figure a scenario is judged by: delivered rate, or p99 latency in ms. */
function figure(scenario: ScenarioName, o: ClientResult): number | undefined {
  return isLatency(scenario) ? o.latencyMs?.p99 : o.receivedPerSecond;
}

function summary(scenario: ScenarioName, o: ClientResult): string {
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
export function clientTable(rows: ClientRow[], clientTitle: string, warren: string, rabbitmq: string | undefined): string {
  const names = [...(rows[0]?.rounds.keys() ?? [])];
  const header = [`Scenario (${clientTitle})`, ...names];
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
export function clientJson(rows: ClientRow[]): unknown[] {
  return rows.map((r) => ({
    scenario: r.scenario,
    rounds: Object.fromEntries([...r.rounds].map(([k, v]) => [k, v.map((o) => (o instanceof Error ? { error: o.message } : o))])),
  }));
}

/** The clients asked for (all by default), each with why it cannot run here when it cannot. */
export function chooseClients(names: readonly string[]): { client: PerfClient; missing: string | undefined }[] {
  const unknown = names.filter((n) => !PERF_CLIENTS.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`unknown client(s) ${unknown.join(', ')}; known: ${PERF_CLIENTS.map((c) => c.name).join(', ')}`);
  return PERF_CLIENTS.filter((c) => names.length === 0 || names.includes(c.name)).map((client) => ({ client, missing: client.missing() }));
}

const commaList = (values: string[] | undefined): string[] => (values ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');

async function main(): Promise<void> {
  const { values } = parseBenchArgs(import.meta.url, {
    options: {
      client: { type: 'string', multiple: true },
      rabbitmq: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      duration: { type: 'string', default: '10' },
      scenario: { type: 'string', multiple: true },
      json: { type: 'string' },
      baseline: { type: 'string' },
    },
  });
  const clients = chooseClients(commaList(values.client));
  const scenarios = commaList(values.scenario) as ScenarioName[];
  const unknown = scenarios.filter((s) => !CLIENT_SCENARIO_TITLES.some((k) => k.name === s));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${CLIENT_SCENARIO_TITLES.map((s) => s.name).join(', ')}`);
  const brokers: BrokerUnderTest[] = [await startWarren(), await startNullBroker()];
  if (values.baseline !== undefined) {
    brokers.splice(1, 0, await startWarren([], join(values.baseline, 'dist/src/cli/main.js'), 'Warren (baseline)'));
  }
  const rabbitmqUrl = values.rabbitmq ?? process.env['RABBITMQ_URL'];
  if (rabbitmqUrl !== undefined) brokers.splice(1, 0, externalBroker('RabbitMQ', rabbitmqUrl));
  const json: Record<string, unknown> = {};
  try {
    for (const { client, missing } of clients) {
      if (missing !== undefined) {
        process.stderr.write(`${client.title} left out: ${missing}\n`);
        continue;
      }
      const rows = await runClientScenarios(client, brokers, {
        rounds: Number(values.rounds),
        durationS: Number(values.duration),
        ...(scenarios.length > 0 ? { scenarios } : {}),
        progress: (line) => process.stderr.write(`   ${line}\n`),
      });
      process.stdout.write(`\n${clientTable(rows, client.title, 'Warren', rabbitmqUrl === undefined ? undefined : 'RabbitMQ')}\n`);
      json[client.name] = clientJson(rows);
    }
    if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
  } finally {
    for (const b of brokers) await b.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
