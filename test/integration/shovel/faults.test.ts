import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import { freePort } from '../../helpers/ports.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { runCli, type CliProcess } from '../cli/process.js';

// Shovels under faults: the link cut (a TCP proxy that drops every connection and refuses new ones for a
// while), the destination broker kill -9'd and restarted, and an amqps source. With on-confirm nothing
// is lost; duplicates stay within the unconfirmed window (the prefetch), and are counted.

const N = 10_000;
const PREFETCH = 200;
let a: TestWarren;
let dir: string;

before(async () => {
  a = await startWarren();
  dir = await mkdtemp(join(tmpdir(), 'warren-shovel-faults-'));
});
after(async () => {
  await a?.close();
  await rm(dir, { recursive: true, force: true });
});

async function fill(url: string, queue: string, count: number): Promise<void> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (let i = 0; i < count; i++) {
    channel.sendToQueue(queue, Buffer.alloc(200, i % 256), { persistent: true, messageId: String(i) });
    if (i % 2000 === 1999) await channel.waitForConfirms();
  }
  await channel.waitForConfirms();
  await connection.close();
}

/** Every message of the queue once (acked); returns [unique ids, total deliveries]. */
async function drainCounting(url: string, queue: string, unique: number): Promise<{ unique: number; total: number }> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(1000);
  const ids = new Set<string>();
  let total = 0;
  await channel.consume(queue, (m) => {
    if (m === null) return;
    total++;
    ids.add(String(m.properties.messageId));
    channel.ack(m);
  });
  await waitFor(() => ids.size >= unique, `${unique} distinct messages in ${queue} (have ${ids.size})`, 60_000);
  await sleep(300);
  await connection.close();
  return { unique: ids.size, total };
}

/** A TCP proxy to `port` that can drop every connection and refuse new ones for a while. */
async function proxy(targetPort: number): Promise<{ port: number; bytes: () => number; cut: (ms: number) => Promise<void>; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let bytes = 0;
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => (bytes += chunk.length));
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    bytes: () => bytes,
    cut: async (ms) => {
      refusing = true;
      for (const socket of sockets) socket.destroy();
      await sleep(ms);
      refusing = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('the link cut twice while moving 10k messages with on-confirm: zero lost, duplicates within the window', async (t) => {
  const b = await startWarren();
  const link = await proxy(b.amqpPort);
  try {
    await fill(a.url, 'cut-src', N);
    await a.api('PUT', '/api/parameters/shovel/%2F/through-proxy', {
      value: { 'src-uri': 'amqp://', 'src-queue': 'cut-src', 'dest-uri': `amqp://guest:guest@127.0.0.1:${link.port}`, 'dest-queue': 'cut-dst', 'src-prefetch-count': PREFETCH, 'reconnect-delay': 0.1 },
    });
    const size = 300; // bytes on the wire per message, roughly
    await waitFor(() => link.bytes() > (N / 4) * size, 'a quarter through');
    await link.cut(300);
    await waitFor(() => link.bytes() > (N / 2) * size, 'halfway through');
    await link.cut(300);
    const { unique, total } = await drainCounting(b.url, 'cut-dst', N);
    assert.equal(unique, N, 'nothing lost');
    const duplicates = total - unique;
    assert.ok(duplicates <= 2 * PREFETCH, `${duplicates} duplicates, at most the unconfirmed window of each cut`);
    t.diagnostic(`link cuts: ${duplicates} duplicates of ${N}`);
    const status = (await a.api('GET', '/api/shovels/vhost/%2F/through-proxy')).body;
    assert.equal(status.state, 'running');
    await a.api('DELETE', '/api/parameters/shovel/%2F/through-proxy');
  } finally {
    await link.close();
    await b.close();
  }
});

test('the destination broker kill -9ed and restarted mid-transfer: zero lost, duplicates within the window', async (t) => {
  const port = await freePort();
  const dataDir = join(dir, 'killed');
  const args = ['server', '--amqp-host', '127.0.0.1', '--amqp-port', String(port), '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', dataDir];
  let child: CliProcess = runCli(args);
  try {
    await child.waitForOutput(/AMQP listening/);
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    await fill(a.url, 'kill-src', N);
    await a.api('PUT', '/api/parameters/shovel/%2F/to-victim', {
      value: { 'src-uri': 'amqp://', 'src-queue': 'kill-src', 'dest-uri': url, 'dest-queue': 'kill-dst', 'src-prefetch-count': PREFETCH, 'reconnect-delay': 0.2 },
    });
    await waitFor(async () => (await a.api('GET', '/api/queues/%2F/kill-src')).body.messages < N * 0.7, 'a third moved');
    child.child.kill('SIGKILL');
    await child.exited;
    child = runCli(args);
    await child.waitForOutput(/AMQP listening/, 20_000);
    const { unique, total } = await drainCounting(url, 'kill-dst', N);
    assert.equal(unique, N, 'nothing lost: what B confirmed was on disk');
    assert.ok(total - unique <= PREFETCH, `${total - unique} duplicates, at most the unconfirmed window`);
    t.diagnostic(`kill -9: ${total - unique} duplicates of ${N}`);
    await a.api('DELETE', '/api/parameters/shovel/%2F/to-victim');
  } finally {
    child.kill();
  }
});

test('an amqps source with a CA file from the URI query (RabbitMQ\'s cacertfile)', async () => {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-keyout', keyPath, '-out', certPath, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const tlsPort = await freePort();
  const secure = await startWarren({ configure: (config) => (config.amqps = { host: '127.0.0.1', port: tlsPort, cert: certPath, key: keyPath, ca: undefined }) });
  try {
    await fill(secure.url, 'tls-src', 100);
    await a.api('PUT', '/api/parameters/shovel/%2F/over-tls', {
      value: { 'src-uri': `amqps://guest:guest@localhost:${tlsPort}?cacertfile=${encodeURIComponent(certPath)}`, 'src-queue': 'tls-src', 'dest-uri': 'amqp://', 'dest-queue': 'tls-dst' },
    });
    const { unique } = await drainCounting(a.url, 'tls-dst', 100);
    assert.equal(unique, 100);
    const status = (await a.api('GET', '/api/shovels/vhost/%2F/over-tls')).body;
    assert.match(status.src_uri, /^amqps:\/\/guest:\*\*\*@localhost:/);
    await a.api('DELETE', '/api/parameters/shovel/%2F/over-tls');
  } finally {
    await secure.close();
  }
});
