/**
 * `npm run bench:cluster` (issue 10): Warren's cluster mode against RabbitMQ and single-node Warren,
 * all in one run on this machine, printed as markdown (BENCHMARKS.md "Cluster (issue 10)").
 *
 *   node dist/bench/cluster.js [--duration 15] [--rounds 1] [--failover-rounds 5] [--pause-rounds 2] [--failover-rate 2000]
 *                              [--rabbitmq amqp://guest:guest@127.0.0.1:5672 | --no-rabbitmq]
 *                              [--skip scaling,failover,...] [--json out.json]
 *
 * 1. Replicated (x-queue-type: quorum) queue on a 3-node cluster on a throwaway PostgreSQL (fsync on),
 *    persistent 100-byte messages, confirms (window 1000), one acking consumer (prefetch 1000) on the
 *    queue's owner; the publisher on the owner, then on another node (forwarded). RabbitMQ 3.10's
 *    quorum queue with the same client (`warren perf`'s) and settings.
 * 2. Classic durable queue: single-node Warren (no cluster), cluster owner, another node (forwarded).
 * 3. Rows per PostgreSQL commit (each node's /metrics) and PostgreSQL's CPU seconds in the replicated runs.
 * 4. Failover: kill -9 of a replicated queue's owner under steady publishing; time to the first
 *    confirm of a message published after the kill, and to the first delivery on a living consumer.
 * 5. Replicated rate on a cluster of 1, 2, 3 nodes (one queue, and three queues spread over owners).
 *
 * RabbitMQ is started with bench/rabbitmq.sh (which reuses, and never stops, one already on 5672)
 * unless --rabbitmq names one; everything else is started here and stopped here, errors included.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs } from './harness/usage.js';
import amqp from 'amqplib';
import { findPostgresBinaries } from '../src/cluster/postgres/binaries.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../src/cluster/postgres/throwaway.js';
import { cpuSeconds, listenerPid, startWarren, type BrokerUnderTest } from './harness/brokers.js';
import { fmt } from './harness/table.js';
import { failoverRound, type FailoverRound } from './cluster/failover.js';
import { runFlows, type Flow, type LoadResult, type LoadSettings } from './cluster/load.js';
import { BenchCluster, postgresCpuSeconds, type BenchNode } from './cluster/nodes.js';

const PHASES = ['scaling', 'replicated', 'backlog', 'classic', 'failover'] as const;
type Phase = (typeof PHASES)[number];

interface Args {
  durationS: number;
  rounds: number;
  failoverRounds: number;
  pauseRounds: number;
  failoverRate: number;
  rabbitmq: string | undefined;
  noRabbitmq: boolean;
  skip: Set<Phase>;
  json: string | undefined;
  /** --cpu-prof DIR: profile every Warren process (cluster nodes and the single node); written when they stop. */
  cpuProfDir: string | undefined;
}

