/**
 * Stream queues over AMQP 0-9-1, Warren against RabbitMQ, same client (amqplib), one run: publish N
 * messages of B bytes with confirms (a window of W in flight) to a fresh stream, then replay them from
 * `first` with a consumer (prefetch P, acks with multiple every 100). Warren runs as a child process
 * (the CLI, on a temp data dir, fsync before confirms) so that client and broker do not share a thread,
 * as with RabbitMQ. Start RabbitMQ first: `bash bench/rabbitmq.sh start`.
 *   npx tsc -p . && node dist/bench/streams.js [messages=100000] [bytes=100] [window=1000] [prefetch=1000] [rabbitUrl]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const total = Number(process.argv[2] ?? 100_000);
const bytes = Number(process.argv[3] ?? 100);
const windowSize = Number(process.argv[4] ?? 1000);
const prefetch = Number(process.argv[5] ?? 1000);
const rabbitUrl = process.argv[6] ?? 'amqp://guest:guest@127.0.0.1:5672';

interface Result {
  publishPerSecond: number;
  replayPerSecond: number;
}

async function publish(ch: amqp.ConfirmChannel, queue: string): Promise<number> {
  const body = Buffer.alloc(bytes, 120);
  const started = process.hrtime.bigint();
  let confirmed = 0;
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (sent < total && sent - confirmed < windowSize) {
        sent++;
        ch.sendToQueue(queue, body, {}, (error: unknown) => {
          if (error) return reject(error as Error);
          confirmed++;
          if (confirmed === total) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function replay(ch: amqp.Channel, queue: string): Promise<number> {
  await ch.prefetch(prefetch);
  const started = process.hrtime.bigint();
  let received = 0;
  await new Promise<void>((resolve) => {
    void ch.consume(queue, (m) => {
      if (m === null) return;
      received++;
      if (received % 100 === 0 || received === total) ch.ack(m, true);
      if (received === total) resolve();
    }, { arguments: { 'x-stream-offset': 'first' } });
  });
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function run(url: string): Promise<Result> {
  const conn = await amqp.connect(url);
  try {
    const queue = `bench-stream-${process.pid}-${Date.now()}`;
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    const publishPerSecond = await publish(pub, queue);
    const consumer = await conn.createChannel();
    const replayPerSecond = await replay(consumer, queue);
    await pub.deleteQueue(queue);
    return { publishPerSecond, replayPerSecond };
  } finally {
    await conn.close();
  }
}

async function startWarren(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /AMQP listening on (\S+):(\d+)/.exec(out);
      if (match) resolve(match[2]!);
    });
    child.on('exit', () => reject(new Error(`warren exited: ${out}`)));
  });
  return { child, url: `amqp://guest:guest@127.0.0.1:${port}` };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-streams-'));
const warren = await startWarren(dataDir);
try {
  console.log(`streams over AMQP: ${fmt(total)} x ${bytes} B, confirm window ${windowSize}, prefetch ${prefetch}; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const w = await run(warren.url);
  const r = await run(rabbitUrl);
  console.log(`| broker | publish msg/s (confirmed) | replay msg/s |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| Warren | ${fmt(w.publishPerSecond)} | ${fmt(w.replayPerSecond)} |`);
  console.log(`| RabbitMQ | ${fmt(r.publishPerSecond)} | ${fmt(r.replayPerSecond)} |`);
  console.log(`| ratio | ${(w.publishPerSecond / r.publishPerSecond).toFixed(2)}x | ${(w.replayPerSecond / r.replayPerSecond).toFixed(2)}x |`);
} finally {
  warren.child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
