/**
 * The SQS door against SQS emulators from npm, side by side in one run, with the same load client:
 *   - check: the real @aws-sdk/client-sqs (JSON protocol) sends a batch with message attributes,
 *     receives and deletes it; the SDK verifies every MD5, so a server that answers wrong fails here.
 *   - throughput: producer workers loop SendMessageBatch (10 x 100 B) while consumer workers loop
 *     ReceiveMessage(10, long poll 1 s) + DeleteMessageBatch; messages deleted per second over the
 *     window (producers hold back once 5,000 messages wait, so the queue stays short).
 *   - latency: SendMessage at a fixed rate (default 1,000 msg/s) while receives wait (WaitTimeSeconds
 *     20); time from just before SendMessage to the waiting ReceiveMessage returning it, p50/p99 over
 *     the messages sent after the first second (warm-up: sockets opening, JIT), for `--duration` seconds.
 * The load is bench/sqs/lean-client.ts (SigV4-signed JSON 1.0 over keep-alive sockets) in worker
 * threads (bench/sqs/load-worker.ts): the SDK itself tops out at a few hundred calls per second per
 * process, which made the previous run measure the client. Every server runs in a child process of
 * its own, one after the other (in reverse order every other round). Warren runs as
 * `warren server --sqs-port 0` on a temp data dir (SQS queues are durable: every send is answered
 * after fdatasync), and again with `--store-sync periodic`.
 *
 *   npm run bench:sqs:emulators   # once: installs fauxqs and local-aws-sqs into bench/.emulators
 *   npx tsc -p . && node dist/bench/sqs.js [--duration 5] [--rate 1000 (0 skips the latency phase)] [--rounds 1]
 *       [--targets warren,warren-periodic,fauxqs,local-aws-sqs] [--producers 2] [--consumers 2] [--loops 8]
 *       [--warren-args='--cpu-prof --cpu-prof-dir=/tmp/prof']   (node flags for Warren's process)
 *       [--baseline DIR]   (an earlier build, bench/baseline.sh REV DIR: targets warren-baseline, warren-baseline-periodic)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseBenchArgs } from './harness/usage.js';
import { Worker } from 'node:worker_threads';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LeanCredentials } from './sqs/lean-client.js';
import type { RoleOptions } from './sqs/load-worker.js';

interface Server {
  endpoint: string;
  pid: number;
  credentials: LeanCredentials;
  stop: () => Promise<void>;
}

interface Target {
  name: string;
  start(): Promise<Server>;
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in 30 s: ${out}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = out.match(pattern);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

/** SIGTERM first (so --cpu-prof writes its profile), SIGKILL after 5 s. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function warren(name: string, extra: string[], nodeArgs: () => string[], main = 'dist/src/cli/main.js'): Target {
  return {
    name,
    async start() {
      const dataDir = mkdtempSync(join(tmpdir(), 'warren-sqs-bench-'));
      const child = spawn(process.execPath, [...nodeArgs(), main, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--sqs-host', '127.0.0.1', '--sqs-port', '0', '--data-dir', dataDir, '--log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      const [, port] = await waitForLine(child, /SQS listening on \S+?:(\d+)/);
      return {
        endpoint: `http://127.0.0.1:${port}`,
        pid: child.pid!,
        credentials: { accessKeyId: 'guest', secretAccessKey: 'guest' },
        stop: async () => {
          await stopChild(child);
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}

function emulator(name: string): Target {
  return {
    name,
    async start() {
      const child = spawn(process.execPath, ['dist/bench/sqs/emulator-server.js', name], { stdio: ['ignore', 'pipe', 'pipe'] });
      const [, port] = await waitForLine(child, /listening (\d+)/);
      return { endpoint: `http://127.0.0.1:${port}`, pid: child.pid!, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, stop: () => stopChild(child) };
    },
  };
}

const now = (): number => performance.timeOrigin + performance.now();

/** The real SDK against the server: a batch with attributes out, received (MD5s checked by the SDK) and deleted. */
async function sdkCheck(server: Server, queueUrl: string): Promise<void> {
  const sqs = new SQSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: server.credentials, maxAttempts: 1 });
  try {
    const bodies = Array.from({ length: 10 }, (_, i) => `check-${i}-${'é'.repeat(i)}`);
    const sent = await sqs.send(new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, i) => ({ Id: `c${i}`, MessageBody: body, MessageAttributes: { n: { DataType: 'Number', StringValue: String(i) }, s: { DataType: 'String', StringValue: 'v' } } })),
    }));
    if ((sent.Successful?.length ?? 0) !== 10) throw new Error(`SDK check: ${sent.Failed?.length ?? '?'} of 10 sends failed`);
    const got = new Set<string>();
    for (let i = 0; i < 20 && got.size < 10; i++) {
      const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
      const messages = answer.Messages ?? [];
      for (const m of messages) got.add(m.Body!);
      if (messages.length > 0) {
        const deleted = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, j) => ({ Id: `d${j}`, ReceiptHandle: m.ReceiptHandle! })) }));
        if ((deleted.Failed?.length ?? 0) > 0) throw new Error('SDK check: DeleteMessageBatch failed');
      }
    }
    if (bodies.some((b) => !got.has(b))) throw new Error(`SDK check: received ${got.size} of 10 bodies`);
  } finally {
    sqs.destroy();
  }
}