function parse(): Args {
  const { values } = parseBenchArgs(import.meta.url, {
    options: {
      duration: { type: 'string', default: '15' },
      rounds: { type: 'string', default: '1' },
      'failover-rounds': { type: 'string', default: '5' },
      'pause-rounds': { type: 'string', default: '2' },
      'failover-rate': { type: 'string', default: '2000' },
      rabbitmq: { type: 'string' },
      'no-rabbitmq': { type: 'boolean', default: false },
      skip: { type: 'string', multiple: true },
      json: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const positive = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${value}`);
    return n;
  };
  const skip = new Set<Phase>();
  for (const s of (values.skip ?? []).flatMap((v) => v.split(',')).filter((v) => v !== '')) {
    if (!(PHASES as readonly string[]).includes(s)) throw new Error(`--skip ${s}: known phases are ${PHASES.join(', ')}`);
    skip.add(s as Phase);
  }
  return {
    durationS: positive('duration', values.duration),
    rounds: Math.round(positive('rounds', values.rounds)),
    failoverRounds: Math.round(positive('failover-rounds', values['failover-rounds'])),
    pauseRounds: Math.max(0, Math.round(Number(values['pause-rounds']) || 0)),
    failoverRate: positive('failover-rate', values['failover-rate']),
    rabbitmq: values.rabbitmq,
    noRabbitmq: values['no-rabbitmq'],
    skip,
    json: values.json,
    cpuProfDir: values['cpu-prof'],
  };
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').trim();
const load1 = (): number => Number(loadavg().split(' ')[0]);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** bench/rabbitmq.sh of this checkout: next to dist/ (npm run bench:cluster), or in the working directory for other outDirs. */
const RABBITMQ_SH = [new URL('../../bench/rabbitmq.sh', import.meta.url).pathname, join(process.cwd(), 'bench', 'rabbitmq.sh')].find((p) => existsSync(p)) ?? 'bench/rabbitmq.sh';

// ---------------------------------------------------------------------------------------------
// Measurements

type Kind = 'warren-cluster' | 'warren-single' | 'rabbitmq';

interface Measurement {
  key: string;
  title: string;
  kind: Kind;
  round: number;
  result?: LoadResult;
  error?: string;
  /** CPU seconds of the broker process(es): Warren's nodes together, RabbitMQ's beam.smp. */
  brokerCpuS?: number;
  postgresCpuS?: number;
  commits?: number;
  rows?: number;
  load1: number;
  placement: string;
}

const LOAD: Omit<LoadSettings, 'durationS'> = { size: 100, persistent: true, confirm: 1000, prefetch: 1000 };
const METRICS = ['warren_cluster_replicated_commits_total', 'warren_cluster_replicated_rows_written_total'] as const;

interface Context {
  args: Args;
  postgres: ThrowawayPostgres;
  cluster: BenchCluster;
  single: BrokerUnderTest | undefined;
  rabbitmq: { url: string; pid: number | undefined } | undefined;
  seq: number;
}

async function declare(url: string, queue: string, quorum: boolean): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const ch = await connection.createChannel();
    await ch.assertQueue(queue, { durable: true, ...(quorum ? { arguments: { 'x-queue-type': 'quorum' } } : {}) });
    await ch.close();
  } finally {
    await connection.close();
  }
}

async function deleteQueue(url: string, queue: string): Promise<void> {
  const started = performance.now();
  try {
    const connection = await amqp.connect(url);
    connection.on('error', () => undefined);
    const ch = await connection.createChannel();
    ch.on('error', () => undefined);
    const { messageCount } = await ch.deleteQueue(queue);
    await connection.close();
    const ms = performance.now() - started;
    if (ms > 500) log(`   (deleting ${queue} with ${messageCount} messages took ${fmt(ms / 1000)} s)`);
  } catch (error) {
    log(`   (could not delete ${queue}: ${(error as Error).message})`);
  }
}

interface Plan {
  flows: Flow[];
  cleanup: () => Promise<void>;
  placement: string;
}

/**
 * Runs flows and reads around them: the broker's CPU, PostgreSQL's CPU and commit counters for a
 * cluster. `plan` declares the queues and says where the clients go.
 */
async function measure(ctx: Context, key: string, title: string, kind: Kind, round: number, plan: () => Promise<Plan>): Promise<Measurement> {
  log(`\n== ${title} (round ${round + 1})`);
  const m: Measurement = { key, title, kind, round, load1: load1(), placement: '' };
  let p: Plan | undefined;
  try {
    p = await plan();
    m.placement = p.placement;
    log(`   ${p.placement}; load ${loadavg()}`);
    const brokerCpu = (): number | undefined =>
      kind === 'warren-cluster' ? ctx.cluster.cpuSeconds() : kind === 'warren-single' ? cpuSeconds(ctx.single?.pid) : cpuSeconds(ctx.rabbitmq?.pid);
    const cpu0 = brokerCpu();
    const pg0 = postgresCpuSeconds(ctx.postgres.pid);
    const metrics0 = kind === 'warren-cluster' ? await ctx.cluster.metricsSum(METRICS) : undefined;
    const result = await runFlows(p.flows, { ...LOAD, durationS: ctx.args.durationS }, (line) => log(`   ${line}`));
    const cpu1 = brokerCpu();
    const pg1 = postgresCpuSeconds(ctx.postgres.pid);
    const metrics1 = kind === 'warren-cluster' ? await ctx.cluster.metricsSum(METRICS) : undefined;
    m.result = result;
    if (cpu0 !== undefined && cpu1 !== undefined) m.brokerCpuS = cpu1 - cpu0;
    if (pg0 !== undefined && pg1 !== undefined) m.postgresCpuS = pg1 - pg0;
    if (metrics0 !== undefined && metrics1 !== undefined) {
      m.commits = metrics1[METRICS[0]]! - metrics0[METRICS[0]]!;
      m.rows = metrics1[METRICS[1]]! - metrics0[METRICS[1]]!;
    }
    if (result.errors.length > 0) m.error = result.errors.join('; ');
    log(
      `   => confirmed ${fmt(result.confirmRate)} msg/s, consumed ${fmt(result.consumeRate)} msg/s, p99 ${fmt(result.latency.p99 / 1000)} ms, ` +
        `broker CPU ${fmt(m.brokerCpuS)} s, PG CPU ${fmt(m.postgresCpuS)} s` +
        (m.commits === undefined ? '' : `, commits ${m.commits}, rows ${m.rows}`),
    );
  } catch (error) {
    m.error = (error as Error).message;
    log(`   failed: ${m.error}`);
  } finally {
    await p?.cleanup();
  }
  return m;
}

function nextQueue(ctx: Context, what: string): string {
  return `bench-cluster-${what}-${process.pid}-${ctx.seq++}`;
}

/**
 * A quorum queue on the cluster: consumer on its owner, publisher on the owner or on another node.
 * Without a consumer every message stays queued, so every one is written to PostgreSQL.
 */
function replicatedPlan(ctx: Context, viaOwner: boolean, withConsumer = true): () => Promise<Plan> {
  return async () => {
    const queue = nextQueue(ctx, 'quorum');
    const declarer = ctx.cluster.living[0]!;
    await declare(declarer.url, queue, true);
    const owner = ctx.cluster.node(await ctx.cluster.waitForQueue(queue));
    const publisher = viaOwner ? owner : ctx.cluster.living.find((n) => n !== owner)!;
    return {
      flows: [{ queue, publishUrl: publisher.url, ...(withConsumer ? { consumeUrl: owner.url } : {}) }],
      cleanup: () => deleteQueue(owner.url, queue),
      placement: `queue ${queue} owned by ${owner.name}; publisher on ${publisher.name}, ${withConsumer ? `consumer on ${owner.name}` : 'no consumer'}`,
    };
  };
}

/** A classic durable queue declared on n1 (its owner): consumer there, publisher there or on n2. */
function classicPlan(ctx: Context, viaOwner: boolean): () => Promise<Plan> {
  return async () => {
    const queue = nextQueue(ctx, 'classic');
    const owner = ctx.cluster.living[0]!;
    await declare(owner.url, queue, false);
    const reported = await ctx.cluster.waitForQueue(queue);
    if (reported !== owner.name) throw new Error(`classic queue declared on ${owner.name} is owned by ${reported}`);
    const publisher = viaOwner ? owner : ctx.cluster.living[1]!;
    return {
      flows: [{ queue, publishUrl: publisher.url, consumeUrl: owner.url }],
      cleanup: () => deleteQueue(owner.url, queue),
      placement: `queue ${queue} owned by ${owner.name}; publisher on ${publisher.name}, consumer on ${owner.name}`,
    };
  };
}

function singleBrokerPlan(ctx: Context, url: () => string, quorum: boolean, label: string, withConsumer = true): () => Promise<Plan> {
  return async () => {
    const queue = nextQueue(ctx, quorum ? 'quorum' : 'classic');
    await declare(url(), queue, quorum);
    return {
      flows: [{ queue, publishUrl: url(), ...(withConsumer ? { consumeUrl: url() } : {}) }],
      cleanup: () => deleteQueue(url(), queue),
      placement: `${label}, queue ${queue}${withConsumer ? '' : ', no consumer'}`,
    };
  };
}

/**
 * `count` quorum queues spread over the living nodes as evenly as names allow (names are tried until
 * rendezvous hashing places one on the node whose turn it is), each with its publisher and consumer
 * on its owner.
 */
function spreadPlan(ctx: Context, count: number): () => Promise<Plan> {
  return async () => {
    const living = ctx.cluster.living;
    const flows: Flow[] = [];
    const owners: string[] = [];
    const queues: { queue: string; owner: BenchNode }[] = [];
    for (let i = 0; i < count; i++) {
      const wanted = living[i % living.length]!;
      let placed: { queue: string; owner: BenchNode } | undefined;
      for (let attempt = 0; attempt < 40 && placed === undefined; attempt++) {
        const queue = nextQueue(ctx, 'spread');
        await declare(living[0]!.url, queue, true);
        const owner = ctx.cluster.node(await ctx.cluster.waitForQueue(queue));
        if (owner === wanted || attempt === 39) placed = { queue, owner };
        else await deleteQueue(owner.url, queue);
      }
      queues.push(placed!);
      owners.push(placed!.owner.name);
      flows.push({ queue: placed!.queue, publishUrl: placed!.owner.url, consumeUrl: placed!.owner.url });
    }
    return {
      flows,
      cleanup: async () => {
        for (const q of queues) await deleteQueue(q.owner.url, q.queue);
      },
      placement: `${count} queues owned by ${owners.join(', ')}; each queue's publisher and consumer on its owner`,
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Report

interface Report {
  machine: string;
  loadBefore: string;
  loadAfter: string;
  nproc: string;
  versions: string;
  durationS: number;
  measurements: Measurement[];
  failover: FailoverRound[];
  pauseFailover: FailoverRound[];
  failoverError?: string;
}

const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;

function confirmedOf(ms: Measurement[], key: string): number[] {
  return ms.filter((m) => m.key === key && m.result !== undefined && m.error === undefined).map((m) => m.result!.confirmRate);
}

function throughputTable(ms: Measurement[]): string {
  const keys = [...new Set(ms.map((m) => m.key))];
  const lines = [
    row(['Measurement', 'Placement (last round)', 'confirmed msg/s', 'consumed msg/s', 'p50 ms', 'p99 ms', 'broker CPU s', 'PostgreSQL CPU s', 'client CPU s', 'PG commits', 'rows / commit', 'confirmed / commit', 'load (1 min) at start']),
    row(Array.from({ length: 13 }, () => '---')),
  ];
  for (const key of keys) {
    const all = ms.filter((m) => m.key === key);
    const ok = all.filter((m) => m.result !== undefined);
    const last = all[all.length - 1]!;
    const med = (f: (m: Measurement) => number | undefined): number | undefined => {
      const xs = ok.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
      return xs.length === 0 ? undefined : median(xs);
    };
    const confirmed = ok.map((m) => m.result!.confirmRate);
    const range = confirmed.length > 1 ? ` (${fmt(Math.min(...confirmed))}-${fmt(Math.max(...confirmed))})` : '';
    const failed = all.filter((m) => m.error !== undefined).map((m) => m.error!.split('\n')[0]);
    const commits = med((m) => m.commits);
    lines.push(
      row([
        last.title,
        last.placement.replace(/bench-cluster-[a-z]+-\d+-\d+/g, 'q').replace(/\|/g, '/'),
        (ok.length === 0 ? '' : fmt(median(confirmed)) + range) + (failed.length > 0 ? ` (failed: ${failed.join('; ')})` : ''),
        fmt(med((m) => m.result!.consumeRate)),
        fmt(med((m) => m.result!.latency.p50 / 1000)),
        fmt(med((m) => m.result!.latency.p99 / 1000)),
        fmt(med((m) => m.brokerCpuS)),
        last.kind === 'warren-cluster' ? fmt(med((m) => m.postgresCpuS)) : '',
        fmt(med((m) => m.result!.clientCpuS)),
        commits === undefined ? '' : fmt(commits),
        fmt(med((m) => (m.commits ? m.rows! / m.commits : undefined))),
        fmt(med((m) => (m.commits ? m.result!.totals.confirmed / m.commits : undefined))),
        ok.map((m) => m.load1.toFixed(2)).join(', '),
      ]),
    );
  }
  return lines.join('\n');
}

function ratioTable(ms: Measurement[]): string {
  const ratios: { label: string; of: string; over: string; target?: number }[] = [
    { label: 'Quorum queue via owner: Warren cluster / RabbitMQ', of: 'q-owner', over: 'rmq-quorum', target: 2 },
    { label: 'Quorum queue via another node (forwarded): Warren cluster / RabbitMQ', of: 'q-forwarded', over: 'rmq-quorum', target: 2 },
    { label: 'Quorum queue: forwarded / via owner (Warren)', of: 'q-forwarded', over: 'q-owner' },
    { label: 'Quorum queue, no consumer (every message written): Warren via owner / RabbitMQ', of: 'q-backlog', over: 'rmq-quorum-backlog' },
    { label: 'Classic durable via owner: cluster / single-node Warren', of: 'c-owner', over: 'c-single', target: 0.8 },
    { label: 'Classic durable via another node (forwarded): cluster / single-node Warren', of: 'c-forwarded', over: 'c-single' },
    { label: 'Classic durable: single-node Warren / RabbitMQ classic durable', of: 'c-single', over: 'rmq-classic' },
    { label: 'Warren quorum via owner / Warren classic via owner (cost of replication)', of: 'q-owner', over: 'c-owner' },
  ];
  const lines = [row(['Ratio of confirmed msg/s', 'value', 'per round', 'target', 'met']), row(['---', '---', '---', '---', '---'])];
  for (const r of ratios) {
    const of = confirmedOf(ms, r.of);
    const over = confirmedOf(ms, r.over);
    if (of.length === 0 || over.length === 0) continue;
    const value = median(of) / median(over);
    const perRound = ms
      .filter((m) => m.key === r.of && m.result !== undefined)
      .map((m) => {
        const peer = ms.find((o) => o.key === r.over && o.round === m.round && o.result !== undefined);
        return peer === undefined ? '' : `${(m.result!.confirmRate / peer.result!.confirmRate).toFixed(2)}x`;
      })
      .filter((s) => s !== '')
      .join(', ');
    lines.push(
      row([
        r.label,
        `${value.toFixed(2)}x`,
        perRound,
        r.target === undefined ? '' : r.target >= 1 ? `>= ${r.target}x` : `>= ${Math.round(r.target * 100)} %`,
        r.target === undefined ? '' : value >= r.target ? 'yes' : '**no**',
      ]),
    );
  }
  return lines.join('\n');
}

function failoverTable(rounds: FailoverRound[]): string {
  const s = (x: number | undefined): string => (x === undefined ? 'none' : x.toFixed(3));
  const lines = [
    row(['round', 'killed owner', 'declared dead by', 'new owner', 'publisher on', 'consumer on', 'first confirm after kill (s)', 'first delivery by new owner (s)', 'first delivery of a post-kill message (s)', 'reconnected client: first confirm (s)', 'new owner listed (s)', 'nacked after kill', 'redelivered', 'consumer cancelled', 'confirmed, not delivered', 'errors']),
    row(Array.from({ length: 16 }, () => '---')),
  ];
  rounds.forEach((r, i) =>
    lines.push(
      row([
        i + 1, r.killed, r.declaredDeadBy, r.newOwner ?? '?', r.publisherNode, r.consumerNode, s(r.firstConfirmS), s(r.firstDeliveryS), s(r.firstNewMessageDeliveryS), s(r.reconnectedConfirmS),
        s(r.ownerVisibleS), r.nackedAfterKill, r.redelivered, r.consumerCancelled ? '**yes**' : 'no', r.confirmedNotDelivered, r.errors.join('; ').replace(/\|/g, '/') || '',
      ]),
    ),
  );
  const stat = (f: (r: FailoverRound) => number | undefined): string => {
    const xs = rounds.map(f);
    const got = xs.filter((x): x is number => x !== undefined);
    const missing = xs.length - got.length;
    if (got.length === 0) return 'none';
    return `median ${median(got).toFixed(3)}, max ${Math.max(...got).toFixed(3)}${missing > 0 ? ` (${missing} rounds: none)` : ''}`;
  };
  lines.push(
    row(['**all**', '', '', '', '', '', stat((r) => r.firstConfirmS), stat((r) => r.firstDeliveryS), stat((r) => r.firstNewMessageDeliveryS), stat((r) => r.reconnectedConfirmS), stat((r) => r.ownerVisibleS), '', '', '', String(rounds.reduce((a, r) => a + r.confirmedNotDelivered, 0)), '']),
  );
  return lines.join('\n');
}

function render(report: Report): string {
  const q = report.measurements.filter((m) => !m.key.startsWith('scale-'));
  const scale = report.measurements.filter((m) => m.key.startsWith('scale-'));
  const parts = [
    `Machine: ${report.machine}; nproc ${report.nproc}`,
    `Versions: ${report.versions}`,
    `/proc/loadavg before: ${report.loadBefore}; after: ${report.loadAfter}`,
    `Every broker, PostgreSQL and the clients share these ${report.nproc} cores. ${report.durationS} s per throughput measurement; ` +
      'client: warren perf worker processes, 100-byte persistent messages, confirms (1000 in flight), one consumer, manual ack, prefetch 1000.',
  ];
  if (q.length > 0) parts.push('', throughputTable(q), '', ratioTable(q));
  if (scale.length > 0) parts.push('', 'Replicated rate by cluster size:', '', throughputTable(scale));
  if (report.failover.length > 0) parts.push('', 'Failover (kill -9 of the owner):', '', failoverTable(report.failover));
  if (report.pauseFailover.length > 0) parts.push('', 'Failover (SIGSTOP of the owner past its lease):', '', failoverTable(report.pauseFailover));
  if (report.failoverError !== undefined) parts.push('', `Failover phase failed: ${report.failoverError}`);
  return parts.join('\n');
}

function versions(rabbitmq: boolean): string {
  const out: string[] = [`Node.js ${process.version}`];
  try {
    out.push(`PostgreSQL ${findPostgresBinaries().version.join('.')}`);
  } catch {
    out.push('PostgreSQL ?');
  }
  if (rabbitmq) {
    try {
      out.push(`RabbitMQ ${execFileSync('rabbitmqctl', ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}`);
    } catch {
      out.push('RabbitMQ ?');
    }
  }
  return out.join(', ');
}

/** The RabbitMQ to compare with: --rabbitmq's, or bench/rabbitmq.sh's (stopped at the end only if it started it). */
function startRabbitmq(given: string | undefined, cleanups: (() => Promise<void>)[]): { url: string; pid: number | undefined } {
  let url = given;
  if (url === undefined) {
    log('starting RabbitMQ (bench/rabbitmq.sh start)');
    url = execFileSync(RABBITMQ_SH, ['start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
    cleanups.push(async () => {
      log('bench/rabbitmq.sh stop');
      execFileSync(RABBITMQ_SH, ['stop'], { stdio: ['ignore', 'inherit', 'inherit'] });
    });
  }
  const pid = listenerPid(new URL(url).port || '5672');
  log(`RabbitMQ: ${url.replace(/\/\/[^@]*@/, '//')}, pid ${pid ?? '?'}`);
  return { url, pid };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parse();
  const loadBefore = loadavg();
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const cpus = os.cpus();
  const machine = `${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}`;
  log(`machine: ${machine}; nproc ${nproc}; load before: ${loadBefore}`);

  const cleanups: (() => Promise<void>)[] = [];
  const cleanupAll = async (): Promise<void> => {
    while (cleanups.length > 0) {
      const c = cleanups.pop()!;
      await c().catch((e: Error) => log(`cleanup: ${e.message}`));
    }
  };
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping everything started here');
    void cleanupAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const report: Report = { machine, loadBefore, loadAfter: '', nproc, versions: '', durationS: args.durationS, measurements: [], failover: [], pauseFailover: [] };
  try {
    const rabbitmq = args.noRabbitmq ? undefined : startRabbitmq(args.rabbitmq, cleanups);
    report.versions = versions(rabbitmq !== undefined);

    log('starting a throwaway PostgreSQL (fsync and synchronous_commit at their defaults)');
    const postgres = await startThrowawayPostgres({ database: 'warren' });
    cleanups.push(() => postgres.stop());
    const nodeArgs = args.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args.cpuProfDir];
    const cluster = new BenchCluster(postgres.url, nodeArgs);
    cleanups.push(() => cluster.close());
    const ctx: Context = { args, postgres, cluster, single: undefined, rabbitmq, seq: 0 };
    const record = (m: Measurement): void => void report.measurements.push(m);

    // 5. Cluster of 1, 2, 3 nodes (the cluster grows to the 3 nodes the rest uses).
    for (let size = 1; size <= 3; size++) {
      await cluster.addNode();
      await cluster.waitForMembers();
      log(`cluster: ${cluster.nodes.map((n) => `${n.name} pid ${n.pid} amqp ${n.amqpPort} http ${n.httpPort}`).join('; ')}`);
      if (args.skip.has('scaling')) continue;
      await sleep(1000);
      record(await measure(ctx, `scale-${size}-1`, `Quorum, ${size} node${size > 1 ? 's' : ''}, 1 queue`, 'warren-cluster', 0, replicatedPlan(ctx, true)));
      record(await measure(ctx, `scale-${size}-3`, `Quorum, ${size} node${size > 1 ? 's' : ''}, 3 queues (3 publishers, 3 consumers)`, 'warren-cluster', 0, spreadPlan(ctx, 3)));
    }

    // 1 and 2. Warren and RabbitMQ alternate; the order is reversed every other round.
    if (!args.skip.has('replicated') || !args.skip.has('classic')) {
      if (!args.skip.has('classic')) {
        const single = await startWarren(nodeArgs, undefined, 'Warren single node');
        ctx.single = single;
        cleanups.push(() => single.stop());
        log(`single-node Warren: ${single.url.replace(/\/\/[^@]*@/, '//')}, pid ${single.pid}`);
      }
      type Step = () => Promise<Measurement>;
      for (let round = 0; round < args.rounds; round++) {
        const steps: Step[] = [];
        if (!args.skip.has('replicated')) {
          steps.push(() => measure(ctx, 'q-owner', 'Warren cluster, quorum queue, publisher on the owner', 'warren-cluster', round, replicatedPlan(ctx, true)));
          if (rabbitmq !== undefined) steps.push(() => measure(ctx, 'rmq-quorum', 'RabbitMQ 1 node, quorum queue', 'rabbitmq', round, singleBrokerPlan(ctx, () => rabbitmq.url, true, 'RabbitMQ')));
          steps.push(() => measure(ctx, 'q-forwarded', 'Warren cluster, quorum queue, publisher on another node', 'warren-cluster', round, replicatedPlan(ctx, false)));
        }
        if (!args.skip.has('classic')) {
          steps.push(() => measure(ctx, 'c-single', 'Warren single node (no cluster), classic durable queue', 'warren-single', round, singleBrokerPlan(ctx, () => ctx.single!.url, false, 'single node')));
          steps.push(() => measure(ctx, 'c-owner', 'Warren cluster, classic durable queue, publisher on the owner', 'warren-cluster', round, classicPlan(ctx, true)));
          if (rabbitmq !== undefined) steps.push(() => measure(ctx, 'rmq-classic', 'RabbitMQ 1 node, classic durable queue', 'rabbitmq', round, singleBrokerPlan(ctx, () => rabbitmq.url, false, 'RabbitMQ')));
          steps.push(() => measure(ctx, 'c-forwarded', 'Warren cluster, classic durable queue, publisher on another node', 'warren-cluster', round, classicPlan(ctx, false)));
        }
        const ordered = round % 2 === 0 ? steps : [...steps].reverse();
        for (const step of ordered) {
          const crashed = await ctx.single?.ensureAlive();
          if (crashed !== undefined) log(`!! single-node Warren had died; restarted. Its last output:\n${crashed}`);
          record(await step());
        }
      }
    }

    // The same without a consumer: every message is written (a consumer that keeps up acks most
    // messages before their group commit, and those are never written). Last, as its deletes leave
    // PostgreSQL with a vacuum to do.
    if (!args.skip.has('backlog')) {
      for (let round = 0; round < args.rounds; round++) {
        const steps = [() => measure(ctx, 'q-backlog', 'Warren cluster, quorum queue, publisher on the owner, no consumer', 'warren-cluster', round, replicatedPlan(ctx, true, false))];
        if (rabbitmq !== undefined) {
          steps.push(() => measure(ctx, 'rmq-quorum-backlog', 'RabbitMQ 1 node, quorum queue, no consumer', 'rabbitmq', round, singleBrokerPlan(ctx, () => rabbitmq.url, true, 'RabbitMQ', false)));
        }
        for (const step of round % 2 === 0 ? steps : [...steps].reverse()) record(await step());
      }
    }

    // 4. Failover.
    if (!args.skip.has('failover')) {
      try {
        const rounds = [...Array.from({ length: args.failoverRounds }, () => 'kill' as const), ...Array.from({ length: args.pauseRounds }, () => 'pause' as const)];
        for (const [i, failure] of rounds.entries()) {
          log(`\n== failover round ${i + 1} (${failure}); load ${loadavg()}`);
          for (const node of cluster.nodes) if (!node.running) await node.start();
          await cluster.waitForMembers();
          await sleep(1000);
          const queue = nextQueue(ctx, 'failover');
          const r = await failoverRound(
            cluster,
            queue,
            // A paused owner is found out only when its lease (cluster.leaseMs, 10 s by default) lapses.
            { rate: args.failoverRate, window: 1000, size: 100, prefetch: 100, warmupMs: 3000, timeoutMs: failure === 'kill' ? 15_000 : 30_000 },
            (line) => log(`   ${line}`),
            failure,
          );
          (failure === 'kill' ? report.failover : report.pauseFailover).push(r);
          if (r.diagnosis !== undefined) log(`   !! the consumer got nothing after the kill:\n${r.diagnosis.replace(/^/gm, '      ')}`);
          log(
            `   first confirm ${r.firstConfirmS?.toFixed(3) ?? 'none'} s, first delivery ${r.firstDeliveryS?.toFixed(3) ?? 'none'} s, ` +
              `new owner ${r.newOwner ?? '?'} listed at ${r.ownerVisibleS?.toFixed(3) ?? 'never'} s, nacked ${r.nackedAfterKill}, ` +
              `cancelled ${r.consumerCancelled}, confirmed-not-delivered ${r.confirmedNotDelivered}${r.errors.length > 0 ? `, errors: ${r.errors.join('; ')}` : ''}`,
          );
          const survivor = cluster.living.find((n) => n.name === r.newOwner) ?? cluster.living[0]!;
          await deleteQueue(survivor.url, queue);
        }
      } catch (error) {
        report.failoverError = (error as Error).message;
        log(`failover failed: ${report.failoverError}`);
      }
    }
  } finally {
    report.loadAfter = loadavg();
    await cleanupAll();
  }
  const text = render(report);
  process.stdout.write(`\n${text}\n`);
  if (args.json !== undefined) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
}

await main();
