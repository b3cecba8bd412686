/**
 * Shovel throughput, side by side in one run: Warren -> Warren (Warren's shovel), RabbitMQ -> Warren
 * (Warren's shovel pulling from RabbitMQ), and RabbitMQ -> RabbitMQ (RabbitMQ's own shovel plugin).
 * Each shovel runs on the destination broker with ack-mode on-confirm and the default prefetch (1000);
 * the source queue is filled with N persistent messages first, then the shovel is created and the time
 * until the destination queue holds all N is measured (a passive queue.declare every 20 ms).
 *
 *   npx tsc -p . && node dist/bench/shovel.js [N=50000] [bodyBytes=256]
 *
 * RabbitMQ nodes are Debian's rabbitmq-server on their own ports (test/helpers/rabbitmq.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { rabbitmqMissing, startRabbit } from '../test/helpers/rabbitmq.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const N = Number(process.argv[2] ?? 50_000);
const BODY = Buffer.alloc(Number(process.argv[3] ?? 256), 'x');
const WARREN_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

interface Peer {
  name: string;
  url: string;
  api(method: string, path: string, body?: unknown): Promise<number>;
  close(): Promise<void>;
}

async function startWarren(name: string): Promise<Peer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-shovel-'));
  const child: ChildProcess = spawn(process.execPath, [WARREN_MAIN, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ports = await new Promise<{ amqp: string; http: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const amqpPort = /AMQP listening on [^:\s]+:(\d+)/.exec(output)?.[1];
      const httpPort = /HTTP listening on [^:\s]+:(\d+)/.exec(output)?.[1];
      if (amqpPort !== undefined && httpPort !== undefined) {
        clearTimeout(timer);
        resolve({ amqp: amqpPort, http: httpPort });
      }
    });
  });
  const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  return {
    name,
    url: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
    api: async (method, path, body) =>
      (await fetch(`http://127.0.0.1:${ports.http}${path}`, { method, headers: { authorization: auth, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })).status,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function fill(url: string, queue: string): Promise<void> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (let i = 0; i < N; i++) {
    channel.sendToQueue(queue, BODY, { persistent: true });
    if (i % 2000 === 1999) await channel.waitForConfirms();
  }
  await channel.waitForConfirms();
  await connection.close();
}

/** Seconds from creating the shovel on `dest` until its queue holds all N messages. */
async function shovelRun(source: Peer, dest: Peer, label: string): Promise<{ label: string; seconds: number; rate: number }> {
  const queue = `bench-${label.replace(/\W+/g, '-')}`;
  await fill(source.url, queue);
  const probe = await amqp.connect(dest.url);
  const channel = await probe.createChannel();
  await channel.assertQueue(queue, { durable: true });
  const start = process.hrtime.bigint();
  const status = await dest.api('PUT', `/api/parameters/shovel/%2F/${queue}`, {
    value: { 'src-uri': source.url, 'src-queue': queue, 'dest-uri': 'amqp://', 'dest-queue': queue, 'ack-mode': 'on-confirm' },
  });
  if (status >= 300) throw new Error(`${dest.name}: shovel not created (${status})`);
  while ((await channel.checkQueue(queue)).messageCount < N) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await probe.close();
  await dest.api('DELETE', `/api/parameters/shovel/%2F/${queue}`);
  return { label, seconds, rate: N / seconds };
}

async function main(): Promise<void> {
  if (rabbitmqMissing !== false) throw new Error(rabbitmqMissing);
  console.log(`shovel benchmark: ${N} persistent messages of ${BODY.length} bytes, on-confirm, prefetch 1000; load before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const [w1, w2] = await Promise.all([startWarren('Warren A'), startWarren('Warren B')]);
  const plugins = ['rabbitmq_shovel', 'rabbitmq_shovel_management'];
  const [r1, r2] = await Promise.all([startRabbit({ plugins }), startRabbit({ plugins })]);
  const rabbit = (r: typeof r1, name: string): Peer => ({ name, url: r.url, api: async (m, p, b) => (await r.api(m, p, b)).status, close: () => r.close() });
  const ra = rabbit(r1, 'RabbitMQ A');
  const rb = rabbit(r2, 'RabbitMQ B');
  try {
    const results: { label: string; seconds: number; rate: number }[] = [];
    // Alternated, so that neither side always runs on the quieter machine.
    results.push(await shovelRun(w1, w2, 'Warren -> Warren'));
    results.push(await shovelRun(ra, rb, 'RabbitMQ -> RabbitMQ (rabbitmq_shovel)'));
    results.push(await shovelRun(ra, w2, 'RabbitMQ -> Warren'));
    results.push(await shovelRun(w1, w2, 'Warren -> Warren (2nd)'));
    results.push(await shovelRun(ra, rb, 'RabbitMQ -> RabbitMQ (2nd)'));
    for (const r of results) console.log(`${r.label.padEnd(42)} ${r.seconds.toFixed(2).padStart(7)} s  ${Math.round(r.rate).toString().padStart(7)} msg/s`);
    const best = (prefix: string): number => Math.max(...results.filter((r) => r.label.startsWith(prefix)).map((r) => r.rate));
    console.log(`Warren -> Warren / RabbitMQ -> RabbitMQ (best of two each): ${(best('Warren -> Warren') / best('RabbitMQ -> RabbitMQ')).toFixed(2)}x`);
    console.log(`load after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  } finally {
    await Promise.all([w1.close(), w2.close(), ra.close(), rb.close()]);
  }
}

await main();
