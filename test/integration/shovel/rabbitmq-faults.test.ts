import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import { rabbitmqMissing, startRabbit, type TestRabbit } from '../../helpers/rabbitmq.js';
import { freePort } from '../../helpers/ports.js';
import { proxy } from '../../helpers/proxy.js';
import { waitFor } from '../../helpers/wait.js';
import { drainCounting, fill } from './transfer.js';
import { runCli, type CliProcess } from '../cli/process.js';

// Warren's shovels with a real RabbitMQ 3.10 (Debian's) at the other end, under faults, in both
// directions: the destination (RabbitMQ, or Warren for a RabbitMQ source) kill -9'd mid-transfer and
// restarted on the same data dir, and the link cut (a TCP proxy before the destination that drops every
// connection and refuses new ones for a while: the destination's port closed). 100k persistent messages
// with on-confirm: none lost; duplicates stay within the unconfirmed window (the prefetch), and are
// counted. One RabbitMQ for the file, on ports of its own (the helper never touches another node).

const N = 100_000;
const PREFETCH = 500;
const skip = rabbitmqMissing;
let rabbit: TestRabbit;
let warren: TestWarren;

before(async () => {
  if (skip !== false) return;
  [rabbit, warren] = await Promise.all([startRabbit(), startWarren()]);
});
after(async () => {
  await warren?.close();
  await rabbit?.close();
});

async function declare(url: string, queue: string): Promise<void> {
  const connection = await amqp.connect(url);
  await (await connection.createChannel()).assertQueue(queue, { durable: true });
  await connection.close();
}

