/**
 * `npm run bench`: the scenarios against Warren (started here as a child process), another
 * build of Warren (`--baseline`) and, when it is reachable, RabbitMQ, alternating brokers scenario by
 * scenario; prints a markdown table with ratios.
 *
 *   node dist/bench/run.js [--rabbitmq amqp://guest:guest@127.0.0.1:5672] [--baseline /tmp/warren-baseline]
 *                          [--scenario throughput,latency] [--duration 10] [--warren-url amqp://...]
 *                          [--json out.json] [--cpu-prof dir] [--client-rounds 2] [--clients java,amqplib,pika]
 *
 * Then the same brokers and a null broker (each client's ceiling) run the PerfTest-style scenarios on
 * RabbitMQ's Java client, amqplib and pika (bench/client-perf.ts), each unless it cannot run here;
 * --client-rounds 0 leaves them out.
 *
 * RABBITMQ_URL works like --rabbitmq; bench/rabbitmq.sh starts Debian's RabbitMQ on 127.0.0.1:5672.
 * WARREN_BASELINE works like --baseline: a built checkout (dist/src/cli/main.js), e.g. from
 * `bench/baseline.sh REV`, started as "Warren (baseline)" with the same flags as this build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseBenchArgs } from './harness/usage.js';
import { externalBroker, startWarren, type BrokerUnderTest } from './harness/brokers.js';
import { scenarios, type Scenario, type ScenarioOutcome } from './harness/scenarios.js';
import { markdownTable, type Ratio, type ScenarioRow } from './harness/table.js';
import { chooseClients, clientJson, clientTable, runClientScenarios, startNullBroker, type ClientRow, type PerfClient } from './client-perf.js';

interface BenchArgs {
  rabbitmq: string | undefined;
  /** A built checkout of Warren to compare with (its dist/src/cli/main.js). */
  baseline: string | undefined;
  warrenUrl: string | undefined;
  scenarios: Scenario[];
  durationS: number;
  jsonPath: string | undefined;
  cpuProfDir: string | undefined;
  /** Rounds of the client scenarios; 0 when they are left out. */
  clientRounds: number;
  /** Which clients run them (all when empty). */
  clients: string[];
}

function readBenchArgs(): BenchArgs {
  const { values } = parseBenchArgs(import.meta.url, {
    options: {
      rabbitmq: { type: 'string' },
      baseline: { type: 'string' },
      'warren-url': { type: 'string' },
      scenario: { type: 'string', multiple: true },
      duration: { type: 'string', default: '10' },
      json: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'client-rounds': { type: 'string', default: '2' },
      clients: { type: 'string', default: '' },
    },
  });
  const wanted = (values.scenario ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');
  const unknown = wanted.filter((w) => !scenarios.some((s) => s.name === w));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  }
  const baseline = values.baseline ?? process.env['WARREN_BASELINE'];
  if (baseline !== undefined && !existsSync(baselineMain(baseline))) {
    throw new Error(`${baselineMain(baseline)} does not exist: build the baseline first (bench/baseline.sh REV ${baseline})`);
  }
  return {
    rabbitmq: values.rabbitmq ?? process.env['RABBITMQ_URL'],
    baseline: baseline === undefined ? undefined : resolve(baseline),
    warrenUrl: values['warren-url'],
    scenarios: wanted.length === 0 ? scenarios : scenarios.filter((s) => wanted.includes(s.name)),
    durationS: Number(values.duration),
    jsonPath: values.json,
    cpuProfDir: values['cpu-prof'],
    clientRounds: Number(values['client-rounds']),
    clients: values.clients.split(',').filter((c) => c !== ''),
  };
}

const CURRENT = 'Warren';
const BASELINE = 'Warren (baseline)';
const RABBITMQ = 'RabbitMQ';

const baselineMain = (dir: string): string => join(resolve(dir), 'dist', 'src', 'cli', 'main.js');

