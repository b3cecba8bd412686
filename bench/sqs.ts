/**
 * The SQS door against SQS emulators from npm, side by side in one run, with the same client
 * (@aws-sdk/client-sqs, JSON protocol, keep-alive):
 *   - throughput: producers send SendMessageBatch (10 x 100 B) while consumers loop ReceiveMessage(10,
 *     long poll) + DeleteMessageBatch; messages deleted per second.
 *   - latency: SendMessage at a fixed rate (default 1,000 msg/s) while receives wait (WaitTimeSeconds 20);
 *     time from just before SendMessage to the waiting ReceiveMessage returning it, p50/p99.
 * Every server runs in a child process of its own. Warren runs as `warren server --sqs-port 0` on a
 * temp data dir (SQS queues are durable: every send is answered after fdatasync), and again with
 * `--store-sync periodic` (answered once written to the OS).
 *
 *   npm install --prefix bench/.emulators fauxqs local-aws-sqs   # once
 *   npx tsc -p . && node dist/bench/sqs.js [--duration 5] [--rate 1000] [--targets warren,warren-periodic,fauxqs,local-aws-sqs]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

interface Target {
  name: string;
  start(): Promise<{ endpoint: string; stop: () => void; credentials: { accessKeyId: string; secretAccessKey: string } }>;
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

function warren(name: string, extra: string[]): Target {
  return {
    name,
    async start() {
      const dataDir = mkdtempSync(join(tmpdir(), 'warren-sqs-bench-'));
      const child = spawn(process.execPath, ['dist/src/cli/main.js', 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--sqs-host', '127.0.0.1', '--sqs-port', '0', '--data-dir', dataDir, '--log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      const [, port] = await waitForLine(child, /SQS listening on \S+?:(\d+)/);
      return {
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'guest', secretAccessKey: 'guest' },
        stop: () => {
          child.kill('SIGKILL');
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
      return { endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, stop: () => child.kill('SIGKILL') };
    },
  };
}

const TARGETS: Record<string, Target> = {
  warren: warren('Warren', []),
  'warren-periodic': warren('Warren (--store-sync periodic)', ['--store-sync', 'periodic']),
  fauxqs: emulator('fauxqs'),
  'local-aws-sqs': emulator('local-aws-sqs'),
};

function client(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) }),
  });
}

const BODY = 'x'.repeat(100);
/** Wall-clock ms with sub-ms resolution, comparable across processes on one machine. */
const now = (): number => performance.timeOrigin + performance.now();

/**
 * The load runs in child processes of this script (one SDK client each): a single Node process
 * tops out at a few hundred SDK calls per second, which would measure the client, not the server.
 */
async function role(name: string, endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, queueUrl: string, startAt: number, endAt: number, rate: number): Promise<unknown> {
  const sqs = client(endpoint, credentials);
  const measuring = (): boolean => { const t = now(); return t >= startAt && t < endAt; };
  if (startAt > now()) await sleep(startAt - now());
  if (name === 'produce') {
    let n = 0;
    const loop = async (): Promise<void> => {
      while (now() < endAt) await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `${n++}-${BODY}` })) }));
    };
    await Promise.all([loop(), loop(), loop(), loop()]);
    return { sent: n };
  }
  if (name === 'consume') {
    let deleted = 0;
    const loop = async (): Promise<void> => {
      while (now() < endAt) {
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        const messages = got.Messages ?? [];
        if (messages.length === 0) continue;
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })) }));
        if (measuring()) deleted += messages.length;
      }
    };
    await Promise.all([loop(), loop(), loop(), loop()]);
    return { deleted };
  }
  if (name === 'send-rate') {
    const interval = 1000 / rate;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; ; i++) {
      const due = startAt + i * interval;
      if (due >= endAt) break;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
      sends.push(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: String(now()) })));
    }
    await Promise.all(sends);
    return { sent: sends.length };
  }
  if (name === 'receive-latency') {
    const samples: number[] = [];
    let lastGot = endAt;
    const loop = async (): Promise<void> => {
      // Until the senders' backlog is drained: nothing received for 3 s after the window.
      while (now() < endAt + 1000 || now() - lastGot < 3000) {
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        const at = now();
        if ((got.Messages?.length ?? 0) > 0) lastGot = at;
        for (const m of got.Messages ?? []) {
          samples.push(at - Number(m.Body));
          sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! })).catch(() => undefined);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, loop));
    return { samples };
  }
  throw new Error(`unknown role ${name}`);
}

