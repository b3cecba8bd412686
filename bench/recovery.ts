/**
 * Issue 3 (durable storage) over the wire: fill a durable queue with persistent messages through
 * `warren perf` (confirms), read disk and memory per stored message, kill -9 the broker, start it again
 * on the same data and time how long until a client sees the whole queue (passive queue.declare shows
 * every message) and until the first message is delivered. Warren always (a child process on a fresh
 * data dir); RabbitMQ too when --rabbitmq is given, controlled by bench/rabbitmq.sh (start, kill9,
 * datadir, stop; it must be a RabbitMQ that script starts, so nobody else's node is killed).
 *
 *   node .build/sbench/bench/recovery.js [--messages 1000000] [--size 1024] [--rounds 1]
 *        [--rabbitmq amqp://guest:guest@127.0.0.1:5672] [--rabbitmq-ctl bench/rabbitmq.sh] [--json out.json]
 *
 * Run from the repository root (the default --rabbitmq-ctl path is relative to it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseBenchArgs } from './harness/usage.js';
import amqp from 'amqplib';
import { rssBytes } from './harness/brokers.js';

const WARREN_MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const POLL_MS = 20;
const GIVE_UP_MS = 600_000;

interface Outcome {
  broker: string;
  round: number;
  messages: number;
  size: number;
  loadAvg: string;
  fillS: number;
  confirmedPerS: number;
  /** Bytes of the data dir that the fill added, per message. */
  diskBytesPerMsg: number;
  diskGrowthBytes: number;
  rssBeforeFill: number;
  rssAfterFill: number;
  rssBytesPerMsg: number;
  /** Start of an empty broker (before the fill): spawn until a connection opens. */
  emptyStartMs: number;
  /** After kill -9: spawn until the AMQP port accepts a connection. */
  connectMs: number;
  /** After kill -9: spawn until a passive queue.declare reports every message. */
  recoveredMs: number;
  /** After kill -9: spawn until the first message reaches a consumer. */
  firstDeliveryMs: number;
  rssAfterRecovery: number;
}

function loadAvg(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function duBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** `warren perf` in its own process: one publisher, no consumer, confirms, queue kept. */
function fill(url: string, prefix: string, messages: number, size: number): Promise<{ elapsedS: number; confirmed: number }> {
  const args = [
    WARREN_MAIN, 'perf', '-u', url, '-x', '1', '-y', '0', '-p', '-c', '1000', '-C', String(messages),
    '-s', String(size), '-d', '0', '--keep-queues', '--queue-prefix', prefix, '--interval', '0', '--json',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`warren perf exited ${code}: ${out}`));
      const result = JSON.parse(out) as { elapsedS: number; totals: { confirmed: number }; errors: string[] };
      if (result.errors.length > 0) return reject(new Error(`warren perf: ${result.errors.join('; ')}`));
      resolve({ elapsedS: result.elapsedS, confirmed: result.totals.confirmed });
    });
  });
}

interface Recovery {
  connectMs: number;
  recoveredMs: number;
  firstDeliveryMs: number;
}

async function tryConnect(url: string): Promise<amqp.ChannelModel | undefined> {
  try {
    const connection = await amqp.connect(url);
    connection.on('error', () => undefined);
    return connection;
  } catch {
    return undefined;
  }
}

/**
 * Polls from `t0` (the broker's spawn, performance.now()) until a passive declare of `queue` reports
 * `messages`, then consumes one message (prefetch 1, not acked: it goes back when the connection closes).
 */
async function awaitRecovery(getUrl: () => string | undefined, queue: string, messages: number, t0: number): Promise<Recovery> {
  let connectMs = NaN;
  let lastCount = -1;
  while (performance.now() - t0 < GIVE_UP_MS) {
    const url = getUrl();
    const connection = url === undefined ? undefined : await tryConnect(url);
    if (connection === undefined) {
      await sleep(POLL_MS);
      continue;
    }
    if (Number.isNaN(connectMs)) connectMs = performance.now() - t0;
    try {
      for (;;) {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        const ok = await channel.checkQueue(queue);
        lastCount = ok.messageCount;
        if (ok.messageCount === messages) {
          const recoveredMs = performance.now() - t0;
          await channel.prefetch(1);
          const firstDeliveryMs = await new Promise<number>((resolve) => {
            void channel.consume(queue, (msg) => {
              if (msg !== null) resolve(performance.now() - t0);
            });
          });
          await connection.close();
          return { connectMs, recoveredMs, firstDeliveryMs };
        }
        await channel.close();
        await sleep(POLL_MS);
      }
    } catch {
      // The queue is not there yet (404 closes the channel) or the connection dropped: start over.
      await connection.close().catch(() => undefined);
      await sleep(POLL_MS);
    }
  }
  throw new Error(`${queue} did not show ${messages} messages within ${GIVE_UP_MS} ms (last count ${lastCount})`);
}

