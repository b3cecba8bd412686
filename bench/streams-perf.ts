/**
 * Stream queues over AMQP 0-9-1 with Warren's own load client (`warren perf --queue-type stream`), so
 * the client is not the ceiling the way amqplib is: Warren (a child process, fsync before confirms)
 * against RabbitMQ's stream queues, side by side in one run.
 *
 * 1. publish: N messages of B bytes with confirms (window W), no consumer.
 * 2. replay: one consumer from `first` over that backlog for R seconds (prefetch P).
 * 3. writers and an old reader: the publisher again for R seconds while a second consumer replays the
 *    backlog from `first`; the publish rate against phase 1's says whether old reads slow the writers.
 *    The broker's RSS is sampled meanwhile (a replay must not pull the log into memory).
 * 4. live traffic at a fixed rate: a publisher at F msg/s and a consumer at the tail (`next`), alone and
 *    then beside a replay from `first`: the rate kept and the live consumer's latency. On 2 cores phase 3
 *    runs three busy processes (writer, reader, broker), so its writers lose CPU to the reader's client
 *    too; at a rate below saturation the question is only whether the replay disturbs live traffic.
 *
 * Start RabbitMQ first (`bash bench/rabbitmq.sh start`, or WARREN_RABBITMQ_PORT=5692 for a node of its own):
 *   npx tsc -p . && node dist/bench/streams-perf.js [--rabbitmq URL] [--messages N] [--bytes B] [--window W]
 *     [--prefetch P] [--seconds R] [--fixed-rate F] [--warren-only] [--cpu-prof DIR]
 */
import { readFileSync } from 'node:fs';
import { parseBenchArgs } from './harness/usage.js';
import amqp from 'amqplib';
import { runPerf } from '../src/perf/runner.js';
import type { PerfOptions } from '../src/perf/options.js';
import { externalBroker, rssBytes, startWarren } from './harness/brokers.js';

const { values: args } = parseBenchArgs(import.meta.url, {
  options: {
    rabbitmq: { type: 'string', default: 'amqp://guest:guest@127.0.0.1:5672' },
    messages: { type: 'string', default: '1000000' },
    bytes: { type: 'string', default: '100' },
    window: { type: 'string', default: '2000' },
    prefetch: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    'fixed-rate': { type: 'string', default: '20000' },
    'warren-only': { type: 'boolean', default: false },
    /** Write Warren's CPU profile into this folder (summarise it with bench/profile-top.ts). */
    'cpu-prof': { type: 'string' },
  },
});
const messages = Number(args.messages);
const seconds = Number(args.seconds);

interface Figures {
  publish: number;
  replay: number;
  replayAll: boolean;
  publishBesideReplay: number;
  replayBesidePublish: number;
  live: LiveFigures;
  liveBesideReplay: LiveFigures;
  rssMiB: { before: number; peak: number } | undefined;
}

function options(url: string, prefix: string, more: Partial<PerfOptions>): Partial<PerfOptions> {
  return {
    url, queueType: 'stream', queuePrefix: prefix, keepQueues: true, reportIntervalS: 0, size: Number(args.bytes),
    confirm: Number(args.window), prefetch: Number(args.prefetch), workers: 'process', ...more,
  };
}

interface LiveFigures {
  rate: number;
  p50Ms: number;
  p99Ms: number;
}

function live(result: { publishRate: number; latency: { p50: number; p99: number } }): LiveFigures {
  return { rate: result.publishRate, p50Ms: result.latency.p50 / 1000, p99Ms: result.latency.p99 / 1000 };
}

function rssMiB(pid: number | undefined): number | undefined {
  const bytes = rssBytes(pid);
  return bytes === undefined ? undefined : bytes / 2 ** 20;
}