interface WorkerResult {
  errors: number;
  firstError?: string;
  samples?: number[];
}

function startRoles(roles: Array<Pick<RoleOptions, 'role' | 'loops'>>, server: Server, queueUrl: string, rate: number, backlog: number, sampleFrom = 0): { counters: Int32Array; stopAt: Float64Array; done: Promise<WorkerResult[]> } {
  const countersBuffer = new SharedArrayBuffer(12);
  const stopBuffer = new SharedArrayBuffer(8);
  const stopAt = new Float64Array(stopBuffer);
  stopAt[0] = Infinity;
  const done = Promise.all(roles.map((r) => new Promise<WorkerResult>((resolve, reject) => {
    const data: RoleOptions = { ...r, endpoint: server.endpoint, credentials: server.credentials, queueUrl, rate, backlog, sampleFrom, counters: countersBuffer, stopAt: stopBuffer };
    const worker = new Worker(new URL('./sqs/load-worker.js', import.meta.url), { workerData: data });
    worker.once('message', (m: WorkerResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  })));
  return { counters: new Int32Array(countersBuffer), stopAt, done };
}

function summarizeErrors(results: WorkerResult[]): string {
  const errors = results.reduce((n, r) => n + r.errors, 0);
  return errors === 0 ? '' : `${errors} errors (${results.find((r) => r.firstError !== undefined)?.firstError})`;
}

async function throughput(server: Server, queueUrl: string, seconds: number, producers: number, consumers: number, loops: number): Promise<{ rate: number; serverCpuUs: number; clientCpuUs: number; perReceive: number; errors: string }> {
  const roles = [
    ...Array.from({ length: producers }, () => ({ role: 'produce' as const, loops })),
    ...Array.from({ length: consumers }, () => ({ role: 'consume' as const, loops })),
  ];
  const run = startRoles(roles, server, queueUrl, 0, 5000);
  await sleep(1500); // warm up: sockets open, JIT warm
  const startCount = Atomics.load(run.counters, 1);
  const startReceives = Atomics.load(run.counters, 2);
  const startAt = now();
  const serverCpu = cpuSeconds(server.pid);
  const clientCpu = ownCpuSeconds();
  await sleep(seconds * 1000);
  const deleted = Atomics.load(run.counters, 1) - startCount;
  const receives = Atomics.load(run.counters, 2) - startReceives;
  const elapsed = (now() - startAt) / 1000;
  const perMessage = (cpu: number): number => (cpu * 1e6) / Math.max(1, deleted);
  const serverCpuUs = perMessage(cpuSeconds(server.pid) - serverCpu);
  const clientCpuUs = perMessage(ownCpuSeconds() - clientCpu);
  run.stopAt[0] = now();
  const results = await run.done;
  return { rate: deleted / elapsed, serverCpuUs, clientCpuUs, perReceive: deleted / Math.max(1, receives), errors: summarizeErrors(results) };
}

/** Messages sent in the latency phase's first second are not sampled: sockets open and the JIT warms then. */
const LATENCY_WARM_UP_MS = 1000;

async function latency(server: Server, queueUrl: string, seconds: number, rate: number, loops: number): Promise<{ p50: number; p99: number; samples: number; sent: number; errors: string }> {
  const run = startRoles([{ role: 'receive-latency', loops }, { role: 'send-rate', loops: 1 }], server, queueUrl, rate, 0, now() + LATENCY_WARM_UP_MS);
  await sleep(LATENCY_WARM_UP_MS + seconds * 1000);
  run.stopAt[0] = now();
  const results = await run.done;
  const samples = results.flatMap((r) => r.samples ?? []).sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), samples: samples.length, sent: Atomics.load(run.counters, 0), errors: summarizeErrors(results) };
}