async function deleteQueue(url: string, queue: string): Promise<void> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.deleteQueue(queue);
  await connection.close();
}

// ---------------------------------------------------------------------------------------------- Warren

interface WarrenProcess {
  child: ChildProcess;
  /** Set once the broker printed its port. */
  url: string | undefined;
  exited: Promise<void>;
}

function spawnWarren(dataDir: string): WarrenProcess {
  const child = spawn(
    process.execPath,
    [WARREN_MAIN, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir },
  );
  const proc: WarrenProcess = {
    child,
    url: undefined,
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  const onLine = (line: string): void => {
    const match = /AMQP listening on [^\s"]*:(\d+)/.exec(line);
    if (match !== null) proc.url = `amqp://guest:guest@127.0.0.1:${match[1]}`;
  };
  // Keep draining both pipes for the broker's whole life: a full pipe would stall it.
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  return proc;
}

async function untilListening(proc: WarrenProcess): Promise<string> {
  while (proc.url === undefined) {
    if (proc.child.exitCode !== null) throw new Error('Warren exited before listening');
    await sleep(5);
  }
  return proc.url;
}

async function runWarren(round: number, messages: number, size: number): Promise<Outcome> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'warren-recovery-'));
  const queue = 'recovery-0';
  let proc: WarrenProcess | undefined;
  try {
    const t0 = performance.now();
    proc = spawnWarren(dataDir);
    const url = await untilListening(proc);
    const firstConnection = await amqp.connect(url);
    const emptyStartMs = performance.now() - t0;
    await firstConnection.close();
    await sleep(1000);
    const diskBefore = duBytes(dataDir);
    const rssBeforeFill = rssBytes(proc.child.pid) ?? NaN;
    const filled = await fill(url, 'recovery', messages, size);
    await sleep(2000); // let the broker settle (GC) before reading memory
    const rssAfterFill = rssBytes(proc.child.pid) ?? NaN;
    const diskGrowthBytes = duBytes(dataDir) - diskBefore;
    const loadAtFill = loadAvg();

    proc.child.kill('SIGKILL');
    await proc.exited;
    const t1 = performance.now();
    const restarted = spawnWarren(dataDir);
    proc = restarted;
    const recovery = await awaitRecovery(() => restarted.url, queue, messages, t1);
    const rssAfterRecovery = rssBytes(restarted.child.pid) ?? NaN;
    return {
      broker: 'Warren', round, messages, size, loadAvg: loadAtFill,
      fillS: filled.elapsedS, confirmedPerS: filled.confirmed / filled.elapsedS,
      diskGrowthBytes, diskBytesPerMsg: diskGrowthBytes / messages,
      rssBeforeFill, rssAfterFill, rssBytesPerMsg: (rssAfterFill - rssBeforeFill) / messages,
      emptyStartMs, ...recovery, rssAfterRecovery,
    };
  } finally {
    if (proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// -------------------------------------------------------------------------------------------- RabbitMQ

function ctl(script: string, action: string): string {
  return execFileSync('bash', [script, action], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function ctlAsync(script: string, action: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, action], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} ${action} exited ${code}`))));
  });
}

async function runRabbitMq(round: number, url: string, script: string, messages: number, size: number): Promise<Outcome> {
  if (ctl(script, 'status') !== 'not running') {
    throw new Error(`something already listens on 5672 (${ctl(script, 'status')}); the recovery test kills the node, so it must start its own`);
  }
  const queue = 'recovery-0';
  const dataDir = ctl(script, 'datadir');
  try {
    const t0 = performance.now();
    const started = ctlAsync(script, 'start');
    const empty = await awaitConnect(url, t0);
    await started;
    await sleep(1000);
    const pid = Number(ctl(script, 'pid'));
    await deleteQueue(url, queue); // a leftover of an interrupted run would skew every number
    const diskBefore = duBytes(dataDir);
    const rssBeforeFill = rssBytes(pid) ?? NaN;
    const filled = await fill(url, 'recovery', messages, size);
    await sleep(2000);
    const rssAfterFill = rssBytes(pid) ?? NaN;
    const diskGrowthBytes = duBytes(dataDir) - diskBefore;
    const loadAtFill = loadAvg();

    ctl(script, 'kill9');
    const t1 = performance.now();
    const restarted = ctlAsync(script, 'start');
    const recovery = await awaitRecovery(() => url, queue, messages, t1);
    await restarted;
    const rssAfterRecovery = rssBytes(Number(ctl(script, 'pid'))) ?? NaN;
    await deleteQueue(url, queue);
    return {
      broker: 'RabbitMQ', round, messages, size, loadAvg: loadAtFill,
      fillS: filled.elapsedS, confirmedPerS: filled.confirmed / filled.elapsedS,
      diskGrowthBytes, diskBytesPerMsg: diskGrowthBytes / messages,
      rssBeforeFill, rssAfterFill, rssBytesPerMsg: (rssAfterFill - rssBeforeFill) / messages,
      emptyStartMs: empty, ...recovery, rssAfterRecovery,
    };
  } finally {
    ctl(script, 'stop');
  }
}

async function awaitConnect(url: string, t0: number): Promise<number> {
  while (performance.now() - t0 < GIVE_UP_MS) {
    const connection = await tryConnect(url);
    if (connection !== undefined) {
      await connection.close();
      return performance.now() - t0;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`no connection to ${url}`);
}

// ---------------------------------------------------------------------------------------------- report

const MiB = 1024 * 1024;
const f = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(outcomes: Outcome[]): string {
  const rows: [string, (o: Outcome) => string][] = [
    ['fill, confirmed (msg/s)', (o) => f(o.confirmedPerS)],
    ['disk growth per message (bytes)', (o) => f(o.diskBytesPerMsg, 1)],
    ['RSS before fill (MiB)', (o) => f(o.rssBeforeFill / MiB)],
    ['RSS after fill (MiB)', (o) => f(o.rssAfterFill / MiB)],
    ['RSS growth per message (bytes)', (o) => f(o.rssBytesPerMsg, 1)],
    ['empty start: spawn to connection (ms)', (o) => f(o.emptyStartMs)],
    ['after kill -9: spawn to connection (ms)', (o) => f(o.connectMs)],
    ['after kill -9: spawn to passive declare = all messages (ms)', (o) => f(o.recoveredMs)],
    ['after kill -9: spawn to first delivery (ms)', (o) => f(o.firstDeliveryMs)],
    ['RSS after recovery (MiB)', (o) => f(o.rssAfterRecovery / MiB)],
    ['load average (1/5/15 min) after fill', (o) => o.loadAvg],
  ];
  const header = `| metric | ${outcomes.map((o) => `${o.broker} #${o.round}`).join(' | ')} |`;
  const rule = `| --- | ${outcomes.map(() => '---').join(' | ')} |`;
  return [header, rule, ...rows.map(([name, get]) => `| ${name} | ${outcomes.map(get).join(' | ')} |`)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseBenchArgs(import.meta.url, {
    options: {
      messages: { type: 'string', default: '1000000' },
      size: { type: 'string', default: '1024' },
      rounds: { type: 'string', default: '1' },
      rabbitmq: { type: 'string' },
      'rabbitmq-ctl': { type: 'string', default: 'bench/rabbitmq.sh' },
      json: { type: 'string' },
    },
  });
  const messages = Number(values.messages);
  const size = Number(values.size);
  const outcomes: Outcome[] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    // Alternate which broker goes first.
    const order = values.rabbitmq !== undefined && round % 2 === 0 ? ['RabbitMQ', 'Warren'] : ['Warren', 'RabbitMQ'];
    for (const broker of order) {
      if (broker === 'RabbitMQ' && values.rabbitmq === undefined) continue;
      process.stderr.write(`round ${round}: ${broker}, ${messages} x ${size} B (load ${loadAvg()})\n`);
      const outcome = broker === 'Warren'
        ? await runWarren(round, messages, size)
        : await runRabbitMq(round, values.rabbitmq!, values['rabbitmq-ctl'], messages, size);
      process.stderr.write(`${JSON.stringify(outcome)}\n`);
      outcomes.push(outcome);
    }
  }
  process.stdout.write(`${table(outcomes)}\n`);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(outcomes, null, 2));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