async function measure(url: string, pid: number | undefined): Promise<Figures> {
  const prefix = `bench-streams-perf-${process.pid}-${Date.now()}`;
  const filled = await runPerf(options(url, prefix, { consumers: 0, messagesPerPublisher: messages, durationS: 0 }));
  const replayed = await runPerf(options(url, prefix, { publishers: 0, consumers: 1, durationS: seconds }));
  const before = rssMiB(pid) ?? 0;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid) ?? 0)), 200);
  const [writer, reader] = await Promise.all([
    runPerf(options(url, prefix, { consumers: 0, durationS: seconds })),
    runPerf(options(url, prefix, { publishers: 0, consumers: 1, durationS: seconds })),
  ]);
  clearInterval(sampler);
  const liveTraffic = (): Partial<PerfOptions> => ({ rate: Number(args['fixed-rate']), streamOffset: 'next', durationS: seconds });
  const liveAlone = await runPerf(options(url, prefix, liveTraffic()));
  const [liveBeside] = await Promise.all([
    runPerf(options(url, prefix, liveTraffic())),
    runPerf(options(url, prefix, { publishers: 0, consumers: 1, durationS: seconds })),
  ]);
  const connection = await amqp.connect(url);
  await (await connection.createChannel()).deleteQueue(`${prefix}-0`);
  await connection.close();
  return {
    publish: filled.publishRate,
    replay: replayed.consumeRate,
    replayAll: replayed.totals.consumed >= messages,
    publishBesideReplay: writer.publishRate,
    replayBesidePublish: reader.consumeRate,
    live: live(liveAlone),
    liveBesideReplay: live(liveBeside),
    rssMiB: pid === undefined ? undefined : { before, peak },
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

const warren = await startWarren(args['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`]);
try {
  console.log(`stream queues, warren perf as the client: ${fmt(messages)} x ${args.bytes} B, confirm window ${args.window}, prefetch ${args.prefetch}, ${seconds} s phases`);
  console.log(`load before: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const w = await measure(warren.url, warren.pid);
  const rabbit = args['warren-only'] ? undefined : externalBroker('RabbitMQ', args.rabbitmq);
  const r = rabbit === undefined ? undefined : await measure(rabbit.url, rabbit.pid);
  console.log(`load after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const replay = (f: Figures): string => `${f.replayAll ? '>= ' : ''}${fmt(f.replay)}`;
  const rss = (f: Figures): string => (f.rssMiB === undefined ? 'not sampled' : `${f.rssMiB.before.toFixed(0)} -> ${f.rssMiB.peak.toFixed(0)}`);
  console.log('| broker | publish msg/s | replay msg/s | publish beside a replay | that replay msg/s | RSS MiB during it |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const rows: [string, Figures][] = r === undefined ? [['Warren', w]] : [['Warren', w], ['RabbitMQ', r]];
  for (const [name, f] of rows) {
    console.log(`| ${name} | ${fmt(f.publish)} | ${replay(f)} | ${fmt(f.publishBesideReplay)} (${ratio(f.publishBesideReplay, f.publish)} of alone) | ${fmt(f.replayBesidePublish)} | ${rss(f)} |`);
  }
  if (r !== undefined) console.log(`| Warren / RabbitMQ | ${ratio(w.publish, r.publish)} | ${ratio(w.replay, r.replay)} | ${ratio(w.publishBesideReplay, r.publishBesideReplay)} | ${ratio(w.replayBesidePublish, r.replayBesidePublish)} | |`);
  console.log('');
  console.log(`live traffic at ${fmt(Number(args['fixed-rate']))} msg/s (publisher + consumer from next), alone and beside a replay from first:`);
  console.log('| broker | rate alone | p50 / p99 ms alone | rate beside a replay | p50 / p99 ms beside a replay |');
  console.log('| --- | --- | --- | --- | --- |');
  const ms = (f: LiveFigures): string => `${f.p50Ms.toFixed(2)} / ${f.p99Ms.toFixed(2)}`;
  for (const [name, f] of rows) {
    console.log(`| ${name} | ${fmt(f.live.rate)} | ${ms(f.live)} | ${fmt(f.liveBesideReplay.rate)} | ${ms(f.liveBesideReplay)} |`);
  }
} finally {
  await warren.stop();
}
