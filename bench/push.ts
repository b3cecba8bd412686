/**
 * Push queues: (1) deliveries/s to a local HTTP endpoint against the queue's concurrency limit
 * (x-push-concurrency), with an endpoint that answers at once and one that takes 10 ms; (2) the time
 * from publish to the endpoint's request at a fixed publish rate (p50, p99, max). Warren and the
 * endpoint run as child processes (the endpoint in its own process so that it does not share the
 * broker's event loop); the publisher is amqplib with confirms in this process. Persistent messages,
 * Warren's default durability (fsync before the confirm).
 *
 *   npx tsc -p . && node dist/bench/push.js [messagesPerRun=5000] [rate=500] [seconds=10]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './harness/ports.js';
import amqp from 'amqplib';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const MESSAGES = Number(process.argv[2] ?? 5000);
const RATE = Number(process.argv[3] ?? 500);
const SECONDS = Number(process.argv[4] ?? 10);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The endpoint: counts requests per path, waits `delay` ms (from the path) before answering 200, and records publish-to-request times. */
const ENDPOINT = `
const http = require('node:http');
const counts = new Map();
const latencies = [];
const server = http.createServer((req, res) => {
  const arrived = Date.now();
  req.resume();
  req.on('end', () => {
    counts.set(req.url, (counts.get(req.url) ?? 0) + 1);
    const sent = Number(req.headers['warren-header-sent-at']);
    if (sent > 0) latencies.push(arrived - sent);
    const delay = Number(/delay=(\\d+)/.exec(req.url)?.[1] ?? 0);
    if (delay > 0) setTimeout(() => res.end('ok'), delay); else res.end('ok');
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'counts') process.send({ counts: Object.fromEntries(counts) });
  if (m === 'latencies') { process.send({ latencies: latencies.splice(0) }); }
});
`;

function ask<T>(child: ChildProcess, question: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (m: Record<string, unknown>): void => {
      if (m[key] === undefined) return;
      child.off('message', listener);
      resolve(m[key] as T);
    };
    child.on('message', listener);
    child.send(question);
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-bench-push-'));
  const children: ChildProcess[] = [];
  try {
    const endpointFile = join(dir, 'endpoint.cjs');
    writeFileSync(endpointFile, ENDPOINT);
    const endpoint = fork(endpointFile, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(endpoint);
    const endpointPort = await new Promise<number>((resolve) => endpoint.once('message', (m: { port: number }) => resolve(m.port)));
    const config = join(dir, 'warren.yaml');
    writeFileSync(config, `push:\n  allowHttp: true\n  allowHosts: ['127.0.0.1']\n`);
    const [amqpPort, httpPort] = [await freePort(), await freePort()];
    const warren = spawn(process.execPath, [CLI, 'server', '--config', config, '--amqp-host', '127.0.0.1', '--amqp-port', String(amqpPort), '--http-host', '127.0.0.1', '--http-port', String(httpPort), '--data-dir', join(dir, 'data'), '--log-level', 'error'], { stdio: 'inherit', env: { PATH: process.env['PATH'] ?? '' } });
    children.push(warren);
    await waitForPort(amqpPort);
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
    const channel = await connection.createConfirmChannel();
    console.log(`push queues: ${MESSAGES} persistent 100 B messages per run; load ${loadavg()}`);

    for (const delay of [0, 10]) {
      for (const concurrency of [1, 10, 50, 200]) {
        const path = `/c${concurrency}?delay=${delay}`;
        const queue = `push.c${concurrency}.d${delay}`;
        await channel.assertQueue(queue, { durable: true, arguments: { 'x-push-endpoint': `http://127.0.0.1:${endpointPort}${path}`, 'x-push-concurrency': concurrency } });
        const body = Buffer.alloc(100, 'x');
        // A slow endpoint's run is cut to about 5 s at its ceiling.
        const messages = delay === 0 ? MESSAGES : Math.min(MESSAGES, Math.ceil(((concurrency * 1000) / delay) * 5));
        const start = performance.now();
        for (let i = 0; i < messages; i++) channel.sendToQueue(queue, body, { persistent: true });
        await channel.waitForConfirms();
        let seen = 0;
        while (seen < messages) {
          await new Promise((r) => setTimeout(r, 20));
          seen = (await ask<Record<string, number>>(endpoint, 'counts', 'counts'))[path] ?? 0;
        }
        const seconds = (performance.now() - start) / 1000;
        const ceiling = delay === 0 ? '' : ` (ceiling ${((concurrency * 1000) / delay).toFixed(0)}/s)`;
        console.log(`endpoint ${String(delay).padStart(2)} ms, concurrency ${String(concurrency).padStart(3)}: ${(messages / seconds).toFixed(0).padStart(6)} deliveries/s${ceiling} (${messages} messages)`);
      }
    }

    // Fixed rate: RATE messages/s for SECONDS, publish time in a header, endpoint answering at once.
    const queue = 'push.latency';
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-push-endpoint': `http://127.0.0.1:${endpointPort}/latency`, 'x-push-concurrency': 50 } });
    await ask(endpoint, 'latencies', 'latencies');
    const total = RATE * SECONDS;
    const begin = Date.now();
    for (let i = 0; i < total; i++) {
      const due = begin + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      channel.sendToQueue(queue, Buffer.alloc(100, 'y'), { persistent: true, headers: { 'sent-at': String(Date.now()) } });
    }
    await channel.waitForConfirms();
    const latencies: number[] = [];
    const deadline = Date.now() + 60_000;
    while (latencies.length < total && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      latencies.push(...(await ask<number[]>(endpoint, 'latencies', 'latencies')));
    }
    if (latencies.length < total) console.log(`  only ${latencies.length} of ${total} requests arrived within 60 s`);
    latencies.sort((a, b) => a - b);
    console.log(`fixed rate ${RATE}/s for ${SECONDS} s (concurrency 50): publish -> endpoint request p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms`);
    console.log(`load at the end ${loadavg()}`);
    await connection.close();
  } finally {
    for (const child of children) await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
