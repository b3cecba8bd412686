/**
 * `npm run bench`: the scenarios against Warren (started here as a child process) and, when it
 * is reachable, RabbitMQ, alternating brokers scenario by scenario; prints a markdown table with ratios.
 *
 *   node dist/bench/run.js [--rabbitmq amqp://guest:guest@127.0.0.1:5672] [--scenario throughput,latency]
 *                          [--duration 10] [--warren-url amqp://...] [--json out.json] [--cpu-prof dir]
 *
 * RABBITMQ_URL works like --rabbitmq; bench/rabbitmq.sh starts Debian's RabbitMQ on 127.0.0.1:5672.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { externalBroker, startWarren, type BrokerUnderTest } from './harness/brokers.js';
import { scenarios, type Scenario, type ScenarioOutcome } from './harness/scenarios.js';
import { markdownTable, type ScenarioRow } from './harness/table.js';

interface BenchArgs {
  rabbitmq: string | undefined;
  warrenUrl: string | undefined;
  scenarios: Scenario[];
  durationS: number;
  jsonPath: string | undefined;
  cpuProfDir: string | undefined;
}

function parseBenchArgs(): BenchArgs {
  const { values } = parseArgs({
    options: {
      rabbitmq: { type: 'string' },
      'warren-url': { type: 'string' },
      scenario: { type: 'string', multiple: true },
      duration: { type: 'string', default: '10' },
      json: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const wanted = (values.scenario ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');
  const unknown = wanted.filter((w) => !scenarios.some((s) => s.name === w));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  }
  return {
    rabbitmq: values.rabbitmq ?? process.env['RABBITMQ_URL'],
    warrenUrl: values['warren-url'],
    scenarios: wanted.length === 0 ? scenarios : scenarios.filter((s) => wanted.includes(s.name)),
    durationS: Number(values.duration),
    jsonPath: values.json,
    cpuProfDir: values['cpu-prof'],
  };
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
  if (args.warrenUrl !== undefined) brokers.push(externalBroker('Warren', args.warrenUrl));
  else brokers.push(await startWarren(args.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args.cpuProfDir]));
  if (args.rabbitmq !== undefined) {
    if (await reachable(args.rabbitmq)) brokers.push(externalBroker('RabbitMQ', args.rabbitmq));
    else process.stderr.write(`RabbitMQ at ${args.rabbitmq} is not reachable: Warren only\n`);
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

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const brokers = await brokersUnderTest(args);
  const stopAll = async (): Promise<void> => {
    for (const b of brokers) await b.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  const rows: ScenarioRow[] = [];
  try {
    for (let i = 0; i < args.scenarios.length; i++) {
      const scenario = args.scenarios[i]!;
      // Alternate who goes first, so neither broker always runs on a warmer (or more tired) machine.
      const order = i % 2 === 0 ? brokers : [...brokers].reverse();
      const row: ScenarioRow = { title: scenario.title, outcomes: new Map() };
      for (const broker of order) row.outcomes.set(broker.name, await runScenario(scenario, broker, args.durationS));
      rows.push(row);
    }
  } finally {
    await stopAll();
  }
  const names = brokers.map((b) => b.name);
  const report = [
    `Machine: ${machine()}`,
    `Duration per throughput scenario: ${args.durationS} s; client: warren perf (worker processes)`,
    '',
    markdownTable(rows, names),
  ].join('\n');
  process.stdout.write(`\n${report}\n`);
  if (args.jsonPath !== undefined) {
    const json = rows.map((r) => ({
      title: r.title,
      outcomes: Object.fromEntries([...r.outcomes].map(([k, v]) => [k, v instanceof Error ? { error: v.message } : v])),
    }));
    writeFileSync(args.jsonPath, `${JSON.stringify({ machine: machine(), durationS: args.durationS, rows: json }, null, 2)}\n`);
  }
}

await main();