/** CPU seconds (user + system) a process has used so far: /proc/PID/stat fields 14 and 15, in clock ticks of 10 ms. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** This process's CPU seconds (every thread: the load workers too). */
function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function main(): Promise<void> {
  const { values } = parseBenchArgs(import.meta.url, {
    options: {
      duration: { type: 'string', default: '5' },
      rate: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '1' },
      targets: { type: 'string', default: 'warren,warren-periodic,fauxqs,local-aws-sqs' },
      producers: { type: 'string', default: '2' },
      consumers: { type: 'string', default: '2' },
      loops: { type: 'string', default: '8' },
      'warren-args': { type: 'string', default: '' },
      baseline: { type: 'string' },
    },
  });
  const warrenNodeArgs = (): string[] => values['warren-args'].split(' ').filter((a) => a !== '');
  const targets: Record<string, Target> = {
    warren: warren('Warren', [], warrenNodeArgs),
    'warren-periodic': warren('Warren (--store-sync periodic)', ['--store-sync', 'periodic'], warrenNodeArgs),
    fauxqs: emulator('fauxqs'),
    'local-aws-sqs': emulator('local-aws-sqs'),
  };
  if (values.baseline !== undefined) {
    const main = join(resolve(values.baseline), 'dist/src/cli/main.js');
    if (!existsSync(main)) throw new Error(`${main} does not exist: build the baseline first (bench/baseline.sh REV ${values.baseline})`);
    targets['warren-baseline'] = warren('Warren (baseline)', [], warrenNodeArgs, main);
    targets['warren-baseline-periodic'] = warren('Warren (baseline, --store-sync periodic)', ['--store-sync', 'periodic'], warrenNodeArgs, main);
  }
  const seconds = Number(values.duration);
  const rate = Number(values.rate);
  const loops = Number(values.loops);
  const rows: string[] = [];
  console.log(`# SQS benchmark: ${os.cpus().length} CPUs, ${values.producers} producer + ${values.consumers} consumer worker threads x ${loops} concurrent calls, loadavg before: ${loadavg()}`);
  for (let round = 1; round <= Number(values.rounds); round++) {
    // Every other round runs the targets in reverse: on a machine whose load drifts, going first is not always the same server's luck.
    const keys = values.targets.split(',');
    for (const key of round % 2 === 1 ? keys : keys.reverse()) {
      const target = targets[key];
      if (target === undefined) throw new Error(`unknown target ${key}`);
      let server: Server | undefined;
      const before = loadavg();
      try {
        server = await target.start();
        const sqs = new SQSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: server.credentials, maxAttempts: 1 });
        const names = { check: `bench-check-${round}`, throughput: `bench-throughput-${round}`, latency: `bench-latency-${round}` };
        const urls: Record<string, string> = {};
        for (const [k, name] of Object.entries(names)) urls[k] = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
        sqs.destroy();
        await sdkCheck(server, urls['check']!);
        const t = await throughput(server, urls['throughput']!, seconds, Number(values.producers), Number(values.consumers), loops);
        const l = seconds > 0 && rate > 0 ? await latency(server, urls["latency"]!, seconds, rate, 16) : { p50: NaN, p99: NaN, samples: 0, sent: 0, errors: "" };
        const notes = [`${t.perReceive.toFixed(1)} msg/receive`, t.errors, l.errors, rate > 0 && l.sent < rate * seconds * 0.9 ? `sent only ${l.sent} of ${rate * seconds}` : ''].filter((n) => n !== '').join('; ');
        rows.push(`| ${target.name} | ${round} | ${Math.round(t.rate)} | ${Math.round(t.serverCpuUs)} | ${Math.round(t.clientCpuUs)} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.samples} | ${before} -> ${loadavg()} | ${notes} |`);
      } catch (error) {
        rows.push(`| ${target.name} | ${round} | failed: ${String(error).slice(0, 160)} | | | | | | ${before} | |`);
      } finally {
        await server?.stop();
      }
      console.log(rows[rows.length - 1]);
    }
  }
  console.log(`\n| server | round | send+receive+delete msg/s | server CPU us/msg | load client CPU us/msg | latency p50 ms @${rate}/s | p99 ms (after 1 s warm-up) | samples | load (1/5/15 min) before -> after | notes |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}`);
}

void main();
