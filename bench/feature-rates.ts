/**
 * What priorities and message groups cost, over the network, against a Warren child process, with
 * Warren's perf client (src/perf/client.ts). Issue 4's target: a feature queue within 70% of a plain
 * queue's rate. Each feature queue is compared with a plain queue fed the very same messages (same
 * properties and headers, which the plain queue ignores), so only the queue's own work differs:
 *
 *   priority: x-max-priority 10, priorities 0..10 at random
 *   groups:   x-message-group-header, 100 groups at random (default x-message-group-max-in-flight 10,
 *             and 1 for the strictest setting)
 *
 * Per queue and round: `fill` publishes N messages (confirmed) with nobody consuming (enqueue rate),
 * `drain` lets 4 consumers (own connections, prefetch 200, `multiple` acks per socket read) take the
 * backlog (delivery rate), `live` runs the same N through 4 consumers attached before publishing
 * (end-to-end rate). Rounds alternate the queue kinds; medians are reported, then the ratios.
 *
 *   node .build/<dir>/bench/feature-rates.js [messages=200000] [rounds=3] [bodyBytes=128]
 *
 * FEATURE_RATES_GROUPS=N sets the number of message groups (default 100).
 * FEATURE_RATES_ONLY=groups,grouped runs only the scenarios whose name contains one of the words (ratios
 * need their plain scenario too); WARREN_CPU_PROF=<dir> profiles the broker (node --cpu-prof).
 * FEATURE_RATES_LIVE_ONLY=1 skips fill and drain (reported as 0): a profile then shows live delivery alone.
 */
import { cpuSeconds, startWarren } from './harness/brokers.js';
import { PerfConnection, type DeliveryHandler, type PerfChannel } from '../src/perf/client.js';
import { parseAmqpUrl, type AmqpEndpoint } from '../src/perf/url.js';
import type { BasicProperties, FieldTable } from '../src/broker/message.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const total = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
const bodyBytes = Number(process.argv[4] ?? 128);
const CONSUMERS = 4;
const PREFETCH = 200;
/** FEATURE_RATES_GROUPS: how many message groups (default 100). */
const GROUPS = Number(process.env.FEATURE_RATES_GROUPS ?? 100);
const CHUNK_BYTES = 64 * 1024;
const LIVE_ONLY = process.env.FEATURE_RATES_LIVE_ONLY === '1';

type Phase = 'fill' | 'drain' | 'live';
const PHASES: readonly Phase[] = ['fill', 'drain', 'live'];

interface Scenario {
  /** Label in the report. */
  readonly name: string;
  readonly arguments: FieldTable;
  /** Properties of message i's variant (the variants' publish frames are encoded once). */
  readonly variants: readonly BasicProperties[];
}

/** A fixed pseudo-random sequence, so every run publishes the same messages. */
function randomIndexes(count: number, range: number): Uint16Array {
  let x = 2463534242;
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % range;
  }
  return out;
}

const priorityVariants = Array.from({ length: 11 }, (_, p): BasicProperties => ({ priority: p }));
const groupVariants = Array.from({ length: GROUPS }, (_, g): BasicProperties => ({ headers: { group: `g${g}` } }));

const ALL_SCENARIOS: readonly Scenario[] = [
  { name: 'plain (priority msgs)', arguments: {}, variants: priorityVariants },
  { name: 'priority 10', arguments: { 'x-max-priority': 10 }, variants: priorityVariants },
  { name: 'plain (grouped msgs)', arguments: {}, variants: groupVariants },
  { name: `groups ${GROUPS}`, arguments: { 'x-message-group-header': 'group' }, variants: groupVariants },
  // The strictest setting, one unacked message per group: N groups mean at most N deliveries in flight
  // and a round trip per message of a group.
  {
    name: `${GROUPS} groups, 1 in flight`,
    arguments: { 'x-message-group-header': 'group', 'x-message-group-max-in-flight': 1 },
    variants: groupVariants,
  },
];

const onlyWords = process.env.FEATURE_RATES_ONLY?.split(',').filter((word) => word !== '');
const SCENARIOS = onlyWords === undefined ? ALL_SCENARIOS : ALL_SCENARIOS.filter((s) => onlyWords.some((word) => s.name.includes(word)));