/** The queue's own count (a passive declare: RabbitMQ's management stats lag by seconds). */
async function count(url: string, queue: string): Promise<number> {
  const connection = await amqp.connect(url);
  try {
    return (await (await connection.createChannel()).checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

async function warrenDepth(queue: string): Promise<number> {
  return (await warren.api('GET', `/api/queues/%2F/${queue}`)).body.messages;
}

test('Warren -> RabbitMQ, RabbitMQ kill -9ed mid-transfer of 100k messages and restarted: zero lost, duplicates within the window', { skip }, async (t) => {
  await declare(rabbit.url, 'kill-dst');
  await fill(warren.url, 'kill-src', N);
  const started = Date.now();
  await warren.api('PUT', '/api/parameters/shovel/%2F/to-rabbit-victim', {
    value: { 'src-uri': 'amqp://', 'src-queue': 'kill-src', 'dest-uri': rabbit.url, 'dest-queue': 'kill-dst', 'src-prefetch-count': PREFETCH, 'reconnect-delay': 0.2 },
  });
  try {
    await waitFor(async () => (await warrenDepth('kill-src')) < N * 0.7, 'a third moved', 60_000);
    const left = await warrenDepth('kill-src');
    const killed = Date.now();
    await rabbit.kill();
    await rabbit.start();
    const down = Date.now() - killed;
    const { unique, total } = await drainCounting(rabbit.url, 'kill-dst', N, async () => (await warrenDepth('kill-src')) === 0);
    const duplicates = total - unique;
    assert.equal(unique, N, 'nothing lost: what RabbitMQ confirmed was on disk');
    assert.ok(duplicates <= PREFETCH, `${duplicates} duplicates, at most the unconfirmed window`);
    await waitFor(async () => (await warrenDepth('kill-src')) === 0, 'the source drained');
    t.diagnostic(`kill -9 (Warren -> RabbitMQ): killed with ${left} left at the source, down ${down} ms; ${duplicates} duplicates of ${N} (window ${PREFETCH}), ${Date.now() - started} ms`);
  } finally {
    await warren.api('DELETE', '/api/parameters/shovel/%2F/to-rabbit-victim');
  }
});

test('Warren -> RabbitMQ, the link cut twice while moving 100k messages: zero lost, duplicates within the window', { skip }, async (t) => {
  const link = await proxy(rabbit.port);
  try {
    await declare(rabbit.url, 'cut-dst');
    await fill(warren.url, 'cut-src', N);
    const started = Date.now();
    await warren.api('PUT', '/api/parameters/shovel/%2F/to-rabbit-cut', {
      value: { 'src-uri': 'amqp://', 'src-queue': 'cut-src', 'dest-uri': `amqp://guest:guest@127.0.0.1:${link.port}`, 'dest-queue': 'cut-dst', 'src-prefetch-count': PREFETCH, 'reconnect-delay': 0.1 },
    });
    await waitFor(async () => (await warrenDepth('cut-src')) < N * 0.75, 'a quarter moved', 60_000);
    await link.cut(300);
    await waitFor(async () => (await warrenDepth('cut-src')) < N * 0.5, 'halfway moved', 60_000);
    await link.cut(300);
    const { unique, total } = await drainCounting(rabbit.url, 'cut-dst', N, async () => (await warrenDepth('cut-src')) === 0);
    const duplicates = total - unique;
    assert.equal(unique, N, 'nothing lost');
    assert.ok(duplicates <= 2 * PREFETCH, `${duplicates} duplicates, at most the unconfirmed window of each cut`);
    await waitFor(async () => (await warrenDepth('cut-src')) === 0, 'the source drained');
    assert.equal((await warren.api('GET', '/api/shovels/vhost/%2F/to-rabbit-cut')).body.state, 'running');
    t.diagnostic(`link cut twice (Warren -> RabbitMQ): ${duplicates} duplicates of ${N} (window ${PREFETCH} per cut), ${Date.now() - started} ms`);
  } finally {
    await warren.api('DELETE', '/api/parameters/shovel/%2F/to-rabbit-cut');
    await link.close();
  }
});

test('RabbitMQ -> Warren, the link to the Warren destination cut twice while moving 100k messages: zero lost, duplicates within the window', { skip }, async (t) => {
  const link = await proxy(warren.amqpPort);
  try {
    await fill(rabbit.url, 'cut-from-rabbit', N);
    const started = Date.now();
    await warren.api('PUT', '/api/parameters/shovel/%2F/from-rabbit-cut', {
      value: { 'src-uri': rabbit.url, 'src-queue': 'cut-from-rabbit', 'dest-uri': `amqp://guest:guest@127.0.0.1:${link.port}`, 'dest-queue': 'cut-into-warren', 'src-prefetch-count': PREFETCH, 'reconnect-delay': 0.1 },
    });
    await waitFor(async () => ((await warren.api('GET', '/api/queues/%2F/cut-into-warren')).body?.messages ?? 0) > N * 0.25, 'a quarter moved', 60_000);
    await link.cut(300);
    await waitFor(async () => ((await warren.api('GET', '/api/queues/%2F/cut-into-warren')).body?.messages ?? 0) > N * 0.5, 'halfway moved', 60_000);
    await link.cut(300);
    const { unique, total } = await drainCounting(warren.url, 'cut-into-warren', N, async () => (await count(rabbit.url, 'cut-from-rabbit')) === 0);
    const duplicates = total - unique;
    assert.equal(unique, N, 'nothing lost');
    assert.ok(duplicates <= 2 * PREFETCH, `${duplicates} duplicates, at most the unconfirmed window of each cut`);
    await waitFor(async () => (await count(rabbit.url, 'cut-from-rabbit')) === 0, 'nothing left ready at the RabbitMQ source');
    t.diagnostic(`link cut twice (RabbitMQ -> Warren): ${duplicates} duplicates of ${N} (window ${PREFETCH} per cut), ${Date.now() - started} ms`);
  } finally {
    await warren.api('DELETE', '/api/parameters/shovel/%2F/from-rabbit-cut');
    await link.close();
  }
});

test('RabbitMQ -> Warren, the Warren destination kill -9ed mid-transfer of 100k messages and restarted: zero lost, duplicates within the window', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'warren-shovel-rabbit-kill-'));
  const port = await freePort();
  const args = ['server', '--amqp-host', '127.0.0.1', '--amqp-port', String(port), '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', join(dir, 'data')];
  let child: CliProcess = runCli(args);
  try {
    await child.waitForOutput(/AMQP listening/);
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    await fill(rabbit.url, 'from-rabbit-src', N);
    const started = Date.now();
    await warren.api('PUT', '/api/parameters/shovel/%2F/to-warren-victim', {
      value: { 'src-uri': rabbit.url, 'src-queue': 'from-rabbit-src', 'dest-uri': url, 'dest-queue': 'victim-dst', 'src-prefetch-count': PREFETCH, 'reconnect-delay': 0.2 },
    });
    await waitFor(async () => (await count(rabbit.url, 'from-rabbit-src')) < N * 0.7, 'a third moved', 60_000);
    const killed = Date.now();
    child.child.kill('SIGKILL');
    await child.exited;
    child = runCli(args);
    await child.waitForOutput(/AMQP listening/, 20_000);
    const down = Date.now() - killed;
    const { unique, total } = await drainCounting(url, 'victim-dst', N, async () => (await count(rabbit.url, 'from-rabbit-src')) === 0);
    const duplicates = total - unique;
    assert.equal(unique, N, 'nothing lost: what Warren confirmed was on disk');
    assert.ok(duplicates <= PREFETCH, `${duplicates} duplicates, at most the unconfirmed window`);
    await waitFor(async () => (await count(rabbit.url, 'from-rabbit-src')) === 0, 'nothing left ready at the RabbitMQ source');
    t.diagnostic(`kill -9 (RabbitMQ -> Warren): down ${down} ms; ${duplicates} duplicates of ${N} (window ${PREFETCH}), ${Date.now() - started} ms`);
  } finally {
    await warren.api('DELETE', '/api/parameters/shovel/%2F/to-warren-victim');
    child.kill();
    await child.exited;
    await rm(dir, { recursive: true, force: true });
  }
});