function runRoles(roles: string[], endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, queueUrl: string, window: number, rate: number): Promise<unknown[]> {
  const started = new Set<ChildProcess>();
  return Promise.all(
    roles.map(
      (name) =>
        new Promise<unknown>((resolve, reject) => {
          const child = spawn(process.execPath, [process.argv[1]!, '--role', name, '--endpoint', endpoint, '--key', JSON.stringify(credentials), '--queue', queueUrl, '--rate', String(rate)], { stdio: ['pipe', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
            if (out.includes('ready\n') && !started.has(child)) {
              started.add(child);
              if (started.size === roles.length) {
                // Every child has loaded its client: the window starts for all at once.
                const startAt = now() + 300;
                for (const c of started) c.stdin?.end(`${startAt} ${startAt + window}\n`);
              }
            }
          });
          child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`${name} exited ${code}`))));
        }),
    ),
  );
}

async function throughput(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, queueUrl: string, seconds: number): Promise<number> {
  const results = (await runRoles(['produce', 'produce', 'consume', 'consume'], endpoint, credentials, queueUrl, seconds * 1000, 0)) as Array<{ deleted?: number }>;
  return results.reduce((n, r) => n + (r.deleted ?? 0), 0) / seconds;
}

async function latency(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, queueUrl: string, seconds: number, rate: number): Promise<{ p50: number; p99: number; samples: number }> {
  const results = (await runRoles(['receive-latency', 'send-rate', 'send-rate'], endpoint, credentials, queueUrl, seconds * 1000, rate / 2)) as Array<{ samples?: number[] }>;
  const samples = results.flatMap((r) => r.samples ?? []).sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), samples: samples.length };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      rate: { type: 'string', default: '1000' },
      targets: { type: 'string', default: 'warren,warren-periodic,fauxqs,local-aws-sqs' },
      role: { type: 'string' },
      endpoint: { type: 'string' },
      key: { type: 'string' },
      queue: { type: 'string' },
    },
  });
  if (values.role !== undefined) {
    // Load the client, say so, then wait for the window every child shares.
    client(values.endpoint!, JSON.parse(values.key!) as { accessKeyId: string; secretAccessKey: string }).destroy();
    process.stdout.write('ready\n');
    let line = '';
    for await (const chunk of process.stdin) line += String(chunk);
    const [startAt, endAt] = line.trim().split(' ').map(Number) as [number, number];
    const result = await role(values.role, values.endpoint!, JSON.parse(values.key!) as { accessKeyId: string; secretAccessKey: string }, values.queue!, startAt, endAt, Number(values.rate));
    console.log(JSON.stringify(result));
    process.exit(0);
  }
  const seconds = Number(values.duration);
  const rate = Number(values.rate);
  const rows: string[] = [];
  console.log(`# SQS benchmark: ${os.cpus().length} CPUs, loadavg before: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  for (const key of values.targets.split(',')) {
    const target = TARGETS[key];
    if (target === undefined) throw new Error(`unknown target ${key}`);
    let server: Awaited<ReturnType<Target['start']>> | undefined;
    try {
      server = await target.start();
      const sqs = client(server.endpoint, server.credentials);
      const a = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-throughput' }));
      const perSecond = await throughput(server.endpoint, server.credentials, a.QueueUrl!, seconds);
      const b = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-latency' }));
      const lat = await latency(server.endpoint, server.credentials, b.QueueUrl!, seconds, rate);
      sqs.destroy();
      rows.push(`| ${target.name} | ${Math.round(perSecond)} | ${lat.p50.toFixed(2)} | ${lat.p99.toFixed(2)} | ${lat.samples} |`);
      console.log(rows[rows.length - 1]);
    } catch (error) {
      rows.push(`| ${target.name} | failed: ${String(error).slice(0, 120)} | | | |`);
      console.log(rows[rows.length - 1]);
    } finally {
      server?.stop();
    }
  }
  console.log(`\n| server | send+receive+delete msg/s | latency p50 ms @${rate}/s | p99 ms | samples |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}`);
  console.log(`loadavg after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
}

void main();