/**
 * The publish stream of one scenario, pre-encoded: N messages, each the frames of a random variant,
 * cut into socket-sized chunks. Publishing is then one write per chunk, the same cost for every queue.
 */
function encodeStream(channel: PerfChannel, queue: string, variants: readonly BasicProperties[]): Buffer[] {
  const body = Buffer.alloc(bodyBytes, 120);
  const frames = variants.map((properties) => channel.makeTemplate('', queue, body, properties).batch(1, 0));
  const chunks: Buffer[] = [];
  const picks = randomIndexes(total, variants.length);
  let parts: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; i < total; i++) {
    const message = frames[picks[i]!]!;
    parts.push(message);
    bytes += message.length;
    if (bytes >= CHUNK_BYTES) {
      chunks.push(Buffer.concat(parts, bytes));
      parts = [];
      bytes = 0;
    }
  }
  if (bytes !== 0) chunks.push(Buffer.concat(parts, bytes));
  return chunks;
}

/** Counts deliveries and acks everything up to the last one after each socket read. */
class CountingConsumer implements DeliveryHandler {
  private lastTag = 0;
  private ackedTag = 0;

  constructor(
    private readonly channel: PerfChannel,
    private readonly onMessage: () => void,
  ) {}

  onDelivery(deliveryTag: number): void {
    this.lastTag = deliveryTag;
    this.onMessage();
  }

  onReadEnd(): void {
    if (this.lastTag === this.ackedTag) return;
    this.channel.ackUpTo(this.lastTag);
    this.ackedTag = this.lastTag;
  }
}

/** Writes the chunks, respecting TCP back-pressure, and resolves once the broker confirmed all N. */
function publishAll(connection: PerfConnection, channel: PerfChannel, chunks: readonly Buffer[]): Promise<void> {
  const target = channel.confirms.acked + total;
  return new Promise<void>((resolve, reject) => {
    channel.onConfirmed = () => {
      if (channel.confirms.nacked !== 0) reject(new Error(`${channel.confirms.nacked} publishes nacked`));
      else if (channel.confirms.acked === target) resolve();
    };
    let next = 0;
    const pump = (): void => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        connection.writeRaw(chunk);
        if (connection.writableLength > 1024 * 1024) return connection.whenDrained(() => setImmediate(pump));
      }
    };
    channel.confirms.published(total);
    pump();
  });
}

/** Starts the consumers; `done` resolves when together they received `expected` messages. */
async function startConsumers(endpoint: AmqpEndpoint, queue: string, expected: number, prefetch: number): Promise<{ connections: PerfConnection[]; done: Promise<void> }> {
  let received = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const connections: PerfConnection[] = [];
  for (let i = 0; i < CONSUMERS; i++) {
    const connection = await PerfConnection.connect(endpoint, { connectionName: `feature-rates consumer ${i}` });
    connections.push(connection);
    const channel = await connection.openChannel();
    await channel.qos(prefetch);
    await channel.consume(queue, false, new CountingConsumer(channel, () => {
      if (++received === expected) finish();
    }));
  }
  return { connections, done };
}

/** A phase's rate (messages/s) and the broker's CPU use meanwhile (1 = one core busy). */
interface Measured {
  rate: number;
  cpu: number;
}

/** Runs `work` (which moves N messages) and measures it; `prepare` runs first, unmeasured. */
async function measure(brokerPid: number | undefined, work: () => Promise<void>): Promise<Measured> {
  const cpuBefore = cpuSeconds(brokerPid) ?? 0;
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  return { rate: total / seconds, cpu: ((cpuSeconds(brokerPid) ?? 0) - cpuBefore) / seconds };
}