/** "<dir> at <commit> <subject>" for the report, or just the dir when it is not a git checkout. */
function baselineLabel(dir: string): string {
  try {
    return `${dir} at ${execFileSync('git', ['-C', dir, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim()}`;
  } catch {
    return dir;
  }
}

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || 5672) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function brokersUnderTest(args: BenchArgs): Promise<BrokerUnderTest[]> {
  const brokers: BrokerUnderTest[] = [];
  const nodeArgs = args.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args.cpuProfDir];
  if (args.warrenUrl !== undefined) brokers.push(externalBroker(CURRENT, args.warrenUrl));
  else brokers.push(await startWarren(nodeArgs));
  if (args.baseline !== undefined) {
    try {
      brokers.push(await startWarren(nodeArgs, baselineMain(args.baseline), BASELINE));
    } catch (error) {
      for (const b of brokers) await b.stop();
      throw error;
    }
  }
  if (args.rabbitmq !== undefined) {
    if (await reachable(args.rabbitmq)) brokers.push(externalBroker(RABBITMQ, args.rabbitmq));
    else process.stderr.write(`RabbitMQ at ${args.rabbitmq} is not reachable: left out\n`);
  }
  return brokers;
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ` +
    `Linux ${os.release()}, Node.js ${process.version}`;
}

async function runScenario(scenario: Scenario, broker: BrokerUnderTest, durationS: number): Promise<ScenarioOutcome | Error> {
  try {
    const crashed = await broker.ensureAlive();
    if (crashed !== undefined) process.stderr.write(`\n!! ${broker.name} had died; restarted. Its last output:\n${crashed}\n`);
    process.stderr.write(`\n== ${scenario.name} on ${broker.name} (${broker.url.replace(/\/\/[^@]*@/, '//')})\n`);
    return await scenario.run(broker, { durationS, progress: (line) => process.stderr.write(`   ${line}\n`) });
  } catch (error) {
    process.stderr.write(`   failed: ${(error as Error).message}\n`);
    return error as Error;
  }
}

interface ClientSection {
  client: PerfClient;
  rows: ClientRow[];
}

/** Each client's scenarios on the same brokers plus a null broker, for the clients that can run here. */
async function clientSections(args: BenchArgs, brokers: BrokerUnderTest[]): Promise<ClientSection[]> {
  if (args.clientRounds === 0) return [];
  const sections: ClientSection[] = [];
  const ceiling = await startNullBroker();
  try {
    for (const { client, missing } of chooseClients(args.clients)) {
      if (missing !== undefined) {
        process.stderr.write(`\n${client.title}'s scenarios are left out: ${missing}\n`);
        continue;
      }
      process.stderr.write(`\n== ${client.title}, ${args.clientRounds} rounds\n`);
      const rows = await runClientScenarios(client, [...brokers, ceiling], {
        rounds: args.clientRounds,
        durationS: args.durationS,
        progress: (line) => process.stderr.write(`   ${line}\n`),
      });
      sections.push({ client, rows });
    }
  } finally {
    await ceiling.stop();
  }
  return sections;
}

async function main(): Promise<void> {
  const args = readBenchArgs();
  const brokers = await brokersUnderTest(args);
  for (const b of brokers) process.stderr.write(`${b.name}: ${b.url.replace(/\/\/[^@]*@/, '//')}, pid ${b.pid ?? 'unknown'}\n`);
  const stopAll = async (): Promise<void> => {
    for (const b of brokers) await b.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  const rows: ScenarioRow[] = [];
  let sections: ClientSection[] = [];
  try {
    for (let i = 0; i < args.scenarios.length; i++) {
      const scenario = args.scenarios[i]!;
      // Alternate who goes first, so neither broker always runs on a warmer (or more tired) machine.
      const order = i % 2 === 0 ? brokers : [...brokers].reverse();
      const row: ScenarioRow = { title: scenario.title, outcomes: new Map() };
      for (const broker of order) row.outcomes.set(broker.name, await runScenario(scenario, broker, args.durationS));
      rows.push(row);
    }
    sections = await clientSections(args, brokers);
  } finally {
    await stopAll();
  }
  const names = brokers.map((b) => b.name);
  const ratios: Ratio[] = [];
  if (names.includes(RABBITMQ)) ratios.push({ header: 'Warren advantage', of: CURRENT, over: RABBITMQ, withTarget: true });
  if (names.includes(BASELINE)) ratios.push({ header: 'current vs baseline', of: CURRENT, over: BASELINE, withTarget: false });
  const report = [
    `Machine: ${machine()}`,
    `Duration per throughput scenario: ${args.durationS} s; client: warren perf (worker processes)`,
    ...(args.baseline === undefined ? [] : [`Baseline: ${baselineLabel(args.baseline)}`]),
    '',
    markdownTable(rows, names, ratios),
    ...sections.flatMap(({ client, rows: clientRows }) => ['', `${client.title}, ${args.clientRounds} rounds of ${args.durationS} s:`, '',
      clientTable(clientRows, client.title, CURRENT, names.includes(RABBITMQ) ? RABBITMQ : undefined)]),
  ].join('\n');
  process.stdout.write(`\n${report}\n`);
  if (args.jsonPath !== undefined) {
    const json = rows.map((r) => ({
      title: r.title,
      outcomes: Object.fromEntries([...r.outcomes].map(([k, v]) => [k, v instanceof Error ? { error: v.message } : v])),
    }));
    const baseline = args.baseline === undefined ? {} : { baseline: baselineLabel(args.baseline) };
    const clients = Object.fromEntries(sections.map(({ client, rows: clientRows }) => [client.name, clientJson(clientRows)]));
    writeFileSync(args.jsonPath, `${JSON.stringify({ machine: machine(), durationS: args.durationS, ...baseline, rows: json, clients }, null, 2)}\n`);
  }
}

await main();
