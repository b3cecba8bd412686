/**
 * `warren perf`: the load generator, usable against any AMQP 0-9-1 broker (Warren or RabbitMQ).
 * Registered by src/cli/commands.ts through `registerPerfCommand(program)`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { runDeclareStorm } from '../perf/declare-storm.js';
import { defaultPerfOptions, type PerfOptions } from '../perf/options.js';
import { formatDeclareStorm, formatPerfResult } from '../perf/report.js';
import { runPerf } from '../perf/runner.js';

function count(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

/** Options whose flag has another name than their PerfOptions field. */
type RenamedOptions = 'url' | 'durationS' | 'messagesPerPublisher' | 'reportIntervalS';

/** What commander parses: PerfOptions under the flag names, plus the flags that are not run options. */
interface PerfFlags extends Omit<PerfOptions, RenamedOptions> {
  uri: string;
  duration: number;
  pmessages: number;
  interval: number;
  declareStorm: number;
  pipelined: boolean;
  json: boolean;
}

export function registerPerfCommand(program: Command): void {
  program.addCommand(perfCommand());
}

export function perfCommand(): Command {
  const d = defaultPerfOptions;
  return new Command('perf')
    .description('load-test an AMQP 0-9-1 broker: publish/consume rates and end-to-end latency')
    .option('-u, --uri <url>', 'broker URL', process.env['AMQP_URL'] ?? d.url)
    .option('-x, --publishers <n>', 'publishers (one connection each)', count, d.publishers)
    .option('-y, --consumers <n>', 'consumers (one connection each)', count, d.consumers)
    .option('-q, --queues <n>', 'queues; publishers and consumers are spread over them', count, d.queues)
    .option('--queue-prefix <name>', 'queue names are <prefix>-<i>', d.queuePrefix)
    .option('-f, --fanout', 'publish to a fanout exchange bound to every queue', false)
    .option('-s, --size <bytes>', 'message body size (8+ bytes carry the latency timestamp)', count, d.size)
    .option('-p, --persistent', 'persistent messages to durable queues', false)
    .addOption(new Option('--queue-type <type>', 'x-queue-type of the queues (quorum and stream are durable)').choices(['classic', 'quorum', 'stream']).default('classic'))
    .option('--stream-offset <spec>', 'with --queue-type stream: where consumers start (first, last, next, an offset)', d.streamOffset)
    .option('-c, --confirm <max>', 'publisher confirms with at most <max> unconfirmed per publisher', count, 0)
    .option('-a, --auto-ack', 'consume with no-ack', false)
    .option('--prefetch <n>', 'basic.qos prefetch-count per consumer (0 = unlimited)', count, d.prefetch)
    .option('-r, --rate <msgs>', 'messages per second per publisher (0 = unlimited)', count, 0)
    .option('-d, --duration <s>', 'seconds to run (0 = until --pmessages are sent)', count, d.durationS)
    .option('-C, --pmessages <n>', 'messages per publisher, then stop', count, 0)
    .addOption(new Option('--workers <kind>', 'run clients in').choices(['process', 'thread']).default('process'))
    .option('--keep-queues', 'do not delete the queues afterwards', false)
    .option('--interval <s>', 'seconds between progress lines (0 = none)', count, d.reportIntervalS)
    .option('--declare-storm <n>', 'instead: time declaring (and deleting) <n> queues', count, 0)
    .option('--pipelined', 'with --declare-storm: send all declares before awaiting replies', false)
    .option('--json', 'print the result as JSON', false)
    .action(async (flags: PerfFlags) => {
      if (flags.declareStorm > 0) return stormAction(flags);
      const result = await runPerf(toOptions(flags), {
        progress: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatPerfResult(result)}\n`);
      if (result.errors.length > 0) process.exitCode = 1;
    });
}

async function stormAction(flags: PerfFlags): Promise<void> {
  const result = await runDeclareStorm({
    url: flags.uri,
    count: flags.declareStorm,
    pipelined: flags.pipelined,
    durable: flags.persistent,
    queuePrefix: flags.queuePrefix,
  });
  process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatDeclareStorm(result)}\n`);
}

function toOptions(flags: PerfFlags): Partial<PerfOptions> {
  const { uri, duration, pmessages, interval, declareStorm: _storm, pipelined: _pipelined, json: _json, ...same } = flags;
  return { ...same, url: uri, durationS: duration, messagesPerPublisher: pmessages, reportIntervalS: interval };
}