/** One round of one scenario: the three phases. */
async function runScenario(endpoint: AmqpEndpoint, brokerPid: number | undefined, scenario: Scenario, round: number): Promise<Record<Phase, Measured>> {
  const queue = `feature-rates-${round}-${scenario.name.replace(/\W+/g, '-')}`;
  const connection = await PerfConnection.connect(endpoint, { connectionName: 'feature-rates publisher' });
  try {
    const channel = await connection.openChannel();
    await channel.declareQueue(queue, { arguments: scenario.arguments });
    await channel.confirmSelect();
    const chunks = encodeStream(channel, queue, scenario.variants);

    let fill: Measured = { rate: 0, cpu: 0 };
    let drain: Measured = { rate: 0, cpu: 0 };
    if (!LIVE_ONLY) {
      fill = await measure(brokerPid, () => publishAll(connection, channel, chunks));
      let consumers: { connections: PerfConnection[]; done: Promise<void> } | undefined;
      drain = await measure(brokerPid, async () => {
        consumers = await startConsumers(endpoint, queue, total, PREFETCH);
        await consumers.done;
      });
      await Promise.all(consumers!.connections.map((c) => c.close()));
    }

    const attached = await startConsumers(endpoint, queue, total, PREFETCH);
    const live = await measure(brokerPid, async () => {
      await Promise.all([publishAll(connection, channel, chunks), attached.done]);
    });
    await Promise.all(attached.connections.map((c) => c.close()));

    await channel.deleteQueue(queue);
    return { fill, drain, live };
  } finally {
    await connection.close();
  }
}

/** Feature scenario vs the plain scenario it is compared with. */
const RATIOS: readonly (readonly [string, string])[] = [
  ['priority 10', 'plain (priority msgs)'],
  [`groups ${GROUPS}`, 'plain (grouped msgs)'],
  [`${GROUPS} groups, 1 in flight`, 'plain (grouped msgs)'],
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const k = (n: number): string => `${(n / 1000).toFixed(0)}k/s`;
const pct = (n: number): string => `${(100 * n).toFixed(0)}%`;

async function main(): Promise<void> {
  const profileDir = process.env.WARREN_CPU_PROF;
  const broker = await startWarren(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]);
  try {
    const endpoint = parseAmqpUrl(broker.url);
    const samples = SCENARIOS.map(() => PHASES.map(() => ({ rate: [] as number[], cpu: [] as number[] })));
    // A warm-up round (not counted): the broker's and the client's JIT see every path first.
    for (const scenario of SCENARIOS) await runScenario(endpoint, broker.pid, scenario, -1);
    for (let round = 0; round < rounds; round++) {
      for (const [i, scenario] of SCENARIOS.entries()) {
        const result = await runScenario(endpoint, broker.pid, scenario, round);
        PHASES.forEach((phase, p) => {
          samples[i]![p]!.rate.push(result[phase].rate);
          samples[i]![p]!.cpu.push(result[phase].cpu);
        });
        const line = PHASES.map((p) => `${p} ${k(result[p].rate)} (cpu ${pct(result[p].cpu)})`).join('  ');
        console.log(`round ${round + 1} ${scenario.name.padEnd(22)} ${line}`);
      }
    }
    const medians = samples.map((phases) => phases.map((m) => ({ rate: median(m.rate), cpu: median(m.cpu) })));
    console.log(`\n${total} messages of ${bodyBytes} B, ${CONSUMERS} consumers (prefetch ${PREFETCH}), median of ${rounds} rounds;`);
    console.log('rate (broker CPU, 100% = one core)');
    console.log(`${'queue'.padEnd(22)} ${PHASES.map((p) => p.padStart(16)).join(' ')}`);
    for (const [i, scenario] of SCENARIOS.entries()) {
      const cells = medians[i]!.map((m) => `${k(m.rate)} (${pct(m.cpu)})`.padStart(16));
      console.log(`${scenario.name.padEnd(22)} ${cells.join(' ')}`);
    }
    for (const [featureName, plainName] of RATIOS) {
      const feature = SCENARIOS.findIndex((s) => s.name === featureName);
      const plain = SCENARIOS.findIndex((s) => s.name === plainName);
      if (feature < 0 || plain < 0) continue;
      const ratios = PHASES.map((phase, p) => `${phase} ${pct(medians[feature]![p]!.rate / medians[plain]![p]!.rate)}`);
      console.log(`${SCENARIOS[feature]!.name} vs ${SCENARIOS[plain]!.name}: ${ratios.join('  ')}  (target >= 70%)`);
    }
  } finally {
    await broker.stop();
  }
}

await main();
