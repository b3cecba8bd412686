import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import { freePort } from '../../helpers/ports.js';
import { proxy } from '../../helpers/proxy.js';
import { waitFor } from '../../helpers/wait.js';
import { drainCounting, fill } from './transfer.js';
import { runCli, type CliProcess } from '../cli/process.js';

// Shovels under faults: the link cut (a TCP proxy that drops every connection and refuses new ones for a
// while), the destination broker kill -9'd and restarted, and an amqps source. With on-confirm nothing
// is lost; duplicates stay within the unconfirmed window (the prefetch), and are counted.

const N = 100_000;
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

test('the link cut twice while moving 100k messages with on-confirm: zero lost, duplicates within the window', async (t) => {
  const b = await startWarren();
  const link = await proxy(b.amqpPort);
  try {
    await fill(a.url, 'cut-src', N);
    await a.api('PUT', '/api/parameters/shovel/%2F/through-proxy', {
      value: { 'src-uri': 'amqp://', 'src-queue': 'cut-src', 'dest-uri': `amqp://guest:guest@127.0.0.1:${link.port}`, 'dest-queue': 'cut-dst', 'src-prefetch-count': PREFETCH, 'reconnect-delay': 0.1 },
    });
    const started = Date.now();
    const left = async (): Promise<number> => (await a.api('GET', '/api/queues/%2F/cut-src')).body.messages;
    await waitFor(async () => (await left()) < N * 0.75, 'a quarter moved', 60_000);
    await link.cut(300);
    await waitFor(async () => (await left()) < N * 0.5, 'halfway moved', 60_000);
    await link.cut(300);
    const { unique, total } = await drainCounting(b.url, 'cut-dst', N, async () => (await left()) === 0);
    assert.equal(unique, N, 'nothing lost');
    const duplicates = total - unique;
    assert.ok(duplicates <= 2 * PREFETCH, `${duplicates} duplicates, at most the unconfirmed window of each cut`);
    t.diagnostic(`link cut twice (Warren -> Warren): ${duplicates} duplicates of ${N} (window ${PREFETCH} per cut), ${Date.now() - started} ms`);
    const status = (await a.api('GET', '/api/shovels/vhost/%2F/through-proxy')).body;
    assert.equal(status.state, 'running');
    await a.api('DELETE', '/api/parameters/shovel/%2F/through-proxy');
  } finally {
    await link.close();
    await b.close();
  }
});

test('the destination broker kill -9ed and restarted mid-transfer of 100k messages: zero lost, duplicates within the window', async (t) => {
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
    const started = Date.now();
    await waitFor(async () => (await a.api('GET', '/api/queues/%2F/kill-src')).body.messages < N * 0.7, 'a third moved', 60_000);
    child.child.kill('SIGKILL');
    await child.exited;
    child = runCli(args);
    await child.waitForOutput(/AMQP listening/, 20_000);
    const { unique, total } = await drainCounting(url, 'kill-dst', N, async () => (await a.api('GET', '/api/queues/%2F/kill-src')).body.messages === 0);
    assert.equal(unique, N, 'nothing lost: what B confirmed was on disk');
    assert.ok(total - unique <= PREFETCH, `${total - unique} duplicates, at most the unconfirmed window`);
    t.diagnostic(`kill -9 (Warren -> Warren): ${total - unique} duplicates of ${N} (window ${PREFETCH}), ${Date.now() - started} ms`);
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
